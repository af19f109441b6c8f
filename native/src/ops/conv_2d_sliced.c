/* CONV_2D_SLICED (docs/file-format.md): a float convolution summed in onnxruntime's MLAS order,
 * the float layers of int8 graphs that onnxruntime does not fuse (export/compiler/passes/
 * ort_float.py). CONV_2D's geometry, float only, plus the K slice. HWIO weights run the ISA
 * level's fast kernel; plain (OHWI) weights and ECNN_RUN_REFERENCE the reference kernel. */
#include "core/op.h"
#include "ops/configs.h"

/* ---- kernels per ISA level (core/isa.h): the reference rounds as the level (fused_mac) ------ */
#if defined(ECNN_WITH_X86)
ecnn_conv2d_sliced_f32_kernel ecnn_conv2d_sliced_f32_hwio_avx2, ecnn_conv2d_sliced_f32_hwio_avx512,
    ecnn_conv2d_sliced_f32_ref_fma;
#endif

const ecnn_conv2d_sliced_kernels ecnn_conv2d_sliced_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = {.f32 = ECNN_IMPL(ecnn_conv2d_sliced_f32_hwio_portable),
                           .ref = ECNN_IMPL(ecnn_conv2d_sliced_f32_ref)},
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = {.f32 = ECNN_IMPL(ecnn_conv2d_sliced_f32_hwio_avx2),
                       .ref = ECNN_IMPL(ecnn_conv2d_sliced_f32_ref_fma)},
    [ECNN_ISA_AVX512] = {.f32 = ECNN_IMPL(ecnn_conv2d_sliced_f32_hwio_avx512)},
#endif
};

/* ---- load time ------------------------------------------------------------------------------ */

ecnn_status ecnn_check_conv_2d_sliced(const ecnn_op_ctx *c, uint64_t *macs)
{
    TRY(ecnn_check_conv_2d(c, macs)); /* CONV_2D's tensors, geometry, layouts and activation */
    TRY(ecnn_need_f32_all(c));
    if (c->op->params.conv_2d_sliced.k_slice == 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONV_2D_SLICED k_slice is 0");
    return ECNN_OK;
}

/* ---- run time ------------------------------------------------------------------------------- */

typedef struct {
    const ecnn_conv2d_sliced_f32_impl *k;
    ecnn_pass_io io; /* this pass's x, y and samples */
    const float *w, *b;
    uint32_t k_slice;
    ecnn_conv2d_args p;
    ecnn_act_after after; /* the activation the op applies after the kernel */
} sliced_job;

static void sliced_tile(const void *ctx, const ecnn_tile *t)
{
    const sliced_job *j = (const sliced_job *)ctx;
    j->k->fn((float *)j->io.y, (const float *)j->io.x, j->w, j->b, j->io.n, t, &j->p, j->k_slice);
    ecnn_act_after_rows(&j->after, (float *)j->io.y, NULL, (size_t)t->m0 * j->p.ow, (size_t)t->m1 * j->p.ow, j->p.o,
                        t->o0, t->o1);
}

const char *ecnn_eval_conv_2d_sliced(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y;
    sliced_job j;
    j.io.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = (const float *)ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.b = (const float *)ecnn_tensor_ptr(r, op->inputs[2], &b);
    j.io.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.k_slice = op->params.conv_2d_sliced.k_slice;
    ecnn_conv2d_args_of(op, &x, &w, &y, &j.p);
    j.k = w.layout == ECNN_LAYOUT_CONV_HWIO && !r->reference ? ECNN_KERNEL(ecnn_conv2d_sliced_config, f32, r->m->isa)
                                                             : ECNN_KERNEL(ecnn_conv2d_sliced_config, ref, r->m->isa);
    ecnn_act_after_take(r, &j.p.act, &j.after);
    /* As CONV_2D: rows (n, oh) first, channels too when group 1 (a grouped conv's blocks stay whole). */
    ecnn_run_conv_passes(r, &j.io, &j.p, x.size, y.size, j.p.group == 1 ? ECNN_TILE_O_CONV : j.p.o, 0, sliced_tile, &j);
    return j.k->name;
}

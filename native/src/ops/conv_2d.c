/* CONV_2D (docs/file-format.md), float or int8, any stride, padding, dilation and group. HWIO weights run
 * the ISA level's fast kernel (depthwise convolutions their own, and int8 convs of few terms a
 * pixel, image CNNs' first layers, the small-K one); OHWI (plain) weights and
 * ECNN_RUN_REFERENCE the reference kernel. A float CONV_2D may add a residual R (a ResNet's
 * shortcut) before its activation: each tile, once the kernel has stored it, while it is in cache. */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h"

/* ---- kernels per ISA level (core/isa.h) ---------------------------------------------------- *
 * armv7 NEON lists no float kernel: its float arithmetic flushes subnormals to zero. */
#if defined(ECNN_WITH_X86)
ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_avx2, ecnn_conv2d_f32_dw_avx2, ecnn_conv2d_f32_ref_fma;
ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_avx512, ecnn_conv2d_f32_hwio_pairs_avx512, ecnn_conv2d_f32_dw_avx512;
ecnn_conv_q_dot_kernel ecnn_conv_q_dot_avx2;
ecnn_conv_q_dotn_kernel ecnn_conv_q_dotn_avx2, ecnn_conv_q_dotn_avx512vnni;
ecnn_q_store_scaled_kernel ecnn_q_store_scaled_avx2;
ecnn_conv_q_pack_kernel ecnn_conv_q_pack_avx2;
ecnn_conv_q_centre_kernel ecnn_conv_q_centre_avx2;
ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx2, ecnn_conv_q_dw_avxvnni, ecnn_conv_q_dw_avx512, ecnn_conv_q_dw_avx512vnni;
ecnn_conv_q_u8_kernel ecnn_conv_q_u8_avxvnni, ecnn_conv_q_u8_avx512vnni;
ecnn_conv_q_pw_u8_kernel ecnn_conv_q_pw_u8_avxvnni, ecnn_conv_q_pw_u8_avx512vnni;
ecnn_conv_q_pack_u8_kernel ecnn_conv_q_pack_u8_avxvnni, ecnn_conv_q_pack_u8_avx512vnni;
ecnn_conv_q_small_kernel ecnn_conv_q_small_avx2, ecnn_conv_q_small_avx512, ecnn_conv_q_small_avxvnni,
    ecnn_conv_q_small_avx512vnni;
#elif defined(ECNN_WITH_ARM64)
ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_neon;
#elif defined(ECNN_WITH_CORTEXM)
#include "kernels/arm/cortexm/cortexm.h"
#endif

const ecnn_conv2d_kernels ecnn_conv2d_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = {.f32 = ECNN_IMPL_O(ecnn_conv2d_f32_hwio_portable, 0),
                           .dw = ECNN_IMPL_O(ecnn_conv2d_f32_dw_portable, 0),
                           .ref = ECNN_IMPL_O(ecnn_conv2d_f32_ref, 0),
                           .q = {"conv2d_q_hwio_portable",
                                 {.dot = ecnn_conv_q_dot_portable, .store = ecnn_q_store_scaled_portable},
                                 NULL}},
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = {.f32 = ECNN_IMPL_O(ecnn_conv2d_f32_hwio_avx2, 0),
                       .dw = ECNN_IMPL_O(ecnn_conv2d_f32_dw_avx2, 0),
                       .ref = ECNN_IMPL_O(ecnn_conv2d_f32_ref_fma, 0),
                       .q = {"conv2d_q_hwio_avx2",
                             {.dot = ecnn_conv_q_dot_avx2,
                              .store = ecnn_q_store_scaled_avx2,
                              .pack = ecnn_conv_q_pack_avx2,
                              .centre = ecnn_conv_q_centre_avx2,
                              .dw = ecnn_conv_q_dw_avx2,
                              .dotn = ecnn_conv_q_dotn_avx2,
                              .small = ecnn_conv_q_small_avx2},
                             "conv2d_q_small_avx2"}},
    /* AVX-VNNI: the AVX2 int16 path (a ymm vpdpwssd dot was slower on a Zen 4) for weights with
     * zero points, its own vpdpbusd byte path for the others (depthwise too) */
    [ECNN_ISA_AVXVNNI] = {.q = {"conv2d_q_hwio_avxvnni",
                                {.dot = ecnn_conv_q_dot_avx2,
                                 .store = ecnn_q_store_scaled_avx2,
                                 .pack = ecnn_conv_q_pack_avx2,
                                 .centre = ecnn_conv_q_centre_avx2,
                                 .dw = ecnn_conv_q_dw_avxvnni,
                                 .dotn = ecnn_conv_q_dotn_avx2,
                                 .conv_u8 = ecnn_conv_q_u8_avxvnni,
                                 .pw_u8 = ecnn_conv_q_pw_u8_avxvnni,
                                 .pack_u8 = ecnn_conv_q_pack_u8_avxvnni,
                                 .small = ecnn_conv_q_small_avxvnni},
                                "conv2d_q_small_avxvnni"}},
    /* AVX-512BW: the AVX2 int8 conv but for the depthwise microkernel (16 channels a vector: twice the
     * AVX2 one's GMAC/s on MobileNet's depthwise layers, Zen 5) */
    [ECNN_ISA_AVX512] = {.f32 = ECNN_IMPL_O(ecnn_conv2d_f32_hwio_avx512, 0),
                         .narrow = ECNN_IMPL_O(ecnn_conv2d_f32_hwio_pairs_avx512, 0),
                         .dw = ECNN_IMPL_O(ecnn_conv2d_f32_dw_avx512, 0),
                         .q = {"conv2d_q_hwio_avx512",
                               {.dot = ecnn_conv_q_dot_avx2,
                                .store = ecnn_q_store_scaled_avx2,
                                .pack = ecnn_conv_q_pack_avx2,
                                .centre = ecnn_conv_q_centre_avx2,
                                .dw = ecnn_conv_q_dw_avx512,
                                .dotn = ecnn_conv_q_dotn_avx2,
                                .small = ecnn_conv_q_small_avx512},
                               "conv2d_q_small_avx512"}},
    [ECNN_ISA_AVX512VNNI] = {.q = {"conv2d_q_hwio_avx512vnni",
                                   {.dot = ecnn_conv_q_dot_avx2,
                                    .store = ecnn_q_store_scaled_avx2,
                                    .pack = ecnn_conv_q_pack_avx2,
                                    .centre = ecnn_conv_q_centre_avx2,
                                    .dw = ecnn_conv_q_dw_avx512vnni,
                                    .dotn = ecnn_conv_q_dotn_avx512vnni,
                                    .conv_u8 = ecnn_conv_q_u8_avx512vnni,
                                    .pw_u8 = ecnn_conv_q_pw_u8_avx512vnni,
                                    .pack_u8 = ecnn_conv_q_pack_u8_avx512vnni,
                                    .small = ecnn_conv_q_small_avx512vnni},
                                   "conv2d_q_small_avx512vnni"}},
#elif defined(ECNN_WITH_ARM64)
    [ECNN_ISA_NEON] = {.f32 = ECNN_IMPL_O(ecnn_conv2d_f32_hwio_neon, 8)},
#elif defined(ECNN_WITH_CORTEXM)
    [ECNN_ISA_DSP] = {.q = {"conv2d_q_hwio_dsp",
                            {.store = ecnn_q_store_scaled_dsp,
                             .widen = ecnn_conv_q_widen_dsp,
                             .dot_direct = ecnn_conv_q_dot_direct_dsp,
                             .dw_direct = ecnn_conv_q_dw_direct_dsp},
                            NULL}},
#if defined(__ARM_FEATURE_MVE)
    [ECNN_ISA_MVE] = {.q = {"conv2d_q_hwio_mve",
                            {.store = ecnn_q_store_scaled_mve,
                             .widen = ecnn_conv_q_widen_mve,
                             .dot_direct = ecnn_conv_q_dot_direct_mve,
                             .dw_direct = ecnn_conv_q_dw_direct_mve},
                            NULL}},
#endif
#endif
};

/* ---- load time ------------------------------------------------------------------------------ */

/* The op's name before `what`: this file checks CONV_2D_SLICED's convolution too. */
#define CONV_2D_MSG(op, what) ((op)->op_type == ECNN_OP_CONV_2D_SLICED ? "CONV_2D_SLICED " what : "CONV_2D " what)

/* The kernels' view of the op; CONV_2D_SLICED's parameters begin with CONV_2D's (read here
 * through the union's common initial sequence). */
void ecnn_conv2d_args_of(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                         const ecnn_tensor_rec *y, ecnn_conv2d_args *p)
{
    const ecnn_conv2d_params *q = &op->params.conv_2d;
    ECNN_CONV_ARGS(p, x, w, y, q);
    p->act.act = q->act;
    p->act.act_p0 = q->act_p0;
    p->act.act_p1 = q->act_p1;
    p->w_layout = w->layout;
}

ecnn_status ecnn_check_conv_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_conv2d_params *q = &op->params.conv_2d;
    const ecnn_conv_window win = ECNN_CONV_WINDOW_OF(q);
    ecnn_tensor_rec x, w, b, y;
    ecnn_conv2d_args p;
    TRY(ecnn_check_linear_tensors(
        c, &x, &w, &b, &y,
        CONV_2D_MSG(op, "needs 3 inputs (X, W, B or none; CONV_2D: and a residual R) and 1 output")));
    if (op->num_inputs == 4) {
        ecnn_tensor_rec res;
        TRY(ecnn_check_data_input(c, op->inputs[3], &res));
        if (x.dtype != ECNN_DTYPE_F32 || res.dtype != ECNN_DTYPE_F32 || !ecnn_same_shape(&res, &y))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[3], "CONV_2D residual is not float32 of Y's shape");
        if (op->inputs[3] == op->outputs[0])
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[3], "CONV_2D residual is its own output");
    }
    TRY(ecnn_check_conv_window(c, &win, &x, &w, &y));
    ecnn_conv2d_args_of(op, &x, &w, &y, &p);
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != p.o))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], CONV_2D_MSG(op, "bias shape is not [O]"));
    TRY(ecnn_check_linear_dtypes(c, &x, &w, &b, &y, (uint64_t)p.kh * p.kw * (p.c / p.group), q->act));
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN | 1u << ECNN_LAYOUT_CONV_HWIO));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_act(c, &p.act));
    *macs = (uint64_t)p.oh * p.ow * p.o * p.kh * p.kw * (p.c / p.group);
    return ECNN_OK;
}

/* ---- run time ------------------------------------------------------------------------------- */

const ecnn_conv2d_f32_impl *ecnn_conv2d_f32_fast(const ecnn_isa_info *isa, const ecnn_conv2d_args *p)
{
    const ecnn_conv2d_f32_impl *k;
    if (p->group == p->c && p->o == p->c) return ECNN_KERNEL(ecnn_conv2d_config, dw, isa);
    k = ECNN_KERNEL(ecnn_conv2d_config, narrow, isa);
    if (k->fn && p->o / p->group <= 8) return k;
    k = ECNN_KERNEL(ecnn_conv2d_config, f32, isa);
    return k->o_multiple == 0 || (p->o / p->group) % k->o_multiple == 0 ? k
                                                                        : &ecnn_conv2d_config[ECNN_ISA_PORTABLE].f32;
}

/* One conv, ready to run tile by tile. */
typedef struct {
    const ecnn_conv2d_f32_impl *f32;  /* float: this kernel */
    const ecnn_conv2d_q_impl *q_fast; /* int8: these microkernels, or NULL: the reference */
    ecnn_pass_io io;                  /* this pass's x, y and samples */
    const void *w, *b;
    ecnn_conv2d_args p;
    ecnn_act_after after; /* float: what the op applies after the kernel (a residual add, an activation) */
    ecnn_qlinear_params q;
    const float *residual; /* float with a residual R: at the same offsets as y */
    const float *y0;       /* y of the first pass: a pass's residual is as far from `residual` */
} conv_job;

static void conv_tile(const void *ctx, const ecnn_tile *t)
{
    const conv_job *j = (const conv_job *)ctx;
    const ecnn_pass_io *io = &j->io;
    if (j->f32) {
        float *y = (float *)io->y;
        j->f32->fn(y, (const float *)io->x, (const float *)j->w, (const float *)j->b, io->n, t, &j->p);
        ecnn_act_after_rows(&j->after, y, j->residual ? j->residual + (y - j->y0) : NULL, (size_t)t->m0 * j->p.ow,
                            (size_t)t->m1 * j->p.ow, j->p.o, t->o0, t->o1);
    } else if (j->q_fast)
        ecnn_conv2d_q_hwio(io->y, io->x, j->w, (const int32_t *)j->b, io->n, t, &j->p, &j->q, &j->q_fast->uk);
    else
        ecnn_conv2d_q_ref(io->y, io->x, j->w, (const int32_t *)j->b, io->n, t, &j->p, &j->q);
}

/* MAC-equivalents a tile pays whatever its size: the int8 HWIO kernel (not depthwise) packs the
 * weights of its channels per call, ~8 MAC-equivalents each (measured: 3x3x64x64 weights cost
 * a sixth of the 8x8 conv's own time). */
static uint64_t conv_setup(const conv_job *j)
{
    const ecnn_conv2d_args *p = &j->p;
    if (j->q_fast == NULL || (p->group == p->c && p->o == p->c)) return 0;
    return (uint64_t)p->kh * p->kw * (p->c / p->group) * p->o * 8;
}

const char *ecnn_eval_conv_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y, res;
    conv_job j;
    const char *name;
    int hwio, by_channel;
    j.io.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.b = ecnn_tensor_ptr(r, op->inputs[2], &b);
    j.io.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.f32 = NULL;
    j.q_fast = NULL;
    j.residual = op->num_inputs == 4 ? (const float *)ecnn_tensor_ptr(r, op->inputs[3], &res) : NULL;
    j.y0 = (const float *)j.io.y;
    hwio = w.layout == ECNN_LAYOUT_CONV_HWIO && !r->reference;
    ecnn_conv2d_args_of(op, &x, &w, &y, &j.p);
    if (x.dtype != ECNN_DTYPE_F32) {
        ecnn_qlinear_params_from(r->m, &x, &w, &y, j.p.act.act, &j.q);
        if (hwio && ecnn_conv2d_q_hwio_fits(&j.p)) j.q_fast = ECNN_KERNEL(ecnn_conv2d_config, q, r->m->isa);
        name = j.q_fast ? j.q_fast->name : "conv2d_q_ref";
#if defined(ECNN_CONV_Q_HOSTED)
        if (j.q_fast && ecnn_conv2d_q_small_fits(&j.p, &j.q, &j.q_fast->uk)) name = j.q_fast->small_name;
#endif
    } else {
        j.f32 = hwio ? ecnn_conv2d_f32_fast(r->m->isa, &j.p) : ECNN_KERNEL(ecnn_conv2d_config, ref, r->m->isa);
        name = j.f32->name;
        if (j.residual) /* the whole activation after the add */
            ecnn_act_after_take_residual(r, &j.p.act, &j.after);
        else
            ecnn_act_after_take(r, &j.p.act, &j.after);
    }
    /* Rows (n, oh) first; channels too when group 1 or depthwise (a grouped conv's blocks stay
     * whole). */
    by_channel = j.p.group == 1 || (j.p.group == j.p.c && j.p.o == j.p.c);
    ecnn_run_conv_passes(r, &j.io, &j.p, x.size, y.size, by_channel ? ECNN_TILE_O_CONV : j.p.o, conv_setup(&j),
                         conv_tile, &j);
    return name;
}

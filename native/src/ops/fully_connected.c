/* FULLY_CONNECTED: Y[o] = act(sum_k X[k] * W[o,k] + B[o]) (docs/file-format.md), float or int8. Packed
 * weights (FC_PANEL16, FC_PANEL8X4) run the ISA level's fast kernel; plain weights and
 * ECNN_RUN_REFERENCE the reference kernel. Its eval also runs FULLY_CONNECTED_G4 (checked in
 * ops/fully_connected_g4.c), with the config's g4 kernels or that op's reference. */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h"

/* ---- kernels per ISA level (core/isa.h) ---------------------------------------------------- *
 * The AVX-512 float kernel: on a Zen 5, one thread, the reference model's 10000 x 512 layer
 * alone at batch 1 / 8 / 64 took 0.18 / 0.35 / 2.58 ms against the AVX2 kernel's 0.18 / 0.76 /
 * 9.19, the FC autoencoder (interleaved with onnxruntime) 0.015 / 0.023 / 0.138 against
 * 0.015 / 0.045 / 0.264 (on a busy Sapphire Rapids an earlier version measured slower: to
 * re-measure there). The AVX-512 int8 FC kernel (x86/avx512) is not listed: the AVX2 one beat it; the
 * kernel tests keep checking both. The VNNI levels have their own int8 kernel
 * (vpdpbusd, samples blocked per weight load): on a Zen 4, one thread, the reference model's
 * 5 MB int8 layer ran at 267 GMAC/s at batch 64 against the AVX2 kernel's 40. armv7 NEON lists
 * no float kernel: its float arithmetic flushes subnormals to zero. FULLY_CONNECTED_G4's kernels
 * (g4: never fused, onnxruntime's order) give the same bits at every level. */
#if defined(ECNN_WITH_X86)
ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx2, ecnn_fc_f32_panel16_avx512;
ecnn_fc_f32_kernel ecnn_fc_g4_f32_panel16_avx2, ecnn_fc_g4_f32_panel16_avx512;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avx2, ecnn_fc_q_panel8x4_avxvnni, ecnn_fc_q_panel8x4_avx512vnni;
ecnn_fc_f32_ref_kernel ecnn_fully_connected_f32_ref_fma;
#elif defined(ECNN_WITH_ARM64)
ecnn_fc_f32_kernel ecnn_fc_f32_panel16_neon, ecnn_fc_g4_f32_panel16_neon;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_dotprod;
#elif defined(ECNN_WITH_CORTEXM)
#include "kernels/arm/cortexm/cortexm.h"
#endif

const ecnn_fc_kernels ecnn_fc_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = {.f32 = ECNN_IMPL(ecnn_fc_f32_panel16_portable),
                           .q = ECNN_IMPL(ecnn_fc_q_panel8x4_portable),
                           .ref = ECNN_IMPL(ecnn_fully_connected_f32_ref),
                           .g4 = ECNN_IMPL(ecnn_fc_g4_f32_panel16_portable)},
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = {.f32 = ECNN_IMPL(ecnn_fc_f32_panel16_avx2),
                       .q = ECNN_IMPL(ecnn_fc_q_panel8x4_avx2),
                       .ref = ECNN_IMPL(ecnn_fully_connected_f32_ref_fma),
                       .g4 = ECNN_IMPL(ecnn_fc_g4_f32_panel16_avx2)},
    [ECNN_ISA_AVXVNNI] = {.q = ECNN_IMPL(ecnn_fc_q_panel8x4_avxvnni)},
    [ECNN_ISA_AVX512] = {.f32 = ECNN_IMPL(ecnn_fc_f32_panel16_avx512), .g4 = ECNN_IMPL(ecnn_fc_g4_f32_panel16_avx512)},
    [ECNN_ISA_AVX512VNNI] = {.q = ECNN_IMPL(ecnn_fc_q_panel8x4_avx512vnni)},
#elif defined(ECNN_WITH_ARM64)
    [ECNN_ISA_NEON] = {.f32 = ECNN_IMPL(ecnn_fc_f32_panel16_neon), .g4 = ECNN_IMPL(ecnn_fc_g4_f32_panel16_neon)},
    [ECNN_ISA_DOTPROD] = {.q = ECNN_IMPL(ecnn_fc_q_panel8x4_dotprod)},
#elif defined(ECNN_WITH_CORTEXM)
    [ECNN_ISA_DSP] = {.q = ECNN_IMPL(ecnn_fc_q_panel8x4_dsp)},
#if defined(__ARM_FEATURE_MVE)
    [ECNN_ISA_MVE] = {.q = ECNN_IMPL(ecnn_fc_q_panel8x4_mve)},
#endif
#endif
};

/* ---- load time ------------------------------------------------------------------------------ */

/* The FC_PANEL8X4 padding (k >= K of each output, outputs >= O of the last panel) is 0: the fast
 * kernels sum whole groups of 4 k and whole panels, and fold sums of the raw weights into the
 * bias (docs/file-format.md "Packed weights"). */
static int panel8x4_padding_is_zero(const uint8_t *wd, uint32_t o, uint32_t k)
{
    const uint32_t kp = (k + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8 * ECNN_GROUP_I8;
    const uint32_t op = (o + ECNN_PANEL_I8 - 1) / ECNN_PANEL_I8 * ECNN_PANEL_I8;
    uint32_t oi, ki;
    for (oi = 0; oi < op; oi++)
        for (ki = oi < o ? k : 0; ki < kp; ki++)
            if (wd[ecnn_fc_w_index(ECNN_LAYOUT_FC_PANEL8X4, oi, ki, k)] != 0) return 0;
    return 1;
}

/* Packed weights: f32 panels of 16, or int8 panels of 8x4 with every zero point 0 (the fast
 * int8 kernels multiply raw weights; the padding must be a true zero). */
static ecnn_status check_packing(const ecnn_op_ctx *c, const ecnn_tensor_rec *w)
{
    const uint32_t wi = c->op->inputs[1];
    uint32_t i;
    TRY(ecnn_check_layout(c, wi, w,
                          1u << ECNN_LAYOUT_PLAIN | 1u << ECNN_LAYOUT_FC_PANEL16 | 1u << ECNN_LAYOUT_FC_PANEL8X4 |
                              1u << ECNN_LAYOUT_FC_PANEL8X4_W64));
    if (w->layout == ECNN_LAYOUT_FC_PANEL16 && w->dtype != ECNN_DTYPE_F32)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, wi, "FC_PANEL16 weights must be f32");
    if (w->layout == ECNN_LAYOUT_FC_PANEL8X4 || w->layout == ECNN_LAYOUT_FC_PANEL8X4_W64) {
        if (w->dtype != ECNN_DTYPE_I8) return ecnn_op_fail(c, ECNN_E_CORRUPT, wi, "FC_PANEL8X4 weights must be i8");
        for (i = 0; i < w->quant_count; i++)
            if (ecnn_q_zero_point(c->m, w, i) != 0)
                return ecnn_op_fail(c, ECNN_E_CORRUPT, wi, "FC_PANEL8X4 weights need zero points 0");
        if (!panel8x4_padding_is_zero(c->m->data + w->offset, w->dims[0], w->dims[1]))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, wi, "FC_PANEL8X4 padding weights are not 0");
    }
    if (w->layout == ECNN_LAYOUT_FC_PANEL8X4_W64) { /* the fast kernel's exactness rests on this claim: verify it */
        const int8_t *wd = (const int8_t *)(c->m->data + w->offset);
        for (i = 0; i < w->size; i++)
            if (wd[i] < -ECNN_W64_MAX || wd[i] > ECNN_W64_MAX)
                return ecnn_op_fail(c, ECNN_E_CORRUPT, wi, "FC_PANEL8X4_W64 weight outside [-64, 64]");
    }
    return ECNN_OK;
}

ecnn_status ecnn_check_fully_connected(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, w, b, y;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &b, &y, "FULLY_CONNECTED needs 3 inputs (X, W, B or none) and 1 output"));
    TRY(ecnn_check_fc_shapes(c, &x, &w, &b, &y));
    TRY(ecnn_check_linear_dtypes(c, &x, &w, &b, &y, w.dims[1], op->params.fully_connected.act));
    TRY(check_packing(c, &w));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_act(c, &op->params.fully_connected));
    *macs = (uint64_t)w.dims[0] * w.dims[1];
    return ECNN_OK;
}

/* ---- run time ------------------------------------------------------------------------------- */

/* One FC (or FULLY_CONNECTED_G4), ready to run tile by tile: exactly one of the kernels is set. */
typedef struct {
    const ecnn_fc_f32_impl *f32;
    const ecnn_fc_f32_ref_impl *f32_ref;
    const ecnn_fc_q_impl *q_fast;
    int q_ref;
    void *y;
    const void *x, *w, *b;
    uint32_t n, k, o, layout;
    const ecnn_act_params *act;
    ecnn_act_params f32_act; /* float: the kernel's part of *act */
    ecnn_act_after after;    /* float: the activation the op applies after the kernel */
    ecnn_qlinear_params q;
} fc_job;

static void fc_tile(const void *ctx, const ecnn_tile *t)
{
    const fc_job *j = (const fc_job *)ctx;
    if (j->f32 || j->f32_ref) {
        if (j->f32)
            j->f32->fn((float *)j->y, (const float *)j->x, (const float *)j->w, (const float *)j->b, j->n, j->k, j->o,
                       t, &j->f32_act);
        else
            j->f32_ref->fn((float *)j->y, (const float *)j->x, (const float *)j->w, (const float *)j->b, j->n, j->k,
                           j->o, t, &j->f32_act, j->layout);
        ecnn_act_after_rows(&j->after, (float *)j->y, NULL, t->m0, t->m1, j->o, t->o0, t->o1);
    } else if (j->q_fast)
        j->q_fast->fn(j->y, j->x, j->w, (const int32_t *)j->b, j->n, j->k, j->o, t, &j->q);
    else
        ecnn_fully_connected_q_ref(j->y, j->x, j->w, (const int32_t *)j->b, j->n, j->k, j->o, t, &j->q);
}

static const ecnn_fc_f32_ref_impl fc_g4_ref = ECNN_IMPL(ecnn_fully_connected_g4_f32_ref);

const char *ecnn_eval_fully_connected(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    const int g4 = op->op_type == ECNN_OP_FULLY_CONNECTED_G4;
    ecnn_tensor_rec x, w, b, y;
    fc_job j;
    const char *name;
    memset(&j, 0, sizeof j);
    j.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.b = ecnn_tensor_ptr(r, op->inputs[2], &b);
    j.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.n = r->batch;
    j.k = w.dims[1];
    j.o = w.dims[0];
    j.layout = w.layout;
    j.act = g4 ? &op->params.fully_connected_g4 : &op->params.fully_connected;
    if (g4) { /* float, onnxruntime's order: FC_PANEL16 weights the level's kernel, else the reference */
        if (w.layout == ECNN_LAYOUT_FC_PANEL16 && !r->reference)
            j.f32 = ECNN_KERNEL(ecnn_fc_config, g4, r->m->isa);
        else
            j.f32_ref = &fc_g4_ref;
        name = j.f32 ? j.f32->name : j.f32_ref->name;
    } else if (x.dtype != ECNN_DTYPE_F32) {
        ecnn_qlinear_params_from(r->m, &x, &w, &y, j.act->act, &j.q);
        if ((w.layout == ECNN_LAYOUT_FC_PANEL8X4 || w.layout == ECNN_LAYOUT_FC_PANEL8X4_W64) && !r->reference) {
            j.q_fast = ECNN_KERNEL(ecnn_fc_config, q, r->m->isa);
            name = j.q_fast->name;
        } else {
            j.q_ref = 1;
            name = "fully_connected_q_ref";
        }
    } else if (w.layout == ECNN_LAYOUT_FC_PANEL16 && !r->reference) {
        j.f32 = ECNN_KERNEL(ecnn_fc_config, f32, r->m->isa);
        name = j.f32->name;
    } else { /* the reference order for every layout: plain weights have no faster kernel (portable/fc_f32.c) */
        j.f32_ref = ECNN_KERNEL(ecnn_fc_config, ref, r->m->isa);
        name = j.f32_ref->name;
    }
    j.f32_act = *j.act;
    if (j.f32 || j.f32_ref) ecnn_act_after_take(r, &j.f32_act, &j.after);
    if (r->run) { /* outputs first (each thread streams its share of the weights), then samples */
        ecnn_grid grid;
        ecnn_grid_plan(&grid, r, j.n, j.o, ECNN_TILE_O_FC, (uint64_t)j.n * j.o * j.k, 0, 1);
        ecnn_run_grid(r, &grid, fc_tile, &j);
    }
    return name;
}

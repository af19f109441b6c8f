/* The float ACTIVATION and ADD / MUL kernels of kernels_f32_elementwise.h, written once over a
 * vector of VQ_LANES lanes. The includer (an ISA's kernel file; x86/vq_ops.h on x86) defines
 * FE_NAME(op), the exported name of op, the type vq_f and each operation as the reference
 * computes it:
 *     VQF_LOAD, VQF_STORE, VQF_SET1, VQF_ADD, VQF_MUL, VQF_DIV   float32, IEEE rounding
 *     VQF_FMA(a, b, c)       a * b + c rounded once (fmaf)
 *     VQF_ABOVE(a, b)        a > b ? a : b (b when either is NaN)
 *     VQF_BELOW(a, b)        a < b ? a : b (b when either is NaN)
 * Each activation is kernels/act.h's formula, operation for operation, so every lane equals the
 * reference: Sigmoid and Tanh MLAS's clamps, fused Horner steps and true division (ref/act.c);
 * Relu `v > 0 ? v : 0` is VQF_ABOVE(v, 0), a clamp `v < lo ? lo : (v > hi ? hi : v)` (lo <= hi) is
 * VQF_ABOVE(lo, VQF_BELOW(hi, v)), both keeping NaN where the reference does. LeakyRelu (a
 * select on the sign) goes to the portable kernel. A tail shorter than a vector runs through
 * zeroed buffers. */
#ifndef FE_NAME
#error "define FE_NAME and the vector operations before including kernels/f32_elementwise_loops.h"
#endif

#include <string.h>

#include "kernels/kernels_f32_elementwise.h"

#define FE_INLINE static inline __attribute__((always_inline))

/* The activation's parameters in every lane. */
typedef struct {
    vq_f p0, p1;
} fe_act_consts;

FE_INLINE vq_f fe_clamp(vq_f v, float lo, float hi)
{
    return VQF_ABOVE(VQF_SET1(lo), VQF_BELOW(VQF_SET1(hi), v));
}

/* ref/act.c's MLAS_RATIONAL, lane by lane: p(v^2) * v / q(v^2), v = x clamped (NaN kept). */
#define FE_HORNER_FIRST(c) acc = VQF_SET1(c);
#define FE_HORNER_STEP(c) acc = VQF_FMA(acc, v2, VQF_SET1(c));
#define FE_RATIONAL(NAME)                                                                                              \
    const vq_f v = fe_clamp(x, -NAME##_BOUND, NAME##_BOUND), v2 = VQF_MUL(v, v);                                       \
    vq_f acc, p;                                                                                                       \
    NAME##_P(FE_HORNER_FIRST, FE_HORNER_STEP) p = VQF_MUL(acc, v);                                                     \
    NAME##_Q(FE_HORNER_FIRST, FE_HORNER_STEP) p = VQF_DIV(p, acc);

FE_INLINE vq_f fe_logistic(vq_f x)
{
    FE_RATIONAL(ECNN_LOGISTIC)
    return VQF_ABOVE(VQF_SET1(0.0f), VQF_ADD(p, VQF_SET1(0.5f)));
}

FE_INLINE vq_f fe_tanh(vq_f x)
{
    FE_RATIONAL(ECNN_TANH)
    return p;
}

/* ecnn_apply_act on a vector, `kind` a constant at every call (one loop per activation). */
FE_INLINE vq_f fe_act(vq_f v, uint32_t kind, const fe_act_consts *k)
{
    switch (kind) {
    case ECNN_ACT_RELU: return VQF_ABOVE(v, VQF_SET1(0.0f));
    case ECNN_ACT_CLIP: return VQF_ABOVE(k->p0, VQF_BELOW(k->p1, v));
    case ECNN_ACT_SIGMOID: return fe_logistic(v);
    case ECNN_ACT_TANH: return fe_tanh(v);
    case ECNN_ACT_HARD_SIGMOID: return fe_clamp(VQF_ADD(VQF_MUL(k->p0, v), k->p1), 0.0f, 1.0f);
    case ECNN_ACT_HARD_SWISH:
        return VQF_MUL(v, fe_clamp(VQF_ADD(VQF_MUL(v, VQF_SET1(1.0f / 6.0f)), VQF_SET1(0.5f)), 0.0f, 1.0f));
    case ECNN_ACT_SWISH: return VQF_MUL(v, fe_logistic(v));
    default: return v; /* ECNN_ACT_NONE */
    }
}

FE_INLINE void fe_activation_run(float *y, const float *x, size_t count, uint32_t kind, const fe_act_consts *k)
{
    size_t i;
    for (i = 0; i + VQ_LANES <= count; i += VQ_LANES) VQF_STORE(y + i, fe_act(VQF_LOAD(x + i), kind, k));
    if (i < count) {
        float t[VQ_LANES] = {0};
        memcpy(t, x + i, (count - i) * sizeof(float));
        VQF_STORE(t, fe_act(VQF_LOAD(t), kind, k));
        memcpy(y + i, t, (count - i) * sizeof(float));
    }
}

void FE_NAME(activation_f32)(float *y, const float *x, size_t count, const ecnn_act_params *act)
{
    fe_act_consts k;
    k.p0 = VQF_SET1(act->act_p0), k.p1 = VQF_SET1(act->act_p1);
    switch (act->act) {
    case ECNN_ACT_NONE: fe_activation_run(y, x, count, ECNN_ACT_NONE, &k); break;
    case ECNN_ACT_RELU: fe_activation_run(y, x, count, ECNN_ACT_RELU, &k); break;
    case ECNN_ACT_CLIP: fe_activation_run(y, x, count, ECNN_ACT_CLIP, &k); break;
    case ECNN_ACT_SIGMOID: fe_activation_run(y, x, count, ECNN_ACT_SIGMOID, &k); break;
    case ECNN_ACT_TANH: fe_activation_run(y, x, count, ECNN_ACT_TANH, &k); break;
    case ECNN_ACT_HARD_SIGMOID: fe_activation_run(y, x, count, ECNN_ACT_HARD_SIGMOID, &k); break;
    case ECNN_ACT_HARD_SWISH: fe_activation_run(y, x, count, ECNN_ACT_HARD_SWISH, &k); break;
    case ECNN_ACT_SWISH: fe_activation_run(y, x, count, ECNN_ACT_SWISH, &k); break;
    default: ecnn_activation_f32_portable(y, x, count, act); break;
    }
}

/* act(a op b) for len elements; B one value for all of them (b_one) or len values. */
FE_INLINE vq_f fe_binary_vec(vq_f a, vq_f b, int mul, uint32_t kind, const fe_act_consts *k)
{
    return fe_act(mul ? VQF_MUL(a, b) : VQF_ADD(a, b), kind, k);
}

FE_INLINE void fe_binary_run(float *y, const float *a, const float *b, size_t len, int b_one, int mul, uint32_t kind,
                             const fe_act_consts *k)
{
    const vq_f b_all = VQF_SET1(b[0]);
    size_t i;
    for (i = 0; i + VQ_LANES <= len; i += VQ_LANES)
        VQF_STORE(y + i, fe_binary_vec(VQF_LOAD(a + i), b_one ? b_all : VQF_LOAD(b + i), mul, kind, k));
    if (i < len) {
        float at[VQ_LANES] = {0}, bt[VQ_LANES] = {0};
        memcpy(at, a + i, (len - i) * sizeof(float));
        if (!b_one) memcpy(bt, b + i, (len - i) * sizeof(float));
        VQF_STORE(at, fe_binary_vec(VQF_LOAD(at), b_one ? b_all : VQF_LOAD(bt), mul, kind, k));
        memcpy(y + i, at, (len - i) * sizeof(float));
    }
}

/* ecnn_binary_f32_ref's walk: one flat run when B has A's shape, else per sample, B a scalar
 * over the whole sample or a row of b_count values repeated along it. */
FE_INLINE void fe_binary_walk(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                              int mul, uint32_t kind, const fe_act_consts *k)
{
    uint32_t s;
    size_t i;
    if (b_count == a_count) {
        fe_binary_run(y, a, b, (size_t)n * a_count, 0, mul, kind, k);
        return;
    }
    for (s = 0; s < n; s++) {
        float *ys = y + (size_t)s * a_count;
        const float *as = a + (size_t)s * a_count, *bs = b + (size_t)s * b_count;
        if (b_count == 1)
            fe_binary_run(ys, as, bs, a_count, 1, mul, kind, k);
        else
            for (i = 0; i < a_count; i += b_count) fe_binary_run(ys + i, as + i, bs, b_count, 0, mul, kind, k);
    }
}

/* The fused activations of residual Adds and gates (none, Relu, Clip) get their own loops; the
 * rare others, and rows of B shorter than a vector, go to the portable kernel. */
void FE_NAME(binary_f32)(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                         uint32_t func, const ecnn_act_params *act)
{
    const int mul = func == ECNN_ARITH_MUL;
    fe_act_consts k;
    k.p0 = VQF_SET1(act->act_p0), k.p1 = VQF_SET1(act->act_p1);
    if (b_count != a_count && b_count != 1 && b_count < VQ_LANES) {
        ecnn_binary_f32_portable(y, a, b, n, a_count, b_count, func, act);
        return;
    }
#define FE_BINARY_ACTS(MUL)                                                                                            \
    switch (act->act) {                                                                                                \
    case ECNN_ACT_NONE: fe_binary_walk(y, a, b, n, a_count, b_count, MUL, ECNN_ACT_NONE, &k); break;                   \
    case ECNN_ACT_RELU: fe_binary_walk(y, a, b, n, a_count, b_count, MUL, ECNN_ACT_RELU, &k); break;                   \
    case ECNN_ACT_CLIP: fe_binary_walk(y, a, b, n, a_count, b_count, MUL, ECNN_ACT_CLIP, &k); break;                   \
    default: ecnn_binary_f32_portable(y, a, b, n, a_count, b_count, func, act); break;                                 \
    }
    if (mul) {
        FE_BINARY_ACTS(1)
    } else {
        FE_BINARY_ACTS(0)
    }
#undef FE_BINARY_ACTS
}

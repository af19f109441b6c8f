/* Float ADD / MUL (kernels.h ecnn_binary_f32_ref's contract and result, bit for bit) with the
 * fused activation's switch taken once per call instead of once per element: the loops of the
 * common cases (none, Relu, Clip; a ResNet's residual Add + Relu) are then plain enough for the
 * compiler to vectorise. Each element is the reference's own expression: the activations are
 * act.h's formulas spelled out, as through ecnn_apply_act with a constant code GCC 12 leaves
 * the loops scalar (test_kernels_f32_elementwise.c checks they agree bit for bit). */
#include "kernels/kernels_f32_elementwise.h"

#define BINARY_LOOP(OP, EXPR)                                                                                          \
    for (s = 0; s < n; s++) {                                                                                          \
        const float *as = a + (size_t)s * a_count, *bs = b + (size_t)s * b_count;                                      \
        float *ys = y + (size_t)s * a_count;                                                                           \
        for (i = 0; i < a_count; i += b_count)                                                                         \
            for (j = 0; j < b_count; j++) {                                                                            \
                const float v = as[i + j] OP bs[j];                                                                    \
                ys[i + j] = (EXPR);                                                                                    \
            }                                                                                                          \
    }

void ecnn_binary_f32_portable(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                              uint32_t func, const ecnn_act_params *act)
{
    const float lo = act->act_p0, hi = act->act_p1;
    size_t i, j;
    uint32_t s;
    if (b_count == a_count) { /* elementwise: one flat run over the batch */
        a_count = b_count = (size_t)n * a_count;
        n = 1;
    }
#define BINARY_ACTS(OP)                                                                                                \
    switch (act->act) {                                                                                                \
    case ECNN_ACT_NONE: BINARY_LOOP(OP, v) break;                                                                      \
    case ECNN_ACT_RELU: BINARY_LOOP(OP, v > 0.0f ? v : 0.0f) break;                                                    \
    case ECNN_ACT_CLIP: BINARY_LOOP(OP, v < lo ? lo : (v > hi ? hi : v)) break;                                        \
    default: ecnn_binary_f32_ref(y, a, b, n, a_count, b_count, func, act); break;                                      \
    }
    if (func == ECNN_ARITH_MUL) {
        BINARY_ACTS(*)
    } else {
        BINARY_ACTS(+)
    }
}

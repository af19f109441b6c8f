/* Float ADD / MUL (kernels.h ecnn_binary_f32_ref's contract and result, bit for bit) with the
 * fused activation's switch taken once per call instead of once per element: the loops of the
 * common cases (none, Relu, Clip; a ResNet's residual Add + Relu) apply ecnn_apply_act
 * (kernels/act.h) with the code a constant, so the switch folds away and the loops are plain
 * enough for the compiler to vectorise. */
#include "kernels/kernels.h"

#define BINARY_LOOP(OP, CODE)                                                                                          \
    for (s = 0; s < n; s++) {                                                                                          \
        const ecnn_act_params fixed = {CODE, act->act_p0, act->act_p1};                                                \
        const float *as = a + (size_t)s * a_count, *bs = b + (size_t)s * b_count;                                      \
        float *ys = y + (size_t)s * a_count;                                                                           \
        for (i = 0; i < a_count; i += b_count)                                                                         \
            for (j = 0; j < b_count; j++) ys[i + j] = ecnn_apply_act(as[i + j] OP bs[j], &fixed);                      \
    }

void ecnn_binary_f32_portable(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                              uint32_t func, const ecnn_act_params *act)
{
    size_t i, j;
    uint32_t s;
    if (b_count == a_count) { /* elementwise: one flat run over the batch */
        a_count = b_count = (size_t)n * a_count;
        n = 1;
    }
#define BINARY_ACTS(OP)                                                                                                \
    switch (act->act) {                                                                                                \
    case ECNN_ACT_NONE: BINARY_LOOP(OP, ECNN_ACT_NONE) break;                                                          \
    case ECNN_ACT_RELU: BINARY_LOOP(OP, ECNN_ACT_RELU) break;                                                          \
    case ECNN_ACT_CLIP: BINARY_LOOP(OP, ECNN_ACT_CLIP) break;                                                          \
    default: ecnn_binary_f32_ref(y, a, b, n, a_count, b_count, func, act); break;                                      \
    }
    if (func == ECNN_ARITH_MUL) {
        BINARY_ACTS(*)
    } else {
        BINARY_ACTS(+)
    }
}

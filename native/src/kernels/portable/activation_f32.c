/* Float ACTIVATION (kernels.h ecnn_activation_f32_ref's contract and result, bit for bit): the
 * reference applies ecnn_apply_act (kernels/act.h) per element, switching on the activation
 * each time, which keeps the compiler from vectorising the loop. Here Relu, LeakyRelu and Clip
 * get their own loops with act.h's formula spelled out (through ecnn_apply_act with a
 * constant code GCC 12 still leaves the loop scalar; test_kernels_f32_elementwise.c checks the
 * two agree bit for bit). Sigmoid and Tanh run the reference's scalar functions: their fused
 * multiply-adds are libm calls on a build without FMA instructions, where no loop of them would
 * vectorise. */
#include "kernels/kernels_f32_elementwise.h"

#define ACT_LOOP(EXPR)                                                                                                 \
    for (i = 0; i < count; i++) {                                                                                      \
        const float v = x[i];                                                                                          \
        y[i] = (EXPR);                                                                                                 \
    }

void ecnn_activation_f32_portable(float *y, const float *x, size_t count, const ecnn_act_params *act)
{
    const float p0 = act->act_p0, p1 = act->act_p1;
    size_t i;
    switch (act->act) {
    case ECNN_ACT_NONE: ACT_LOOP(v) break;
    case ECNN_ACT_RELU: ACT_LOOP(v > 0.0f ? v : 0.0f) break;
    case ECNN_ACT_LEAKY_RELU: ACT_LOOP(v < 0.0f ? p0 * v : v) break;
    case ECNN_ACT_CLIP: ACT_LOOP(v < p0 ? p0 : (v > p1 ? p1 : v)) break;
    default: ecnn_activation_f32_ref(y, x, count, act); break; /* Sigmoid, Tanh, Swish, hard sigmoid / swish */
    }
}

/* Float ACTIVATION (kernels.h ecnn_activation_f32_ref's contract and result, bit for bit): the
 * reference applies ecnn_apply_act (kernels/act.h) per element, switching on the activation
 * each time, which keeps the compiler from vectorising the loop. Here each activation without
 * a libm call gets its own loop over ecnn_apply_act with the code a constant, so the switch
 * folds away and the formula stays the one in act.h. Sigmoid and Tanh call libm per element
 * either way: the reference's loop. */
#include "kernels/kernels.h"

/* y[i] = ecnn_apply_act(x[i]) with act's parameters and the constant code CODE. */
#define ACT_LOOP(CODE)                                                                                                 \
    do {                                                                                                               \
        const ecnn_act_params fixed = {CODE, act->act_p0, act->act_p1};                                                \
        for (i = 0; i < count; i++) y[i] = ecnn_apply_act(x[i], &fixed);                                               \
    } while (0)

void ecnn_activation_f32_portable(float *y, const float *x, size_t count, const ecnn_act_params *act)
{
    size_t i;
    switch (act->act) {
    case ECNN_ACT_NONE: ACT_LOOP(ECNN_ACT_NONE); break;
    case ECNN_ACT_RELU: ACT_LOOP(ECNN_ACT_RELU); break;
    case ECNN_ACT_LEAKY_RELU: ACT_LOOP(ECNN_ACT_LEAKY_RELU); break;
    case ECNN_ACT_CLIP: ACT_LOOP(ECNN_ACT_CLIP); break;
    case ECNN_ACT_HARD_SIGMOID: ACT_LOOP(ECNN_ACT_HARD_SIGMOID); break;
    case ECNN_ACT_HARD_SWISH: ACT_LOOP(ECNN_ACT_HARD_SWISH); break;
    default: ecnn_activation_f32_ref(y, x, count, act); break;
    }
}

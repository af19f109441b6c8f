/* The activations that call libm (kernels/act.h): out of line, so the inlined activation switch
 * of every kernel stays small. */
#include <math.h>

#include "kernels/act.h"

float ecnn_apply_act_libm(float v, const ecnn_act_params *a)
{
    return a->act == ECNN_ACT_SIGMOID ? 1.0f / (1.0f + expf(-v)) : tanhf(v); /* ECNN_ACT_TANH */
}

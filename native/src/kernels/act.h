/* Every activation in one place: its float formula and the check of its parameters. The fused
 * activation of CONV_2D, FULLY_CONNECTED, ADD and MUL, the float ACTIVATION op, and the int8
 * ACTIVATION op (a 256-entry table of the same formula over the dequantized codes) all use
 * these two functions, so an activation is added by its code in edgecnn_ops.h's
 * ecnn_activation and one case in each function below. */
#ifndef ECNN_ACT_H
#define ECNN_ACT_H

#include <stddef.h>

#include "edgecnn_ops.h"

/* Sigmoid and Tanh (ref/act.c): out of line, one copy for the whole library; they call libm per
 * element anyway, and each inlined copy cost ~0.3 KB of code. */
float ecnn_apply_act_libm(float v, const ecnn_act_params *a);

static inline float ecnn_apply_act(float v, const ecnn_act_params *a)
{
    switch (a->act) {
    case ECNN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case ECNN_ACT_LEAKY_RELU: return v < 0.0f ? a->act_p0 * v : v;
    case ECNN_ACT_CLIP: return v < a->act_p0 ? a->act_p0 : (v > a->act_p1 ? a->act_p1 : v);
    case ECNN_ACT_SIGMOID:
    case ECNN_ACT_TANH: return ecnn_apply_act_libm(v, a);
    case ECNN_ACT_HARD_SIGMOID: { /* act_p0 alpha, act_p1 beta */
        const float t = a->act_p0 * v + a->act_p1;
        return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    case ECNN_ACT_HARD_SWISH: { /* x * hard_sigmoid(x; 1/6, 1/2), onnxruntime's float operations */
        const float t = v * (1.0f / 6.0f) + 0.5f;
        return v * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    default: return v; /* ECNN_ACT_NONE */
    }
}

/* NULL when the activation's code and parameters are valid; else what is wrong, and *unknown is
 * 1 for a code this library does not know (unsupported rather than corrupt). */
static inline const char *ecnn_act_problem(const ecnn_act_params *a, int *unknown)
{
    *unknown = 0;
    switch (a->act) {
    case ECNN_ACT_NONE:
    case ECNN_ACT_RELU:
    case ECNN_ACT_SIGMOID:
    case ECNN_ACT_TANH:
    case ECNN_ACT_HARD_SWISH: return NULL;
    case ECNN_ACT_LEAKY_RELU: return a->act_p0 - a->act_p0 == 0.0f ? NULL : "LeakyRelu alpha is not finite";
    case ECNN_ACT_CLIP: return a->act_p0 <= a->act_p1 ? NULL : "Clip min > max or NaN";
    case ECNN_ACT_HARD_SIGMOID:
        return a->act_p0 - a->act_p0 == 0.0f && a->act_p1 - a->act_p1 == 0.0f
                   ? NULL
                   : "HardSigmoid alpha or beta is not finite";
    default: *unknown = 1; return "unknown fused activation code";
    }
}

#endif /* ECNN_ACT_H */

/* Every activation in one place: its float formula and the check of its parameters. The fused
 * activation of CONV_2D, FULLY_CONNECTED, ADD and MUL, the float ACTIVATION op, and the int8
 * ACTIVATION op (a 256-entry table of the same formula over the dequantized codes) all use
 * these two functions, so an activation is added by its code in edgecnn_ops.h's
 * ecnn_activation and one case in each function below. */
#ifndef ECNN_ACT_H
#define ECNN_ACT_H

#include <stddef.h>

#include "edgecnn_ops.h"

/* Sigmoid and Tanh as onnxruntime's MLAS computes them (ref/act.c says why): Eigen's rational
 * approximations p(x^2) * x / q(x^2) over the input clamped to [-BOUND, BOUND], each polynomial
 * by Horner steps as fused multiply-adds from its highest coefficient: LIST(FIRST, STEP) expands
 * FIRST(c) for that coefficient and STEP(c) for each next one. The scalar reference and the
 * vector kernels (kernels/f32_elementwise_loops.h) expand the same lists. */
#define ECNN_LOGISTIC_BOUND 18.0f
#define ECNN_LOGISTIC_P(FIRST, STEP)                                                                                   \
    FIRST(4.37031012579801e-11f)                                                                                       \
    STEP(1.15627324459942e-07f) STEP(6.08574864600143e-05f) STEP(8.51377133304701e-03f) STEP(2.48287947061529e-01f)
#define ECNN_LOGISTIC_Q(FIRST, STEP)                                                                                   \
    FIRST(6.10247389755681e-13f)                                                                                       \
    STEP(5.76102136993427e-09f)                                                                                        \
    STEP(6.29106785017040e-06f) STEP(1.70198817374094e-03f) STEP(1.16817656904453e-01f) STEP(9.93151921023180e-01f)
#define ECNN_TANH_BOUND 9.0f
#define ECNN_TANH_P(FIRST, STEP)                                                                                       \
    FIRST(-2.76076847742355e-16f)                                                                                      \
    STEP(2.00018790482477e-13f)                                                                                        \
    STEP(-8.60467152213735e-11f)                                                                                       \
    STEP(5.12229709037114e-08f) STEP(1.48572235717979e-05f) STEP(6.37261928875436e-04f) STEP(4.89352455891786e-03f)
#define ECNN_TANH_Q(FIRST, STEP)                                                                                       \
    FIRST(1.19825839466702e-06f) STEP(1.18534705686654e-04f) STEP(2.26843463243900e-03f) STEP(4.89352518554385e-03f)
/* x clamped to [-bound, bound], NaN kept */
#define ECNN_CLAMP_KEEP_NAN(x, bound) ((x) < -(bound) ? -(bound) : ((x) > (bound) ? (bound) : (x)))

/* Out of line (ref/act.c): one copy for the whole library, ~0.3 KB each. */
float ecnn_logistic_mlas(float x);
float ecnn_tanh_mlas(float x);

static inline float ecnn_apply_act(float v, const ecnn_act_params *a)
{
    switch (a->act) {
    case ECNN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case ECNN_ACT_LEAKY_RELU: return v < 0.0f ? a->act_p0 * v : v;
    case ECNN_ACT_CLIP: return v < a->act_p0 ? a->act_p0 : (v > a->act_p1 ? a->act_p1 : v);
    case ECNN_ACT_SIGMOID: return ecnn_logistic_mlas(v);
    case ECNN_ACT_TANH: return ecnn_tanh_mlas(v);
    case ECNN_ACT_HARD_SIGMOID: { /* act_p0 alpha, act_p1 beta */
        const float t = a->act_p0 * v + a->act_p1;
        return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    case ECNN_ACT_HARD_SWISH: { /* x * hard_sigmoid(x; 1/6, 1/2), onnxruntime's float operations */
        const float t = v * (1.0f / 6.0f) + 0.5f;
        return v * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    case ECNN_ACT_SWISH: return v * ecnn_logistic_mlas(v); /* onnxruntime's Sigmoid, then its Mul */
    default: return v;                                     /* ECNN_ACT_NONE */
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
    case ECNN_ACT_HARD_SWISH:
    case ECNN_ACT_SWISH: return NULL;
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

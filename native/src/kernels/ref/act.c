/* Sigmoid and Tanh as onnxruntime computes them on x86-64 (kernels/act.h). The float target is
 * onnxruntime, and its CPU provider runs both through MLAS's x86 FMA3 logistic and tanh kernels:
 * Eigen's rational approximations, the input clamped, numerator and denominator as chains of
 * fused multiply-adds, then one true division. The same functions build the int8 ACTIVATION
 * table (QLinearSigmoid's) and run the float groups of int8 TFLite models (DequantizeLinear ->
 * Sigmoid -> QuantizeLinear), so those match onnxruntime's codes exactly too. Out of line: one
 * copy for the whole library. Both were checked equal to onnxruntime 1.32 on all 2^32 floats;
 * tests/export/test_ops_float_elementwise.py checks every class of float. */
#include <math.h>

#include "kernels/act.h"

/* p(v^2) * v / q(v^2), v = x clamped to [-BOUND, BOUND]: MLAS's operations in its order. The clamp
 * lets NaN through (as vmaxps / vminps with the input second): a NaN input gives NaN, as in
 * onnxruntime. */
#define HORNER_FIRST(c) acc = (c);
#define HORNER_STEP(c) acc = fmaf(acc, v2, (c));
#define MLAS_RATIONAL(NAME)                                                                                            \
    const float v = ECNN_CLAMP_KEEP_NAN(x, NAME##_BOUND), v2 = v * v;                                                  \
    float acc, p;                                                                                                      \
    NAME##_P(HORNER_FIRST, HORNER_STEP) p = acc * v;                                                                   \
    NAME##_Q(HORNER_FIRST, HORNER_STEP) p = p / acc;

float ecnn_logistic_mlas(float x)
{
    MLAS_RATIONAL(ECNN_LOGISTIC)
    p = p + 0.5f;
    /* MLAS clamps below only: 20 inputs in (17.48, 18) give 1 + 2^-23, as onnxruntime returns */
    return p < 0.0f ? 0.0f : p;
}

float ecnn_tanh_mlas(float x)
{
    MLAS_RATIONAL(ECNN_TANH)
    return p;
}

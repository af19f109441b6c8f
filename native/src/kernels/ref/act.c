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

/* The clamps are written so that NaN passes through them (as vmaxps / vminps with the input
 * second): a NaN input gives NaN, as in onnxruntime. */
float ecnn_logistic_mlas(float x)
{
    const float v = ECNN_CLAMP_KEEP_NAN(x, ECNN_LOGISTIC_BOUND);
    const float v2 = v * v;
    float p, q, r;
    p = fmaf(v2, ECNN_LOGISTIC_A9, ECNN_LOGISTIC_A7);
    p = fmaf(p, v2, ECNN_LOGISTIC_A5);
    p = fmaf(p, v2, ECNN_LOGISTIC_A3);
    p = fmaf(p, v2, ECNN_LOGISTIC_A1);
    q = fmaf(v2, ECNN_LOGISTIC_B10, ECNN_LOGISTIC_B8);
    q = fmaf(q, v2, ECNN_LOGISTIC_B6);
    q = fmaf(q, v2, ECNN_LOGISTIC_B4);
    q = fmaf(q, v2, ECNN_LOGISTIC_B2);
    q = fmaf(q, v2, ECNN_LOGISTIC_B0);
    p = p * v;
    r = p / q;
    r = r + 0.5f;
    /* MLAS clamps below only: 20 inputs in (17.48, 18) give 1 + 2^-23, as onnxruntime returns */
    return r < 0.0f ? 0.0f : r;
}

float ecnn_tanh_mlas(float x)
{
    const float v = ECNN_CLAMP_KEEP_NAN(x, ECNN_TANH_BOUND);
    const float v2 = v * v;
    float p, q;
    p = fmaf(v2, ECNN_TANH_A13, ECNN_TANH_A11);
    p = fmaf(p, v2, ECNN_TANH_A9);
    p = fmaf(p, v2, ECNN_TANH_A7);
    p = fmaf(p, v2, ECNN_TANH_A5);
    p = fmaf(p, v2, ECNN_TANH_A3);
    p = fmaf(p, v2, ECNN_TANH_A1);
    q = fmaf(v2, ECNN_TANH_B6, ECNN_TANH_B4);
    q = fmaf(q, v2, ECNN_TANH_B2);
    q = fmaf(q, v2, ECNN_TANH_B0);
    p = p * v;
    return p / q;
}

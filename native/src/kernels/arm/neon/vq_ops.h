/* The vector operations of kernels/q_elementwise_loops.h and kernels/f32_elementwise_loops.h on
 * AArch64 NEON, 4 lanes, each the reference's operation. NEON's fmax/fmin return NaN for a NaN
 * operand, so the references' selects are a compare and a bit select; fcvtns rounds half to even
 * whatever the rounding mode, but gives 0 for NaN and saturates out-of-range values, so VQF_CVT
 * selects INT32_MIN for those as x86's cvtps2dq does. AArch64 Advanced SIMD arithmetic is IEEE
 * (subnormals kept unless FPCR.FZ is set, which Linux leaves clear), unlike ARMv7 NEON: the
 * files that include this are built for AArch64 only (sources.mk). */
#ifndef ECNN_KERNELS_NEON_VQ_OPS_H
#define ECNN_KERNELS_NEON_VQ_OPS_H

#include "kernels/arm/neon/neon.h"

#define VQ_LANES 4u
typedef float32x4_t vq_f;
typedef int32x4_t vq_i;
#define VQF_LOAD(p) vld1q_f32(p)
#define VQF_STORE(p, v) vst1q_f32(p, v)
#define VQF_SET1(v) vdupq_n_f32(v)
#define VQF_DIV(a, b) vdivq_f32(a, b)
#define VQF_MUL(a, b) vmulq_f32(a, b)
#define VQF_ADD(a, b) vaddq_f32(a, b)
#define VQF_FMA(a, b, c) vfmaq_f32(c, a, b)
#define VQF_ABOVE(v, lo) vbslq_f32(vcgtq_f32(v, lo), v, lo)
#define VQF_BELOW(v, hi) vbslq_f32(vcltq_f32(v, hi), v, hi)
#define VQI_TO_F(v) vcvtq_f32_s32(v)
#define VQI_SET1(v) vdupq_n_s32(v)
#define VQI_ADD(a, b) vaddq_s32(a, b)
#define VQI_SUB(a, b) vsubq_s32(a, b)
#define VQI_MUL(a, b) vmulq_s32(a, b)
#define VQI_MAX(a, b) vmaxq_s32(a, b)
#define VQI_MIN(a, b) vminq_s32(a, b)
#define VQF_CVT(v) q_cvt(v)

static inline int32x4_t q_cvt(float32x4_t v)
{
    const uint32x4_t in_range =
        vandq_u32(vcgeq_f32(v, vdupq_n_f32(-2147483648.0f)), vcltq_f32(v, vdupq_n_f32(2147483648.0f)));
    return vbslq_s32(in_range, vcvtnq_s32_f32(v), vdupq_n_s32(INT32_MIN));
}

#endif /* ECNN_KERNELS_NEON_VQ_OPS_H */

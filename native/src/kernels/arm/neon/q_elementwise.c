/* AArch64 NEON QUANTIZE, DEQUANTIZE, QLinearAdd and QLinearMul (kernels_q_elementwise.h), 4
 * lanes: the loops of kernels/q_elementwise_loops.h over these operations. NEON's fmax/fmin
 * return NaN for a NaN operand, so the references' selects are a compare and a bit select;
 * fcvtns rounds half to even whatever the rounding mode, but gives 0 for NaN and saturates
 * out-of-range values, so VQF_CVT selects INT32_MIN for those as x86's cvtps2dq does. AArch64
 * Advanced SIMD arithmetic is IEEE (subnormals kept unless FPCR.FZ is set, which Linux leaves
 * clear), unlike ARMv7 NEON: this file is built for AArch64 only (sources.mk). */
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

/* 4 codes, sign- or zero-extended to int32. */
static inline int32x4_t q_load_codes(const uint8_t *p, int u8)
{
    uint32_t word;
    uint8x8_t bytes;
    memcpy(&word, p, sizeof word);
    bytes = vreinterpret_u8_u32(vdup_n_u32(word));
    if (u8) return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(bytes))));
    return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(bytes))));
}

/* The low byte of each of 4 int32 lanes (truncating narrows). */
static inline void q_store_codes(uint8_t *p, int32x4_t v)
{
    const int16x4_t half = vmovn_s32(v);
    const uint32_t word = vget_lane_u32(vreinterpret_u32_s8(vmovn_s16(vcombine_s16(half, half))), 0);
    memcpy(p, &word, sizeof word);
}

#define QE_NAME(op) ecnn_##op##_neon
#include "kernels/q_elementwise_loops.h"

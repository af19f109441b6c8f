/* AArch64 NEON QUANTIZE, DEQUANTIZE, QLinearAdd and QLinearMul (kernels_q_elementwise.h), 4
 * lanes: the loops of kernels/q_elementwise_loops.h over arm/neon/vq_ops.h and these code loads
 * and stores. */
#include "kernels/arm/neon/vq_ops.h"

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

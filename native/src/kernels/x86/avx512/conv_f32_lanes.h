/* The AVX-512 float convs' blocks (x86/conv_f32_hwio.h): lane loads and stores of up to two zmm
 * of output channels under opmasks and the block sizes, for avx512/conv_f32.c and
 * avx512/conv_f32_sliced1.c. */
#ifndef ECNN_KERNELS_X86_AVX512_CONV_F32_LANES_H
#define ECNN_KERNELS_X86_AVX512_CONV_F32_LANES_H

#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

/* The opmasks of a block's two vectors: k0 lanes 0..15, k1 16..31. */
typedef struct {
    __mmask16 k0, k1;
} conv_mask;

static ALWAYS_INLINE __m512 conv_load0(const float *p, int two, conv_mask m)
{
    (void)two;
    return _mm512_maskz_loadu_ps(m.k0, p);
}

static ALWAYS_INLINE __m512 conv_load1(const float *p, conv_mask m)
{
    return _mm512_maskz_loadu_ps(m.k1, p + 16);
}

static ALWAYS_INLINE void conv_store0(float *p, int two, uint32_t width, conv_mask m, __m512 v)
{
    (void)two, (void)width;
    _mm512_mask_storeu_ps(p, m.k0, v);
}

static ALWAYS_INLINE void conv_store1(float *p, conv_mask m, __m512 v)
{
    _mm512_mask_storeu_ps(p + 16, m.k1, v);
}

/* Blocks of 32 channels, the last 1..31 under masks (one zmm for <= 16). */
static ALWAYS_INLINE conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width)
{
    conv_mask m;
    *width = rest < 32 ? rest : 32;
    *two = *width > 16;
    m.k0 = (__mmask16)(*width >= 16 ? 0xFFFFu : (1u << *width) - 1u);
    m.k1 = (__mmask16)(*width >= 32 ? 0xFFFFu : *width > 16 ? (1u << (*width - 16)) - 1u : 0u);
    return m;
}

/* 24 accumulators + 2 weight vectors + 1 broadcast of the 32 zmm registers: 12 pixels x two
 * vectors, or 24 x one when a tile has at most 16 channels of a group (O = 16: twice the
 * pixels a block, half the blocks and their fixed cost) */
#define CONV_PIX 12u
#define CONV_PIX1 24u
#define CONV_WIDTH1 16u

#endif /* ECNN_KERNELS_X86_AVX512_CONV_F32_LANES_H */

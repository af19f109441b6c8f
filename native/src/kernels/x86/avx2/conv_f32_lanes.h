/* The AVX2 float convs' blocks (x86/conv_f32_hwio.h): lane loads and stores of up to two ymm of
 * output channels and the block sizes, for avx2/conv_f32.c and avx2/conv_f32_sliced1.c. */
#ifndef ECNN_KERNELS_X86_AVX2_CONV_F32_LANES_H
#define ECNN_KERNELS_X86_AVX2_CONV_F32_LANES_H

#define VF_BITS 256
#include "kernels/x86/vec_f32.h"

/* The lanes of a block of one vector (!two): l < width; full: width is 8 or 16. */
typedef struct {
    __m256i lanes;
    int full;
} conv_mask;

/* A full vector takes a plain load: on a Zen 1 (EPYC, family 23 model 1) a vmaskmovps weight
 * load a term made 12 pixels x 8 channels (block_dense_concat's 3x3 32 -> 8 convs) ~1.6x slower
 * than vmovups with the same broadcasts and multiply-adds (a loop of them alone). */
static ALWAYS_INLINE __m256 conv_load0(const float *p, int two, conv_mask m)
{
    return two || m.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.lanes);
}

static ALWAYS_INLINE __m256 conv_load1(const float *p, conv_mask m)
{
    (void)m;
    return _mm256_loadu_ps(p + 8);
}

static ALWAYS_INLINE void conv_store0(float *p, int two, uint32_t width, conv_mask m, __m256 v)
{
    if (two || width == 8)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, m.lanes, v); /* slow on AMD: only for a last 1..7 */
}

static ALWAYS_INLINE void conv_store1(float *p, conv_mask m, __m256 v)
{
    (void)m;
    _mm256_storeu_ps(p + 8, v);
}

/* Blocks of 16 channels, the last 1..15 as one or two blocks of up to 8. */
static ALWAYS_INLINE conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    conv_mask m;
    *two = rest >= 16;
    *width = *two ? 16 : rest < 8 ? rest : 8;
    m.lanes = *two ? lane : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)*width), lane);
    m.full = *width >= 8;
    return m;
}

/* 12 accumulators + 2 weight vectors + 1 broadcast of the 16 ymm registers: 6 pixels x two
 * vectors, or 12 x one when a tile has at most 8 channels of a group (O = 8, MobileNet's first
 * layer: 12 chains of multiply-adds cover the FMA latency, 6 do not) */
#define CONV_PIX 6u
#define CONV_PIX1 12u
#define CONV_WIDTH1 8u

#endif /* ECNN_KERNELS_X86_AVX2_CONV_F32_LANES_H */

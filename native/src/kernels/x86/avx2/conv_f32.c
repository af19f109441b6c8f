/* AVX2 float conv over HWIO weights (x86/conv_f32_hwio.h), any O / group: blocks of up to 6
 * pixels x 16 output channels (two ymm), a last 1..15 as one or two blocks of up to 8, a last
 * 1..7 under a vector mask; each term one F32_MAC in the reference order: bit-identical to
 * ecnn_conv2d_f32_ref. */
#define VF_BITS 256
#include "kernels/x86/vec_f32.h"

/* The lanes of a block of one vector (!two): l < width. */
typedef __m256i conv_mask;

static ALWAYS_INLINE __m256 conv_load0(const float *p, int two, conv_mask m)
{
    return two ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
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
        _mm256_maskstore_ps(p, m, v); /* slow on AMD: only for a last 1..7 */
}

static ALWAYS_INLINE void conv_store1(float *p, conv_mask m, __m256 v)
{
    (void)m;
    _mm256_storeu_ps(p + 8, v);
}

#define CONV_PIX 6u /* 12 accumulators + 2 weight vectors + 1 broadcast: the 16 ymm registers */
#define CONV_KERNEL ecnn_conv2d_f32_hwio_avx2
#include "kernels/x86/conv_f32_hwio.h"

/* np pixels x `count` channels: blocks of 16, the last 1..15 as one or two blocks of up to 8. */
static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t o0;
    for (o0 = 0; o0 < count;) {
        const uint32_t rest = count - o0;
        const int two = rest >= 16;
        const uint32_t width = two ? 16 : rest < 8 ? rest : 8;
        const __m256i mask = two ? lane : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
        if (two)
            conv_tile_np(yp + o0, xp, g, wp + o0, b ? b + o0 : NULL, nky, nkx, np, 1, mask, width);
        else
            conv_tile_np(yp + o0, xp, g, wp + o0, b ? b + o0 : NULL, nky, nkx, np, 0, mask, width);
        o0 += width;
    }
}

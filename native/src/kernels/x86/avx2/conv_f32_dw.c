/* AVX2 depthwise float conv (CONV_2D with group == C == O) over HWIO weights
 * (x86/conv_f32_dw.h): blocks of 4 pixels x 16 channels (two ymm each), 8 pixels x 8 channels
 * (one ymm; a last 1..7 channels under a mask) or, for runs of one or two pixels, 2 pixels x
 * 32 channels; one F32_MAC per term in the reference order, then the bias: bit-identical to
 * the level's reference (ecnn_conv2d_f32_ref_fma). */
#define VF_BITS 256
#include "kernels/x86/vec_f32.h"

/* A block's lanes: whole vectors, or (masked) one vector of `mask`'s lanes, read and stored
 * with vmaskmov (slow on AMD: only for a last 1..7 channels). */
typedef struct {
    int masked;
    __m256i mask;
} dw_mask;

static ALWAYS_INLINE dw_mask dw_lanes(dw_mask m, uint32_t v, uint32_t nv)
{
    (void)v, (void)nv;
    return m;
}

static ALWAYS_INLINE __m256 dw_load(const float *p, uint32_t v, dw_mask m)
{
    return m.masked ? _mm256_maskload_ps(p, m.mask) : _mm256_loadu_ps(p + 8 * v);
}

static ALWAYS_INLINE void dw_store(float *p, uint32_t v, dw_mask m, __m256 r)
{
    if (m.masked)
        _mm256_maskstore_ps(p, m.mask, r);
    else
        _mm256_storeu_ps(p + 8 * v, r);
}

static ALWAYS_INLINE dw_mask dw_first_lanes(uint32_t r)
{
    dw_mask m;
    m.masked = r < 8;
    m.mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return m;
}

/* The vector starting half-way through lo (its upper half, then hi's lower half). */
static ALWAYS_INLINE __m256 dw_half(__m256 lo, __m256 hi)
{
    return _mm256_permute2f128_ps(lo, hi, 0x21);
}

#define DW_PIX 8u  /* at most 8 accumulators (8 x 1, 4 x 2, 2 x 4) + weights + an input of the 16 ymm */
#define DW_VECS 4u /* 32 channels (in blocks of 2 pixels; 16 in blocks of 4) */
#define DW_KERNEL ecnn_conv2d_f32_dw_avx2
#define DW_ROWS_WEIGHT_REGS 0 /* 16 ymm: the weights are read where they are used */
#define DW_ROWS_MASKED 0      /* a last 1..7 channels take the runs (vmaskmov is slow on AMD) */
#include "kernels/x86/conv_f32_dw.h"

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t npix, uint32_t count)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const dw_mask whole = {0, _mm256_set1_epi32(-1)};
    uint32_t c0 = 0;
    /* runs of one or two pixels (a small map's border pixels, 3x3 maps) take 32 channels a
     * block, 4 independent sums a pixel, where 16 would leave a 2-deep chain of multiply-adds
     * idle */
    for (; npix <= 2 && count - c0 >= 32; c0 += 32)
        dw_pixels(yp + c0, xp + c0, g, wp + c0, b ? b + c0 : NULL, nky, nkx, npix, 2, 4, whole, 0);
    while (c0 < count) {
        const uint32_t rest = count - c0;
        const uint32_t width = rest >= 16 ? 16 : rest >= 8 ? 8 : rest;
        dw_mask m;
        float *yc = yp + c0;
        const float *xc = xp + c0, *wc = wp + c0, *bc = b ? b + c0 : NULL;
        m.mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
        if (width == 16) {
            m.masked = 0;
            dw_pixels(yc, xc, g, wc, bc, nky, nkx, npix, 4, 2, m, 0);
        } else if (width == 8) {
            m.masked = 0;
            dw_pixels(yc, xc, g, wc, bc, nky, nkx, npix, 8, 1, m, 0);
        } else {
            m.masked = 1;
            dw_pixels(yc, xc, g, wc, bc, nky, nkx, npix, 8, 1, m, 0);
        }
        c0 += width;
    }
}

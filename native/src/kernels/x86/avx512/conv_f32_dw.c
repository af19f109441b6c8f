/* AVX-512 depthwise float conv (CONV_2D with group == C == O) over HWIO weights
 * (x86/conv_f32_dw.h): blocks of 4 pixels x 64 or 48 channels, 8 pixels x 32 or 16 (a last
 * 1..15 channels under an opmask) or, for runs of one or two pixels, 2 pixels x 128; one
 * vfmadd per term (every AVX-512 CPU has FMA) in the reference order, then the bias:
 * bit-identical to ecnn_conv2d_f32_ref_fma. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

/* The opmask of a block's last vector (the others are whole). */
typedef __mmask16 dw_mask;

static ALWAYS_INLINE dw_mask dw_lanes(dw_mask last, uint32_t v, uint32_t nv)
{
    return v == nv - 1 ? last : (__mmask16)0xFFFFu;
}

static ALWAYS_INLINE __m512 dw_load(const float *p, uint32_t v, dw_mask k)
{
    return _mm512_maskz_loadu_ps(k, p + 16 * v);
}

static ALWAYS_INLINE void dw_store(float *p, uint32_t v, dw_mask k, __m512 r)
{
    _mm512_mask_storeu_ps(p + 16 * v, k, r);
}

static ALWAYS_INLINE dw_mask dw_first_lanes(uint32_t r)
{
    return (__mmask16)((1u << r) - 1u);
}

/* The vector starting half-way through lo (its upper half, then hi's lower half). */
static ALWAYS_INLINE __m512 dw_half(__m512 lo, __m512 hi)
{
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 8));
}

#define DW_PIX 8u  /* at most 16 accumulators (8 x 2, 4 x 4, 2 x 8) + weights + an input of the 32 zmm */
#define DW_VECS 8u /* 128 channels (in blocks of 2 pixels; 64 in blocks of 4) */
#define DW_KERNEL ecnn_conv2d_f32_dw_avx512
#define DW_ROWS_WEIGHT_REGS 9 /* a 3x3 window's weights in 9 of the 32 zmm */
#define DW_ROWS_MASKED 0      /* a last 1..15 channels take the runs (masked loads: ~2x the clang ASan build) */
#include "kernels/x86/conv_f32_dw.h"

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t npix, uint32_t count)
{
    uint32_t c0 = 0;
    /* runs of one or two pixels (a small map's border pixels) take 128 channels a block, 8
     * independent sums a pixel, where 64 would leave a 4-deep chain of multiply-adds idle */
    for (; npix <= 2 && count - c0 >= 128; c0 += 128)
        dw_pixels(yp + c0, xp + c0, g, wp + c0, b ? b + c0 : NULL, nky, nkx, npix, 2, 8, (__mmask16)0xFFFFu, 0);
    while (c0 < count) {
        const uint32_t width = count - c0 < 64 ? count - c0 : 64, nv = (width + 15) / 16;
        const __mmask16 last = (__mmask16)(width % 16 ? (1u << (width % 16)) - 1u : 0xFFFFu);
        float *yc = yp + c0;
        const float *xc = xp + c0, *wc = wp + c0, *bc = b ? b + c0 : NULL;
        /* whole vectors under a constant mask: plain loads the multiply-adds take from memory */
#define DW_RUN(NP, NV, M) dw_pixels(yc, xc, g, wc, bc, nky, nkx, npix, NP, NV, M, 0)
#define DW_NV(M)                                                                                                       \
    switch (nv) {                                                                                                      \
    case 1: DW_RUN(8, 1, M); break;                                                                                    \
    case 2: DW_RUN(8, 2, M); break;                                                                                    \
    case 3: DW_RUN(4, 3, M); break;                                                                                    \
    default: DW_RUN(4, 4, M); break;                                                                                   \
    }
        if (width % 16 == 0) {
            DW_NV((__mmask16)0xFFFFu)
        } else {
            DW_NV(last)
        }
#undef DW_NV
#undef DW_RUN
        c0 += width;
    }
}

/* AVX2 depthwise float conv (CONV_2D with group == C == O) over HWIO weights
 * (x86/conv_f32_dw.h): blocks of up to 4 pixels x 16 channels (two ymm each; a last 1..7
 * channels under a mask), one F32_MAC per term in the reference order, then the bias:
 * bit-identical to the level's reference (ecnn_conv2d_f32_ref_fma). */
#define DW_PIX 4u /* 8 accumulators + 2 weight vectors + 1 input vector of the 16 ymm registers */
#include "kernels/x86/conv_f32_dw.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_dw_avx2;

/* np pixels x nv (1 or 2) vectors of 8 channels, or one vector of `mask`'s lanes (masked; the
 * masked lanes read no memory and are not stored). Relu and Clip as in the AVX-512 kernel. */
static ALWAYS_INLINE void dw_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                  uint32_t nky, uint32_t nkx, const uint32_t np, const uint32_t nv, const int masked,
                                  __m256i mask)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 a[DW_PIX][2];
    uint32_t ky, kx, j, v;
    for (j = 0; j < np; j++)
        for (v = 0; v < nv; v++) a[j][v] = zero;
    for (ky = 0; ky < nky; ky++) {
        const float *xr = xp + ky * g->x_row, *wr = wp + ky * g->w_row;
        for (kx = 0; kx < nkx; kx++, xr += g->x_tap, wr += g->o)
            for (v = 0; v < nv; v++) {
                const __m256 wv = masked ? _mm256_maskload_ps(wr, mask) : _mm256_loadu_ps(wr + 8 * v);
                for (j = 0; j < np; j++) {
                    const float *xv = xr + j * g->pix_step + 8 * v;
                    a[j][v] = F32_MAC(a[j][v], masked ? _mm256_maskload_ps(xv, mask) : _mm256_loadu_ps(xv), wv);
                }
            }
    }
    for (v = 0; v < nv; v++) {
        const __m256 bv = !b ? zero : masked ? _mm256_maskload_ps(b, mask) : _mm256_loadu_ps(b + 8 * v);
        for (j = 0; j < np; j++) {
            __m256 r = b ? _mm256_add_ps(a[j][v], bv) : a[j][v];
            if (g->act->act == ECNN_ACT_RELU)
                r = _mm256_max_ps(r, zero);
            else if (g->act->act == ECNN_ACT_CLIP)
                r = _mm256_min_ps(_mm256_set1_ps(g->act->act_p1), _mm256_max_ps(_mm256_set1_ps(g->act->act_p0), r));
            if (masked)
                _mm256_maskstore_ps(yp + j * g->o, mask, r);
            else
                _mm256_storeu_ps(yp + j * g->o + 8 * v, r);
        }
    }
}

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t np, uint32_t count)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t c0;
    for (c0 = 0; c0 < count;) {
        const uint32_t rest = count - c0;
        const uint32_t nv = rest >= 16 ? 2 : 1, width = rest >= 16 ? 16 : rest >= 8 ? 8 : rest;
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
        float *yc = yp + c0;
        const float *xc = xp + c0, *wc = wp + c0, *bc = b ? b + c0 : NULL;
#define DW_CASE(NP, NV, MASKED) dw_tile(yc, xc, g, wc, bc, nky, nkx, NP, NV, MASKED, mask)
#define DW_NP(NV, MASKED)                                                                                              \
    switch (np) {                                                                                                      \
    case 1: DW_CASE(1, NV, MASKED); break;                                                                             \
    case 2: DW_CASE(2, NV, MASKED); break;                                                                             \
    case 3: DW_CASE(3, NV, MASKED); break;                                                                             \
    default: DW_CASE(4, NV, MASKED); break;                                                                            \
    }
        if (nv == 2) {
            DW_NP(2, 0)
        } else if (width == 8) {
            DW_NP(1, 0)
        } else {
            DW_NP(1, 1)
        }
#undef DW_NP
#undef DW_CASE
        c0 += width;
    }
}

void ecnn_conv2d_f32_dw_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                             const ecnn_conv2d_args *p)
{
    (void)n; /* rows and channels come from the tile */
    conv_dw_tile(y, x, w, b, t, p);
}

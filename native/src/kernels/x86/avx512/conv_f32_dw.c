/* AVX-512 depthwise float conv (CONV_2D with group == C == O) over HWIO weights
 * (x86/conv_f32_dw.h): blocks of up to 4 pixels x 64 channels (four zmm each, the last 1..15
 * channels under an opmask), one vfmadd per term (every AVX-512 CPU has FMA) in the
 * reference order, then the bias: bit-identical to ecnn_conv2d_f32_ref_fma. */
#define DW_PIX 4u /* 16 accumulators + 4 weight vectors + 1 input vector of the 32 zmm registers */
#include "kernels/x86/conv_f32_dw.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_dw_avx512;

#ifdef ECNN_FUSED_MAC
#define F32_MAC16(acc, x, w) _mm512_fmadd_ps(x, w, acc)
#else
#define F32_MAC16(acc, x, w) _mm512_add_ps(acc, _mm512_mul_ps(x, w))
#endif

/* np pixels x nv vectors of 16 channels, the last under `last`. Relu is max(v, +0) (+0 for NaN
 * and -0, as v > 0 ? v : 0); Clip max(lo, v) then min(hi, .), which return v when either is
 * NaN or both are equal, as the reference's comparisons do. */
static ALWAYS_INLINE void dw_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                  uint32_t nky, uint32_t nkx, const uint32_t np, const uint32_t nv, __mmask16 last)
{
    const __m512 zero = _mm512_setzero_ps();
    __m512 a[DW_PIX][4];
    uint32_t ky, kx, j, v;
    for (j = 0; j < np; j++)
        for (v = 0; v < nv; v++) a[j][v] = zero;
    for (ky = 0; ky < nky; ky++) {
        const float *xr = xp + ky * g->x_row, *wr = wp + ky * g->w_row;
        for (kx = 0; kx < nkx; kx++, xr += g->x_tap, wr += g->o)
            for (v = 0; v < nv; v++) {
                const __mmask16 k = v == nv - 1 ? last : (__mmask16)0xFFFFu;
                const __m512 wv = _mm512_maskz_loadu_ps(k, wr + 16 * v);
                for (j = 0; j < np; j++)
                    a[j][v] = F32_MAC16(a[j][v], _mm512_maskz_loadu_ps(k, xr + j * g->pix_step + 16 * v), wv);
            }
    }
    for (v = 0; v < nv; v++) {
        const __mmask16 k = v == nv - 1 ? last : (__mmask16)0xFFFFu;
        const __m512 bv = b ? _mm512_maskz_loadu_ps(k, b + 16 * v) : zero;
        for (j = 0; j < np; j++) {
            __m512 r = b ? _mm512_add_ps(a[j][v], bv) : a[j][v];
            if (g->act->act == ECNN_ACT_RELU)
                r = _mm512_max_ps(r, zero);
            else if (g->act->act == ECNN_ACT_CLIP)
                r = _mm512_min_ps(_mm512_set1_ps(g->act->act_p1), _mm512_max_ps(_mm512_set1_ps(g->act->act_p0), r));
            _mm512_mask_storeu_ps(yp + j * g->o + 16 * v, k, r);
        }
    }
}

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t np, uint32_t count)
{
    uint32_t c0;
    for (c0 = 0; c0 < count;) {
        const uint32_t width = count - c0 < 64 ? count - c0 : 64, nv = (width + 15) / 16;
        const __mmask16 last = (__mmask16)(width % 16 ? (1u << (width % 16)) - 1u : 0xFFFFu);
        float *yc = yp + c0;
        const float *xc = xp + c0, *wc = wp + c0, *bc = b ? b + c0 : NULL;
#define DW_CASE(NP, NV) dw_tile(yc, xc, g, wc, bc, nky, nkx, NP, NV, last)
#define DW_NP(NV)                                                                                                      \
    switch (np) {                                                                                                      \
    case 1: DW_CASE(1, NV); break;                                                                                     \
    case 2: DW_CASE(2, NV); break;                                                                                     \
    case 3: DW_CASE(3, NV); break;                                                                                     \
    default: DW_CASE(4, NV); break;                                                                                    \
    }
        switch (nv) {
        case 1: DW_NP(1) break;
        case 2: DW_NP(2) break;
        case 3: DW_NP(3) break;
        default: DW_NP(4) break;
        }
#undef DW_NP
#undef DW_CASE
        c0 += width;
    }
}

void ecnn_conv2d_f32_dw_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                               const ecnn_conv2d_args *p)
{
    (void)n; /* rows and channels come from the tile */
    conv_dw_tile(y, x, w, b, t, p);
}

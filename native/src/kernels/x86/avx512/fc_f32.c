/* AVX-512 fully connected float kernel over FC_PANEL16 weights (kernels.h): the AVX2 kernel's
 * arithmetic twice as wide. One zmm holds a whole weight row of a panel; a tile of up to 8
 * samples x 16 outputs. One ecnn_mac per term (a vfmadd: every AVX-512 CPU has FMA), so the
 * result is the reference's bit for bit. */
#include "kernels/x86/x86.h"

ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx512;

#define F32_TILE 8u
#define F32_KBLOCK 256u

static ALWAYS_INLINE void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w,
                                   uint32_t kc, const uint32_t ns, int first, int last, const float *bias,
                                   uint32_t width)
{
    const __mmask16 mask = (__mmask16)((1u << width) - 1u);
    __m512 a[F32_TILE];
    uint32_t s, i;
    for (s = 0; s < ns; s++) a[s] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, y + s * ystride);
    for (i = 0; i < kc; i++) {
        const __m512 wr = _mm512_loadu_ps(w + (size_t)i * 16);
        for (s = 0; s < ns; s++) {
#ifdef ECNN_FUSED_MAC
            a[s] = _mm512_fmadd_ps(_mm512_set1_ps(x[s * xstride + i]), wr, a[s]);
#else
            a[s] = _mm512_add_ps(a[s], _mm512_mul_ps(_mm512_set1_ps(x[s * xstride + i]), wr));
#endif
        }
    }
    for (s = 0; s < ns; s++) {
        if (last && bias) a[s] = _mm512_add_ps(a[s], _mm512_maskz_loadu_ps(mask, bias));
        _mm512_mask_storeu_ps(y + s * ystride, mask, a[s]);
    }
}

void ecnn_fc_f32_panel16_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    /* The tile's samples and panels (o0: a multiple of 16) */
    const uint32_t panels = (t->o1 + 15) / 16;
    const uint32_t kblock = t->m1 - t->m0 <= F32_TILE ? k : F32_KBLOCK;
    uint32_t kb, p, s0, s;
    size_t i;
    (void)n;
    if (k == 0) return;
    for (kb = 0; kb < k; kb += kblock) {
        const uint32_t kc = k - kb < kblock ? k - kb : kblock;
        const int first = kb == 0, last = kb + kc == k;
        for (p = t->o0 / 16; p < panels; p++) {
            const uint32_t o0 = p * 16, width = t->o1 - o0 < 16 ? t->o1 - o0 : 16;
            const float *wb = w + ((size_t)p * k + kb) * 16;
            const float *bias = b ? b + o0 : NULL;
            for (s0 = t->m0; s0 < t->m1; s0 += F32_TILE) {
                float *yt = y + (size_t)s0 * o + o0;
                const float *xt = x + (size_t)s0 * k + kb;
                switch (t->m1 - s0 < F32_TILE ? t->m1 - s0 : F32_TILE) {
                case 1: f32_tile(yt, o, xt, k, wb, kc, 1, first, last, bias, width); break;
                case 2: f32_tile(yt, o, xt, k, wb, kc, 2, first, last, bias, width); break;
                case 3: f32_tile(yt, o, xt, k, wb, kc, 3, first, last, bias, width); break;
                case 4: f32_tile(yt, o, xt, k, wb, kc, 4, first, last, bias, width); break;
                case 5: f32_tile(yt, o, xt, k, wb, kc, 5, first, last, bias, width); break;
                case 6: f32_tile(yt, o, xt, k, wb, kc, 6, first, last, bias, width); break;
                case 7: f32_tile(yt, o, xt, k, wb, kc, 7, first, last, bias, width); break;
                default: f32_tile(yt, o, xt, k, wb, kc, 8, first, last, bias, width); break;
                }
            }
        }
    }
    if (act->act != 0) /* ECNN_ACT_NONE */
        for (s = t->m0; s < t->m1; s++)
            for (i = (size_t)s * o + t->o0; i < (size_t)s * o + t->o1; i++) y[i] = ecnn_apply_act(y[i], act);
}

/* AVX-512 VNNI multi-pixel dot microkernel (dotn) of the int8 conv (ecnn_conv_q_ukernels, kernels_i8.h): the int16
 * pair products of ecnn_conv_q_dot_avx2 summed into int32 by one vpdpwssd per 16 outputs
 * (|x - zx|, |w - zw| <= 255: each pair sum fits int32, and vpdpwssd does not saturate), four
 * pixels per weight load: their accumulators are independent chains, so vpdpwssd's latency
 * overlaps. The single-pixel dot and the requantizing store are the AVX2 ones. */
#include "kernels/x86/x86.h"

ecnn_conv_q_dotn_kernel ecnn_conv_q_dotn_avx512vnni;

/* The int16 pair (x[2j], x[2j+1]) in every lane. */
static inline __m512i pair_at(const int16_t *xk, uint32_t j)
{
    int32_t xp;
    memcpy(&xp, xk + 2 * j, sizeof xp);
    return _mm512_set1_epi32(xp);
}

/* The ECNN_CONV_Q_PIXELS pixels (pixels past npix repeat the last one, unstored). */
#define PIXELS(M) M(0) M(1) M(2) M(3)

void ecnn_conv_q_dotn_avx512vnni(int32_t *const *acc, const int16_t *const *xk, uint32_t npix, const int16_t *wc,
                                 uint32_t pairs, uint32_t c8)
{
    const size_t row = (size_t)c8 * 2; /* int16 per pair of terms */
    const __m512i zero = _mm512_setzero_si512();
    uint32_t o0 = 0, j;
#define X_DECL(I) const int16_t *x##I = xk[I < npix ? I : npix - 1];
    PIXELS(X_DECL)
#undef X_DECL
    for (; o0 + 32 <= c8; o0 += 32) { /* 32 outputs per pass: two accumulators a pixel */
        const int16_t *w = wc + (size_t)o0 * 2;
        __m512i lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero, lo2 = zero, hi2 = zero, lo3 = zero, hi3 = zero;
        for (j = 0; j < pairs; j++) {
            const __m512i w0 = _mm512_loadu_si512(w + j * row), w1 = _mm512_loadu_si512(w + j * row + 32);
            __m512i xv;
#define X_DOT(I)                                                                                                       \
    xv = pair_at(x##I, j);                                                                                             \
    lo##I = _mm512_dpwssd_epi32(lo##I, xv, w0);                                                                        \
    hi##I = _mm512_dpwssd_epi32(hi##I, xv, w1);
            PIXELS(X_DOT)
#undef X_DOT
        }
#define X_STORE(I)                                                                                                     \
    if (I < npix) {                                                                                                    \
        _mm512_storeu_si512(acc[I] + o0, lo##I);                                                                       \
        _mm512_storeu_si512(acc[I] + o0 + 16, hi##I);                                                                  \
    }
        PIXELS(X_STORE)
#undef X_STORE
    }
    for (; o0 < c8; o0 += 16) { /* the last 8 or 16 outputs: one accumulator a pixel */
        const __mmask16 m = c8 - o0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)0xFF;
        const int16_t *w = wc + (size_t)o0 * 2;
        __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (j = 0; j < pairs; j++) {
            const __m512i w0 = _mm512_maskz_loadu_epi32(m, w + j * row);
#define X_DOT(I) a##I = _mm512_dpwssd_epi32(a##I, pair_at(x##I, j), w0);
            PIXELS(X_DOT)
#undef X_DOT
        }
#define X_STORE(I)                                                                                                     \
    if (I < npix) _mm512_mask_storeu_epi32(acc[I] + o0, m, a##I);
        PIXELS(X_STORE)
#undef X_STORE
    }
}

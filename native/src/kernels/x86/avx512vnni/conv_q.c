/* AVX-512 VNNI dot microkernel of the int8 conv (ecnn_conv_q_ukernels, kernels_i8.h): the int16
 * pair products of ecnn_conv_q_dot_avx2 summed into int32 by one vpdpwssd per 16 outputs
 * (|x - zx|, |w - zw| <= 255: each pair sum fits int32, and vpdpwssd does not saturate). Even and
 * odd pairs go to separate accumulators, added at the end (exact int32 sums, any order): one
 * chain would wait on vpdpwssd's latency at every pair. The requantizing store is the AVX2 one. */
#include "kernels/x86/x86.h"

ecnn_conv_q_dot_kernel ecnn_conv_q_dot_avx512vnni;

/* The int16 pair (x[2j], x[2j+1]) in every lane. */
static inline __m512i pair_at(const int16_t *xk, uint32_t j)
{
    int32_t xp;
    memcpy(&xp, xk + 2 * j, sizeof xp);
    return _mm512_set1_epi32(xp);
}

void ecnn_conv_q_dot_avx512vnni(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    const size_t row = (size_t)c8 * 2; /* int16 per pair of terms */
    uint32_t o0 = 0, j;
    for (; o0 + 32 <= c8; o0 += 32) { /* 32 outputs per pass */
        const int16_t *w = wc + (size_t)o0 * 2;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
        for (j = 0; j + 2 <= pairs; j += 2) {
            const __m512i xa = pair_at(xk, j), xb = pair_at(xk, j + 1);
            const int16_t *wa = w + j * row, *wb = wa + row;
            a0 = _mm512_dpwssd_epi32(a0, xa, _mm512_loadu_si512(wa));
            a1 = _mm512_dpwssd_epi32(a1, xa, _mm512_loadu_si512(wa + 32));
            b0 = _mm512_dpwssd_epi32(b0, xb, _mm512_loadu_si512(wb));
            b1 = _mm512_dpwssd_epi32(b1, xb, _mm512_loadu_si512(wb + 32));
        }
        if (j < pairs) {
            const __m512i xa = pair_at(xk, j);
            a0 = _mm512_dpwssd_epi32(a0, xa, _mm512_loadu_si512(w + j * row));
            a1 = _mm512_dpwssd_epi32(a1, xa, _mm512_loadu_si512(w + j * row + 32));
        }
        _mm512_storeu_si512(acc + o0, _mm512_add_epi32(a0, b0));
        _mm512_storeu_si512(acc + o0 + 16, _mm512_add_epi32(a1, b1));
    }
    for (; o0 < c8; o0 += 16) { /* the last 8 or 16 outputs: four chains over the pairs */
        const __mmask16 m = c8 - o0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)0xFF;
        const int16_t *w = wc + (size_t)o0 * 2;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (j = 0; j + 4 <= pairs; j += 4) {
            a0 = _mm512_dpwssd_epi32(a0, pair_at(xk, j), _mm512_maskz_loadu_epi32(m, w + j * row));
            a1 = _mm512_dpwssd_epi32(a1, pair_at(xk, j + 1), _mm512_maskz_loadu_epi32(m, w + (j + 1) * row));
            a2 = _mm512_dpwssd_epi32(a2, pair_at(xk, j + 2), _mm512_maskz_loadu_epi32(m, w + (j + 2) * row));
            a3 = _mm512_dpwssd_epi32(a3, pair_at(xk, j + 3), _mm512_maskz_loadu_epi32(m, w + (j + 3) * row));
        }
        for (; j < pairs; j++) a0 = _mm512_dpwssd_epi32(a0, pair_at(xk, j), _mm512_maskz_loadu_epi32(m, w + j * row));
        _mm512_mask_storeu_epi32(acc + o0, m, _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
    }
}

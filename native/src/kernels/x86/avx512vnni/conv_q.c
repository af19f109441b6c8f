/* AVX-512 VNNI dot microkernel of the int8 conv (ecnn_conv_q_ukernels, kernels_i8.h): the int16
 * pair products of ecnn_conv_q_dot_avx2 summed into int32 by one vpdpwssd per 16 outputs
 * (|x - zx|, |w - zw| <= 255: each pair sum fits int32, and vpdpwssd does not saturate). The
 * requantizing store is the AVX2 one. */
#include "kernels/x86/x86.h"

ecnn_conv_q_dot_kernel ecnn_conv_q_dot_avx512vnni;

void ecnn_conv_q_dot_avx512vnni(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o0 = 0, j;
    for (; o0 + 32 <= c8; o0 += 32) { /* 32 outputs (two accumulators) per pass */
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        for (j = 0; j < pairs; j++) {
            const int16_t *wj = wc + ((size_t)j * c8 + o0) * 2;
            int32_t xp;
            __m512i xv;
            memcpy(&xp, xk + 2 * j, sizeof xp); /* (x[2j], x[2j+1]) as one int16 pair */
            xv = _mm512_set1_epi32(xp);
            a0 = _mm512_dpwssd_epi32(a0, xv, _mm512_loadu_si512(wj));
            a1 = _mm512_dpwssd_epi32(a1, xv, _mm512_loadu_si512(wj + 32));
        }
        _mm512_storeu_si512(acc + o0, a0);
        _mm512_storeu_si512(acc + o0 + 16, a1);
    }
    for (; o0 < c8; o0 += 16) { /* the last 8 or 16 outputs */
        const __mmask16 m = c8 - o0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)0xFF;
        __m512i a0 = _mm512_setzero_si512();
        for (j = 0; j < pairs; j++) {
            int32_t xp;
            memcpy(&xp, xk + 2 * j, sizeof xp);
            a0 = _mm512_dpwssd_epi32(a0, _mm512_set1_epi32(xp),
                                     _mm512_maskz_loadu_epi32(m, wc + ((size_t)j * c8 + o0) * 2));
        }
        _mm512_mask_storeu_epi32(acc + o0, m, a0);
    }
}

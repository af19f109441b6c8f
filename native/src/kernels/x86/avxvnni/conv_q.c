/* AVX-VNNI dot microkernel of the int8 conv (ecnn_conv_q_ukernels, kernels_i8.h): the int16
 * pair products of ecnn_conv_q_dot_avx2 summed into int32 by one VEX vpdpwssd per 8 outputs
 * (|x - zx|, |w - zw| <= 255: each pair sum fits int32, and vpdpwssd does not saturate). The
 * requantizing store is the AVX2 one. */
#include "kernels/x86/x86.h"

ecnn_conv_q_dot_kernel ecnn_conv_q_dot_avxvnni;

void ecnn_conv_q_dot_avxvnni(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o0, j;
    for (o0 = 0; o0 < c8; o0 += 32) {
        /* 32 outputs (four accumulators) per pass; a last block of 8, 16 or 24 uses fewer */
        const uint32_t blocks = c8 - o0 >= 32 ? 4 : (c8 - o0) / 8;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (j = 0; j < pairs; j++) {
            const __m256i *wj = (const __m256i *)(wc + ((size_t)j * c8 + o0) * 2);
            int32_t xp;
            __m256i xv;
            memcpy(&xp, xk + 2 * j, sizeof xp); /* (x[2j], x[2j+1]) as one int16 pair */
            xv = _mm256_set1_epi32(xp);
            a0 = _mm256_dpwssd_avx_epi32(a0, xv, _mm256_loadu_si256(wj));
            if (blocks > 1) a1 = _mm256_dpwssd_avx_epi32(a1, xv, _mm256_loadu_si256(wj + 1));
            if (blocks > 2) a2 = _mm256_dpwssd_avx_epi32(a2, xv, _mm256_loadu_si256(wj + 2));
            if (blocks > 3) a3 = _mm256_dpwssd_avx_epi32(a3, xv, _mm256_loadu_si256(wj + 3));
        }
        _mm256_storeu_si256((__m256i *)(acc + o0), a0);
        if (blocks > 1) _mm256_storeu_si256((__m256i *)(acc + o0 + 8), a1);
        if (blocks > 2) _mm256_storeu_si256((__m256i *)(acc + o0 + 16), a2);
        if (blocks > 3) _mm256_storeu_si256((__m256i *)(acc + o0 + 24), a3);
    }
}

/* AVX2 microkernels of the int8 conv (ecnn_conv_q_ukernels, kernels_i8.h): the int16 pair dot
 * product (_mm256_madd_epi16) and the requantizing store, 8 outputs a vector (x86/q_requant.h). */
#define RQ_BITS 256
#include "kernels/x86/q_requant.h"

ecnn_conv_q_dot_kernel ecnn_conv_q_dot_avx2;
ecnn_conv_q_dotn_kernel ecnn_conv_q_dotn_avx2;
ecnn_q_store_scaled_kernel ecnn_q_store_scaled_avx2;

void ecnn_conv_q_dot_avx2(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o0, j;
    for (o0 = 0; o0 < c8; o0 += 16) {
        /* 16 outputs (two accumulators) per pass; a last block of 8 uses one */
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        const int two = c8 - o0 >= 16;
        for (j = 0; j < pairs; j++) {
            int32_t xp;
            __m256i xv;
            memcpy(&xp, xk + 2 * j, sizeof xp); /* (x[2j], x[2j+1]) as one int16 pair */
            xv = _mm256_set1_epi32(xp);
            a0 = _mm256_add_epi32(
                a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(wc + ((size_t)j * c8 + o0) * 2)), xv));
            if (two)
                a1 = _mm256_add_epi32(
                    a1,
                    _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(wc + ((size_t)j * c8 + o0 + 8) * 2)), xv));
        }
        _mm256_storeu_si256((__m256i *)(acc + o0), a0);
        if (two) _mm256_storeu_si256((__m256i *)(acc + o0 + 8), a1);
    }
}

/* The ECNN_CONV_Q_PIXELS pixels (pixels past npix repeat the last one, unstored). */
#define PIXELS(M) M(0) M(1) M(2) M(3)

void ecnn_conv_q_dotn_avx2(int32_t *const *acc, const int16_t *const *xk, uint32_t npix, const int16_t *wc,
                           uint32_t pairs, uint32_t c8)
{
    const size_t row = (size_t)c8 * 2; /* int16 per pair of terms */
    uint32_t o0, j;
#define X_DECL(I) const int16_t *x##I = xk[I < npix ? I : npix - 1];
    PIXELS(X_DECL)
#undef X_DECL
    for (o0 = 0; o0 < c8; o0 += 16) {
        /* 16 outputs (two accumulators a pixel) per pass; a last block of 8 uses one */
        const int two = c8 - o0 >= 16;
        const int16_t *w = wc + (size_t)o0 * 2;
        const __m256i zero = _mm256_setzero_si256();
        __m256i lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero, lo2 = zero, hi2 = zero, lo3 = zero, hi3 = zero;
        for (j = 0; j < pairs; j++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + j * row));
            const __m256i w1 = two ? _mm256_loadu_si256((const __m256i *)(w + j * row + 16)) : zero;
            int32_t xp;
            __m256i xv;
            /* (x[2j], x[2j+1]) of each pixel as one int16 pair in every lane */
#define X_DOT(I)                                                                                                       \
    memcpy(&xp, x##I + 2 * j, sizeof xp);                                                                              \
    xv = _mm256_set1_epi32(xp);                                                                                        \
    lo##I = _mm256_add_epi32(lo##I, _mm256_madd_epi16(w0, xv));                                                        \
    if (two) hi##I = _mm256_add_epi32(hi##I, _mm256_madd_epi16(w1, xv));
            PIXELS(X_DOT)
#undef X_DOT
        }
#define X_STORE(I)                                                                                                     \
    if (I < npix) {                                                                                                    \
        _mm256_storeu_si256((__m256i *)(acc[I] + o0), lo##I);                                                          \
        if (two) _mm256_storeu_si256((__m256i *)(acc[I] + o0 + 8), hi##I);                                             \
    }
        PIXELS(X_STORE)
#undef X_STORE
    }
}

void ecnn_q_store_scaled_avx2(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                              const int32_t *bias, const ecnn_qlinear_params *q)
{
    const rq256_consts c = rq256_setup(q);
    uint32_t l = 0;
    for (; l + 8 <= count; l += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(acc + l));
        if (bias) a = _mm256_add_epi32(a, _mm256_loadu_si256((const __m256i *)(bias + l)));
        rq256_store((uint8_t *)y + first + l, rq256_codes(a, rq256_scales(scales + l), &c), 8, &c);
    }
    ecnn_q_store_scaled_tail(y, first, acc, l, count, scales, bias, q);
}

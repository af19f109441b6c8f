/* The requantize-and-store of the x86 int8 fully connected kernels (avx2, avxvnni and
 * avx512vnni fc_q.c), on vectors of outputs: kernels_i8.h's ecnn_requantize, bit for bit (the
 * same IEEE float operations in the same order: int32 -> float, times the scale, max then min
 * against the range, round half to even by the default MXCSR, plus zy), and its per-output
 * constants (ecnn_q_block_constants) computed 8 at a time. */
#ifndef ECNN_KERNELS_X86_FC_Q_STORE_H
#define ECNN_KERNELS_X86_FC_Q_STORE_H

#include "kernels/x86/x86.h"

/* ecnn_q_block_constants (kernels_i8.h): bias[l] = b[o] - terms[l] (wrapping) and the
 * requantization scale (x_scale * w_scale[o]) / y_scale of `count` outputs from o0, 8 at a
 * time where all 8 are below O; the rest by the scalar function. */
static inline void ecnn_fc_q_block_constants(int32_t *bias, float *scales, const int32_t *terms, const int32_t *b,
                                             uint32_t o0, uint32_t count, uint32_t o, const ecnn_qlinear_params *q)
{
    const __m256 xs = _mm256_set1_ps(q->x_scale), ys = _mm256_set1_ps(q->y_scale);
    const __m256 one_scale = _mm256_set1_ps(ecnn_requant_scale(q, 0));
    uint32_t l = 0;
    for (; l + 8 <= count && o0 + l + 8 <= o; l += 8) {
        __m256i v = b ? _mm256_loadu_si256((const __m256i *)(b + o0 + l)) : _mm256_setzero_si256();
        if (terms) v = _mm256_sub_epi32(v, _mm256_loadu_si256((const __m256i *)(terms + l)));
        _mm256_storeu_si256((__m256i *)(bias + l), v);
        _mm256_storeu_ps(scales + l, q->w_count == 1
                                         ? one_scale
                                         : _mm256_div_ps(_mm256_mul_ps(xs, _mm256_loadu_ps(q->w_scales + o0 + l)), ys));
    }
    if (l < count) ecnn_q_block_constants(bias + l, scales + l, terms ? terms + l : NULL, b, o0 + l, count - l, o, q);
}

/* ecnn_requantize of the 8 int32 sums of `sum` plus their biases: the output codes in int32
 * lanes. */
static ALWAYS_INLINE __m256i ecnn_fc_q_requantize8(__m256i sum, const int32_t *bias, const float *scales,
                                                   const ecnn_qlinear_params *q)
{
    const __m256 lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m256 hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)bias)));
    v = _mm256_mul_ps(v, _mm256_loadu_ps(scales));
    v = _mm256_max_ps(v, lo); /* v > lo ? v : lo, then v < hi ? v : hi: the reference's order */
    v = _mm256_min_ps(v, hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(q->y_zero_point)); /* MXCSR: to even */
}

/* Requantizes 8 sums and stores the first `width` (1..8) codes at y (AVX2: no byte masks). */
static ALWAYS_INLINE void ecnn_fc_q_store8(uint8_t *y, __m256i sum, const int32_t *bias, const float *scales,
                                           uint32_t width, const ecnn_qlinear_params *q)
{
    const __m256i r = ecnn_fc_q_requantize8(sum, bias, scales, q);
    /* r is within the output dtype's range: the saturating packs are exact */
    __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    r16 = q->y_type == ECNN_Q_U8 ? _mm_packus_epi16(r16, r16) : _mm_packs_epi16(r16, r16);
    if (width == 8)
        _mm_storel_epi64((__m128i *)y, r16);
    else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)t, r16);
        memcpy(y, t, width);
    }
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
/* Requantizes 16 sums and stores the first `width` (1..16) codes at y. */
static ALWAYS_INLINE void ecnn_fc_q_store16(uint8_t *y, __m512i sum, const int32_t *bias, const float *scales,
                                            uint32_t width, const ecnn_qlinear_params *q)
{
    const __m512 lo = _mm512_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m512 hi = _mm512_set1_ps((float)(q->y_max - q->y_zero_point));
    __m512 v = _mm512_cvtepi32_ps(_mm512_add_epi32(sum, _mm512_loadu_si512(bias)));
    __m512i r;
    v = _mm512_mul_ps(v, _mm512_loadu_ps(scales));
    v = _mm512_max_ps(v, lo);
    v = _mm512_min_ps(v, hi);
    r = _mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(q->y_zero_point));
    /* r is within the output dtype's range: its low byte is the code */
    _mm_mask_storeu_epi8(y, (__mmask16)((1u << width) - 1u), _mm512_cvtepi32_epi8(r));
}
#endif

#endif /* ECNN_KERNELS_X86_FC_Q_STORE_H */

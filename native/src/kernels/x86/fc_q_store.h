/* The requantize-and-store of the x86 int8 fully connected kernels (avx2, avxvnni and
 * avx512vnni fc_q.c) on vectors of outputs, their biases and scales read from a block's arrays
 * (x86/q_requant.h: kernels_i8.h's ecnn_requantize, bit for bit), and those per-output
 * constants (ecnn_q_block_constants) computed 8 at a time. */
#ifndef ECNN_KERNELS_X86_FC_Q_STORE_H
#define ECNN_KERNELS_X86_FC_Q_STORE_H

#define RQ_BITS 256
#include "kernels/x86/q_requant.h"
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define RQ_BITS 512
#include "kernels/x86/q_requant.h"
#endif

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

/* Requantizes the 8 sums of `sum` plus their biases and stores the first `width` (1..8) codes at y. */
static ALWAYS_INLINE void ecnn_fc_q_store8(uint8_t *y, __m256i sum, const int32_t *bias, const float *scales,
                                           uint32_t width, const rq256_consts *c)
{
    const __m256i biased = _mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)bias));
    rq256_store(y, rq256_codes(biased, rq256_scales(scales), c), width, c);
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
/* The same for 16 sums, `width` 1..16. */
static ALWAYS_INLINE void ecnn_fc_q_store16(uint8_t *y, __m512i sum, const int32_t *bias, const float *scales,
                                            uint32_t width, const rq512_consts *c)
{
    rq512_store(y, rq512_codes(_mm512_add_epi32(sum, _mm512_loadu_si512(bias)), rq512_scales(scales), c), width, c);
}
#endif

#endif /* ECNN_KERNELS_X86_FC_Q_STORE_H */

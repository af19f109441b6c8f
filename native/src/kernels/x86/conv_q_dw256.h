/* The AVX2 depthwise int8 conv over channels [c0, count) of a call (kernels_i8.h
 * ecnn_conv_q_dw_kernel), shared by the AVX2 and AVX-VNNI levels, 8 channels a vector.
 * For each 8 channels the weights of every tap are centred once (w - zw, widened to int32 with
 * the high half 0) and stay in registers over the chunk's pixels; each tap's codes are widened
 * to int32 and multiplied by them with _mm256_madd_epi16 (code x weight + 0 x 0: exact), the zx
 * terms folded into the bias (b - zx * sum_t (w - zw), wrapping int32 like the sums: the true
 * sum fits int32, so the result is exact); two accumulators (even and odd taps) halve the chain
 * of dependent adds. The requantization is x86/q_requant.h's. 3x3 and 5x5 windows are
 * compiled with their tap count as a constant. A last group of fewer than 8 channels reads its
 * codes and writes its results through a copy, its per-channel values under a lane mask: no
 * byte outside the tile is touched.
 * The function is dw_channels (conv_q_dw.h). */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW256_H
#define ECNN_KERNELS_X86_CONV_Q_DW256_H

#include "kernels/x86/conv_q_dw.h"
#define RQ_BITS 256
#include "kernels/x86/q_requant.h"

/* n (1..8) codes at p as int32 lanes. */
static ALWAYS_INLINE __m256i codes8(const uint8_t *p, const uint32_t n, const int is_u8)
{
    __m128i v;
    if (n == 8) {
        v = _mm_loadl_epi64((const __m128i *)p);
    } else {
        uint8_t part[8] = {0};
        memcpy(part, p, n);
        v = _mm_loadl_epi64((const __m128i *)part);
    }
    return is_u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}

/* The channels [c, c + n) of the chunk's npix pixels, over `taps` taps. */
static ALWAYS_INLINE void dw_group(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                   const uint32_t n, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const rq256_consts rq = rq256_setup(q);
    const __m256i low_half = _mm256_set1_epi32(0xffff);
    const __m256i zw = k->w_per_channel ? _mm256_maskload_epi32(k->w_zero + c, m) : _mm256_set1_epi32(k->w_zero[0]);
    const __m256 ws = k->w_per_channel ? _mm256_maskload_ps(k->w_scales + c, m) : _mm256_set1_ps(k->w_scales[0]);
    const __m256 scale = _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(q->x_scale), ws), _mm256_set1_ps(q->y_scale));
    __m256i w[ECNN_DW_Q_TAPS], sum = _mm256_setzero_si256(), bias;
    uint32_t t, p;
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
    for (t = 0; t < taps; t++) {
        const __m256i v = _mm256_sub_epi32(codes8(k->w + t * k->w_step + c, n, q->w_type == ECNN_Q_U8), zw);
        sum = _mm256_add_epi32(sum, v);
        w[t] = _mm256_and_si256(v, low_half);
    }
    bias = k->bias ? _mm256_maskload_epi32(k->bias + c, m) : _mm256_setzero_si256();
    bias = _mm256_sub_epi32(bias, _mm256_mullo_epi32(_mm256_set1_epi32(q->x_zero_point), sum));
    for (p = 0; p < npix; p++) {
        const uint8_t *const *xt = k->xt + p * k->xt_step;
        const size_t at = p * k->x_step + c;
        __m256i even = bias, odd = _mm256_setzero_si256();
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
        for (t = 0; t + 1 < taps; t += 2) {
            even = _mm256_add_epi32(even, _mm256_madd_epi16(codes8(xt[t] + at, n, is_u8), w[t]));
            odd = _mm256_add_epi32(odd, _mm256_madd_epi16(codes8(xt[t + 1] + at, n, is_u8), w[t + 1]));
        }
        if (t < taps) even = _mm256_add_epi32(even, _mm256_madd_epi16(codes8(xt[t] + at, n, is_u8), w[t]));
        rq256_store(y + p * k->y_step + c, rq256_codes(_mm256_add_epi32(even, odd), scale, &rq), n, &rq);
    }
}

static NOINLINE void dw_tail(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, uint32_t n,
                             const ecnn_qlinear_params *q)
{
    if (q->x_type == ECNN_Q_U8)
        dw_group(y, k, npix, c, n, k->taps, 1, q);
    else
        dw_group(y, k, npix, c, n, k->taps, 0, q);
}

static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
                                 const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = c0;
    for (; c + 8 <= k->count; c += 8) dw_group(y, k, npix, c, 8, taps, is_u8, q);
    if (c < k->count) dw_tail(y, k, npix, c, k->count - c, q);
}

ECNN_CONV_Q_DW_CHANNELS(dw_channels)

#endif /* ECNN_KERNELS_X86_CONV_Q_DW256_H */

/* The AVX-512 depthwise int8 conv over channels [c0, count) of a call (kernels_i8.h
 * ecnn_conv_q_dw_kernel), shared by the AVX-512BW and AVX-512 VNNI levels, 16 channels a vector. For each 16 channels the weights
 * of every tap are centred once (w - zw, widened to int32 with the high half 0) and stay in
 * registers over the chunk's pixels; each tap's codes are widened to int32 and multiplied by
 * them with the includer's DW_MAC(acc, codes, weights) (vpmaddwd + vpaddd, or vpdpwssd: code x
 * weight + 0 x 0, exact), the zx terms folded into the bias (b - zx * sum_t (w - zw), wrapping
 * int32 like the sums: the true sum fits int32, so the result is exact); two accumulators (even
 * and odd taps) halve the chain of dependent multiply-adds. The requantization is
 * x86/q_requant.h's. 3x3 and 5x5 windows are compiled with their tap count as a constant. A
 * group of 8 channels loads 8 bytes; other partial groups load, and all store, under a byte
 * mask, so no byte outside the tile is touched. The includer defines
 * DW_MAC and DW_CHANNELS (the name of the function over channels [c0, count), conv_q_dw.h). */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW512_H
#define ECNN_KERNELS_X86_CONV_Q_DW512_H

#include "kernels/x86/conv_q_dw.h"
#define RQ_BITS 512
#include "kernels/x86/q_requant.h"

/* The n codes at p (the lanes of m) as int32 lanes, 0 in the others. */
static ALWAYS_INLINE __m512i codes16(const uint8_t *p, __mmask16 m, const uint32_t n, const int is_u8)
{
    const __m128i v = n == 16  ? _mm_loadu_si128((const __m128i *)p)
                      : n == 8 ? _mm_loadl_epi64((const __m128i *)p)
                               : _mm_maskz_loadu_epi8(m, p);
    return is_u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

/* The channels [c, c + n) (the lanes of m) of the chunk's npix pixels, over `taps` taps. */
static ALWAYS_INLINE void dw_group(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, __mmask16 m,
                                   const uint32_t n, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const rq512_consts rq = rq512_setup(q);
    const __m512i low_half = _mm512_set1_epi32(0xffff);
    const __m512i zw = k->w_per_channel ? _mm512_maskz_loadu_epi32(m, k->w_zero + c) : _mm512_set1_epi32(k->w_zero[0]);
    const __m512 ws = k->w_per_channel ? _mm512_maskz_loadu_ps(m, k->w_scales + c) : _mm512_set1_ps(k->w_scales[0]);
    const __m512 scale = _mm512_div_ps(_mm512_mul_ps(_mm512_set1_ps(q->x_scale), ws), _mm512_set1_ps(q->y_scale));
    __m512i w[ECNN_DW_Q_TAPS], sum = _mm512_setzero_si512(), bias;
    uint32_t t, p;
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
    for (t = 0; t < taps; t++) {
        const __m512i v = _mm512_sub_epi32(codes16(k->w + t * k->w_step + c, m, n, q->w_type == ECNN_Q_U8), zw);
        sum = _mm512_add_epi32(sum, v);
        w[t] = _mm512_and_si512(v, low_half);
    }
    bias = k->bias ? _mm512_maskz_loadu_epi32(m, k->bias + c) : _mm512_setzero_si512();
    bias = _mm512_sub_epi32(bias, _mm512_mullo_epi32(_mm512_set1_epi32(q->x_zero_point), sum));
    for (p = 0; p < npix; p++) {
        const uint8_t *const *xt = k->xt + p * k->xt_step;
        const size_t at = p * k->x_step + c;
        __m512i even = bias, odd = _mm512_setzero_si512();
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
        for (t = 0; t + 1 < taps; t += 2) {
            even = DW_MAC(even, codes16(xt[t] + at, m, n, is_u8), w[t]);
            odd = DW_MAC(odd, codes16(xt[t + 1] + at, m, n, is_u8), w[t + 1]);
        }
        if (t < taps) even = DW_MAC(even, codes16(xt[t] + at, m, n, is_u8), w[t]);
        rq512_store(y + p * k->y_step + c, rq512_codes(_mm512_add_epi32(even, odd), scale, &rq), n, &rq);
    }
}

static NOINLINE void dw_tail(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, uint32_t n,
                             const ecnn_qlinear_params *q)
{
    const __mmask16 m = (__mmask16)((1u << n) - 1);
    if (q->x_type == ECNN_Q_U8)
        dw_group(y, k, npix, c, m, n, k->taps, 1, q);
    else
        dw_group(y, k, npix, c, m, n, k->taps, 0, q);
}

/* A run of stride 1 over all of 8 channels: two pixels a vector against the weights, zero
 * points, scales and bias of the 8 channels twice; an odd run's last pair overlaps the one
 * before (its first pixel written again, the same). */
static ALWAYS_INLINE void dw_pairs8(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const uint32_t taps,
                                    const int is_u8, const ecnn_qlinear_params *q)
{
    uint8_t w[ECNN_DW_Q_TAPS][16];
    int32_t zw[16], bias[16];
    float ws[16];
    const uint8_t *xt[ECNN_DW_Q_TAPS];
    ecnn_conv_q_dw_block pairs = *k;
    uint32_t t;
    for (t = 0; t < taps && t < ECNN_DW_Q_TAPS; t++) {
        memcpy(w[t], k->w + t * k->w_step, 8);
        memcpy(w[t] + 8, w[t], 8);
    }
    for (t = 0; t < 16; t++) {
        zw[t] = k->w_zero[k->w_per_channel ? t % 8 : 0];
        ws[t] = k->w_scales[k->w_per_channel ? t % 8 : 0];
        bias[t] = k->bias ? k->bias[t % 8] : 0;
    }
    pairs.w = w[0];
    pairs.w_step = 16;
    pairs.w_zero = zw;
    pairs.w_scales = ws;
    pairs.w_per_channel = 1;
    pairs.bias = bias;
    pairs.x_step = pairs.y_step = 16;
    pairs.count = 16;
    dw_group(y, &pairs, npix / 2, 0, 0xffff, 16, taps, is_u8, q);
    if (npix % 2) {
        for (t = 0; t < taps && t < ECNN_DW_Q_TAPS; t++) xt[t] = k->xt[t] + (size_t)(npix - 2) * 8;
        pairs.xt = xt;
        dw_group(y + (size_t)(npix - 2) * 8, &pairs, 1, 0, 0xffff, 16, taps, is_u8, q);
    }
}

/* 16 channels a group; a last 8 with its own loads and stores, fewer or 9..15 masked; runs of
 * stride 1 over 8 channels two pixels a vector. */
static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
                                 const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = c0;
    if (c0 == 0 && k->count == 8 && k->xt_step == 0 && k->x_step == 8 && k->y_step == 8 && npix >= 2) {
        dw_pairs8(y, k, npix, taps, is_u8, q);
        return;
    }
    for (; c + 16 <= k->count; c += 16) dw_group(y, k, npix, c, 0xffff, 16, taps, is_u8, q);
    if (k->count - c == 8)
        dw_group(y, k, npix, c, 0xff, 8, taps, is_u8, q);
    else if (c < k->count)
        dw_tail(y, k, npix, c, k->count - c, q);
}

ECNN_CONV_Q_DW_CHANNELS(DW_CHANNELS)

#endif /* ECNN_KERNELS_X86_CONV_Q_DW512_H */

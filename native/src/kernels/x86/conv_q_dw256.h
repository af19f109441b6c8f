/* The AVX2 depthwise int8 conv over channels [c0, count) of a call (kernels_i8.h
 * ecnn_conv_q_dw_kernel), shared by the AVX2 and AVX-VNNI levels, 8 channels a vector: the
 * groups of conv_q_dw.h with _mm256_madd_epi16. A last group of fewer than 8 channels reads its
 * codes and writes its results through a copy, its per-channel values under a lane mask: no
 * byte outside the tile is touched.
 * The function is dw_channels (conv_q_dw.h). */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW256_H
#define ECNN_KERNELS_X86_CONV_Q_DW256_H

#include "kernels/x86/x86.h"

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

#define DW_BITS 256
#define DW_MASK __m256i /* all ones in the lanes taken */
#define DW_MASK_OF(n) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define DW_CODES(p, m, n, is_u8) codes8(p, n, is_u8)
#define DW_LOAD_EPI32(p, m) _mm256_maskload_epi32((const int *)(p), m)
#define DW_LOAD_PS(p, m) _mm256_maskload_ps(p, m)
#define DW_MAC(acc, x, w) _mm256_add_epi32((acc), _mm256_madd_epi16((x), (w)))
#include "kernels/x86/conv_q_dw.h"

/* 16 codes as int16, int8 or uint8. */
static ALWAYS_INLINE __m256i codes16(__m128i v, const int is_u8)
{
    return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* The n (8 or 16) codes at p, the others 0. */
static ALWAYS_INLINE __m128i load_codes(const uint8_t *p, const uint32_t n)
{
    return n == 16 ? _mm_loadu_si128((const __m128i *)p) : _mm_loadl_epi64((const __m128i *)p);
}

/* The n int32 zero points at z as int16, in order (past n: any). */
static ALWAYS_INLINE __m256i zero_points16(const int32_t *z, const uint32_t n)
{
    const __m256i z0 = _mm256_loadu_si256((const __m256i *)z);
    const __m256i packed = _mm256_packs_epi32(z0, n == 16 ? _mm256_loadu_si256((const __m256i *)(z + 8)) : z0);
    return _mm256_permute4x64_epi64(packed, 0xD8); /* the packs are in-lane */
}

/* The channels [c, c + n) (n 8 or 16) of the chunk's pixels as dw_group, two taps a vpmaddwd:
 * each pair of taps' codes interleaved as bytes (two unpacks a pair) and widened to int16 pairs
 * against the pair's centred weights, interleaved the same way once per call: 16 products an
 * instruction where dw_group's int32 lanes give 8. */
static ALWAYS_INLINE void dw_pairs(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                   const uint32_t n, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const rq256_consts rq = rq256_setup(q);
    const uint32_t pairs = (taps + 1) / 2;
    const int w_u8 = q->w_type == ECNN_Q_U8;
    const __m256i zero = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
    const __m256i zw = k->w_per_channel ? zero_points16(k->w_zero + c, n) : _mm256_set1_epi16((short)k->w_zero[0]);
    const __m256 ws0 = k->w_per_channel ? _mm256_loadu_ps(k->w_scales + c) : _mm256_set1_ps(k->w_scales[0]);
    const __m256 ws1 = k->w_per_channel && n == 16 ? _mm256_loadu_ps(k->w_scales + c + 8) : ws0;
    const __m256 xs = _mm256_set1_ps(q->x_scale), ys = _mm256_set1_ps(q->y_scale);
    const __m256 scale0 = _mm256_div_ps(_mm256_mul_ps(xs, ws0), ys), scale1 = _mm256_div_ps(_mm256_mul_ps(xs, ws1), ys);
    const __m256i zx = _mm256_set1_epi32(q->x_zero_point);
    __m256i w[(ECNN_DW_Q_TAPS + 1) / 2][2], sum0 = zero, sum1 = zero, bias0, bias1;
    uint32_t i, p;
#pragma GCC unroll 13 /* constant tap counts: whole, the weights in registers */
    for (i = 0; i < pairs; i++) {
        const uint8_t *wt = k->w + 2 * i * k->w_step + c;
        const __m256i a = _mm256_sub_epi16(codes16(load_codes(wt, n), w_u8), zw);
        const __m256i b = 2 * i + 1 < taps ? _mm256_sub_epi16(codes16(load_codes(wt + k->w_step, n), w_u8), zw) : zero;
        /* channels 0-3 and 8-11, 4-7 and 12-15 */
        const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        w[i][0] = _mm256_permute2x128_si256(lo, hi, 0x20);
        w[i][1] = _mm256_permute2x128_si256(lo, hi, 0x31);
        sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(w[i][0], ones));
        sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(w[i][1], ones));
    }
    bias0 = k->bias ? _mm256_loadu_si256((const __m256i *)(k->bias + c)) : zero;
    bias1 = k->bias && n == 16 ? _mm256_loadu_si256((const __m256i *)(k->bias + c + 8)) : zero;
    bias0 = _mm256_sub_epi32(bias0, _mm256_mullo_epi32(zx, sum0));
    bias1 = _mm256_sub_epi32(bias1, _mm256_mullo_epi32(zx, sum1));
    for (p = 0; p < npix; p++) {
        const uint8_t *const *xt = k->xt + p * k->xt_step;
        const size_t at = p * k->x_step + c;
        __m256i acc0 = bias0, acc1 = bias1;
#pragma GCC unroll 13 /* constant tap counts: whole, the weights in registers */
        for (i = 0; i < pairs; i++) {
            const __m128i a = load_codes(xt[2 * i] + at, n);
            const __m128i b = 2 * i + 1 < taps ? load_codes(xt[2 * i + 1] + at, n) : _mm_setzero_si128();
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(codes16(_mm_unpacklo_epi8(a, b), is_u8), w[i][0]));
            if (n == 16)
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(codes16(_mm_unpackhi_epi8(a, b), is_u8), w[i][1]));
        }
        if (n == 16)
            rq256_store2(y + p * k->y_step + c, rq256_codes(acc0, scale0, &rq), rq256_codes(acc1, scale1, &rq), 16,
                         &rq);
        else
            rq256_store(y + p * k->y_step + c, rq256_codes(acc0, scale0, &rq), 8, &rq);
    }
}

static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
                                 const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = c0;
    for (; c + 16 <= k->count; c += 16) dw_pairs(y, k, npix, c, 16, taps, is_u8, q);
    if (c + 8 <= k->count) {
        dw_pairs(y, k, npix, c, 8, taps, is_u8, q);
        c += 8;
    }
    if (c < k->count) dw_tail(y, k, npix, c, k->count - c, q);
}

ECNN_CONV_Q_DW_CHANNELS(dw_channels)

#endif /* ECNN_KERNELS_X86_CONV_Q_DW256_H */

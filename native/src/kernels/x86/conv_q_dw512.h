/* The AVX-512 depthwise int8 conv over channels [c0, count) of a call (kernels_i8.h
 * ecnn_conv_q_dw_kernel), shared by the AVX-512BW and AVX-512 VNNI levels, 16 channels a
 * vector: the groups of conv_q_dw.h with the includer's DW_MAC(acc, codes, weights) (vpmaddwd +
 * vpaddd, or vpdpwssd). A group of 8 channels loads 8 bytes; other partial groups load, and all
 * store, under a byte mask, so no byte outside the tile is touched. The includer defines DW_MAC
 * and DW_CHANNELS (the name of the function over channels [c0, count), conv_q_dw.h). */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW512_H
#define ECNN_KERNELS_X86_CONV_Q_DW512_H

#include "kernels/x86/x86.h"

/* The n codes at p (the lanes of m) as int32 lanes, 0 in the others. */
static ALWAYS_INLINE __m512i codes16(const uint8_t *p, __mmask16 m, const uint32_t n, const int is_u8)
{
    const __m128i v = n == 16  ? _mm_loadu_si128((const __m128i *)p)
                      : n == 8 ? _mm_loadl_epi64((const __m128i *)p)
                               : _mm_maskz_loadu_epi8(m, p);
    return is_u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

#define DW_BITS 512
#define DW_MASK __mmask16
#define DW_MASK_OF(n) ((__mmask16)((1u << (n)) - 1))
#define DW_CODES(p, m, n, is_u8) codes16(p, m, n, is_u8)
#define DW_LOAD_EPI32(p, m) _mm512_maskz_loadu_epi32(m, p)
#define DW_LOAD_PS(p, m) _mm512_maskz_loadu_ps(m, p)
#include "kernels/x86/conv_q_dw.h"

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

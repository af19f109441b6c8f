/* The AVX-512 depthwise int8 conv microkernel (kernels_i8.h ecnn_conv_q_dw_kernel), shared by
 * the AVX-512BW and AVX-512 VNNI levels: 16 channels a vector, the codes of a tap widened to
 * int32 and multiplied by the weights (a weight's high half is 0, so each lane is code x weight)
 * by the includer's DW_MAC(acc, codes, weights) (vpmaddwd + vpaddd, or vpdpwssd), then
 * requantized in the vector as ecnn_requantize (convert, multiply, max, min, round to nearest
 * even) and narrowed (the values are in the output range: exact). For each 16 channels the
 * pixels of the run go by one after the other with the weights of every tap in registers (3x3
 * and 5x5 windows are compiled with their tap count as a constant); a last group of fewer
 * channels loads and stores under a byte mask, so no byte outside the block is touched. The
 * includer defines DW_MAC and DW_KERNEL (the kernel's name). */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW512_H
#define ECNN_KERNELS_X86_CONV_Q_DW512_H

#include "kernels/x86/x86.h"

ecnn_conv_q_dw_kernel DW_KERNEL;

/* The codes at p under mask m (all 16 when full) as int32 lanes. */
static ALWAYS_INLINE __m512i codes16(const uint8_t *p, __mmask16 m, const int full, const int is_u8)
{
    const __m128i v = full ? _mm_loadu_si128((const __m128i *)p) : _mm_maskz_loadu_epi8(m, p);
    return is_u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

/* The channels [c, c + 16) of the run's npix pixels (those under m unless full), over `taps`. */
static ALWAYS_INLINE void dw_group(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, __mmask16 m,
                                   const int full, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const __m512 lo = _mm512_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m512 hi = _mm512_set1_ps((float)(q->y_max - q->y_zero_point));
    const __m512i zy = _mm512_set1_epi32(q->y_zero_point);
    const __m512i bias = _mm512_loadu_si512(k->bias + c);
    const __m512 scale = _mm512_loadu_ps(k->scales + c);
    __m512i w[ECNN_DW_Q_TAPS];
    uint32_t t, p;
    for (t = 0; t < taps; t++) w[t] = _mm512_loadu_si512(k->w + t * ECNN_DW_Q_BLOCK + c);
    for (p = 0; p < npix; p++) {
        const size_t at = (size_t)p * k->x_step + c;
        uint8_t *yp = y + p * k->y_step + c;
        __m512i acc = bias;
        __m512 v;
        __m128i r;
        for (t = 0; t < taps; t++) acc = DW_MAC(acc, codes16(k->xt[t] + at, m, full, is_u8), w[t]);
        v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi); /* max then min, as ecnn_requantize */
        r = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), zy));
        if (full)
            _mm_storeu_si128((__m128i *)yp, r);
        else
            _mm_mask_storeu_epi8(yp, m, r);
    }
}

static NOINLINE void dw_tail(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, uint32_t n,
                             const ecnn_qlinear_params *q)
{
    const __mmask16 m = (__mmask16)((1u << n) - 1);
    if (q->x_type == ECNN_Q_U8)
        dw_group(y, k, npix, c, m, 0, k->taps, 1, q);
    else
        dw_group(y, k, npix, c, m, 0, k->taps, 0, q);
}

static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const uint32_t taps,
                                 const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = 0;
    for (; c + 16 <= k->count; c += 16) dw_group(y, k, npix, c, 0xffff, 1, taps, is_u8, q);
    if (c < k->count) dw_tail(y, k, npix, c, k->count - c, q);
}

void DW_KERNEL(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    if (k->taps == 9)
        is_u8 ? dw_all(y, k, npix, 9, 1, q) : dw_all(y, k, npix, 9, 0, q);
    else if (k->taps == 25)
        is_u8 ? dw_all(y, k, npix, 25, 1, q) : dw_all(y, k, npix, 25, 0, q);
    else
        is_u8 ? dw_all(y, k, npix, k->taps, 1, q) : dw_all(y, k, npix, k->taps, 0, q);
}

#endif /* ECNN_KERNELS_X86_CONV_Q_DW512_H */

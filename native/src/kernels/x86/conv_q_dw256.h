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

static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
                                 const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = c0;
    for (; c + 8 <= k->count; c += 8) dw_group(y, k, npix, c, DW_MASK_OF(8), 8, taps, is_u8, q);
    if (c < k->count) dw_tail(y, k, npix, c, k->count - c, q);
}

ECNN_CONV_Q_DW_CHANNELS(dw_channels)

#endif /* ECNN_KERNELS_X86_CONV_Q_DW256_H */

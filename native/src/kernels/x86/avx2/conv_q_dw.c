/* AVX2 depthwise int8 conv microkernel (kernels_i8.h ecnn_conv_q_dw_kernel): 8 channels a
 * vector, the codes of a tap widened to int32 (sign- or zero-extended) and multiplied by the
 * weights with _mm256_madd_epi16 (a weight's high half is 0, so each lane is code x weight),
 * then requantized in the vector: convert, multiply, max, min, round to nearest even, as
 * ecnn_requantize. For each 8 channels the pixels of the run go by one after the other with the
 * weights of every tap held in registers (3x3 and 5x5 windows are compiled with their tap count
 * as a constant). A last group of fewer than 8 channels goes through an 8-byte copy of its
 * codes and of its results, so no byte outside the block is read or written. */
#include "kernels/x86/x86.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx2;

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

/* The channels [c, c + n) of the run's npix pixels, over `taps` taps. */
static ALWAYS_INLINE void dw_group(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                   const uint32_t n, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const __m256 lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m256 hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    const __m256i zy = _mm256_set1_epi32(q->y_zero_point);
    const __m256i bias = _mm256_loadu_si256((const __m256i *)(k->bias + c));
    const __m256 scale = _mm256_loadu_ps(k->scales + c);
    const int y_u8 = q->y_type == ECNN_Q_U8;
    __m256i w[ECNN_DW_Q_TAPS];
    uint32_t t, p;
    for (t = 0; t < taps; t++) w[t] = _mm256_loadu_si256((const __m256i *)(k->w + t * ECNN_DW_Q_BLOCK + c));
    for (p = 0; p < npix; p++) {
        const size_t at = (size_t)p * k->x_step + c;
        __m256i acc = bias;
        __m256 v;
        __m128i r;
        for (t = 0; t < taps; t++)
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(codes8(k->xt[t] + at, n, is_u8), w[t]));
        v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi); /* max then min, as ecnn_requantize */
        acc = _mm256_add_epi32(_mm256_cvtps_epi32(v), zy);
        r = _mm_packs_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1)); /* in range: exact */
        r = y_u8 ? _mm_packus_epi16(r, r) : _mm_packs_epi16(r, r);
        if (n == 8) {
            _mm_storel_epi64((__m128i *)(y + p * k->y_step + c), r);
        } else {
            uint8_t part[8];
            _mm_storel_epi64((__m128i *)part, r);
            memcpy(y + p * k->y_step + c, part, n);
        }
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

static ALWAYS_INLINE void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const uint32_t taps,
                                 const int is_u8, const ecnn_qlinear_params *q)
{
    uint32_t c = 0;
    for (; c + 8 <= k->count; c += 8) dw_group(y, k, npix, c, 8, taps, is_u8, q);
    if (c < k->count) dw_tail(y, k, npix, c, k->count - c, q);
}

void ecnn_conv_q_dw_avx2(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    if (k->taps == 9)
        is_u8 ? dw_all(y, k, npix, 9, 1, q) : dw_all(y, k, npix, 9, 0, q);
    else if (k->taps == 25)
        is_u8 ? dw_all(y, k, npix, 25, 1, q) : dw_all(y, k, npix, 25, 0, q);
    else
        is_u8 ? dw_all(y, k, npix, k->taps, 1, q) : dw_all(y, k, npix, k->taps, 0, q);
}

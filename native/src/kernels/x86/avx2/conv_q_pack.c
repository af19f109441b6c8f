/* AVX2 packing of the int16 conv path's operands (kernels_i8.h ecnn_conv_q_ukernels.pack and
 * .centre). The weight block is packed on every call, so on a small map (a 3x3 map of
 * MobileNet's last pointwise layers) the scalar loop cost as much as the dot products: two
 * terms' rows of 16 channels are interleaved as bytes, widened to int16 pairs and centred by the
 * pairs' zero points. The scalar centring of each pixel's terms cost as much as the dot products
 * of a 64-channel block too. */
#include "kernels/x86/x86.h"

ecnn_conv_q_pack_kernel ecnn_conv_q_pack_avx2;
ecnn_conv_q_centre_kernel ecnn_conv_q_centre_avx2;

/* The 16 codes of w from `at` (n of them, the others 0) as bytes. */
static ALWAYS_INLINE __m128i row16(const uint8_t *w, size_t at, uint32_t n)
{
    uint8_t part[16] = {0};
    if (n >= 16) return _mm_loadu_si128((const __m128i *)(w + at));
    memcpy(part, w + at, n);
    return _mm_loadu_si128((const __m128i *)part);
}

static ALWAYS_INLINE void pack_all(int16_t *wc, const uint8_t *w, uint32_t terms, uint32_t o, uint32_t oc,
                                   uint32_t count, const int16_t *zw_pairs, const int16_t *zw_first, const int is_u8)
{
    const uint32_t c8 = (count + 7) / 8 * 8, pairs = (terms + 1) / 2;
    uint32_t j, l;
    for (j = 0; j < pairs; j++) {
        const size_t t0 = (size_t)2 * j * o + oc;
        const int second = 2 * j + 1 < terms;
        const int16_t *zw2 = second ? zw_pairs : zw_first;
        int16_t *dst = wc + (size_t)j * c8 * 2;
        for (l = 0; l < c8; l += 16) {
            const uint32_t n = count - l < 16 ? count - l : 16; /* count > l: l < c8 */
            const __m128i a = row16(w, t0 + l, n);
            const __m128i b = second ? row16(w, t0 + o + l, n) : _mm_setzero_si128();
            const __m128i lo = _mm_unpacklo_epi8(a, b), hi = _mm_unpackhi_epi8(a, b);
            const __m256i z0 = _mm256_loadu_si256((const __m256i *)(zw2 + 2 * l));
            const __m256i v0 = is_u8 ? _mm256_cvtepu8_epi16(lo) : _mm256_cvtepi8_epi16(lo);
            _mm256_storeu_si256((__m256i *)(dst + 2 * l), _mm256_sub_epi16(v0, z0));
            if (c8 - l > 8) {
                const __m256i z1 = _mm256_loadu_si256((const __m256i *)(zw2 + 2 * l + 16));
                const __m256i v1 = is_u8 ? _mm256_cvtepu8_epi16(hi) : _mm256_cvtepi8_epi16(hi);
                _mm256_storeu_si256((__m256i *)(dst + 2 * l + 16), _mm256_sub_epi16(v1, z1));
            }
        }
    }
}

void ecnn_conv_q_pack_avx2(int16_t *wc, const void *w, uint32_t terms, uint32_t o, uint32_t oc, uint32_t count,
                           const ecnn_qlinear_params *q)
{
    /* each channel's zero point as a pair, 0 past count (its codes read as 0 there); and with
     * the second 0, for an odd terms' last pair (its second term reads as 0) */
    int16_t zw_pairs[2 * 64] = {0}, zw_first[2 * 64] = {0};
    uint32_t l;
    for (l = 0; l < count; l++) {
        const int16_t zw = (int16_t)q->w_zero_points[q->w_count == 1 ? 0 : oc + l];
        zw_pairs[2 * l] = zw_pairs[2 * l + 1] = zw_first[2 * l] = zw;
    }
    if (q->w_type == ECNN_Q_U8)
        pack_all(wc, (const uint8_t *)w, terms, o, oc, count, zw_pairs, zw_first, 1);
    else
        pack_all(wc, (const uint8_t *)w, terms, o, oc, count, zw_pairs, zw_first, 0);
}

static ALWAYS_INLINE void centre_all(int16_t *xk, const uint8_t *x, uint32_t n, int32_t zx, const int is_u8)
{
    const __m256i z = _mm256_set1_epi16((short)zx);
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
        _mm256_storeu_si256((__m256i *)(xk + i),
                            _mm256_sub_epi16(is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v), z));
    }
    for (; i < n; i++) xk[i] = (int16_t)((is_u8 ? (int32_t)x[i] : (int32_t)(int8_t)x[i]) - zx);
}

void ecnn_conv_q_centre_avx2(int16_t *xk, const uint8_t *x, uint32_t n, const ecnn_qlinear_params *q)
{
    if (q->x_type == ECNN_Q_U8)
        centre_all(xk, x, n, q->x_zero_point, 1);
    else
        centre_all(xk, x, n, q->x_zero_point, 0);
}

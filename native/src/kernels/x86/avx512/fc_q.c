/* AVX-512 fully connected int8 kernel over FC_PANEL8X4 weights (kernels_i8.h), weight zero
 * points 0: a 32-byte weight group (8 outputs x 4 k) is sign-extended to 32 int16 and
 * multiplied with (x - zx) as int16 by _mm512_madd_epi16. Pairs of int32 lanes are added at
 * the end. */
#include "kernels/x86/x86.h"

#define FC_Q_AVX512 ecnn_fc_q_panel8x4_avx512
#define DOT_ACC(acc, a, b) _mm512_add_epi32(acc, _mm512_madd_epi16(a, b))
ecnn_fc_q_kernel FC_Q_AVX512;

#define Q_TILE 4u

static ALWAYS_INLINE void q_tile(void *y, const uint8_t *x, const int8_t *wp, const int32_t *b, uint32_t k, uint32_t o,
                                 uint32_t s0, const uint32_t ns, uint32_t o0, uint32_t width,
                                 const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const __m128i zx = _mm_set1_epi16((int16_t)q->x_zero_point);
    const uint32_t groups = (k + 3) / 4;
    __m512i acc[Q_TILE];
    uint32_t s, g;
    for (s = 0; s < ns; s++) acc[s] = _mm512_setzero_si512();
    for (g = 0; g < groups; g++) {
        /* 8 outputs x 4 k as int16: lanes o0k0 o0k1 o0k2 o0k3 o1k0 ... */
        const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(wp + (size_t)g * 32)));
        for (s = 0; s < ns; s++) {
            const uint8_t *xs = x + (size_t)(s0 + s) * k + (size_t)g * 4;
            uint8_t t[8];
            uint64_t quad;
            __m128i v;
            memset(t, (uint8_t)q->x_zero_point, sizeof t); /* past K: x - zx = 0 */
            memcpy(t, xs, k - g * 4 < 4 ? k - g * 4 : 4);
            memcpy(&quad, t, 8);
            v = _mm_cvtsi64_si128((long long)quad);
            v = is_u8 ? _mm_cvtepu8_epi16(v) : _mm_cvtepi8_epi16(v);
            v = _mm_sub_epi16(v, zx);
            acc[s] = DOT_ACC(acc[s], wv, _mm512_broadcastq_epi64(v)); /* (x0..x3) in every 64-bit lane */
        }
    }
    for (s = 0; s < ns; s++) {
        /* lanes hold o0 (k0k1), o0 (k2k3), o1 ...: add neighbours, keep the even lanes */
        int32_t sums[8];
        const __m512i pair = _mm512_add_epi32(acc[s], _mm512_shuffle_epi32(acc[s], _MM_PERM_CDAB));
        _mm256_storeu_si256((__m256i *)sums, _mm512_cvtepi64_epi32(pair));
        ecnn_q_store_outputs(y, (size_t)(s0 + s) * o + o0, sums, width, o0, b, q);
    }
}

void FC_Q_AVX512(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
                 const ecnn_tile *t, const ecnn_qlinear_params *q)
{
    /* The tile's panels (o0: a multiple of 8; o1 one too, or O) */
    const uint32_t panels = (t->o1 + 7) / 8, kp = (k + 3) / 4 * 4;
    uint32_t s0, p;
    (void)n;
    for (s0 = t->m0; s0 < t->m1; s0 += Q_TILE) {
        const uint32_t ns = t->m1 - s0 < Q_TILE ? t->m1 - s0 : Q_TILE;
        for (p = t->o0 / 8; p < panels; p++) {
            const int8_t *wp = (const int8_t *)w + (size_t)p * 8 * kp;
            const uint32_t o0 = p * 8, width = o - o0 < 8 ? o - o0 : 8;
            switch (ns) {
            case 1: q_tile(y, (const uint8_t *)x, wp, b, k, o, s0, 1, o0, width, q); break;
            case 2: q_tile(y, (const uint8_t *)x, wp, b, k, o, s0, 2, o0, width, q); break;
            case 3: q_tile(y, (const uint8_t *)x, wp, b, k, o, s0, 3, o0, width, q); break;
            default: q_tile(y, (const uint8_t *)x, wp, b, k, o, s0, 4, o0, width, q); break;
            }
        }
    }
}

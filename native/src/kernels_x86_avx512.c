/* AVX-512 versions of the packed fully connected kernels (simd.h picks them when the
 * compiler targets AVX-512F + BW, e.g. -march=native on such a CPU). Same arithmetic as
 * kernels_x86_avx2.c, twice as wide:
 *
 * Float (ECNN_LAYOUT_FC_PANEL16): one zmm holds a whole weight row of a panel; a tile of up
 * to 8 samples x 16 outputs. One ecnn_mac per term (a vfmadd where the build has FMA, as
 * every AVX-512 CPU does): bit-identical to the reference.
 *
 * int8 (ECNN_LAYOUT_FC_PANEL8X4, weight zero points 0): a 32-byte weight group (8 outputs x
 * 4 k) is sign-extended to 32 int16 and multiplied with (x - zx) as int16 by
 * _mm512_madd_epi16, or accumulated in one instruction by the VNNI _mm512_dpwssd_epi32
 * when __AVX512VNNI__ (int16 pairs: exact, unlike the u8 x s8 vpdpbusd which would need
 * x - zx to fit u8). Pairs of int32 lanes are added at the end. */
#include "simd.h"

#ifdef ECNN_SIMD_AVX512
#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define F32_TILE 8u
#define F32_KBLOCK 256u

static ALWAYS_INLINE void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w,
                                   uint32_t kc, const uint32_t ns, int first, int last, const float *bias,
                                   uint32_t width)
{
    const __mmask16 mask = (__mmask16)((1u << width) - 1u);
    __m512 a[F32_TILE];
    uint32_t s, i;
    for (s = 0; s < ns; s++) a[s] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, y + s * ystride);
    for (i = 0; i < kc; i++) {
        const __m512 wr = _mm512_loadu_ps(w + (size_t)i * 16);
        for (s = 0; s < ns; s++) {
#ifdef ECNN_FUSED_MAC
            a[s] = _mm512_fmadd_ps(_mm512_set1_ps(x[s * xstride + i]), wr, a[s]);
#else
            a[s] = _mm512_add_ps(a[s], _mm512_mul_ps(_mm512_set1_ps(x[s * xstride + i]), wr));
#endif
        }
    }
    for (s = 0; s < ns; s++) {
        if (last && bias) a[s] = _mm512_add_ps(a[s], _mm512_maskz_loadu_ps(mask, bias));
        _mm512_mask_storeu_ps(y + s * ystride, mask, a[s]);
    }
}

void ecnn_fc_f32_panel16_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_act_params *act)
{
    const uint32_t panels = (o + 15) / 16;
    const uint32_t kblock = n <= F32_TILE ? k : F32_KBLOCK;
    uint32_t kb, p, s0;
    size_t i;
    if (k == 0) return;
    for (kb = 0; kb < k; kb += kblock) {
        const uint32_t kc = k - kb < kblock ? k - kb : kblock;
        const int first = kb == 0, last = kb + kc == k;
        for (p = 0; p < panels; p++) {
            const uint32_t o0 = p * 16, width = o - o0 < 16 ? o - o0 : 16;
            const float *wb = w + ((size_t)p * k + kb) * 16;
            const float *bias = b ? b + o0 : NULL;
            for (s0 = 0; s0 < n; s0 += F32_TILE) {
                float *yt = y + (size_t)s0 * o + o0;
                const float *xt = x + (size_t)s0 * k + kb;
                switch (n - s0 < F32_TILE ? n - s0 : F32_TILE) {
                case 1: f32_tile(yt, o, xt, k, wb, kc, 1, first, last, bias, width); break;
                case 2: f32_tile(yt, o, xt, k, wb, kc, 2, first, last, bias, width); break;
                case 3: f32_tile(yt, o, xt, k, wb, kc, 3, first, last, bias, width); break;
                case 4: f32_tile(yt, o, xt, k, wb, kc, 4, first, last, bias, width); break;
                case 5: f32_tile(yt, o, xt, k, wb, kc, 5, first, last, bias, width); break;
                case 6: f32_tile(yt, o, xt, k, wb, kc, 6, first, last, bias, width); break;
                case 7: f32_tile(yt, o, xt, k, wb, kc, 7, first, last, bias, width); break;
                default: f32_tile(yt, o, xt, k, wb, kc, 8, first, last, bias, width); break;
                }
            }
        }
    }
    if (act->act != 0) /* ECNN_ACT_NONE */
        for (i = 0; i < (size_t)n * o; i++) y[i] = ecnn_apply_act(y[i], act);
}

#define Q_TILE 4u

#ifdef __AVX512VNNI__
#define DOT_ACC(acc, a, b) _mm512_dpwssd_epi32(acc, a, b)
#else
#define DOT_ACC(acc, a, b) _mm512_add_epi32(acc, _mm512_madd_epi16(a, b))
#endif

static ALWAYS_INLINE void q_tile(void *y, const uint8_t *x, const int8_t *wp, const int32_t *b, uint32_t k,
                                 uint32_t o, uint32_t s0, const uint32_t ns, uint32_t o0, uint32_t width,
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

void ecnn_fc_q_panel8x4_avx512(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                               uint32_t o, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (o + 7) / 8, kp = (k + 3) / 4 * 4;
    uint32_t s0, p;
    for (s0 = 0; s0 < n; s0 += Q_TILE) {
        const uint32_t ns = n - s0 < Q_TILE ? n - s0 : Q_TILE;
        for (p = 0; p < panels; p++) {
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
#else
typedef int ecnn_no_avx512; /* ISO C forbids an empty translation unit */
#endif

/* AVX-512 VNNI fully connected int8 kernel (x86/fc_q_vnni.h, whose top comment says why it is
 * exact). One zmm holds 64 weight bytes of a panel: 8 outputs x 8 k (two groups of 4 k). The
 * input vector holds the sample's k0..3 in its low 8 lanes and k4..7 in its high 8; the halves
 * are added at the end. A tile is up to 4 samples x 4 panels: 16 accumulators, 4 inputs, 4
 * weights. */
#define FQ_VEC __m512i
#define FQ_K 8u
#define TILE_P 4u
#define FQ_KERNEL ecnn_fc_q_panel8x4_avx512vnni
#define FQ_ZERO() _mm512_setzero_si512()
#define FQ_SET1_EPI8(c) _mm512_set1_epi8(c)
#define FQ_STREAM_POINTERS 1
#define FQ_STORE16 1
#include "kernels/x86/fc_q_vnni.h"

/* u of k0..3 in the low 8 lanes, of k4..7 in the high 8. */
static ALWAYS_INLINE __m512i fq_x(const uint8_t *x, __m512i flip)
{
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i v = _mm512_castsi128_si512(_mm_loadl_epi64((const __m128i *)x));
    return _mm512_xor_si512(_mm512_permutexvar_epi32(halves, v), flip);
}

static ALWAYS_INLINE __m512i fq_x_rest(const uint8_t *x, uint32_t rest, __m512i flip)
{
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i v = _mm512_castsi128_si512(_mm_maskz_loadu_epi8((__mmask16)((1u << rest) - 1u), x));
    return _mm512_xor_si512(_mm512_permutexvar_epi32(halves, v), flip);
}

static ALWAYS_INLINE __m512i fq_w(const int8_t *wp)
{
    return _mm512_loadu_si512(wp);
}

static ALWAYS_INLINE __m512i fq_w_rest(const int8_t *wp, uint32_t rest)
{
    return _mm512_maskz_loadu_epi8(rest > 4 ? ~(__mmask64)0 : (__mmask64)0xFFFFFFFFu, wp); /* 64 or 32 bytes left */
}

static ALWAYS_INLINE __m512i fq_dot(__m512i acc, __m512i x, __m512i w)
{
    return _mm512_dpbusd_epi32(acc, x, w);
}

/* The sums of k0..3 and of k4..7 added: 8 outputs. */
static ALWAYS_INLINE __m256i fq_sum8(__m512i acc)
{
    return _mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
}

static ALWAYS_INLINE void fq_store8(uint8_t *y, __m512i acc, const int32_t *bias, const float *scales, uint32_t width,
                                    const rq256_consts *c)
{
    ecnn_fc_q_store8(y, fq_sum8(acc), bias, scales, width, c);
}

static ALWAYS_INLINE void fq_store16(uint8_t *y, __m512i acc0, __m512i acc1, const int32_t *bias, const float *scales,
                                     uint32_t width, const rq512_consts *c)
{
    /* [acc0's k0..3 | acc1's k0..3] + [acc0's k4..7 | acc1's k4..7] */
    const __m512i k03 = _mm512_shuffle_i64x2(acc0, acc1, _MM_SHUFFLE(1, 0, 1, 0));
    const __m512i k47 = _mm512_shuffle_i64x2(acc0, acc1, _MM_SHUFFLE(3, 2, 3, 2));
    ecnn_fc_q_store16(y, _mm512_add_epi32(k03, k47), bias, scales, width, c);
}

/* vpdpbusd of c's bytes over the weights, four independent sums per panel (a single chain
 * would wait on vpdpbusd's latency). */
static void column_terms(int32_t *terms, const int8_t *w, size_t panel_bytes, uint32_t k, uint32_t np, uint8_t c)
{
    const __m512i cv = _mm512_set1_epi8((char)c);
    const uint32_t k8 = k / 8 * 8, k32 = k / 32 * 32;
    uint32_t p, i;
    for (p = 0; p < np; p++) {
        const int8_t *wp = w + p * panel_bytes;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < k32; i += 32) {
            _mm_prefetch((const char *)wp + (size_t)i * 8 + ECNN_PREFETCH, _MM_HINT_T0);
            a0 = _mm512_dpbusd_epi32(a0, cv, _mm512_loadu_si512(wp + (size_t)i * 8));
            a1 = _mm512_dpbusd_epi32(a1, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 64));
            a2 = _mm512_dpbusd_epi32(a2, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 128));
            a3 = _mm512_dpbusd_epi32(a3, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 192));
        }
        for (; i < k8; i += 8) a0 = _mm512_dpbusd_epi32(a0, cv, _mm512_loadu_si512(wp + (size_t)i * 8));
        if (k8 < k)
            a1 = _mm512_dpbusd_epi32(
                a1, cv, _mm512_maskz_loadu_epi8(k - k8 > 4 ? ~(__mmask64)0 : 0xFFFFFFFFu, wp + (size_t)k8 * 8));
        a0 = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
        _mm256_storeu_si256((__m256i *)(terms + p * 8), fq_sum8(a0));
    }
}

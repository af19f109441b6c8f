/* AVX-VNNI byte microkernels of the int8 conv (x86/conv_q_u8_vnni.h, whose top comment says
 * why they are exact), on 16 ymm registers with the VEX vpdpbusd of AVX2-class CPUs: one ymm
 * of weights holds 4 k of 8 channels; a tile is up to 4 pixels x 2 vectors or 8 pixels x 1. */
#include "kernels/x86/x86.h"

#define CQ_VEC __m256i
#define CQ_LANES 8u
#define CQ_ACC 8u
#define CQ_TILE_V 2u
/* every run (Zen 5: 12x12 64 -> 64 and 6x6 64 -> 128 20% faster than the tiles, 128 -> 128 the same) */
#define CQ_PW_UNPACKED_K 256u
#define CQ_CONV ecnn_conv_q_u8_avxvnni
#define CQ_PW ecnn_conv_q_pw_u8_avxvnni
#define CQ_PACK ecnn_conv_q_pack_u8_avxvnni
#define CQ_ZERO() _mm256_setzero_si256()
#define CQ_SET1_EPI8(c) _mm256_set1_epi8(c)
#define CQ_SET1_EPI32(v) _mm256_set1_epi32(v)
#define CQ_XOR(a, b) _mm256_xor_si256(a, b)
#define CQ_ADD_EPI32(a, b) _mm256_add_epi32(a, b)
#define CQ_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define CQ_STORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define CQ_DPBUSD(acc, x, w) _mm256_dpbusd_avx_epi32(acc, x, w)
typedef struct {
    __m256i bias, zy, zy16;
    __m256 scales, lo, hi;
    int u8; /* uint8 output codes */
} cq_requant;
#include "kernels/x86/conv_q_u8_vnni.h"

static ALWAYS_INLINE void cq_requant_load(cq_requant *r, const int32_t *bias, const float *scales,
                                          const ecnn_qlinear_params *q)
{
    r->bias = _mm256_loadu_si256((const __m256i *)bias);
    r->scales = _mm256_loadu_ps(scales);
    r->lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    r->hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    r->zy = _mm256_set1_epi32(q->y_zero_point);
    r->zy16 = _mm256_set1_epi16((short)q->y_zero_point);
    r->u8 = q->y_type == ECNN_Q_U8;
}

static ALWAYS_INLINE __m256i cq_round(__m256i sum, const cq_requant *rq)
{
    /* the reference's order: max, min */
    const __m256 f = _mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), rq->scales), rq->lo);
    return _mm256_cvtps_epi32(_mm256_min_ps(f, rq->hi));
}

static ALWAYS_INLINE void cq_store_rounded(uint8_t *y, __m256i rounded, const cq_requant *rq, uint32_t width)
{
    const __m256i r = _mm256_add_epi32(rounded, rq->zy);
    __m128i r16;
    uint8_t codes[16];
    /* r is within the output dtype's range: the saturating packs are exact */
    r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    r16 = rq->u8 ? _mm_packus_epi16(r16, r16) : _mm_packs_epi16(r16, r16);
    _mm_storeu_si128((__m128i *)codes, r16);
    memcpy(y, codes, width);
}

static ALWAYS_INLINE void cq_store4(uint8_t *y, __m256i r0, __m256i r1, __m256i r2, __m256i r3, const cq_requant *rq)
{
    /* rounded values and codes fit int16 and the output dtype: the saturating packs are exact;
     * they interleave the 4 vectors by 4 channels a 128-bit lane, the permute puts them in order */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i a = _mm256_add_epi16(_mm256_packs_epi32(r0, r1), rq->zy16);
    const __m256i b = _mm256_add_epi16(_mm256_packs_epi32(r2, r3), rq->zy16);
    const __m256i codes = rq->u8 ? _mm256_packus_epi16(a, b) : _mm256_packs_epi16(a, b);
    _mm256_storeu_si256((__m256i *)y, _mm256_permutevar8x32_epi32(codes, order));
}

static ALWAYS_INLINE __m128i cq_load16(const int8_t *w, uint32_t left)
{
    int8_t t[16] = {0};
    if (left >= 16) return _mm_loadu_si128((const __m128i *)w);
    memcpy(t, w, left);
    return _mm_loadu_si128((const __m128i *)t);
}

static ALWAYS_INLINE __m128i cq_dot128(__m128i acc, __m128i c, __m128i w)
{
    return _mm_dpbusd_avx_epi32(acc, c, w);
}

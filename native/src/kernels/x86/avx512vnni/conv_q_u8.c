/* AVX-512 VNNI byte microkernels of the int8 conv (x86/conv_q_u8_vnni.h, whose top comment
 * says why they are exact): one zmm of weights holds 4 k of 16 channels, 64 MACs a vpdpbusd;
 * a tile is up to 4 pixels x 4 vectors (64 channels) or 8 pixels x 2 vectors. */
#include "kernels/x86/x86.h"

#define CQ_VEC __m512i
#define CQ_LANES 16u
#define CQ_ACC 16u
#define CQ_TILE_V 4u
/* a run of 4 vectors holds their requantization constants (20 registers) beside the 16 sums:
 * past k = 32 its spills cost more than the tiles' pointer lists (Zen 5: 6x6 128 -> 128 30%
 * slower as a run, 16x16 32 -> 128 15% faster) */
#define CQ_PW_UNPACKED_K 32u
#define CQ_CONV ecnn_conv_q_u8_avx512vnni
#define CQ_PW ecnn_conv_q_pw_u8_avx512vnni
#define CQ_PACK ecnn_conv_q_pack_u8_avx512vnni
#define CQ_ZERO() _mm512_setzero_si512()
#define CQ_SET1_EPI8(c) _mm512_set1_epi8(c)
#define CQ_SET1_EPI32(v) _mm512_set1_epi32(v)
#define CQ_XOR(a, b) _mm512_xor_si512(a, b)
#define CQ_ADD_EPI32(a, b) _mm512_add_epi32(a, b)
#define CQ_LOAD(p) _mm512_loadu_si512(p)
#define CQ_STORE(p, v) _mm512_storeu_si512(p, v)
#define CQ_DPBUSD(acc, x, w) _mm512_dpbusd_epi32(acc, x, w)
typedef struct {
    __m512i bias, zy, zy16;
    __m512 scales, lo, hi;
    int u8; /* uint8 output codes */
} cq_requant;
#include "kernels/x86/conv_q_u8_vnni.h"

static ALWAYS_INLINE void cq_requant_load(cq_requant *r, const int32_t *bias, const float *scales,
                                          const ecnn_qlinear_params *q)
{
    r->bias = _mm512_loadu_si512(bias);
    r->scales = _mm512_loadu_ps(scales);
    r->lo = _mm512_set1_ps((float)(q->y_min - q->y_zero_point));
    r->hi = _mm512_set1_ps((float)(q->y_max - q->y_zero_point));
    r->zy = _mm512_set1_epi32(q->y_zero_point);
    r->zy16 = _mm512_set1_epi16((short)q->y_zero_point);
    r->u8 = q->y_type == ECNN_Q_U8;
}

static ALWAYS_INLINE __m512i cq_round(__m512i sum, const cq_requant *r)
{
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), r->scales);
    f = _mm512_max_ps(f, r->lo); /* v > lo ? v : lo, then v < hi ? v : hi: the reference's order */
    return _mm512_cvtps_epi32(_mm512_min_ps(f, r->hi));
}

static ALWAYS_INLINE void cq_store_rounded(uint8_t *y, __m512i rounded, const cq_requant *r, uint32_t width)
{
    /* the code is within the output dtype's range: its low byte is the output */
    _mm_mask_storeu_epi8(y, (__mmask16)((1u << width) - 1u), _mm512_cvtepi32_epi8(_mm512_add_epi32(rounded, r->zy)));
}

static ALWAYS_INLINE void cq_store4(uint8_t *y, __m512i r0, __m512i r1, __m512i r2, __m512i r3, const cq_requant *r)
{
    /* rounded values and codes fit int16 and the output dtype: the saturating packs are exact;
     * they interleave the 4 vectors by 4 channels a 128-bit lane, the permute puts them in order */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i a = _mm512_add_epi16(_mm512_packs_epi32(r0, r1), r->zy16);
    const __m512i b = _mm512_add_epi16(_mm512_packs_epi32(r2, r3), r->zy16);
    const __m512i codes = r->u8 ? _mm512_packus_epi16(a, b) : _mm512_packs_epi16(a, b);
    _mm512_storeu_si512(y, _mm512_permutexvar_epi32(order, codes));
}

static ALWAYS_INLINE __m128i cq_load16(const int8_t *w, uint32_t left)
{
    return _mm_maskz_loadu_epi8(left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u), w);
}

static ALWAYS_INLINE __m128i cq_dot128(__m128i acc, __m128i c, __m128i w)
{
    return _mm_dpbusd_epi32(acc, c, w);
}

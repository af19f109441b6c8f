/* AVX-VNNI byte microkernels of the int8 conv (x86/conv_q_u8_vnni.h, whose top comment says
 * why they are exact), on 16 ymm registers with the VEX vpdpbusd of AVX2-class CPUs: one ymm
 * of weights holds 4 k of 8 channels; a tile is up to 4 pixels x 2 vectors or 8 pixels x 1. */
#include "kernels/x86/x86.h"

#define CQ_BITS 256
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
#include "kernels/x86/conv_q_u8_vnni.h"

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

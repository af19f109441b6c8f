/* AVX-512 VNNI byte microkernels of the int8 conv (x86/conv_q_u8_vnni.h, whose top comment
 * says why they are exact): one zmm of weights holds 4 k of 16 channels, 64 MACs a vpdpbusd;
 * a tile is up to 4 pixels x 4 vectors (64 channels) or 8 pixels x 2 vectors. */
#include "kernels/x86/x86.h"

#define CQ_BITS 512
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
#include "kernels/x86/conv_q_u8_vnni.h"

static ALWAYS_INLINE __m128i cq_load16(const int8_t *w, uint32_t left)
{
    return _mm_maskz_loadu_epi8(left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u), w);
}

static ALWAYS_INLINE __m128i cq_dot128(__m128i acc, __m128i c, __m128i w)
{
    return _mm_dpbusd_epi32(acc, c, w);
}

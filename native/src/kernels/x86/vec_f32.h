/* The float vector operations of one x86 width, for the loop skeletons shared by the AVX2 and
 * AVX-512 kernels (conv_f32_hwio.h, conv_f32_dw.h): the includer defines VF_BITS (256 or 512)
 * first. VF_MASK is the first `lanes` lanes (AVX2: a vector mask, AVX-512: an opmask; masked
 * lanes read no memory, load as 0 and are not stored); kernels whose blocking differs between
 * the widths write their own masked access. */
#ifndef ECNN_KERNELS_X86_VEC_F32_H
#define ECNN_KERNELS_X86_VEC_F32_H

#include "kernels/x86/x86.h"

#if VF_BITS == 256
#define VF __m256
#define VF_LANES 8u
#define VF_ZERO() _mm256_setzero_ps()
#define VF_SET1(v) _mm256_set1_ps(v)
#define VF_BCAST(p) _mm256_broadcast_ss(p) /* *p in every lane */
#define VF_LOADU(p) _mm256_loadu_ps(p)
#define VF_STOREU(p, v) _mm256_storeu_ps(p, v)
#define VF_ADD(a, b) _mm256_add_ps(a, b)
#define VF_MUL(a, b) _mm256_mul_ps(a, b)
#define VF_DIV(a, b) _mm256_div_ps(a, b)
#define VF_MAX(a, b) _mm256_max_ps(a, b)
#define VF_MIN(a, b) _mm256_min_ps(a, b)
#define VF_MAC(acc, x, w) F32_MAC(acc, x, w) /* rounded as ecnn_mac (kernels.h) */
typedef __m256i vf_mask;
#define VF_MASK(lanes) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(lanes)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define VF_MASK_LOAD(p, m) _mm256_maskload_ps(p, m)
#define VF_MASK_STORE(p, v, m) _mm256_maskstore_ps(p, m, v)
#elif VF_BITS == 512
#define VF __m512
#define VF_LANES 16u
#define VF_ZERO() _mm512_setzero_ps()
#define VF_SET1(v) _mm512_set1_ps(v)
#define VF_BCAST(p) _mm512_set1_ps(*(p))
#define VF_LOADU(p) _mm512_loadu_ps(p)
#define VF_STOREU(p, v) _mm512_storeu_ps(p, v)
#define VF_ADD(a, b) _mm512_add_ps(a, b)
#define VF_MUL(a, b) _mm512_mul_ps(a, b)
#define VF_DIV(a, b) _mm512_div_ps(a, b)
#define VF_MAX(a, b) _mm512_max_ps(a, b)
#define VF_MIN(a, b) _mm512_min_ps(a, b)
#ifdef ECNN_FUSED_MAC /* every AVX-512 CPU has FMA; whether to fuse is the level's choice */
#define VF_MAC(acc, x, w) _mm512_fmadd_ps(x, w, acc)
#else
#define VF_MAC(acc, x, w) _mm512_add_ps(acc, _mm512_mul_ps(x, w))
#endif
typedef __mmask16 vf_mask;
#define VF_MASK(lanes) ((__mmask16)((1u << (lanes)) - 1u)) /* lanes < 16 */
#define VF_MASK_LOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define VF_MASK_STORE(p, v, m) _mm512_mask_storeu_ps(p, m, v)
#else
#error "define VF_BITS as 256 or 512 before including kernels/x86/vec_f32.h"
#endif

#endif /* ECNN_KERNELS_X86_VEC_F32_H */

/* The float vector operations of one x86 width, for the loop skeletons shared by the AVX2 and
 * AVX-512 kernels (conv_f32_hwio.h, conv_f32_dw.h): the includer defines VF_BITS (256 or 512)
 * first. Lane-masked loads and stores differ by more than a name between the widths (AVX2 has
 * vector masks, AVX-512 opmasks), so each kernel file writes its own. */
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
#define VF_MAX(a, b) _mm256_max_ps(a, b)
#define VF_MIN(a, b) _mm256_min_ps(a, b)
#define VF_MAC(acc, x, w) F32_MAC(acc, x, w) /* rounded as ecnn_mac (kernels.h) */
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
#define VF_MAX(a, b) _mm512_max_ps(a, b)
#define VF_MIN(a, b) _mm512_min_ps(a, b)
#ifdef ECNN_FUSED_MAC /* every AVX-512 CPU has FMA; whether to fuse is the level's choice */
#define VF_MAC(acc, x, w) _mm512_fmadd_ps(x, w, acc)
#else
#define VF_MAC(acc, x, w) _mm512_add_ps(acc, _mm512_mul_ps(x, w))
#endif
#else
#error "define VF_BITS as 256 or 512 before including kernels/x86/vec_f32.h"
#endif

#endif /* ECNN_KERNELS_X86_VEC_F32_H */

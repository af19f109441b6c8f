/* The vector operations of one x86 width, named for the reference operation each must equal
 * (kernels/q_elementwise_loops.h and kernels/f32_elementwise_loops.h list them): the includer
 * defines VQ_BITS (256 or 512). vmaxps(a, b) is `a > b ? a : b` (b when either is NaN),
 * vminps(a, b) `a < b ? a : b`, vcvtps2dq in the default rounding mode lrintf (half to even) with
 * INT32_MIN for NaN and values outside int32, vfmadd fmaf. */
#include "kernels/x86/x86.h"

#if VQ_BITS == 256
#define VQ_LANES 8u
typedef __m256 vq_f;
typedef __m256i vq_i;
#define VQF_LOAD(p) _mm256_loadu_ps(p)
#define VQF_STORE(p, v) _mm256_storeu_ps(p, v)
#define VQF_SET1(v) _mm256_set1_ps(v)
#define VQF_DIV(a, b) _mm256_div_ps(a, b)
#define VQF_MUL(a, b) _mm256_mul_ps(a, b)
#define VQF_ADD(a, b) _mm256_add_ps(a, b)
#define VQF_ABOVE(v, lo) _mm256_max_ps(v, lo)
#define VQF_BELOW(v, hi) _mm256_min_ps(v, hi)
#define VQF_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VQF_CVT(v) _mm256_cvtps_epi32(v)
#define VQI_TO_F(v) _mm256_cvtepi32_ps(v)
#define VQI_SET1(v) _mm256_set1_epi32(v)
#define VQI_ADD(a, b) _mm256_add_epi32(a, b)
#define VQI_SUB(a, b) _mm256_sub_epi32(a, b)
#define VQI_MUL(a, b) _mm256_mullo_epi32(a, b)
#define VQI_MAX(a, b) _mm256_max_epi32(a, b)
#define VQI_MIN(a, b) _mm256_min_epi32(a, b)
#elif VQ_BITS == 512
#define VQ_LANES 16u
typedef __m512 vq_f;
typedef __m512i vq_i;
#define VQF_LOAD(p) _mm512_loadu_ps(p)
#define VQF_STORE(p, v) _mm512_storeu_ps(p, v)
#define VQF_SET1(v) _mm512_set1_ps(v)
#define VQF_DIV(a, b) _mm512_div_ps(a, b)
#define VQF_MUL(a, b) _mm512_mul_ps(a, b)
#define VQF_ADD(a, b) _mm512_add_ps(a, b)
#define VQF_ABOVE(v, lo) _mm512_max_ps(v, lo)
#define VQF_BELOW(v, hi) _mm512_min_ps(v, hi)
#define VQF_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VQF_CVT(v) _mm512_cvtps_epi32(v)
#define VQI_TO_F(v) _mm512_cvtepi32_ps(v)
#define VQI_SET1(v) _mm512_set1_epi32(v)
#define VQI_ADD(a, b) _mm512_add_epi32(a, b)
#define VQI_SUB(a, b) _mm512_sub_epi32(a, b)
#define VQI_MUL(a, b) _mm512_mullo_epi32(a, b)
#define VQI_MAX(a, b) _mm512_max_epi32(a, b)
#define VQI_MIN(a, b) _mm512_min_epi32(a, b)
#else
#error "VQ_BITS must be 256 or 512"
#endif

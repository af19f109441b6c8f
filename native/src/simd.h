/* Compile-time choice of the SIMD kernels (one flavour per build; native/Makefile and
 * runtime/_build_ffi.py build for the host CPU by default, or portable C with
 * PORTABLE=1 / EDGECNN_PORTABLE=1). Define ECNN_PORTABLE to force the plain C kernels.
 *
 *   ECNN_SIMD_AVX512  AVX-512F + BW (VNNI used when __AVX512VNNI__)   kernels_x86_avx512.c (+ avx2)
 *   ECNN_SIMD_AVX2    AVX2                                           kernels_x86_avx2.c
 *   ECNN_SIMD_NEON    ARM NEON (AArch64; int8 dot product instructions  kernels_arm_neon.c
 *                     when __ARM_FEATURE_DOTPROD)
 *   none of them      portable C99 (kernels_f32.c, kernels_i8.c)
 */
#ifndef ECNN_SIMD_H
#define ECNN_SIMD_H

#include "kernels_i8.h"

#if !defined(ECNN_PORTABLE) && defined(__AVX512F__) && defined(__AVX512BW__)
#define ECNN_SIMD_AVX512 1
#elif !defined(ECNN_PORTABLE) && defined(__AVX2__)
#define ECNN_SIMD_AVX2 1
#elif !defined(ECNN_PORTABLE) && defined(__ARM_NEON) && defined(__aarch64__)
#define ECNN_SIMD_NEON 1
#endif

/* The SIMD function behind each fast kernel (AVX-512 builds reuse the AVX2 conv: every
 * AVX-512 CPU has AVX2). */
#if defined(ECNN_SIMD_AVX512)
#define ECNN_X86_AVX2_KERNELS 1
#define ECNN_SIMD_FC_F32 ecnn_fc_f32_panel16_avx512
#define ECNN_SIMD_FC_Q ecnn_fc_q_panel8x4_avx512
#define ECNN_SIMD_CONV_F32 ecnn_conv2d_f32_hwio_avx2
#elif defined(ECNN_SIMD_AVX2)
#define ECNN_X86_AVX2_KERNELS 1
#define ECNN_SIMD_FC_F32 ecnn_fc_f32_panel16_avx2
#define ECNN_SIMD_FC_Q ecnn_fc_q_panel8x4_avx2
#define ECNN_SIMD_CONV_F32 ecnn_conv2d_f32_hwio_avx2
#elif defined(ECNN_SIMD_NEON)
#define ECNN_SIMD_FC_F32 ecnn_fc_f32_panel16_neon
#define ECNN_SIMD_FC_Q ecnn_fc_q_panel8x4_neon
#define ECNN_SIMD_CONV_F32 ecnn_conv2d_f32_hwio_neon
#endif

#ifdef ECNN_SIMD_FC_F32
/* Same contracts as ecnn_fc_f32_panel16 / ecnn_fc_q_panel8x4 (kernels.h, kernels_i8.h), and
 * ecnn_conv2d_f32_hwio (AVX2: any O / group; NEON: O / group a multiple of 8). */
void ECNN_SIMD_FC_F32(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k, uint32_t o,
                      const ecnn_act_params *act);
void ECNN_SIMD_FC_Q(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
                    const ecnn_qlinear_params *q);
void ECNN_SIMD_CONV_F32(float *y, const float *x, const float *w, const float *b, uint32_t n,
                        const ecnn_conv2d_args *p);
#endif

#ifdef ECNN_X86_AVX2_KERNELS
/* ecnn_q_store_scaled (below) with the requantization of 8 outputs per AVX2 instruction:
 * the same float operations (convert, multiply, max, min, round to nearest even). */
/* ecnn_maxpool2d_f32 (type ECNN_POOL_F32) and ecnn_maxpool2d_q (type an ecnn_qtype), any C:
 * one loop over 64- to 1-byte chunks of channels. */
#define ECNN_POOL_F32 (-1)
void ecnn_maxpool2d_avx2(void *y, const void *x, uint32_t n, const ecnn_pool2d_args *p, int type);
/* ecnn_conv2d_q_hwio's dot product: acc[0..c8) over `pairs` int16 term pairs (c8 a multiple of 8). */
void ecnn_conv_q_dot_avx2(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8);
void ecnn_q_store_scaled_avx2(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                              const int32_t *bias, const ecnn_qlinear_params *q);
#endif

/* Stores requantized int32 sums acc[0..count) as outputs y[first..first+count) (int8 or
 * uint8 per q->y_type), adding the bias: shared by every int8 FC kernel. */
static inline void ecnn_q_store_outputs(void *y, size_t first, const int32_t *acc, uint32_t count, uint32_t o0,
                                        const int32_t *b, const ecnn_qlinear_params *q)
{
    uint32_t l;
    for (l = 0; l < count; l++) {
        int32_t a = acc[l];
        int32_t v;
        if (b) a += b[o0 + l];
        v = ecnn_requantize(a, ecnn_requant_scale(q, o0 + l), q);
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)v;
        else
            ((int8_t *)y)[first + l] = (int8_t)v;
    }
}

/* Like ecnn_q_store_outputs with the requantization scales of these outputs precomputed
 * (scales[l] = ecnn_requant_scale(q, o0 + l)) and bias pointing at their biases (or NULL). */
static inline void ecnn_q_store_scaled(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                                       const int32_t *bias, const ecnn_qlinear_params *q)
{
#ifdef ECNN_X86_AVX2_KERNELS
    ecnn_q_store_scaled_avx2(y, first, acc, count, scales, bias, q);
#else
    uint32_t l;
    for (l = 0; l < count; l++) {
        const int32_t v = ecnn_requantize(bias ? acc[l] + bias[l] : acc[l], scales[l], q);
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)v;
        else
            ((int8_t *)y)[first + l] = (int8_t)v;
    }
#endif
}

#endif /* ECNN_SIMD_H */

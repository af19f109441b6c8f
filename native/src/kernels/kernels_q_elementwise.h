/* Element-wise int8 / uint8 kernels faster than their references (kernels_i8.h): QUANTIZE,
 * DEQUANTIZE, and ADD / MUL on quantized tensors (QLinearAdd / QLinearMul). Each has its
 * reference's contract and result, bit for bit, for every input: the same float operations in
 * the same order (a true division for QUANTIZE, the same fused multiply-adds for QLinearAdd, two
 * separate roundings for QLinearMul), round half to even, and the same saturation (NaN and
 * values outside int32 saturate as _mm256_cvtps_epi32 does: to the dtype's minimum). The op
 * configs that choose them: ops/quantize.c, ops/add_mul.c (declared in ops/configs.h). */
#ifndef ECNN_KERNELS_Q_ELEMENTWISE_H
#define ECNN_KERNELS_Q_ELEMENTWISE_H

#include "kernels/kernels_i8.h"

/* ecnn_quantize_ref's contract. */
typedef void ecnn_quantize_kernel(void *y, const float *x, uint32_t count, float scale, int32_t zero_point,
                                  ecnn_qtype type);
/* ecnn_dequantize_ref's contract. */
typedef void ecnn_dequantize_kernel(float *y, const void *x, uint32_t count, float scale, int32_t zero_point,
                                    ecnn_qtype type);
/* ecnn_add_q_ref's and ecnn_mul_q_ref's contract (in place allowed: y may equal a or b). */
typedef void ecnn_binary_q_kernel(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                                  size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb,
                                  const ecnn_qtensor *qy);

/* Plain C, one loop per dtype (kernels/portable/q_elementwise.c). */
ecnn_quantize_kernel ecnn_quantize_portable;
ecnn_dequantize_kernel ecnn_dequantize_portable;
ecnn_binary_q_kernel ecnn_add_q_portable, ecnn_mul_q_portable;

/* 8 lanes (kernels/x86/avx2/q_elementwise.c) and 16 (x86/avx512/q_elementwise.c). */
ecnn_quantize_kernel ecnn_quantize_avx2, ecnn_quantize_avx512;
ecnn_dequantize_kernel ecnn_dequantize_avx2, ecnn_dequantize_avx512;
ecnn_binary_q_kernel ecnn_add_q_avx2, ecnn_mul_q_avx2, ecnn_add_q_avx512, ecnn_mul_q_avx512;

/* AArch64 NEON, 4 lanes (kernels/arm/neon/q_elementwise.c). */
ecnn_quantize_kernel ecnn_quantize_neon;
ecnn_dequantize_kernel ecnn_dequantize_neon;
ecnn_binary_q_kernel ecnn_add_q_neon, ecnn_mul_q_neon;

/* The constants of QLinearAdd (kernels_i8.h ecnn_add_q_ref): y = fmaf(a, ra, fmaf(b, rb, fixed)). */
typedef struct {
    float ra, rb, fixed;
} ecnn_add_q_consts;
static inline ecnn_add_q_consts ecnn_add_q_constants(const ecnn_qtensor *qa, const ecnn_qtensor *qb,
                                                     const ecnn_qtensor *qy)
{
    ecnn_add_q_consts c;
    float zb_part;
    c.ra = qa->scale / qy->scale;
    c.rb = qb->scale / qy->scale;
    zb_part = c.rb * (float)qb->zero_point;
    c.fixed = (float)qy->zero_point - fmaf(c.ra, (float)qa->zero_point, zb_part);
    return c;
}

/* QLinearMul's (ecnn_mul_q_ref): v = (float)((a - za) * (b - zb)) * ratio + zy. */
static inline float ecnn_mul_q_ratio(const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    const float sab = qa->scale * qb->scale;
    const float ratio = sab / qy->scale;
    return ratio;
}

/* The walk of ecnn_add_q_ref / ecnn_mul_q_ref over samples and B's repeats, in rows: row(y, a,
 * b, len, b_one, ctx) computes len elements, B one code for all of them (b_one: B a scalar) or
 * len codes (B's repeat, or all of A's sample when B has A's shape). */
typedef void ecnn_binary_q_row(uint8_t *y, const uint8_t *a, const uint8_t *b, size_t len, int b_one, const void *ctx);
static inline void ecnn_binary_q_rows(void *y, const void *a, const void *b, uint32_t n, size_t per_sample,
                                      size_t b_sample, size_t b_period, ecnn_binary_q_row *row, const void *ctx)
{
    uint32_t s;
    size_t at;
    for (s = 0; s < n; s++) {
        uint8_t *ys = (uint8_t *)y + (size_t)s * per_sample;
        const uint8_t *as = (const uint8_t *)a + (size_t)s * per_sample, *bs = (const uint8_t *)b + s * b_sample;
        if (b_period == 1)
            row(ys, as, bs, per_sample, 1, ctx);
        else
            for (at = 0; at < per_sample; at += b_period)
                row(ys + at, as + at, bs, per_sample - at < b_period ? per_sample - at : b_period, 0, ctx);
    }
}

#endif /* ECNN_KERNELS_Q_ELEMENTWISE_H */

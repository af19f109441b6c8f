/* The element-wise int8 kernels of kernels_q_elementwise.h (QUANTIZE, DEQUANTIZE, QLinearAdd,
 * QLinearMul), written once over a vector of VQ_LANES lanes. The includer (an ISA's kernel file,
 * through x86/q_elementwise.h on x86) defines QE_NAME(op), the exported name of op, the types
 * vq_f (float lanes) and vq_i (int32 lanes), and each operation as the reference computes it:
 *     VQF_LOAD, VQF_STORE, VQF_SET1, VQF_DIV, VQF_MUL, VQF_ADD   float32, IEEE rounding
 *     VQF_FMA(a, b, c)       a * b + c rounded once (fmaf)
 *     VQF_ABOVE(v, lo)       v > lo ? v : lo (NaN -> lo)
 *     VQF_BELOW(v, hi)       v < hi ? v : hi
 *     VQF_CVT(v)             round half to even; INT32_MIN for NaN and values outside int32
 *     VQI_TO_F, VQI_SET1, VQI_ADD, VQI_SUB, VQI_MUL, VQI_MAX, VQI_MIN   int32
 *     vq_i q_load_codes(const uint8_t *p, int u8)  VQ_LANES codes, sign- or zero-extended
 *     void q_store_codes(uint8_t *p, vq_i v)        the low byte of each lane (v in byte range)
 * The reference's saturation to int16 and then to the dtype is one clamp to the dtype (its
 * range lies inside int16's). A tail shorter than a vector runs through zeroed buffers. */
#ifndef QE_NAME
#error "define QE_NAME and the vector operations before including kernels/q_elementwise_loops.h"
#endif

#include <string.h>

#include "kernels/kernels_q_elementwise.h"

#define QE_INLINE static inline __attribute__((always_inline))

QE_INLINE vq_i q_quantize_vec(vq_f x, vq_f scale, vq_f lo, vq_f hi, vq_i zero_point)
{
    vq_f v = VQF_DIV(x, scale);
    v = VQF_BELOW(VQF_ABOVE(v, lo), hi);
    return VQI_ADD(VQF_CVT(v), zero_point);
}

void QE_NAME(quantize)(void *y, const float *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    const vq_f s = VQF_SET1(scale), lo = VQF_SET1((float)(ecnn_qtype_min(type) - zero_point)),
               hi = VQF_SET1((float)(ecnn_qtype_max(type) - zero_point));
    const vq_i z = VQI_SET1(zero_point);
    uint8_t *yb = (uint8_t *)y;
    uint32_t i;
    for (i = 0; i + VQ_LANES <= count; i += VQ_LANES)
        q_store_codes(yb + i, q_quantize_vec(VQF_LOAD(x + i), s, lo, hi, z));
    if (i < count) {
        float xt[VQ_LANES] = {0};
        uint8_t yt[VQ_LANES];
        memcpy(xt, x + i, (count - i) * sizeof(float));
        q_store_codes(yt, q_quantize_vec(VQF_LOAD(xt), s, lo, hi, z));
        memcpy(yb + i, yt, count - i);
    }
}

void QE_NAME(dequantize)(float *y, const void *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    const vq_f s = VQF_SET1(scale);
    const vq_i z = VQI_SET1(zero_point);
    const uint8_t *xb = (const uint8_t *)x;
    const int u8 = type == ECNN_Q_U8;
    uint32_t i;
    for (i = 0; i + VQ_LANES <= count; i += VQ_LANES)
        VQF_STORE(y + i, VQF_MUL(VQI_TO_F(VQI_SUB(q_load_codes(xb + i, u8), z)), s));
    if (i < count) {
        uint8_t xt[VQ_LANES] = {0};
        float yt[VQ_LANES];
        memcpy(xt, xb + i, count - i);
        VQF_STORE(yt, VQF_MUL(VQI_TO_F(VQI_SUB(q_load_codes(xt, u8), z)), s));
        memcpy(y + i, yt, (count - i) * sizeof(float));
    }
}

/* The lane-wide constants of QLinearAdd (add) or QLinearMul (mul). */
typedef struct {
    vq_f ra, rb, fixed; /* add */
    vq_i za, zb;        /* mul */
    vq_f ratio, zy;     /* mul */
    vq_i lo, hi;        /* the dtype's range */
} q_binary_consts;

QE_INLINE vq_i q_binary_vec(vq_i a, vq_i b, const q_binary_consts *k, int mul)
{
    vq_f v;
    if (mul) {
        /* exact in int32 and as a float: codes and zero points lie in [-128, 255], |prod| < 2^18 */
        const vq_i prod = VQI_MUL(VQI_SUB(a, k->za), VQI_SUB(b, k->zb));
        v = VQF_MUL(VQI_TO_F(prod), k->ratio);
        v = VQF_ADD(v, k->zy);
    } else {
        v = VQF_FMA(VQI_TO_F(b), k->rb, k->fixed);
        v = VQF_FMA(VQI_TO_F(a), k->ra, v);
    }
    return VQI_MIN(VQI_MAX(VQF_CVT(v), k->lo), k->hi);
}

/* The constants, and which op (mul) on which dtype (u8), for one call's rows. */
typedef struct {
    q_binary_consts k;
    int mul, u8;
} q_binary_job;

/* len elements; B one code for all of them (b_one) or len codes. */
QE_INLINE void q_binary_run(uint8_t *y, const uint8_t *a, const uint8_t *b, size_t len, int b_one,
                            const q_binary_consts *k, int mul, int u8)
{
    const vq_i b_all = VQI_SET1(u8 ? (int32_t)b[0] : (int32_t)(int8_t)b[0]);
    size_t i;
    for (i = 0; i + VQ_LANES <= len; i += VQ_LANES)
        q_store_codes(y + i, q_binary_vec(q_load_codes(a + i, u8), b_one ? b_all : q_load_codes(b + i, u8), k, mul));
    if (i < len) {
        uint8_t at[VQ_LANES] = {0}, bt[VQ_LANES] = {0}, yt[VQ_LANES];
        memcpy(at, a + i, len - i);
        if (!b_one) memcpy(bt, b + i, len - i);
        q_store_codes(yt, q_binary_vec(q_load_codes(at, u8), b_one ? b_all : q_load_codes(bt, u8), k, mul));
        memcpy(y + i, yt, len - i);
    }
}

/* ecnn_binary_q_row: one loop per op and dtype (constants in the inlined loops). */
static void q_binary_row(uint8_t *y, const uint8_t *a, const uint8_t *b, size_t len, int b_one, const void *ctx)
{
    const q_binary_job *j = (const q_binary_job *)ctx;
    if (j->mul && j->u8)
        q_binary_run(y, a, b, len, b_one, &j->k, 1, 1);
    else if (j->mul)
        q_binary_run(y, a, b, len, b_one, &j->k, 1, 0);
    else if (j->u8)
        q_binary_run(y, a, b, len, b_one, &j->k, 0, 1);
    else
        q_binary_run(y, a, b, len, b_one, &j->k, 0, 0);
}

static void q_binary(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                     size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy, int mul)
{
    const ecnn_add_q_consts c = ecnn_add_q_constants(qa, qb, qy);
    const ecnn_qtype t = qa->type;
    q_binary_job j;
    j.mul = mul;
    j.u8 = t == ECNN_Q_U8;
    j.k.ra = VQF_SET1(c.ra), j.k.rb = VQF_SET1(c.rb), j.k.fixed = VQF_SET1(c.fixed);
    j.k.za = VQI_SET1(qa->zero_point), j.k.zb = VQI_SET1(qb->zero_point);
    j.k.ratio = VQF_SET1(ecnn_mul_q_ratio(qa, qb, qy)), j.k.zy = VQF_SET1((float)qy->zero_point);
    j.k.lo = VQI_SET1(ecnn_qtype_min(t)), j.k.hi = VQI_SET1(ecnn_qtype_max(t));
    ecnn_binary_q_rows(y, a, b, n, per_sample, b_sample, b_period, q_binary_row, &j);
}

void QE_NAME(add_q)(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    q_binary(y, a, b, n, per_sample, b_sample, b_period, qa, qb, qy, 0);
}

void QE_NAME(mul_q)(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    q_binary(y, a, b, n, per_sample, b_sample, b_period, qa, qb, qy, 1);
}

/* QUANTIZE, DEQUANTIZE, QLinearAdd and QLinearMul in plain C (kernels_q_elementwise.h): the
 * references' float operations, one loop per dtype and B's broadcast taken per row instead of
 * per element, and rounding without a libm call so the compiler can vectorise the loops.
 *
 * Rounding: for |v| < 2^22, (v + 1.5 * 2^23) - 1.5 * 2^23 is v rounded half to even (the sum
 * lies in (2^23, 2^24), where floats are the integers, and 1.5 * 2^23 is even), which is lrintf
 * in the default rounding mode. Each value is clamped to the dtype's range first, far inside. */
#include "kernels/kernels_q_elementwise.h"

#define ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */

/* v clamped to [lo, hi] as the references (NaN -> lo), rounded half to even. */
static inline int32_t clamp_round(float v, float lo, float hi)
{
    float r;
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    r = v + ROUND_MAGIC;
    r = r - ROUND_MAGIC;
    return (int32_t)r;
}

#define QUANTIZE_LOOP(T)                                                                                               \
    for (i = 0; i < count; i++) ((T *)y)[i] = (T)(clamp_round(x[i] / scale, lo, hi) + zero_point)

void ecnn_quantize_portable(void *y, const float *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    const float lo = (float)(ecnn_qtype_min(type) - zero_point);
    const float hi = (float)(ecnn_qtype_max(type) - zero_point);
    uint32_t i;
    if (type == ECNN_Q_U8)
        QUANTIZE_LOOP(uint8_t);
    else
        QUANTIZE_LOOP(int8_t);
}

#define DEQUANTIZE_LOOP(T)                                                                                             \
    for (i = 0; i < count; i++) {                                                                                      \
        const float d = (float)((int32_t)((const T *)x)[i] - zero_point);                                              \
        y[i] = d * scale;                                                                                              \
    }

void ecnn_dequantize_portable(float *y, const void *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    uint32_t i;
    if (type == ECNN_Q_U8)
        DEQUANTIZE_LOOP(uint8_t)
    else
        DEQUANTIZE_LOOP(int8_t)
}

/* The references' cvtps_epi32 (INT32_MIN for NaN and values outside int32), then saturation to
 * int16 and to [lo, hi] (inside int16's range): INT32_MIN saturates to lo; otherwise clamping
 * before or after rounding to an integer is the same. */
static inline int32_t saturate(float v, int32_t lo, int32_t hi)
{
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return lo;
    return clamp_round(v, (float)lo, (float)hi);
}

/* One op, one dtype: len elements, B one code for all (b_one) or len codes. */
#define BINARY_ROW(T, EXPR)                                                                                            \
    do {                                                                                                               \
        const T *ar = (const T *)a_row, *br = (const T *)b_row;                                                        \
        T *yr = (T *)y_row;                                                                                            \
        for (i = 0; i < len; i++) {                                                                                    \
            const int32_t qa_ = ar[i], qb_ = br[b_one ? 0 : i];                                                        \
            yr[i] = (T)saturate((EXPR), lo, hi);                                                                       \
        }                                                                                                              \
    } while (0)

typedef struct {
    int mul, u8;
    ecnn_add_q_consts add;
    float ratio, zy;
    int32_t za, zb, lo, hi;
} binary_consts;

static float mul_value(int32_t qa, int32_t qb, const binary_consts *k)
{
    float v = (float)((qa - k->za) * (qb - k->zb)) * k->ratio;
    v = v + k->zy;
    return v;
}

static void binary_row(uint8_t *y_row, const uint8_t *a_row, const uint8_t *b_row, size_t len, int b_one,
                       const void *ctx)
{
    const binary_consts *k = (const binary_consts *)ctx;
    const float ra = k->add.ra, rb = k->add.rb, fixed = k->add.fixed;
    const int32_t lo = k->lo, hi = k->hi;
    size_t i;
    if (k->mul && k->u8)
        BINARY_ROW(uint8_t, mul_value(qa_, qb_, k));
    else if (k->mul)
        BINARY_ROW(int8_t, mul_value(qa_, qb_, k));
    else if (k->u8)
        BINARY_ROW(uint8_t, fmaf((float)qa_, ra, fmaf((float)qb_, rb, fixed)));
    else
        BINARY_ROW(int8_t, fmaf((float)qa_, ra, fmaf((float)qb_, rb, fixed)));
}

static void binary_q(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                     size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy, int mul)
{
    binary_consts k;
    k.mul = mul;
    k.u8 = qa->type == ECNN_Q_U8;
    k.add = ecnn_add_q_constants(qa, qb, qy);
    k.ratio = ecnn_mul_q_ratio(qa, qb, qy);
    k.zy = (float)qy->zero_point;
    k.za = qa->zero_point, k.zb = qb->zero_point;
    k.lo = ecnn_qtype_min(qa->type), k.hi = ecnn_qtype_max(qa->type);
    ecnn_binary_q_rows(y, a, b, n, per_sample, b_sample, b_period, binary_row, &k);
}

void ecnn_add_q_portable(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                         size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    binary_q(y, a, b, n, per_sample, b_sample, b_period, qa, qb, qy, 0);
}

void ecnn_mul_q_portable(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                         size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    binary_q(y, a, b, n, per_sample, b_sample, b_period, qa, qb, qy, 1);
}

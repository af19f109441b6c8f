/* QUANTIZE, DEQUANTIZE and int8 ADD / MUL: the level's kernels (ops/quantize.c, ops/add_mul.c
 * configs) against the reference kernels, bit for bit, over every class of float (NaN, infinities,
 * -0, subnormals, huge values, exact ties x.5 of the division), every code, both dtypes, zero
 * points across the range, odd counts and unaligned buffers, B's broadcasts, in place, and scale
 * ratios large enough to push QLinearAdd / QLinearMul outside int32. */
#include "test_kernels.h"

#define Q_MAX 700u /* elements per call: several vectors of every width and a tail */

static float float_of_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* A value for QUANTIZE under `scale`: any bit pattern, a special value, an exact tie of the
 * division (a half-integer times a power-of-two scale), or an ordinary value near the range. */
static float quantize_input(float scale)
{
    static const float special[] = {-0.0f,         0.0f,           NAN,    -NAN,    INFINITY,       -INFINITY,
                                    3.4028235e38f, -3.4028235e38f, 1e-45f, -1e-45f, 1.1754942e-38f, 2147483648.0f,
                                    -2147483904.0f};
    switch (next_u32() % 5) {
    case 0: return float_of_bits((next_u32() << 8) ^ next_u32());
    case 1: return special[next_u32() % (sizeof special / sizeof special[0])];
    case 2: return ((float)irand(-700, 700) + 0.5f) * scale;
    case 3: return (float)irand(-700, 700) * scale;
    default: return frand() * 400.0f * scale;
    }
}

static float random_scale(uint32_t trial)
{
    static const float scales[] = {1.0f, 0.5f, 0.0078125f, 0.1f, 0.003921569f, 3.0f, 1e-20f, 1e20f, 1.4e-45f};
    return trial % 3 == 0 ? scales[trial / 3 % (sizeof scales / sizeof scales[0])]
                          : (float)irand(1, 1 << 20) / (float)(1 << irand(10, 30));
}

void test_quantize_dequantize(void)
{
    static float x[Q_MAX + 4], yf_ref[Q_MAX + 4], yf_fast[Q_MAX + 4];
    static uint8_t q[Q_MAX + 4], y_ref_q[Q_MAX + 4], y_fast_q[Q_MAX + 4];
    ecnn_quantize_kernel *quantize = ECNN_KERNEL(ecnn_q_elementwise_config, quantize, isa)->fn;
    ecnn_dequantize_kernel *dequantize = ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, isa)->fn;
    uint32_t trial, i;
    for (trial = 0; trial < 400; trial++) {
        const ecnn_qtype t = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        const uint32_t count = trial % 7 == 0 ? (uint32_t)irand(0, 40) : (uint32_t)irand(1, Q_MAX);
        const uint32_t off = trial % 4; /* unaligned buffers */
        const float scale = random_scale(trial);
        const int32_t zero_point = trial % 5 == 0 ? ecnn_qtype_min(t) + 255 * (int32_t)(trial / 5 % 2)
                                                  : irand(ecnn_qtype_min(t), ecnn_qtype_max(t));
        for (i = 0; i < count; i++) x[off + i] = quantize_input(scale);
        memset(y_ref_q, 0xA5, sizeof y_ref_q);
        memset(y_fast_q, 0xA5, sizeof y_fast_q);
        ecnn_quantize_ref(y_ref_q + off, x + off, count, scale, zero_point, t);
        quantize(y_fast_q + off, x + off, count, scale, zero_point, t);
        CHECK(memcmp(y_ref_q, y_fast_q, sizeof y_ref_q) == 0); /* and nothing written past count */
        for (i = 0; i < count; i++) q[off + i] = (uint8_t)(trial < 2 ? i : next_u32()); /* every code */
        memset(yf_ref, 0xA5, sizeof yf_ref);
        memset(yf_fast, 0xA5, sizeof yf_fast);
        ecnn_dequantize_ref(yf_ref + off, q + off, count, scale, zero_point, t);
        dequantize(yf_fast + off, q + off, count, scale, zero_point, t);
        CHECK(memcmp(yf_ref, yf_fast, sizeof yf_ref) == 0);
    }
}

/* One ADD or MUL call through the level's kernel and the reference (out of place, then in place
 * on a copy of A), compared over the whole buffers. */
static void check_binary_q(int mul, const uint8_t *a, const uint8_t *b, uint32_t n, size_t per_sample, size_t b_sample,
                           size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    static uint8_t y_ref_q[3 * Q_MAX], y_fast_q[3 * Q_MAX];
    const ecnn_binary_q_impl *fast =
        mul ? ECNN_KERNEL(ecnn_q_elementwise_config, mul, isa) : ECNN_KERNEL(ecnn_q_elementwise_config, add, isa);
    ecnn_binary_q_kernel *ref = mul ? ecnn_mul_q_ref : ecnn_add_q_ref;
    const size_t count = (size_t)n * per_sample;
    memset(y_ref_q, 0x5A, sizeof y_ref_q);
    memset(y_fast_q, 0x5A, sizeof y_fast_q);
    ref(y_ref_q, a, b, n, per_sample, b_sample, b_period, qa, qb, qy);
    fast->fn(y_fast_q, a, b, n, per_sample, b_sample, b_period, qa, qb, qy);
    CHECK(memcmp(y_ref_q, y_fast_q, sizeof y_ref_q) == 0);
    memcpy(y_fast_q, a, count);
    fast->fn(y_fast_q, y_fast_q, b, n, per_sample, b_sample, b_period, qa, qb, qy);
    CHECK(memcmp(y_ref_q, y_fast_q, count) == 0);
}

static void random_qtensor(ecnn_qtensor *q, ecnn_qtype t, uint32_t trial)
{
    q->type = t;
    q->scale = trial % 11 == 10 ? (next_u32() % 2 ? 1e30f : 1e-30f) : random_scale(next_u32() % 64);
    q->zero_point = irand(ecnn_qtype_min(t), ecnn_qtype_max(t));
}

/* QLinearMul rounds twice: ratio r with p * r just below k + 0.5 exactly but k + 0.5 once
 * rounded, and zy = -(k + 1): the separate roundings give -0.5 and the code 0, a fused
 * multiply-add -0.5 - d and -1. Random quantizations almost never meet such a case. */
static void test_mul_q_separate_roundings(void)
{
    static uint8_t ya[256], yb[256], yr[256], yf[256];
    uint32_t p, k, found = 0;
    for (k = 1; k <= 4; k++)
        for (p = 3; p < 256; p++) {
            const float r = ((float)k + 0.5f) / (float)p;
            const double exact = (double)p * (double)r; /* exact: 24 x 8 bits */
            ecnn_qtensor qa = {ECNN_Q_I8, 1.0f, -128}, qb = {ECNN_Q_I8, 1.0f, 0}, qy = {ECNN_Q_I8, 1.0f, 0};
            if (!(exact < (double)k + 0.5 && (float)exact == (float)k + 0.5f)) continue;
            found++;
            qa.scale = r;
            qy.zero_point = -(int32_t)(k + 1);
            memset(ya, (uint8_t)(int8_t)(p - 128), sizeof ya);
            memset(yb, 1, sizeof yb);
            ecnn_mul_q_ref(yr, ya, yb, 1, sizeof ya, 0, 1, &qa, &qb, &qy);
            ECNN_KERNEL(ecnn_q_elementwise_config, mul, isa)->fn(yf, ya, yb, 1, sizeof ya, 0, 1, &qa, &qb, &qy);
            CHECK(yr[0] == 0); /* the premise: -0.5 rounded half to even */
            CHECK(memcmp(yr, yf, sizeof yr) == 0);
        }
    CHECK(found > 10);
}

void test_binary_q_kernels(void)
{
    static uint8_t a[3 * Q_MAX], b[3 * Q_MAX];
    uint32_t trial, i;
    test_mul_q_separate_roundings();
    /* every pair of codes, elementwise, a few quantizations per dtype */
    for (trial = 0; trial < 8; trial++) {
        static uint8_t pa[65536], pb[65536], py_ref[65536], py_fast[65536];
        const ecnn_qtype t = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        const int mul = trial / 2 % 2;
        ecnn_qtensor qa, qb, qy;
        random_qtensor(&qa, t, trial);
        random_qtensor(&qb, t, trial);
        random_qtensor(&qy, t, trial);
        for (i = 0; i < 65536; i++) pa[i] = (uint8_t)(i >> 8), pb[i] = (uint8_t)i;
        (mul ? ecnn_mul_q_ref : ecnn_add_q_ref)(py_ref, pa, pb, 1, 65536, 65536, 65536, &qa, &qb, &qy);
        (mul ? ECNN_KERNEL(ecnn_q_elementwise_config, mul, isa) : ECNN_KERNEL(ecnn_q_elementwise_config, add, isa))
            ->fn(py_fast, pa, pb, 1, 65536, 65536, 65536, &qa, &qb, &qy);
        CHECK(memcmp(py_ref, py_fast, sizeof py_ref) == 0);
    }
    /* B of A's shape, a runtime [1,...,1,C] per sample, a constant [C] or [1] */
    for (trial = 0; trial < 300; trial++) {
        const ecnn_qtype t = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        const uint32_t n = 1 + trial % 3, shape = trial / 2 % 4, off = trial % 3;
        const size_t channels = (size_t)irand(1, 70);
        const size_t per_sample = shape == 0 ? (size_t)irand(1, Q_MAX - 4) : channels * (size_t)irand(1, 9);
        size_t b_sample, b_period;
        ecnn_qtensor qa, qb, qy;
        if (shape == 0) /* elementwise */
            b_sample = b_period = per_sample;
        else if (shape == 1) /* per sample and channel */
            b_sample = b_period = channels;
        else /* constant per channel, or a scalar */
            b_sample = 0, b_period = shape == 2 ? channels : 1;
        random_qtensor(&qa, t, trial);
        random_qtensor(&qb, t, trial + 1);
        random_qtensor(&qy, t, trial + 2);
        for (i = 0; i < 3 * Q_MAX; i++) a[i] = (uint8_t)next_u32(), b[i] = (uint8_t)next_u32();
        check_binary_q(trial / 8 % 2, a + off, b + off, n, per_sample, b_sample, b_period, &qa, &qb, &qy);
    }
}

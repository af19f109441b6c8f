/* Float ACTIVATION and ADD / MUL: the level's kernels (ops/activation.c config) against the
 * reference kernels, bit for bit, for every activation over every class of float (NaN of both
 * signs and several payloads, infinities, -0, subnormals, the largest floats, Sigmoid's and
 * Tanh's clamp bounds and their neighbours, the inputs where MLAS's logistic exceeds 1, random
 * bit patterns and ordinary values) and a sweep of one float in 4099 over all 2^32; odd counts,
 * unaligned buffers, in place, and nothing written past the end; ADD / MUL with B elementwise,
 * a scalar, and per channel (rows shorter and longer than a vector); the int8 ACTIVATION's table
 * built by the level's kernels. */
#include "test_kernels.h"

#define F_MAX 700u /* elements per call: several vectors of every width and a tail */

static float float_of_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* One of the values the activations treat specially, or an ordinary one. */
static float special_float(void)
{
    static const uint32_t bits[] = {
        0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFFA5A5A5u, 0x7FFFFFFFu, /* NaN: quiet, signalling, payloads */
        0x7F800000u, 0xFF800000u, 0x00000000u, 0x80000000u,              /* infinities, +-0 */
        0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu, 0x00800000u, /* subnormals, the smallest normal */
        0x7F7FFFFFu, 0xFF7FFFFFu,                                        /* the largest floats */
        0x41900000u, 0xC1900000u, 0x418FFFFFu, 0x41900001u, 0xC18FFFFFu, /* +-18 and neighbours */
        0x41100000u, 0xC1100000u, 0x410FFFFFu, 0x41100001u, 0xC10FFFFFu, /* +-9 and neighbours */
        0x418BDB45u, 0x418FF2CCu,                                        /* logistic 1 + 2^-23 (17.482065, 17.993553) */
    };
    switch (next_u32() % 4) {
    case 0: return float_of_bits(bits[next_u32() % (sizeof bits / sizeof bits[0])]);
    case 1: return float_of_bits((next_u32() << 8) ^ next_u32());
    case 2: return frand() * 20.0f;
    default: return frand() * 0.001f;
    }
}

static void random_act(ecnn_act_params *act, uint32_t code)
{
    memset(act, 0, sizeof *act);
    act->act = code;
    act->act_p0 = code == ECNN_ACT_CLIP ? -0.25f : 0.2f; /* LeakyRelu alpha, HardSigmoid alpha */
    act->act_p1 = 0.5f;                                  /* Clip max, HardSigmoid beta */
    if (code == ECNN_ACT_CLIP && next_u32() % 2) act->act_p0 = 0.0f, act->act_p1 = 6.0f; /* ReLU6: -0 stays -0 */
}

void test_activation_f32_kernels(void)
{
    static float x[F_MAX + 4], y_ref_f[F_MAX + 4], y_fast_f[F_MAX + 4];
    ecnn_activation_f32_kernel *fast = ECNN_KERNEL(ecnn_f32_elementwise_config, activation, isa)->fn;
    uint32_t trial, i;
    for (trial = 0; trial < 400; trial++) {
        const uint32_t count = trial % 7 == 0 ? (uint32_t)irand(0, 40) : (uint32_t)irand(1, F_MAX);
        const uint32_t off = trial % 4; /* unaligned buffers */
        ecnn_act_params act;
        random_act(&act, trial % ACT_CODES);
        for (i = 0; i < count; i++) x[off + i] = special_float();
        memset(y_ref_f, 0xA5, sizeof y_ref_f);
        memset(y_fast_f, 0xA5, sizeof y_fast_f);
        ecnn_activation_f32_ref(y_ref_f + off, x + off, count, &act);
        fast(y_fast_f + off, x + off, count, &act);
        CHECK(memcmp(y_ref_f, y_fast_f, sizeof y_ref_f) == 0); /* and nothing written past count */
        memcpy(y_fast_f + off, x + off, count * sizeof(float));
        fast(y_fast_f + off, y_fast_f + off, count, &act); /* in place */
        CHECK(memcmp(y_ref_f, y_fast_f, sizeof y_ref_f) == 0);
    }
}

/* Sigmoid, Tanh and Swish on one float in 4099 of all 2^32 bit patterns (every exponent, both signs). */
void test_activation_f32_sweep(void)
{
    static float x[4096], y_ref_f[4096], y_fast_f[4096];
    ecnn_activation_f32_kernel *fast = ECNN_KERNEL(ecnn_f32_elementwise_config, activation, isa)->fn;
    const uint32_t codes[3] = {ECNN_ACT_SIGMOID, ECNN_ACT_TANH, ECNN_ACT_SWISH};
    uint64_t bits = 0;
    uint32_t c, i, mismatches = 0;
    while (bits < 0x100000000ull) {
        for (i = 0; i < 4096 && bits < 0x100000000ull; i++, bits += 4099) x[i] = float_of_bits((uint32_t)bits);
        for (c = 0; c < 3; c++) {
            ecnn_act_params act;
            random_act(&act, codes[c]);
            ecnn_activation_f32_ref(y_ref_f, x, i, &act);
            fast(y_fast_f, x, i, &act);
            mismatches += memcmp(y_ref_f, y_fast_f, i * sizeof(float)) != 0;
        }
    }
    CHECK(mismatches == 0);
}

/* Bit for bit, except that a NaN matches any NaN: with two NaN operands x86 returns the first
 * one's payload, and which operand is first is the compiler's choice for a commutative + or *
 * (in the reference as much as in the kernels). */
static int same_floats(const float *ref, const float *fast, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++)
        if (memcmp(ref + i, fast + i, sizeof(float)) != 0 && !(isnan(ref[i]) && isnan(fast[i]))) return 0;
    return 1;
}

/* One ADD or MUL through the level's kernel and the reference, out of place and in place (on A,
 * and on B when B has A's shape), compared over the whole buffers. */
static void check_binary_f32(const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count, uint32_t func,
                             const ecnn_act_params *act)
{
    static float y_ref_f[3 * F_MAX], y_fast_f[3 * F_MAX];
    ecnn_binary_f32_kernel *fast = ECNN_KERNEL(ecnn_f32_elementwise_config, binary, isa)->fn;
    const size_t count = (size_t)n * a_count;
    memset(y_ref_f, 0x5A, sizeof y_ref_f);
    memset(y_fast_f, 0x5A, sizeof y_fast_f);
    ecnn_binary_f32_ref(y_ref_f, a, b, n, a_count, b_count, func, act);
    fast(y_fast_f, a, b, n, a_count, b_count, func, act);
    CHECK(same_floats(y_ref_f, y_fast_f, sizeof y_ref_f / sizeof(float))); /* and nothing written past count */
    memcpy(y_fast_f, a, count * sizeof(float));
    fast(y_fast_f, y_fast_f, b, n, a_count, b_count, func, act);
    CHECK(same_floats(y_ref_f, y_fast_f, count));
    if (b_count == a_count) {
        memcpy(y_fast_f, b, count * sizeof(float));
        fast(y_fast_f, a, y_fast_f, n, a_count, b_count, func, act);
        CHECK(same_floats(y_ref_f, y_fast_f, count));
    }
}

void test_binary_f32_kernels(void)
{
    static float a[3 * F_MAX + 4], b[3 * F_MAX + 4];
    uint32_t trial, i;
    for (trial = 0; trial < 600; trial++) {
        const uint32_t n = 1 + trial % 3, shape = trial / 3 % 4, off = trial % 4;
        const uint32_t func = trial / 12 % 2 ? ECNN_ARITH_MUL : ECNN_ARITH_ADD;
        /* B: A's shape, a scalar, a row of C shorter than any vector, or a longer one */
        const size_t b_count = shape == 0   ? (size_t)irand(1, F_MAX)
                               : shape == 1 ? 1
                               : shape == 2 ? (size_t)irand(2, 7)
                                            : (size_t)irand(8, 70);
        const size_t a_count = shape == 0 ? b_count : b_count * (size_t)irand(1, (int32_t)(F_MAX / b_count));
        ecnn_act_params act;
        random_act(&act, trial / 24 % ACT_CODES);
        for (i = 0; i < n * a_count; i++) a[off + i] = special_float();
        for (i = 0; i < n * b_count; i++) b[off + i] = special_float();
        check_binary_f32(a + off, b + off, n, a_count, b_count, func, &act);
    }
}

/* The int8 ACTIVATION's table through the level's kernels against ecnn_activation_q_ref: every
 * activation, both dtypes in and out, every code, zero points across the range, scales from tiny
 * to huge (dequantized values past Sigmoid's and Tanh's bounds, quantized values saturating), in
 * place. */
void test_activation_q_table(void)
{
    static const float scales[] = {1.0f, 0.0078125f, 0.1f, 0.003921569f, 3.0f, 1e-20f, 1e20f, 0.37f};
    static uint8_t x[600], y_ref_q[600], y_fast_q[600];
    uint32_t trial, i;
    for (trial = 0; trial < 160; trial++) {
        const ecnn_qtype tx = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8, ty = trial / 2 % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        const size_t count = trial % 5 == 0 ? (size_t)irand(0, 30) : (size_t)irand(256, 600);
        ecnn_qtensor qx, qy;
        ecnn_act_params act;
        random_act(&act, trial / 4 % ACT_CODES);
        qx.type = tx, qy.type = ty;
        qx.scale = scales[next_u32() % 8], qy.scale = scales[next_u32() % 8];
        qx.zero_point = irand(ecnn_qtype_min(tx), ecnn_qtype_max(tx));
        qy.zero_point = irand(ecnn_qtype_min(ty), ecnn_qtype_max(ty));
        for (i = 0; i < count; i++) x[i] = (uint8_t)(i < 256 ? i : next_u32()); /* every code */
        memset(y_ref_q, 0xA5, sizeof y_ref_q);
        memset(y_fast_q, 0xA5, sizeof y_fast_q);
        ecnn_activation_q_ref(y_ref_q, x, count, &act, &qx, &qy);
        ecnn_activation_q_table(y_fast_q, x, count, &act, &qx, &qy, isa);
        CHECK(memcmp(y_ref_q, y_fast_q, sizeof y_ref_q) == 0);
        memcpy(y_fast_q, x, count);
        ecnn_activation_q_table(y_fast_q, y_fast_q, count, &act, &qx, &qy, isa); /* in place */
        CHECK(memcmp(y_ref_q, y_fast_q, count) == 0);
    }
}

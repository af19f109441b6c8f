/* The fully connected kernels (float and int8) against their references, plain and packed weights. */
#include "test_kernels.h"

float xf[MAX_N * MAX_K], wf[MAX_O * MAX_K], wf_packed[MAX_PACKED], bf[MAX_O];
float y_ref[MAX_N * MAX_O], y_ref_packed[MAX_N * MAX_O], y_fast[MAX_N * MAX_O];

/* Plain [O,K] -> `layout` (zero padding), with the library's own index function. */
void pack_f32(float *dst, const float *src, uint32_t o, uint32_t k, uint32_t layout)
{
    uint32_t j, i;
    memset(dst, 0, (size_t)ecnn_fc_w_elems(layout, o, k) * sizeof(float));
    for (j = 0; j < o; j++)
        for (i = 0; i < k; i++) dst[ecnn_fc_w_index(layout, j, i, k)] = src[(size_t)j * k + i];
}

/* The FC kernels under test: the level's (its config's), or one that no config lists. */
const ecnn_fc_f32_impl *fc_f32_kernel;
const ecnn_fc_q_impl *fc_q_kernel;

/* The shape of trial `trial` of an FC test that runs every k of ks, o of os and n = 1, 1 + n_step,
 * ... <= MAX_N, in that nesting; 0 past the last trial. */
static int fc_trial_shape(uint32_t trial, const uint32_t *ks, uint32_t k_count, const uint32_t *os, uint32_t o_count,
                          uint32_t n_step, uint32_t *k, uint32_t *o, uint32_t *n)
{
    const uint32_t n_count = (MAX_N - 1) / n_step + 1;
    if (trial >= k_count * o_count * n_count) return 0;
    *k = ks[trial / (o_count * n_count)];
    *o = os[trial / n_count % o_count];
    *n = 1 + n_step * (trial % n_count);
    return 1;
}
#define COUNT_OF(a) (uint32_t)(sizeof(a) / sizeof(a)[0])

/* A float kernel over FC_PANEL16 weights as the op runs it (run_fc_f32_fast) against its
 * reference on the plain and the packed weights, bit for bit, over every k of ks, o of os and n = 1, 1 + n_step, ... <= MAX_N, with and
 * without bias, activations 0 .. act_count - 1. */
static void check_fc_f32_panel16(const ecnn_fc_f32_impl *fast, ecnn_fc_f32_ref_kernel *ref, const uint32_t *ks,
                                 uint32_t k_count, const uint32_t *os, uint32_t o_count, uint32_t n_step,
                                 uint32_t act_count)
{
    uint32_t k, o, n, i, trial;
    for (trial = 0; fc_trial_shape(trial, ks, k_count, os, o_count, n_step, &k, &o, &n); trial++) {
        const float *b = trial % 3 ? bf : NULL;
        ecnn_act_params act;
        act.act = trial % act_count;
        act.act_p0 = act.act == ECNN_ACT_CLIP ? -0.5f : 0.01f;
        act.act_p1 = 0.5f;
        for (i = 0; i < n * k; i++) xf[i] = frand();
        for (i = 0; i < o * k; i++) wf[i] = frand();
        for (i = 0; i < o; i++) bf[i] = frand();
        pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
        ref(y_ref, xf, wf, b, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_PLAIN);
        ref(y_ref_packed, xf, wf_packed, b, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_FC_PANEL16);
        run_fc_f32_fast(fast, y_fast, xf, wf_packed, b, n, k, o, WHOLE(n, o), &act);
        CHECK(memcmp(y_ref, y_ref_packed, (size_t)n * o * sizeof(float)) == 0);
        CHECK(memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) == 0);
        if (memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) != 0)
            fprintf(stderr, "  %s differs at n=%u k=%u o=%u act=%u\n", fast->name, n, k, o, act.act);
    }
}

void test_fc_f32_panel16(void)
{
    static const uint32_t ks[] = {1, 3, 7, 17, 31, 255, 257, 300, 529};
    static const uint32_t os[] = {1, 5, 15, 16, 17, 33, 40, 67, 139};
    check_fc_f32_panel16(fc_f32_kernel, ECNN_KERNEL(ecnn_fc_config, ref, isa)->fn, ks, COUNT_OF(ks), os, COUNT_OF(os),
                         3, ACT_CODES);
}

/* FULLY_CONNECTED_G4's kernel (the level's, ops/fully_connected.c) against
 * ecnn_fully_connected_g4_f32_ref: K around the groups of four (tails of a pair, a single, both)
 * and across a K block (256), O not a multiple of 16, batch 1..MAX_N, every activation. Then a
 * sum that a fused multiply-add would change (test_fc_f32_fused_mac's): G4 never fuses, at any
 * level. */
void test_fc_g4_panel16(void)
{
    static const uint32_t ks[] = {1, 2, 3, 4, 5, 6, 7, 8, 17, 255, 258, 300, 529};
    static const uint32_t os[] = {1, 5, 16, 17, 33, 64, 67, 139};
    const ecnn_fc_f32_impl *fast = ECNN_KERNEL(ecnn_fc_config, g4, isa);
    const float e = 1.0f / 4096.0f, x2[2] = {1.0f, 1.0f + e}, w2[2] = {-(1.0f + 2.0f * e), 1.0f + e};
    float w2_packed[16 * 2], y2 = -1.0f;
    ecnn_act_params act_none;
    check_fc_f32_panel16(fast, ecnn_fully_connected_g4_f32_ref, ks, COUNT_OF(ks), os, COUNT_OF(os), 1, ACT_CODES);
    memset(&act_none, 0, sizeof act_none);
    pack_f32(w2_packed, w2, 1, 2, ECNN_LAYOUT_FC_PANEL16);
    fast->fn(&y2, x2, w2_packed, NULL, 1, 2, 1, WHOLE(1, 1), &act_none);
    CHECK(y2 == 0.0f); /* fused: 2^-24 */
}

/* The FC kernels' term is fused exactly where the level says (fused_mac: kernels.h ecnn_mac), in
 * the reference and the fast kernel alike: (1 + 2^-12)^2 - (1 + 2^-11) is 2^-24 with one
 * rounding, and 0 when the product is rounded first (1 + 2^-11 + 2^-24 is a tie, to even
 * 1 + 2^-11). */
void test_fc_f32_fused_mac(void)
{
    const float e = 1.0f / 4096.0f; /* 2^-12 */
    const float x[2] = {1.0f, 1.0f + e}, w[2] = {-(1.0f + 2.0f * e), 1.0f + e};
    float w_packed[16 * 2], y_ref1, y_fast1;
    ecnn_act_params act;
    memset(&act, 0, sizeof act);
    pack_f32(w_packed, w, 1, 2, ECNN_LAYOUT_FC_PANEL16);
    ECNN_KERNEL(ecnn_fc_config, ref, isa)->fn(&y_ref1, x, w, NULL, 1, 2, 1, WHOLE(1, 1), &act, ECNN_LAYOUT_PLAIN);
    fc_f32_kernel->fn(&y_fast1, x, w_packed, NULL, 1, 2, 1, WHOLE(1, 1), &act);
    CHECK(y_ref1 == (isa->fused_mac ? e * e : 0.0f)); /* 2^-24 fused */
    CHECK(memcmp(&y_ref1, &y_fast1, sizeof y_ref1) == 0);
#if defined(__x86_64__)
    CHECK(isa->fused_mac == (isa->level != ECNN_ISA_PORTABLE)); /* the fast batch-64 dense depends on FMA */
#endif
}

/* Relu and Clip (which the fast kernels may apply as they store) on the values where comparisons
 * are delicate: NaN, -0 (an underflowed negative sum), +-Inf, the clip bounds themselves, a
 * bound of -0. Batch 1 and a batch of several sample tiles; every output against the reference. */
void test_fc_f32_act_special_values(void)
{
    static const float specials[] = {1.0f, -1.0f, 0.0f, -0.0f, 0.5f, -0.5f, 1e-30f, -1e-30f, 2.0f, -2.0f, 0.25f};
    static const float clips[][2] = {{-0.5f, 0.5f}, {0.0f, 0.5f}, {-0.0f, 0.0f}, {-1.0f, -1.0f}};
    const uint32_t k = 3, o = MAX_O; /* the batch-1 runs of 4 and 8 whole panels, and a partial panel */
    ecnn_act_params act;
    uint32_t i, n, c, with_bias;
    for (i = 0; i < MAX_N * k; i++) xf[i] = specials[(i * 7u + 3u) % (sizeof specials / sizeof specials[0])];
    for (i = 0; i < o * k; i++) wf[i] = specials[(i * 5u + 1u) % (sizeof specials / sizeof specials[0])];
    wf[0] = NAN, wf[k] = INFINITY, wf[2 * k + 1] = -INFINITY, wf[3 * k] = INFINITY, wf[3 * k + 1] = -INFINITY;
    for (i = 0; i < o; i++) bf[i] = specials[i % (sizeof specials / sizeof specials[0])];
    pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
    for (n = 1; n <= MAX_N; n += MAX_N - 1)
        for (c = 0; c <= sizeof clips / sizeof clips[0]; c++)
            for (with_bias = 0; with_bias < 2; with_bias++) {
                memset(&act, 0, sizeof act);
                act.act = c == 0 ? ECNN_ACT_RELU : ECNN_ACT_CLIP;
                act.act_p0 = c ? clips[c - 1][0] : 0.0f;
                act.act_p1 = c ? clips[c - 1][1] : 0.0f;
                ECNN_KERNEL(ecnn_fc_config, ref, isa)
                    ->fn(y_ref, xf, wf, with_bias ? bf : NULL, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_PLAIN);
                fc_f32_kernel->fn(y_fast, xf, wf_packed, with_bias ? bf : NULL, n, k, o, WHOLE(n, o), &act);
                CHECK(memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) == 0);
            }
}

/* Subnormal inputs, products and sums: a level whose SIMD float arithmetic flushes them to zero
 * (ARMv7 NEON does) would differ from its reference here. */
void test_f32_subnormals(void)
{
    const uint32_t n = 3, k = 37, o = 21;
    const ecnn_fc_f32_impl *fast = fc_f32_kernel;
    ecnn_act_params act;
    ecnn_conv2d_args p;
    uint32_t i;
    memset(&act, 0, sizeof act);
    for (i = 0; i < n * k; i++) xf[i] = frand() * 1e-38f; /* below FLT_MIN (1.18e-38) mostly */
    for (i = 0; i < o * k; i++) wf[i] = frand();
    for (i = 0; i < o; i++) bf[i] = frand() * 1e-39f;
    pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
    ECNN_KERNEL(ecnn_fc_config, ref, isa)->fn(y_ref, xf, wf, bf, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_PLAIN);
    fast->fn(y_fast, xf, wf_packed, bf, n, k, o, WHOLE(n, o), &act);
    CHECK(y_ref[0] != 0.0f && memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) == 0);
    /* a 3x3 conv, 2 -> 16 channels, over the same subnormal values (HWIO = [3][3][2][16]) */
    memset(&p, 0, sizeof p);
    p.h = p.w = 5, p.c = 2, p.o = 16, p.kh = p.kw = 3, p.oh = p.ow = 3;
    p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = p.group = 1;
    p.w_layout = ECNN_LAYOUT_CONV_HWIO;
    ECNN_KERNEL(ecnn_conv2d_config, ref, isa)->fn(y_ref, xf, wf, bf, 1, WHOLE(3, 16), &p);
    ecnn_conv2d_f32_fast(isa, &p)->fn(y_fast, xf, wf, bf, 1, WHOLE(3, 16), &p);
    CHECK(memcmp(y_ref, y_fast, 9 * 16 * sizeof(float)) == 0);
}

int8_t wq[MAX_O * MAX_K], wq_packed[MAX_PACKED];
uint8_t xq[MAX_N * MAX_K];
static int32_t bq[MAX_O];
static uint8_t q_ref[MAX_N * MAX_O], q_ref_packed[MAX_N * MAX_O], q_fast[MAX_N * MAX_O];

void test_fc_q_panel8x4(void)
{
    static const uint32_t ks[] = {1, 2, 3, 5, 15, 16, 17, 33, 63, 257, 529};
    static const uint32_t os[] = {1, 3, 7, 8, 9, 17, 40, 67, 139};
    const ecnn_fc_q_impl *fast = fc_q_kernel;
    float w_scales[MAX_O];
    int32_t w_zero[MAX_O];
    uint32_t k, o, n, i, trial;
    for (trial = 0; fc_trial_shape(trial, ks, COUNT_OF(ks), os, COUNT_OF(os), 4, &k, &o, &n); trial++) {
        const int32_t *b = trial % 3 ? bq : NULL;
        /* every other trial: FC_PANEL8X4_W64 (weights in [-64, 64], both ends forced in)
                 * with, on most of them, x's zero point at the dtype minimum (the maddubs path) */
        const int w64 = trial % 2 == 0;
        const uint32_t layout = w64 ? ECNN_LAYOUT_FC_PANEL8X4_W64 : ECNN_LAYOUT_FC_PANEL8X4;
        ecnn_qlinear_params q;
        memset(&q, 0, sizeof q);
        q.x_type = (w64 ? trial / 2 : trial) % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_type = ECNN_Q_I8;
        q.y_type = trial % 4 < 2 ? ECNN_Q_I8 : ECNN_Q_U8;
        q.x_scale = 0.02f + 0.001f * (float)(trial % 7);
        q.x_zero_point = w64 && trial % 8 != 0 ? ecnn_qtype_min(q.x_type)
                                               : irand(ecnn_qtype_min(q.x_type), ecnn_qtype_max(q.x_type));
        q.w_count = trial % 5 == 0 ? 1 : o;
        for (i = 0; i < o; i++) {
            w_scales[i] = 0.001f + 0.0003f * (float)i;
            w_zero[i] = 0;
        }
        q.w_scales = w_scales;
        q.w_zero_points = w_zero;
        q.y_scale = 0.05f * (float)(1 + k / 64);
        q.y_zero_point = irand(ecnn_qtype_min(q.y_type), ecnn_qtype_max(q.y_type));
        q.y_min = ecnn_qtype_min(q.y_type);
        q.y_max = ecnn_qtype_max(q.y_type);
        if (trial % 6 == 1 && q.y_zero_point > q.y_min) q.y_min = q.y_zero_point; /* fused Relu */
        for (i = 0; i < n * k; i++)
            xq[i] = (uint8_t)(w64 && trial % 3 == 1 ? (q.x_type == ECNN_Q_U8 ? 255 : 127)
                                                    : irand(0, 255));                          /* largest x - zx */
        for (i = 0; i < o * k; i++) wq[i] = (int8_t)(w64 ? irand(-64, 64) : irand(-128, 127)); /* -128 included */
        if (w64) {
            for (i = 0; i < o * k; i += 7) wq[i] = (int8_t)(i % 2 ? 64 : -64); /* both ends */
            if (trial % 3 == 1) /* the largest int16 pair sums: x - zx = 255, |w| = 64 */
                for (i = 0; i < o * k; i++) wq[i] = (int8_t)(i % 3 ? -64 : 64);
        }
        if (!w64 && trial % 3 == 1) { /* the ends of the u8 x s8 path: x - zx = +-255, w = -128, 127 */
            const int32_t lo = ecnn_qtype_min(q.x_type), hi = ecnn_qtype_max(q.x_type);
            q.x_zero_point = trial / 2 % 2 ? lo : hi;
            for (i = 0; i < n * k; i++) xq[i] = (uint8_t)(q.x_zero_point == lo ? hi : lo);
            for (i = 0; i < o * k; i++) wq[i] = (int8_t)(i % 3 ? -128 : 127);
        }
        for (i = 0; i < o; i++) bq[i] = irand(-20000, 20000);
        memset(wq_packed, 0, (size_t)ecnn_fc_w_elems(layout, o, k));
        {
            uint32_t j, t;
            for (j = 0; j < o; j++)
                for (t = 0; t < k; t++) wq_packed[ecnn_fc_w_index(layout, j, t, k)] = wq[(size_t)j * k + t];
        }
        ecnn_fully_connected_q_ref(q_ref, xq, wq, b, n, k, o, WHOLE(n, o), &q);
        q.w_layout = layout;
        ecnn_fully_connected_q_ref(q_ref_packed, xq, wq_packed, b, n, k, o, WHOLE(n, o), &q);
        fast->fn(q_fast, xq, wq_packed, b, n, k, o, WHOLE(n, o), &q);
        CHECK(memcmp(q_ref, q_ref_packed, (size_t)n * o) == 0);
        CHECK(memcmp(q_ref, q_fast, (size_t)n * o) == 0);
        if (memcmp(q_ref, q_fast, (size_t)n * o) != 0)
            fprintf(stderr, "  %s (layout %u) differs at n=%u k=%u o=%u\n", fast->name, layout, n, k, o);
    }
}

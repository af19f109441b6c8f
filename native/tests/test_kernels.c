/* The fast kernels against their reference kernels, at every ISA level of this build that the
 * CPU runs (a level it cannot run is named "compiled, not run on this CPU"), over odd sizes
 * (not multiples of any vector width) and every quantization variant: float bit-identical (the
 * fast kernels keep the reference summation order), int8 bit-identical (exact int32 sums). Each
 * case runs the kernel the level's op config picks (src/ops) and the level's reference kernel
 * on both the plain and the packed weights. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h" /* ecnn_crc32 */
#include "edgecnn.h"
#include "harness.h"
#include "kernels/kernels_i8.h"
#include "ops/configs.h"

static const ecnn_isa_info *isa; /* the level under test */

/* The whole output as one tile (tests/test_tiles.c splits it). */
#define WHOLE(rows, o) (&(ecnn_tile){0, (rows), 0, (o)})

int harness_checks_failed = 0;
int harness_tests_passed = 0;
int harness_tests_failed = 0;

static uint32_t rng = 2024u;
static uint32_t next_u32(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
static float frand(void)
{
    return (float)(next_u32() & 0xFFFFu) / 32768.0f - 1.0f;
} /* [-1, 1) */
static int32_t irand(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next_u32() % (uint32_t)(hi - lo + 1));
}

#define MAX_N 13u
#define MAX_K 530u
#define MAX_O 139u /* > 8 int8 / 4 float panels + a rest: the batch-1 multi-panel rows */
#define MAX_PACKED (144u * 532u)

static float xf[MAX_N * MAX_K], wf[MAX_O * MAX_K], wf_packed[MAX_PACKED], bf[MAX_O];
static float y_ref[MAX_N * MAX_O], y_ref_packed[MAX_N * MAX_O], y_fast[MAX_N * MAX_O];

/* Plain [O,K] -> `layout` (zero padding), with the library's own index function. */
static void pack_f32(float *dst, const float *src, uint32_t o, uint32_t k, uint32_t layout)
{
    uint32_t j, i;
    memset(dst, 0, (size_t)ecnn_fc_w_elems(layout, o, k) * sizeof(float));
    for (j = 0; j < o; j++)
        for (i = 0; i < k; i++) dst[ecnn_fc_w_index(layout, j, i, k)] = src[(size_t)j * k + i];
}

/* The FC kernels under test: the level's (its config's), or one that no config lists. */
static const ecnn_fc_f32_impl *fc_f32_kernel;
static const ecnn_fc_q_impl *fc_q_kernel;

static void test_fc_f32_panel16(void)
{
    static const uint32_t ks[] = {1, 3, 7, 17, 31, 255, 257, 300, 529};
    static const uint32_t os[] = {1, 5, 15, 16, 17, 33, 40, 67, 139};
    const ecnn_fc_f32_impl *fast = fc_f32_kernel;
    ecnn_fc_f32_ref_kernel *ref = ECNN_KERNEL(ecnn_fc_config, ref, isa)->fn;
    uint32_t ki, oi, n, i, trial = 0;
    for (ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (oi = 0; oi < sizeof os / sizeof os[0]; oi++)
            for (n = 1; n <= MAX_N; n += 3, trial++) {
                const uint32_t k = ks[ki], o = os[oi];
                const float *b = trial % 3 ? bf : NULL;
                ecnn_act_params act;
                act.act = trial % 4;
                act.act_p0 = act.act == 3 ? -0.5f : 0.01f;
                act.act_p1 = 0.5f;
                for (i = 0; i < n * k; i++) xf[i] = frand();
                for (i = 0; i < o * k; i++) wf[i] = frand();
                for (i = 0; i < o; i++) bf[i] = frand();
                pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
                ref(y_ref, xf, wf, b, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_PLAIN);
                ref(y_ref_packed, xf, wf_packed, b, n, k, o, WHOLE(n, o), &act, ECNN_LAYOUT_FC_PANEL16);
                fast->fn(y_fast, xf, wf_packed, b, n, k, o, WHOLE(n, o), &act);
                CHECK(memcmp(y_ref, y_ref_packed, (size_t)n * o * sizeof(float)) == 0);
                CHECK(memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) == 0);
                if (memcmp(y_ref, y_fast, (size_t)n * o * sizeof(float)) != 0)
                    fprintf(stderr, "  %s differs at n=%u k=%u o=%u\n", fast->name, n, k, o);
            }
}

/* The FC kernels' term is fused exactly where the level says (fused_mac: kernels.h ecnn_mac), in
 * the reference and the fast kernel alike: (1 + 2^-12)^2 - (1 + 2^-11) is 2^-24 with one
 * rounding, and 0 when the product is rounded first (1 + 2^-11 + 2^-24 is a tie, to even
 * 1 + 2^-11). */
static void test_fc_f32_fused_mac(void)
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

/* Subnormal inputs, products and sums: a level whose SIMD float arithmetic flushes them to zero
 * (ARMv7 NEON does) would differ from its reference here. */
static void test_f32_subnormals(void)
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

static int8_t wq[MAX_O * MAX_K], wq_packed[MAX_PACKED];
static uint8_t xq[MAX_N * MAX_K];
static int32_t bq[MAX_O];
static uint8_t q_ref[MAX_N * MAX_O], q_ref_packed[MAX_N * MAX_O], q_fast[MAX_N * MAX_O];

static void test_fc_q_panel8x4(void)
{
    static const uint32_t ks[] = {1, 2, 3, 5, 15, 16, 17, 33, 63, 257, 529};
    static const uint32_t os[] = {1, 3, 7, 8, 9, 17, 40, 67, 139};
    const ecnn_fc_q_impl *fast = fc_q_kernel;
    float w_scales[MAX_O];
    int32_t w_zero[MAX_O];
    uint32_t ki, oi, n, i, trial = 0;
    for (ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (oi = 0; oi < sizeof os / sizeof os[0]; oi++)
            for (n = 1; n <= MAX_N; n += 4, trial++) {
                const uint32_t k = ks[ki], o = os[oi];
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
                                                            : irand(0, 255)); /* largest x - zx */
                for (i = 0; i < o * k; i++)
                    wq[i] = (int8_t)(w64 ? irand(-64, 64) : irand(-128, 127)); /* -128 included */
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

/* Random conv geometry: odd sizes, strides, padding, dilation, groups. */
static void random_conv(ecnn_conv2d_args *p, uint32_t trial)
{
    uint32_t span_h, span_w;
    memset(p, 0, sizeof *p);
    p->group = trial % 4 == 3 ? 3 : 1;
    p->c = p->group * (uint32_t)irand(1, 3);
    p->o = p->group * (trial % 5 == 2 ? 8u * (uint32_t)irand(1, 2) /* the SIMD conv's blocks of 8 */
                                      : (uint32_t)irand(1, trial % 2 ? 7 : 23));
    p->kh = (uint32_t)irand(1, 3);
    p->kw = (uint32_t)irand(1, 3);
    p->stride_h = (uint32_t)irand(1, 2);
    p->stride_w = (uint32_t)irand(1, 2);
    p->dilation_h = (uint32_t)irand(1, 2);
    p->dilation_w = (uint32_t)irand(1, 2);
    p->pad_top = (uint32_t)irand(0, 1);
    p->pad_left = (uint32_t)irand(0, 1);
    p->h = (uint32_t)irand(5, 9); /* >= the largest span, 5 */
    p->w = (uint32_t)irand(5, 9);
    span_h = p->dilation_h * (p->kh - 1) + 1;
    span_w = p->dilation_w * (p->kw - 1) + 1;
    p->oh = (p->h + p->pad_top + 1 - span_h) / p->stride_h + 1; /* pad_bottom 1 */
    p->ow = (p->w + p->pad_left - span_w) / p->stride_w + 1;    /* pad_right 0 */
    p->act.act = trial % 3;
    p->act.act_p0 = 0.1f;
    if (trial % 10 == 4) { /* depthwise over 70 channels (two blocks of the int8 depthwise kernel) */
        p->group = p->c = p->o = 70;
    }
    if (trial % 10 == 7) { /* 32 to 72 output channels: the int8 dot microkernels' widest blocks and their rests */
        p->group = 1;
        p->o = 8u * (uint32_t)irand(4, 9);
    }
    if (trial % 10 == 9) { /* a 3x3 window over 40 channels (360 terms): the int8 kernel's
                            * output-channel blocks shrink to fit its stack (56 then 16 in hosted
                            * builds, 16 then 8 in the others) */
        p->group = 1;
        p->c = 40;
        p->o = 72;
        p->kh = p->kw = 3;
        p->dilation_h = p->dilation_w = 1;
        p->oh = (p->h + p->pad_top + 1 - 3) / p->stride_h + 1;
        p->ow = (p->w + p->pad_left - 3) / p->stride_w + 1;
    }
}

/* OHWI -> HWIO */
static void to_hwio(void *dst, const void *src, const ecnn_conv2d_args *p, size_t esize)
{
    const uint32_t cg = p->c / p->group;
    uint32_t o, ky, kx, c;
    ecnn_conv2d_args h = *p;
    h.w_layout = ECNN_LAYOUT_CONV_HWIO;
    for (o = 0; o < p->o; o++)
        for (ky = 0; ky < p->kh; ky++)
            for (kx = 0; kx < p->kw; kx++)
                for (c = 0; c < cg; c++)
                    memcpy((uint8_t *)dst + (ecnn_conv_w_base(&h, o, ky, kx) + c * ecnn_conv_w_cstep(&h)) * esize,
                           (const uint8_t *)src + ((((size_t)o * p->kh + ky) * p->kw + kx) * cg + c) * esize, esize);
}

/* Float conv with random x, w, b (bias when with_bias): the HWIO fast kernel against the
 * reference on plain weights, bit for bit. Leaves x, w (plain), wh (HWIO), b and y_ref filled;
 * p->w_layout is back to plain on return. */
static void check_conv_f32_hwio(ecnn_conv2d_args *p, uint32_t n, int with_bias, float *x, float *w, float *wh, float *b,
                                float *y_ref, float *y_fast)
{
    const size_t nx = (size_t)n * p->h * p->w * p->c, nw = (size_t)p->o * p->kh * p->kw * (p->c / p->group);
    const size_t ny = (size_t)n * p->oh * p->ow * p->o;
    size_t i;
    for (i = 0; i < nx; i++) x[i] = frand();
    for (i = 0; i < nw; i++) w[i] = frand();
    for (i = 0; i < p->o; i++) b[i] = frand();
    to_hwio(wh, w, p, sizeof(float));
    ECNN_KERNEL(ecnn_conv2d_config, ref, isa)->fn(y_ref, x, w, with_bias ? b : NULL, n, WHOLE(n * p->oh, p->o), p);
    p->w_layout = ECNN_LAYOUT_CONV_HWIO;
    ecnn_conv2d_f32_fast(isa, p)->fn(y_fast, x, wh, with_bias ? b : NULL, n, WHOLE(n * p->oh, p->o), p);
    p->w_layout = ECNN_LAYOUT_PLAIN;
    CHECK(memcmp(y_ref, y_fast, ny * sizeof(float)) == 0);
}

#define CONV_X (3u * 9 * 9 * 70)
#define CONV_W (72u * 3 * 3 * 40)
#define CONV_Y (3u * 11 * 11 * 72)

static void test_conv_hwio(void)
{
    static float cx[CONV_X], cw[CONV_W], cwh[CONV_W], cb[72], cy_ref[CONV_Y], cy_fast[CONV_Y];
    static uint8_t qx[CONV_X], qw[CONV_W], qwh[CONV_W], qy_ref[CONV_Y], qy_fast[CONV_Y];
    static int32_t qb[72];
    float w_scales[72];
    int32_t w_zero[72];
    uint32_t trial, i;
    for (trial = 0; trial < 120; trial++) {
        ecnn_conv2d_args p;
        ecnn_qlinear_params q;
        const uint32_t n = 1 + trial % 3;
        size_t nx, nw, ny;
        random_conv(&p, trial);
        nx = (size_t)n * p.h * p.w * p.c;
        nw = (size_t)p.o * p.kh * p.kw * (p.c / p.group);
        ny = (size_t)n * p.oh * p.ow * p.o;
        /* float */
        check_conv_f32_hwio(&p, n, trial % 2, cx, cw, cwh, cb, cy_ref, cy_fast);
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
        ECNN_KERNEL(ecnn_conv2d_config, ref, isa)
            ->fn(cy_fast, cx, cwh, trial % 2 ? cb : NULL, n, WHOLE(n * p.oh, p.o),
                 &p); /* the reference reads HWIO too */
        CHECK(memcmp(cy_ref, cy_fast, ny * sizeof(float)) == 0);
        p.w_layout = ECNN_LAYOUT_PLAIN;
        /* int8 / uint8, per-channel zero points allowed here */
        memset(&q, 0, sizeof q);
        q.x_type = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_type = trial % 5 == 0 ? ECNN_Q_U8 : ECNN_Q_I8;
        q.y_type = trial % 3 ? ECNN_Q_I8 : ECNN_Q_U8;
        q.x_scale = 0.03f;
        q.x_zero_point = irand(ecnn_qtype_min(q.x_type), ecnn_qtype_max(q.x_type));
        q.w_count = trial % 4 == 0 ? 1 : p.o;
        for (i = 0; i < p.o; i++) {
            w_scales[i] = 0.002f + 0.0001f * (float)i;
            w_zero[i] = q.w_type == ECNN_Q_U8 ? irand(0, 255) : 0;
        }
        q.w_scales = w_scales;
        q.w_zero_points = w_zero;
        q.y_scale = 0.07f;
        q.y_zero_point = irand(ecnn_qtype_min(q.y_type), ecnn_qtype_max(q.y_type));
        q.y_min = ecnn_qtype_min(q.y_type);
        q.y_max = ecnn_qtype_max(q.y_type);
        if (trial % 3 == 1 && q.y_zero_point > q.y_min) q.y_min = q.y_zero_point; /* fused Relu */
        for (i = 0; i < nx; i++) qx[i] = (uint8_t)irand(0, 255);
        for (i = 0; i < nw; i++) qw[i] = (uint8_t)irand(0, 255);
        for (i = 0; i < p.o; i++) qb[i] = irand(-5000, 5000);
        to_hwio(qwh, qw, &p, 1);
        ecnn_conv2d_q_ref(qy_ref, qx, qw, trial % 2 ? qb : NULL, n, WHOLE(n * p.oh, p.o), &p, &q);
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
        CHECK(ecnn_conv2d_q_hwio_fits(&p)); /* the geometries here fit its stack buffers */
        ecnn_conv2d_q_hwio(qy_fast, qx, qwh, trial % 2 ? qb : NULL, n, WHOLE(n * p.oh, p.o), &p, &q,
                           &ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk);
        CHECK(memcmp(qy_ref, qy_fast, ny) == 0);
        ecnn_conv2d_q_ref(qy_fast, qx, qwh, trial % 2 ? qb : NULL, n, WHOLE(n * p.oh, p.o), &p, &q);
        CHECK(memcmp(qy_ref, qy_fast, ny) == 0);
    }
}

/* Float conv over rows wide enough for several of the SIMD kernel's multi-pixel tiles
 * (AVX2: 6 pixels) plus a remainder and padded edges; O / group 8, 16 or 24 (16-channel
 * blocks and a last 8), or 1..23 (AVX2: a last 1..7 under a mask). Own geometry (not
 * random_conv): C <= 6, W 13..19. */
static void test_conv_hwio_wide_rows(void)
{
    static float cx[2 * 7 * 19 * 6], cw[72 * 3 * 3 * 3], cwh[72 * 3 * 3 * 3], cb[72];
    static float cy_ref[2 * 8 * 20 * 72], cy_fast[2 * 8 * 20 * 72];
    uint32_t trial;
    for (trial = 0; trial < 60; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 2;
        memset(&p, 0, sizeof p);
        p.group = trial % 3 == 2 ? 3 : 1;
        p.c = p.group * (uint32_t)irand(1, trial % 3 == 2 ? 2 : 3);
        p.o =
            p.group * (trial % 5 == 1 ? (uint32_t)irand(1, 23) /* masked last channels */ : 8u * (uint32_t)irand(1, 3));
        p.kh = (uint32_t)irand(1, 3);
        p.kw = (uint32_t)irand(1, 3);
        p.stride_h = (uint32_t)irand(1, 2);
        p.stride_w = (uint32_t)irand(1, 2);
        p.dilation_h = (uint32_t)irand(1, 2);
        p.dilation_w = (uint32_t)irand(1, 2);
        p.pad_top = (uint32_t)irand(0, 1);
        p.pad_left = (uint32_t)irand(0, 1);
        p.h = (uint32_t)irand(5, 7);
        p.w = (uint32_t)irand(13, 19);
        p.oh = (p.h + p.pad_top - (p.dilation_h * (p.kh - 1) + 1)) / p.stride_h + 1;      /* pad_bottom 0 */
        p.ow = (p.w + p.pad_left + 1 - (p.dilation_w * (p.kw - 1) + 1)) / p.stride_w + 1; /* pad_right 1 */
        p.act.act = trial % 4; /* none, Relu, LeakyRelu, Clip */
        p.act.act_p0 = trial % 4 == 3 ? -0.5f : 0.1f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_hwio(&p, n, trial % 2, cx, cw, cwh, cb, cy_ref, cy_fast);
    }
}

static void test_maxpool_q(void)
{
    static uint8_t px[3 * 9 * 9 * 48], py_ref[3 * 9 * 9 * 48], py_fast[3 * 9 * 9 * 48];
    static float pf[3 * 9 * 9 * 48], pf_in[3 * 9 * 9 * 48], pfy_ref[3 * 9 * 9 * 48], pfy_fast[3 * 9 * 9 * 48];
    ecnn_maxpool2d_kernel *fast = ECNN_KERNEL(ecnn_pool2d_config, max, isa)->fn;
    uint32_t trial, i;
    for (trial = 0; trial < 200; trial++) {
        ecnn_pool2d_args p;
        const uint32_t n = 1 + trial % 3;
        const ecnn_qtype t = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        uint32_t span_h, span_w;
        memset(&p, 0, sizeof p);
        p.c = (uint32_t)irand(1, 7) * (trial % 4 == 0 ? 3 : 1) -
              (trial % 4 == 0 ? 2 : 0); /* up to 19: full and partial vector blocks */
        if (trial % 8 == 5) p.c = 16;   /* whole 16-channel chunks (the AVX2 int8 kernel) */
        if (trial % 8 == 6) p.c = 8;    /* whole 4-float chunks (the AVX2 float kernel) */
        if (trial % 8 ==
            7) /* AVX2 chunks of 64, 32 and 16 bytes: float 64; int8 32 + 16 (float 3 x 64); float 64 + 32 + 16 */
            p.c = trial / 8 % 3 == 0 ? 16 : trial / 8 % 3 == 1 ? 48 : 28;
        p.kh = (uint32_t)irand(1, 3);
        p.kw = (uint32_t)irand(1, 3);
        p.stride_h = (uint32_t)irand(1, 2);
        p.stride_w = (uint32_t)irand(1, 2);
        p.dilation_h = (uint32_t)irand(1, 2);
        p.dilation_w = (uint32_t)irand(1, 2);
        p.pad_top = p.kh > 1 ? (uint32_t)irand(0, 1) : 0; /* every window touches the input (validated) */
        p.pad_left = p.kw > 1 ? (uint32_t)irand(0, 1) : 0;
        p.h = (uint32_t)irand(5, 9);
        p.w = (uint32_t)irand(5, 9);
        span_h = p.dilation_h * (p.kh - 1) + 1;
        span_w = p.dilation_w * (p.kw - 1) + 1;
        p.oh = (p.h + p.pad_top - span_h) / p.stride_h + 1;
        p.ow = (p.w + p.pad_left - span_w) / p.stride_w + 1;
        for (i = 0; i < n * p.h * p.w * p.c; i++) px[i] = (uint8_t)irand(0, 255);
        ecnn_maxpool2d_q_ref(py_ref, px, n, WHOLE(n * p.oh, p.c), &p, t);
        fast(py_fast, px, n, WHOLE(n * p.oh, p.c), &p, (int)t);
        CHECK(memcmp(py_ref, py_fast, (size_t)n * p.oh * p.ow * p.c) == 0);
        /* float, out of place and (no top/left padding) in place */
        for (i = 0; i < n * p.h * p.w * p.c; i++) /* ties of -0 / +0 and NaN: the compare's corner cases */
            pf[i] = pf_in[i] = i % 13 == 5 ? -0.0f : i % 17 == 3 ? 0.0f : i % 29 == 7 ? (float)NAN : frand();
        ecnn_maxpool2d_f32_ref(pfy_ref, pf, n, WHOLE(n * p.oh, p.c), &p);
        fast(pfy_fast, pf, n, WHOLE(n * p.oh, p.c), &p, ECNN_POOL_F32);
        CHECK(memcmp(pfy_ref, pfy_fast, (size_t)n * p.oh * p.ow * p.c * sizeof(float)) == 0);
        if (p.pad_top == 0 && p.pad_left == 0 && n == 1) {
            fast(pf_in, pf_in, n, WHOLE(n * p.oh, p.c), &p, ECNN_POOL_F32);
            CHECK(memcmp(pfy_ref, pf_in, (size_t)p.oh * p.ow * p.c * sizeof(float)) == 0);
        }
    }
}

/* ---- the tiling contract (kernels.h ecnn_tile): a kernel run on one tile writes exactly the
 * tile's outputs, each the value the whole run gives, whatever the tile. Random tilings: rows
 * cut anywhere, channels at multiples of the op's grain (FC 64, conv and pooling 16; a grouped
 * conv is not cut by channels). ------------------------------------------------------------- */

typedef struct {
    int kind; /* which kernel: TK_* */
    const void *x, *w, *b;
    uint32_t n, k, o; /* FC */
    const ecnn_act_params *act;
    const ecnn_conv2d_args *conv;
    const ecnn_pool2d_args *pool;
    const ecnn_qlinear_params *q;
    const ecnn_qtensor *qx, *qy;
    int type; /* max pool */
} tile_case;

enum {
    TK_FC_F32,
    TK_FC_F32_REF,
    TK_FC_Q,
    TK_FC_Q_REF,
    TK_CONV_F32,
    TK_CONV_F32_REF,
    TK_CONV_Q,
    TK_CONV_Q_REF,
    TK_MAX,
    TK_MAX_F32_REF,
    TK_MAX_Q_REF,
    TK_AVG_F32,
    TK_AVG_F32_REF,
    TK_AVG_Q_REF
};

static void run_tile(const tile_case *c, void *y, const ecnn_tile *t)
{
    switch (c->kind) {
    case TK_FC_F32: ECNN_KERNEL(ecnn_fc_config, f32, isa)->fn(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act); break;
    case TK_FC_F32_REF:
        ECNN_KERNEL(ecnn_fc_config, ref, isa)
            ->fn(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act, ECNN_LAYOUT_FC_PANEL16);
        break;
    case TK_FC_Q: ECNN_KERNEL(ecnn_fc_config, q, isa)->fn(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->q); break;
    case TK_FC_Q_REF: ecnn_fully_connected_q_ref(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->q); break;
    case TK_CONV_F32: ecnn_conv2d_f32_fast(isa, c->conv)->fn(y, c->x, c->w, c->b, c->n, t, c->conv); break;
    case TK_CONV_F32_REF: ECNN_KERNEL(ecnn_conv2d_config, ref, isa)->fn(y, c->x, c->w, c->b, c->n, t, c->conv); break;
    case TK_CONV_Q:
        ecnn_conv2d_q_hwio(y, c->x, c->w, c->b, c->n, t, c->conv, c->q, &ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk);
        break;
    case TK_CONV_Q_REF: ecnn_conv2d_q_ref(y, c->x, c->w, c->b, c->n, t, c->conv, c->q); break;
    case TK_MAX: ECNN_KERNEL(ecnn_pool2d_config, max, isa)->fn(y, c->x, c->n, t, c->pool, c->type); break;
    case TK_MAX_F32_REF: ecnn_maxpool2d_f32_ref(y, c->x, c->n, t, c->pool); break;
    case TK_MAX_Q_REF: ecnn_maxpool2d_q_ref(y, c->x, c->n, t, c->pool, (ecnn_qtype)c->type); break;
    case TK_AVG_F32: ECNN_KERNEL(ecnn_pool2d_config, avg, isa)->fn(y, c->x, c->n, t, c->pool); break;
    case TK_AVG_F32_REF: ecnn_avgpool2d_f32_ref(y, c->x, c->n, t, c->pool); break;
    default: ecnn_avgpool2d_q_ref(y, c->x, c->n, t, c->pool, c->qx, c->qy, 1); break;
    }
}

/* Cuts [0, len) at random multiples of `grain` (up to 3 cuts): cuts[0] = 0 ... cuts[count] = len. */
static uint32_t random_cuts(uint32_t *cuts, uint32_t len, uint32_t grain)
{
    uint32_t count = 0, units = (len + grain - 1) / grain, i, j;
    cuts[count++] = 0;
    for (i = 0; i < 3 && units > 1; i++) {
        const uint32_t at = (1 + next_u32() % (units - 1)) * grain;
        for (j = 0; j < count && cuts[j] != at; j++) continue;
        if (j == count) cuts[count++] = at;
    }
    cuts[count] = len;
    for (i = 1; i < count; i++) /* sort */
        for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            const uint32_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    return count;
}

/* Runs case c tile by tile over y (rows x pixels x chans elements of esize bytes), each tile on
 * a buffer of sentinel bytes, and checks it against `whole` inside the tile and the sentinel
 * outside. Returns 0 on the first mismatch. */
static int check_tiling(const tile_case *c, uint8_t *y, const uint8_t *whole, size_t esize, uint32_t rows,
                        uint32_t pixels, uint32_t chans, uint32_t grain)
{
    uint32_t rc[5], cc[5], nr, nc, i, j, m, px, ch;
    const size_t bytes = (size_t)rows * pixels * chans * esize;
    nr = random_cuts(rc, rows, 1);
    nc = grain ? random_cuts(cc, chans, grain) : (cc[0] = 0, cc[1] = chans, 1u);
    for (i = 0; i < nr; i++)
        for (j = 0; j < nc; j++) {
            const ecnn_tile t = {rc[i], rc[i + 1], cc[j], cc[j + 1]};
            memset(y, 0xCD, bytes);
            run_tile(c, y, &t);
            for (m = 0; m < rows; m++)
                for (px = 0; px < pixels; px++)
                    for (ch = 0; ch < chans; ch++) {
                        const size_t at = (((size_t)m * pixels + px) * chans + ch) * esize;
                        const int inside = m >= t.m0 && m < t.m1 && ch >= t.o0 && ch < t.o1;
                        size_t e;
                        for (e = 0; e < esize; e++)
                            if (y[at + e] != (inside ? whole[at + e] : 0xCD)) {
                                fprintf(stderr,
                                        "  kernel %d: tile rows [%u, %u) channels [%u, %u): output (%u, %u, %u) %s\n",
                                        c->kind, t.m0, t.m1, t.o0, t.o1, m, px, ch,
                                        inside ? "differs" : "written outside");
                                return 0;
                            }
                    }
        }
    return 1;
}

static void test_tiles(void)
{
    static float fx[4 * 9 * 9 * 70], fw[72 * 3 * 3 * 70], fwh[72 * 3 * 3 * 70], fb[MAX_O], fy[4 * 11 * 11 * 72],
        fwhole[4 * 11 * 11 * 72];
    static uint8_t qx8[4 * 9 * 9 * 70], qw8[72 * 3 * 3 * 70], qwh8[72 * 3 * 3 * 70], qy8[4 * 11 * 11 * 72],
        qwhole[4 * 11 * 11 * 72];
    static int32_t qb32[MAX_O];
    float w_scales[MAX_O];
    int32_t w_zero[MAX_O];
    uint32_t trial, i;
    for (i = 0; i < MAX_O; i++) {
        w_scales[i] = 0.002f + 0.0001f * (float)i;
        w_zero[i] = 0;
        fb[i] = frand();
        qb32[i] = irand(-3000, 3000);
    }
    for (trial = 0; trial < 60; trial++) {
        ecnn_qlinear_params q;
        ecnn_act_params act;
        tile_case c;
        memset(&c, 0, sizeof c);
        memset(&q, 0, sizeof q);
        act.act = trial % 3;
        act.act_p0 = 0.1f;
        act.act_p1 = 0.5f;
        q.x_type = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_type = ECNN_Q_I8;
        q.y_type = trial % 3 ? ECNN_Q_I8 : ECNN_Q_U8;
        q.x_scale = 0.03f;
        q.x_zero_point = irand(ecnn_qtype_min(q.x_type), ecnn_qtype_max(q.x_type));
        q.w_count = MAX_O;
        q.w_scales = w_scales;
        q.w_zero_points = w_zero;
        q.y_scale = 0.2f;
        q.y_zero_point = 3;
        q.y_min = ecnn_qtype_min(q.y_type);
        q.y_max = ecnn_qtype_max(q.y_type);
        c.act = &act;
        c.q = &q;
        { /* FC: float and int8, packed (fast) and reference */
            const uint32_t n = 1 + trial % 9, k = 1 + next_u32() % 300, o = 1 + next_u32() % MAX_O;
            const uint32_t layout = trial % 4 == 1 ? ECNN_LAYOUT_FC_PANEL8X4_W64 : ECNN_LAYOUT_FC_PANEL8X4;
            uint32_t j, t;
            for (i = 0; i < n * k; i++) xf[i] = frand(), xq[i] = (uint8_t)irand(0, 255);
            for (i = 0; i < o * k; i++) wf[i] = frand(), wq[i] = (int8_t)irand(-64, 64);
            pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
            memset(wq_packed, 0, (size_t)ecnn_fc_w_elems(layout, o, k));
            for (j = 0; j < o; j++)
                for (t = 0; t < k; t++) wq_packed[ecnn_fc_w_index(layout, j, t, k)] = wq[(size_t)j * k + t];
            c.n = n, c.k = k, c.o = o;
            c.x = xf, c.w = wf_packed, c.b = trial % 2 ? fb : NULL;
            for (c.kind = TK_FC_F32; c.kind <= TK_FC_F32_REF; c.kind++) {
                run_tile(&c, fwhole, WHOLE(n, o));
                CHECK(check_tiling(&c, (uint8_t *)fy, (const uint8_t *)fwhole, 4, n, 1, o, ECNN_TILE_O_FC));
            }
            q.w_layout = layout;
            c.x = xq, c.w = wq_packed, c.b = trial % 2 ? qb32 : NULL;
            for (c.kind = TK_FC_Q; c.kind <= TK_FC_Q_REF; c.kind++) {
                run_tile(&c, qwhole, WHOLE(n, o));
                CHECK(check_tiling(&c, qy8, qwhole, 1, n, 1, o, ECNN_TILE_O_FC));
            }
            q.w_layout = ECNN_LAYOUT_PLAIN;
        }
        { /* conv: float and int8, HWIO (fast) and reference, any geometry */
            ecnn_conv2d_args p;
            const uint32_t n = 1 + trial % 3;
            uint32_t rows, grain;
            random_conv(&p, trial);
            rows = n * p.oh;
            grain = p.group == 1 || (p.group == p.c && p.o == p.c) ? ECNN_TILE_O_CONV : 0;
            for (i = 0; i < n * p.h * p.w * p.c; i++) fx[i] = frand(), qx8[i] = (uint8_t)irand(0, 255);
            for (i = 0; i < p.o * p.kh * p.kw * (p.c / p.group); i++) fw[i] = frand(), qw8[i] = (uint8_t)irand(0, 255);
            to_hwio(fwh, fw, &p, sizeof(float));
            to_hwio(qwh8, qw8, &p, 1);
            p.w_layout = ECNN_LAYOUT_CONV_HWIO;
            q.w_count = 1;
            c.conv = &p;
            c.n = n;
            c.x = fx, c.w = fwh, c.b = trial % 2 ? fb : NULL;
            for (c.kind = TK_CONV_F32; c.kind <= TK_CONV_F32_REF; c.kind++) {
                run_tile(&c, fwhole, WHOLE(rows, p.o));
                CHECK(check_tiling(&c, (uint8_t *)fy, (const uint8_t *)fwhole, 4, rows, p.ow, p.o, grain));
            }
            c.x = qx8, c.w = qwh8, c.b = trial % 2 ? qb32 : NULL;
            for (c.kind = TK_CONV_Q; c.kind <= TK_CONV_Q_REF; c.kind++) {
                if (c.kind == TK_CONV_Q && !ecnn_conv2d_q_hwio_fits(&p)) continue;
                run_tile(&c, qwhole, WHOLE(rows, p.o));
                CHECK(check_tiling(&c, qy8, qwhole, 1, rows, p.ow, p.o, grain));
            }
            q.w_count = MAX_O;
        }
        { /* pooling: max (the level's kernel, float and int8, and the references), average */
            ecnn_pool2d_args p;
            ecnn_qtensor qx, qy;
            const uint32_t n = 1 + trial % 4;
            memset(&p, 0, sizeof p);
            p.c = 1 + next_u32() % 70;
            p.kh = p.kw = 2 + trial % 2;
            p.stride_h = p.stride_w = 1 + trial % 2;
            p.dilation_h = p.dilation_w = 1;
            p.pad_top = p.pad_left = trial % 3 == 0;
            p.pad_bottom = p.pad_right = 0;
            p.h = 5 + trial % 4;
            p.w = 6;
            p.oh = (p.h + p.pad_top - p.kh) / p.stride_h + 1;
            p.ow = (p.w + p.pad_left - p.kw) / p.stride_w + 1;
            p.count_include_pad = trial % 2;
            qx.type = qy.type = (ecnn_qtype)(trial % 2);
            qx.scale = 0.05f, qy.scale = 0.04f;
            qx.zero_point = qy.zero_point = trial % 2 ? 128 : 0;
            for (i = 0; i < n * p.h * p.w * p.c; i++) fx[i] = frand(), qx8[i] = (uint8_t)irand(0, 255);
            c.pool = &p;
            c.n = n;
            c.qx = &qx, c.qy = &qy;
            for (c.kind = TK_MAX; c.kind <= TK_AVG_Q_REF; c.kind++) {
                const int f32 = c.kind == TK_MAX_F32_REF || c.kind == TK_AVG_F32 || c.kind == TK_AVG_F32_REF ||
                                (c.kind == TK_MAX && trial % 3 == 1);
                c.type = c.kind == TK_MAX && f32 ? ECNN_POOL_F32 : (int)qx.type;
                c.x = f32 ? (const void *)fx : (const void *)qx8;
                run_tile(&c, f32 ? (void *)fwhole : (void *)qwhole, WHOLE(n * p.oh, p.c));
                CHECK(check_tiling(&c, f32 ? (uint8_t *)fy : qy8, f32 ? (const uint8_t *)fwhole : qwhole, f32 ? 4 : 1,
                                   n * p.oh, p.ow, p.c, ECNN_TILE_O_CONV));
            }
        }
    }
}

/* The convs real CNNs are made of, float, against the reference bit for bit, whole and in random
 * tiles, with every fused activation: pointwise (1x1, stride 1, no padding: one run of pixels
 * across rows and samples) with O around the SIMD blocks (8, 16, 32 wide) and groups, and
 * depthwise 3x3 / 5x5, stride 1 and 2, over channel counts that fill whole SIMD blocks and leave
 * 1..15 over. */
static void test_conv_cnn_shapes(void)
{
    static const uint32_t dw_channels[] = {8, 24, 40, 64, 70, 101};
    /* output: up to 13 x 13 (11 + 2 x 2 padding - 3 + 1) */
    static float cx[3 * 11 * 11 * 101], cw[80 * 80], cwh[80 * 80], cb[101], cy_ref[3 * 13 * 13 * 101],
        cy_fast[3 * 13 * 13 * 101], cy_tile[3 * 13 * 13 * 101];
    uint32_t trial;
    for (trial = 0; trial < 96; trial++) {
        ecnn_conv2d_args p;
        tile_case c;
        const uint32_t n = 1 + trial % 3;
        memset(&p, 0, sizeof p);
        memset(&c, 0, sizeof c);
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
        if (trial % 2 == 0) { /* pointwise */
            p.group = trial % 8 == 6 ? 2 : 1;
            p.c = p.group * (uint32_t)irand(1, 40);
            p.o = p.group * (trial % 4 == 0 ? 8u * (uint32_t)irand(1, 10) : (uint32_t)irand(1, 40));
            p.kh = p.kw = 1;
            p.h = p.oh = (uint32_t)irand(1, 9);
            p.w = p.ow = (uint32_t)irand(1, 9);
        } else { /* depthwise */
            const uint32_t span = trial % 3 == 1 ? 5 : 3;
            p.group = p.c = p.o = dw_channels[(trial / 2) % 6];
            p.kh = p.kw = span;
            p.stride_h = p.stride_w = 1 + trial % 5 % 2;
            p.pad_top = p.pad_left = (uint32_t)irand(0, 2);
            p.h = (uint32_t)irand(5, 11);
            p.w = (uint32_t)irand(5, 11);
            p.oh = (p.h + 2 * p.pad_top - span) / p.stride_h + 1; /* pad_bottom = pad_top */
            p.ow = (p.w + 2 * p.pad_left - span) / p.stride_w + 1;
        }
        p.act.act = (trial / 2 + trial / 16) % 8; /* every activation code */
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_hwio(&p, n, trial % 3 != 2, cx, cw, cwh, cb, cy_ref, cy_fast);
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
        c.kind = TK_CONV_F32;
        c.conv = &p;
        c.n = n;
        c.x = cx, c.w = cwh, c.b = trial % 3 != 2 ? cb : NULL;
        CHECK(check_tiling(&c, (uint8_t *)cy_tile, (const uint8_t *)cy_ref, 4, n * p.oh, p.ow, p.o,
                           p.group == 1 || p.group == p.c ? ECNN_TILE_O_CONV : 0));
    }
}

/* Float ADD / MUL, ACTIVATION and CHANNEL_ARITH: the portable kernels against the references bit
 * for bit (ADD / MUL elementwise and with B repeating per channel or as a scalar; CHANNEL_ARITH
 * every operation, either operand order, a constant per channel or one), every activation, over values that include -0, NaN
 * and infinities (Relu's and Clip's comparisons decide what they become). */
static void test_binary_f32(void)
{
    static float a[3 * 200], b[3 * 200], y_ref_b[3 * 200], y_fast_b[3 * 200];
    static const float special[] = {-0.0f, 0.0f, NAN, INFINITY, -INFINITY, 0.25f, -0.25f};
    uint32_t trial, i;
    for (trial = 0; trial < 64; trial++) {
        const uint32_t n = 1 + trial % 3, count = (uint32_t)irand(1, 200),
                       func = trial % 2 ? ECNN_ARITH_MUL : ECNN_ARITH_ADD;
        const uint32_t shape = trial / 2 % 3, b_count = shape == 0 ? count : shape == 1 ? 1 : 1 + count % 7;
        const uint32_t a_count = shape == 2 ? b_count * (uint32_t)irand(1, 20) : count;
        ecnn_act_params act;
        memset(&act, 0, sizeof act);
        act.act = (trial / 6) % 8;
        act.act_p0 = act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        act.act_p1 = 0.5f;
        for (i = 0; i < n * a_count; i++) a[i] = next_u32() % 9 == 0 ? special[next_u32() % 7] : frand();
        for (i = 0; i < n * b_count; i++) b[i] = next_u32() % 9 == 0 ? special[next_u32() % 7] : frand();
        ecnn_binary_f32_ref(y_ref_b, a, b, n, a_count, b_count, func, &act);
        ecnn_binary_f32_portable(y_fast_b, a, b, n, a_count, b_count, func, &act);
        CHECK(memcmp(y_ref_b, y_fast_b, (size_t)n * a_count * sizeof(float)) == 0);
        ecnn_activation_f32_ref(y_ref_b, a, (size_t)n * a_count, &act);
        ecnn_activation_f32_portable(y_fast_b, a, (size_t)n * a_count, &act);
        CHECK(memcmp(y_ref_b, y_fast_b, (size_t)n * a_count * sizeof(float)) == 0);
        memcpy(y_fast_b, a, (size_t)n * a_count * sizeof(float)); /* in place */
        ecnn_activation_f32_portable(y_fast_b, y_fast_b, (size_t)n * a_count, &act);
        CHECK(memcmp(y_ref_b, y_fast_b, (size_t)n * a_count * sizeof(float)) == 0);
        /* CHANNEL_ARITH: n rows of a_count channels, constants per channel (b's first row when B
         * is elementwise) or one */
        {
            const uint32_t k_count = shape == 0 ? a_count : 1, arith = 1 + trial % 4, const_first = trial / 4 % 2;
            ecnn_channel_arith_f32_ref(y_ref_b, a, b, k_count, n, a_count, arith, const_first);
            ecnn_channel_arith_f32_portable(y_fast_b, a, b, k_count, n, a_count, arith, const_first);
            CHECK(memcmp(y_ref_b, y_fast_b, (size_t)n * a_count * sizeof(float)) == 0);
        }
    }
}

/* Float average pooling: the level's kernel against the reference bit for bit, over windows
 * with padding (counted or not), strides, dilation and global pooling, channels around the
 * kernel's blocks. */
static void test_avgpool_f32(void)
{
    static float x[2 * 9 * 9 * 150], y_ref_p[2 * 10 * 10 * 150], y_fast_p[2 * 10 * 10 * 150];
    uint32_t trial, i;
    for (trial = 0; trial < 80; trial++) {
        ecnn_pool2d_args p;
        const uint32_t n = 1 + trial % 2;
        size_t ny;
        memset(&p, 0, sizeof p);
        p.c = trial % 4 == 0 ? 64u * (uint32_t)irand(1, 2) : (uint32_t)irand(1, 150);
        p.h = (uint32_t)irand(1, 9);
        p.w = (uint32_t)irand(1, 9);
        if (trial % 5 == 0) { /* global */
            p.kh = p.h, p.kw = p.w;
            p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
            p.oh = p.ow = 1;
        } else {
            p.kh = (uint32_t)irand(1, 3);
            p.kw = (uint32_t)irand(1, 3);
            p.stride_h = (uint32_t)irand(1, 2);
            p.stride_w = (uint32_t)irand(1, 2);
            p.dilation_h = p.dilation_w = 1 + trial % 3 / 2;
            p.pad_top = p.pad_bottom = p.kh > 1 ? (uint32_t)irand(0, 1) : 0;
            p.pad_left = p.pad_right = p.kw > 1 ? (uint32_t)irand(0, 1) : 0;
            p.h = p.h < p.dilation_h * (p.kh - 1) + 1 ? p.dilation_h * (p.kh - 1) + 1 : p.h;
            p.w = p.w < p.dilation_w * (p.kw - 1) + 1 ? p.dilation_w * (p.kw - 1) + 1 : p.w;
            p.oh = (p.h + 2 * p.pad_top - p.dilation_h * (p.kh - 1) - 1) / p.stride_h + 1;
            p.ow = (p.w + 2 * p.pad_left - p.dilation_w * (p.kw - 1) - 1) / p.stride_w + 1;
            p.count_include_pad = trial % 2;
        }
        for (i = 0; i < n * p.h * p.w * p.c; i++) x[i] = frand();
        ny = (size_t)n * p.oh * p.ow * p.c;
        ecnn_avgpool2d_f32_ref(y_ref_p, x, n, WHOLE(n * p.oh, p.c), &p);
        ECNN_KERNEL(ecnn_pool2d_config, avg, isa)->fn(y_fast_p, x, n, WHOLE(n * p.oh, p.c), &p);
        CHECK(memcmp(y_ref_p, y_fast_p, ny * sizeof(float)) == 0);
    }
}

/* ecnn_crc32 (the table, and the level's PCLMULQDQ folding on x86) against a bitwise CRC-32 over
 * every length 0..300 at odd offsets, and the standard check value of "123456789". */
static void test_crc32(void)
{
    static uint8_t buf[320];
    size_t off, len, i;
    int b;
    for (i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)next_u32();
    CHECK(ecnn_crc32((const uint8_t *)"123456789", 9, isa) == 0xCBF43926u);
    for (off = 0; off < 5; off += 3)
        for (len = 0; len + off <= 300; len++) {
            uint32_t crc = 0xFFFFFFFFu;
            for (i = 0; i < len; i++) {
                crc ^= buf[off + i];
                for (b = 0; b < 8; b++) crc = crc & 1u ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
            CHECK(ecnn_crc32(buf + off, len, isa) == (crc ^ 0xFFFFFFFFu));
        }
}

/* Kernels compiled but listed in no config (ops/fully_connected.c says why), with the level
 * whose CPU features they need: tested against that level's reference where the CPU has it. */
#ifdef ECNN_WITH_X86
ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx512;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avx512;
static const ecnn_fc_f32_impl fc_f32_undispatched[] = {ECNN_IMPL(ecnn_fc_f32_panel16_avx512)};
static const ecnn_fc_q_impl fc_q_undispatched[] = {ECNN_IMPL(ecnn_fc_q_panel8x4_avx512)};
static const uint32_t fc_f32_undispatched_level[] = {ECNN_ISA_AVX512};
static const uint32_t fc_q_undispatched_level[] = {ECNN_ISA_AVX512};

static void test_undispatched_kernels(void)
{
    uint32_t i;
    for (i = 0; i < sizeof fc_f32_undispatched / sizeof fc_f32_undispatched[0]; i++) {
        if (!ecnn_isa_runs_here(fc_f32_undispatched_level[i])) {
            printf("%s: compiled, not run on this CPU\n", fc_f32_undispatched[i].name);
            continue;
        }
        isa = &ecnn_isa_levels[fc_f32_undispatched_level[i]];
        fc_f32_kernel = &fc_f32_undispatched[i];
        printf("%s (no config lists it)\n", fc_f32_kernel->name);
        RUN_TEST(test_fc_f32_panel16);
        RUN_TEST(test_f32_subnormals);
    }
    for (i = 0; i < sizeof fc_q_undispatched / sizeof fc_q_undispatched[0]; i++) {
        if (!ecnn_isa_runs_here(fc_q_undispatched_level[i])) {
            printf("%s: compiled, not run on this CPU\n", fc_q_undispatched[i].name);
            continue;
        }
        isa = &ecnn_isa_levels[fc_q_undispatched_level[i]];
        fc_q_kernel = &fc_q_undispatched[i];
        printf("%s (no config lists it)\n", fc_q_kernel->name);
        RUN_TEST(test_fc_q_panel8x4);
    }
}
#endif

int main(void)
{
    uint32_t level;
    int runs, not_run = 0;
    const char *name;
    for (level = 0; (name = ecnn_isa_level(level, &runs)) != NULL; level++) {
        if (!runs) {
            printf("level %s: compiled, not run on this CPU\n", name);
            not_run++;
            continue;
        }
        isa = &ecnn_isa_levels[level];
        fc_f32_kernel = ECNN_KERNEL(ecnn_fc_config, f32, isa);
        fc_q_kernel = ECNN_KERNEL(ecnn_fc_config, q, isa);
        printf("level %s: kernels %s, %s, %s, %s, %s, %s\n", name, ECNN_KERNEL(ecnn_fc_config, f32, isa)->name,
               ECNN_KERNEL(ecnn_fc_config, q, isa)->name, ECNN_KERNEL(ecnn_conv2d_config, f32, isa)->name,
               ECNN_KERNEL(ecnn_conv2d_config, dw, isa)->name, ECNN_KERNEL(ecnn_conv2d_config, q, isa)->name,
               ECNN_KERNEL(ecnn_pool2d_config, max, isa)->name);
        RUN_TEST(test_fc_f32_panel16);
        RUN_TEST(test_fc_f32_fused_mac);
        RUN_TEST(test_f32_subnormals);
        RUN_TEST(test_fc_q_panel8x4);
        RUN_TEST(test_conv_hwio);
        RUN_TEST(test_conv_hwio_wide_rows);
        RUN_TEST(test_maxpool_q);
        RUN_TEST(test_crc32);
        RUN_TEST(test_tiles);
        RUN_TEST(test_conv_cnn_shapes);
        RUN_TEST(test_binary_f32);
        RUN_TEST(test_avgpool_f32);
    }
#ifdef ECNN_WITH_X86
    test_undispatched_kernels();
#endif
    printf("%d passed, %d failed (%u levels run, %d not run on this CPU)\n", harness_tests_passed, harness_tests_failed,
           level - (uint32_t)not_run, not_run);
    return harness_tests_failed != 0;
}

/* The microcontroller int8 kernels on the emulated core (`make kernel-test CORE=m4|m55`), on
 * seeded random shapes and values: the conv microkernels over the weights in place (portable,
 * DSP, MVE) against sums written out here, the whole int8 conv of the microcontroller path
 * (src/kernels/portable/conv_q_direct.c) with each ISA's microkernels against the reference
 * kernel, the store and FC kernels against the portable ones (those are tested against the
 * reference kernels on the host, native/tests). Prints each failure and "N passed, M failed"; exit status 1 on any
 * failure. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels/arm/cortexm/cortexm.h"

static uint32_t rng_state = 12345u;
static uint32_t rnd(uint32_t n) /* uniform enough in [0, n) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (uint32_t)(((uint64_t)(rng_state >> 8) * n) >> 24);
}
static int32_t rnd_range(int32_t lo, int32_t hi) /* [lo, hi] */
{
    return lo + (int32_t)rnd((uint32_t)(hi - lo + 1));
}

static unsigned passed, failed;

static void check(int ok, const char *what, unsigned a, unsigned b, unsigned c)
{
    if (ok)
        passed++;
    else {
        failed++;
        printf("FAIL %s (%u, %u, %u)\n", what, a, b, c);
    }
}

/* ---- the conv microkernels over the weights in place ------------------------------------- */

#define PIXELS ECNN_CONV_Q_DIRECT_PIXELS
#define MAX_TERMS 100u
#define MAX_COUNT 40u
static uint32_t xw[PIXELS * (MAX_TERMS + 1) / 2 + PIXELS];
static int16_t terms16[PIXELS][MAX_TERMS];
static int8_t w8[MAX_TERMS * (MAX_COUNT + 8)];
static int32_t want[PIXELS * 64], got[PIXELS * 64];

/* Random input and output quantization (int8 or uint8, any zero point, a fused Relu or not),
 * int8 weights; the caller sets the weights' scales and zero points. */
static void random_q(ecnn_qlinear_params *q)
{
    memset(q, 0, sizeof *q);
    q->x_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
    q->x_zero_point = q->x_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
    q->x_scale = 0.02f + (float)rnd(1000) * 1e-4f;
    q->w_type = ECNN_Q_I8;
    q->y_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
    q->y_scale = 0.05f + (float)rnd(1000) * 1e-3f;
    q->y_zero_point = q->y_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
    q->y_min = q->y_type == ECNN_Q_U8 ? 0 : -128;
    q->y_max = q->y_type == ECNN_Q_U8 ? 255 : 127;
    if (rnd(2)) q->y_min = q->y_zero_point; /* a fused Relu */
}

/* dot_direct against the sums written out here: the pixels' terms in [-255, 255], int8 weights
 * at a row stride past the channels, odd and even term and channel counts. */
static void test_dot_direct(const char *name, ecnn_conv_q_dot_direct_kernel *dot)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t terms = 1 + rnd(MAX_TERMS), count = 1 + rnd(MAX_COUNT), wstride = count + rnd(8);
        ecnn_qlinear_params q;
        uint32_t i, t, l, p;
        random_q(&q);
        memset(xw, 0, sizeof xw);
        for (p = 0; p < PIXELS; p++)
            for (t = 0; t < terms; t++) {
                int16_t v = (int16_t)rnd_range(-255, 255);
                if (trial % 4 == 0 && t == 0) v = (int16_t)(p % 2 ? 255 : -255); /* the extremes */
                terms16[p][t] = v;
                memcpy((uint8_t *)xw + (t / 2) * 4 * PIXELS + p * 4 + (t % 2) * 2, &v, sizeof v);
            }
        for (i = 0; i < terms * wstride; i++) w8[i] = (int8_t)rnd_range(-128, 127);
        if (trial % 4 == 0) w8[0] = -128;
        for (p = 0; p < PIXELS; p++)
            for (l = 0; l < count; l++) {
                int32_t a = 0;
                for (t = 0; t < terms; t++) a += terms16[p][t] * w8[t * wstride + l];
                want[p * count + l] = a;
            }
        memset(got, 0x5A, sizeof got);
        dot(got, xw, w8, wstride, terms, count, &q);
        check(memcmp(want, got, PIXELS * count * sizeof got[0]) == 0, name, terms, count, trial);
    }
}

/* ---- the depthwise microkernel: one pixel's sums over a list of taps --------------------- */

#define DW_TAPS 9u
#define DW_STRIDE 64u
static uint8_t dw_x[DW_TAPS * 80];
static size_t dw_xoff[DW_TAPS], dw_woff[DW_TAPS];

static void test_dw_direct(const char *name, ecnn_conv_q_dw_direct_kernel *dw)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t count = 1 + rnd(DW_STRIDE), taps = 1 + rnd(DW_TAPS);
        ecnn_qlinear_params q;
        uint32_t i, c;
        random_q(&q);
        for (i = 0; i < sizeof dw_x; i++) dw_x[i] = (uint8_t)rnd(256);
        for (i = 0; i < DW_TAPS * DW_STRIDE; i++) w8[i] = (int8_t)rnd_range(-128, 127);
        for (i = 0; i < taps; i++) { /* any offsets (unaligned too), taps in any order */
            dw_xoff[i] = rnd(sizeof dw_x - count);
            dw_woff[i] = rnd(DW_TAPS * DW_STRIDE - count);
        }
        for (c = 0; c < count; c++) {
            int32_t a = 0;
            for (i = 0; i < taps; i++) {
                const uint8_t code = dw_x[dw_xoff[i] + c];
                a += ((q.x_type == ECNN_Q_U8 ? (int32_t)code : (int32_t)(int8_t)code) - q.x_zero_point) *
                     w8[dw_woff[i] + c];
            }
            want[c] = a;
        }
        memset(got, 0x5A, sizeof got);
        dw(got, dw_x, dw_xoff, w8, dw_woff, taps, count, &q);
        check(memcmp(want, got, count * sizeof got[0]) == 0, name, count, taps, trial);
    }
}

/* ---- the widening of one tap's codes into the interleaved terms ---------------------------- */

static uint8_t wd_want[80 * 2 * PIXELS], wd_got[80 * 2 * PIXELS];

static void test_widen(const char *name, ecnn_conv_q_widen_kernel *widen)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t count = 1 + rnd(70), at = rnd(8); /* any alignment of the codes */
        ecnn_qlinear_params q;
        uint32_t i;
        random_q(&q);
        for (i = 0; i < count + 8; i++) dw_x[i] = (uint8_t)rnd(256);
        memset(wd_want, 0x5A, sizeof wd_want);
        for (i = 0; i < count; i++) { /* pixel 0's terms; the other pixels' words untouched */
            const uint8_t code = dw_x[at + i];
            const int16_t v =
                (int16_t)((q.x_type == ECNN_Q_U8 ? (int32_t)code : (int32_t)(int8_t)code) - q.x_zero_point);
            memcpy(wd_want + (i / 2) * 4 * PIXELS + (i % 2) * 2, &v, sizeof v);
        }
        memset(wd_got, 0x5A, sizeof wd_got);
        widen(wd_got, dw_x + at, count, &q);
        check(memcmp(wd_want, wd_got, sizeof wd_got) == 0, name, count, at, trial);
    }
}

/* ---- the whole int8 conv (src/kernels/portable/conv_q_direct.c) against the reference ------ */

#define CV_C 40u
static uint8_t cv_x[2 * 9 * 9 * CV_C], cv_w[5 * 5 * CV_C * CV_C], cv_want[2 * 9 * 9 * CV_C], cv_got[2 * 9 * 9 * CV_C];
static int32_t cv_b[CV_C], cv_zw[CV_C];
static float cv_scales[CV_C];

/* Random shapes (group 1, 2 or depthwise; padding, stride, dilation; odd channel counts; a
 * tile of the channels), int8 or uint8 codes, weight zero points 0 or not, with the
 * microkernels `uk`; uint8 weights too if uint8_weights. */
static void test_conv(const char *name, const ecnn_conv_q_ukernels *uk, int uint8_weights)
{
    unsigned trial;
    for (trial = 0; trial < 60; trial++) {
        ecnn_conv2d_args p;
        ecnn_qlinear_params q;
        ecnn_tile tile;
        const uint32_t n = 1 + rnd(2), kind = rnd(3); /* group 1, group 2, depthwise */
        uint32_t i, pad_bottom, pad_right;
        memset(&p, 0, sizeof p);
        p.kh = 1 + rnd(kind == 2 ? 5 : 3), p.kw = 1 + rnd(3);
        p.stride_h = 1 + rnd(2), p.stride_w = 1 + rnd(2);
        p.dilation_h = 1 + rnd(2), p.dilation_w = 1;
        p.group = kind == 1 ? 2 : 1;
        p.c = p.group * (1 + rnd(CV_C / 2));
        p.o = kind == 2 ? p.c : p.group * (1 + rnd(CV_C / 2));
        if (kind == 2) p.group = p.c;
        p.h = p.dilation_h * (p.kh - 1) + 1 + rnd(5), p.w = p.dilation_w * (p.kw - 1) + 1 + rnd(5);
        p.pad_top = rnd(2), p.pad_left = rnd(2), pad_bottom = rnd(2), pad_right = rnd(2);
        p.oh = (p.h + p.pad_top + pad_bottom - p.dilation_h * (p.kh - 1) - 1) / p.stride_h + 1;
        p.ow = (p.w + p.pad_left + pad_right - p.dilation_w * (p.kw - 1) - 1) / p.stride_w + 1;
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
        random_q(&q);
        q.w_type = uint8_weights && rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_count = rnd(2) ? p.o : 1;
        for (i = 0; i < p.o; i++) {
            cv_scales[i] = 0.001f + (float)rnd(1000) * 1e-5f;
            cv_zw[i] = trial % 3 == 0 ? rnd_range(-20, 20) : 0;
            cv_b[i] = rnd_range(-20000, 20000);
        }
        q.w_scales = cv_scales;
        q.w_zero_points = cv_zw;
        q.w_layout = ECNN_LAYOUT_CONV_HWIO;
        for (i = 0; i < n * p.h * p.w * p.c; i++) cv_x[i] = (uint8_t)rnd(256);
        for (i = 0; i < p.kh * p.kw * (p.c / p.group) * p.o; i++) cv_w[i] = (uint8_t)rnd(256);
        tile.m0 = 0, tile.m1 = n * p.oh, tile.o0 = 0, tile.o1 = p.o;
        if (trial % 4 == 1 && kind != 1 && p.o > 8) tile.o0 = 8, tile.m0 = 1; /* a tile of the op */
        memset(cv_want, 0x33, sizeof cv_want);
        memset(cv_got, 0x33, sizeof cv_got);
        ecnn_conv2d_q_ref(cv_want, cv_x, cv_w, trial % 5 ? cv_b : NULL, n, &tile, &p, &q);
        ecnn_conv2d_q_hwio(cv_got, cv_x, cv_w, trial % 5 ? cv_b : NULL, n, &tile, &p, &q, uk);
        check(ecnn_conv2d_q_hwio_fits(&p) && memcmp(cv_want, cv_got, sizeof cv_got) == 0, name, p.c, p.o, trial);
    }
}

/* ---- the requantizing store --------------------------------------------------------------- */

#define MAX_STORE 70u
static int32_t st_acc[MAX_STORE], st_bias[MAX_STORE];
static float st_scales[MAX_STORE];
static uint8_t st_want[MAX_STORE + 8], st_got[MAX_STORE + 8];

static void test_store(const char *name, ecnn_q_store_scaled_kernel *store)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t count = 1 + rnd(MAX_STORE), first = rnd(8);
        ecnn_qlinear_params q;
        uint32_t i;
        memset(&q, 0, sizeof q);
        q.y_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.y_zero_point = q.y_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
        q.y_min = q.y_type == ECNN_Q_U8 ? 0 : -128;
        q.y_max = q.y_type == ECNN_Q_U8 ? 255 : 127;
        if (rnd(2)) q.y_min = q.y_zero_point; /* a fused Relu */
        for (i = 0; i < count; i++) {
            st_acc[i] = rnd_range(-60000, 60000);
            st_bias[i] = rnd_range(-5000, 5000);
            /* every third scale 2^-k: exact halves, where rounding half to even shows */
            st_scales[i] = i % 3 == 0 ? 1.0f / (float)(1u << (1 + rnd(10))) : 1e-4f + (float)rnd(100000) * 1e-8f;
        }
        memset(st_want, 0x33, sizeof st_want);
        memset(st_got, 0x33, sizeof st_got);
        ecnn_q_store_scaled_portable(st_want, first, st_acc, count, st_scales, trial % 4 ? st_bias : NULL, &q);
        store(st_got, first, st_acc, count, st_scales, trial % 4 ? st_bias : NULL, &q);
        check(memcmp(st_want, st_got, sizeof st_got) == 0, name, count, first, trial);
    }
}

/* ---- the FC kernel over FC_PANEL8X4 weights ------------------------------------------------ */

#define MAX_N 3u
#define MAX_K 70u
#define MAX_O 40u
static int8_t fc_w[(MAX_O + 7) / 8 * 8 * ((MAX_K + 3) / 4 * 4)];
static uint8_t fc_x[MAX_N * MAX_K];
static int32_t fc_b[MAX_O];
static float fc_scales[MAX_O];
static int32_t fc_zw[MAX_O];
static int8_t fc_want[MAX_N * MAX_O], fc_got[MAX_N * MAX_O];

static void test_fc(const char *name, ecnn_fc_q_kernel *fc)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t n = 1 + rnd(MAX_N), k = 1 + rnd(MAX_K), o = 1 + rnd(MAX_O);
        const uint32_t kp = (k + 3) / 4 * 4, op = (o + 7) / 8 * 8;
        ecnn_qlinear_params q;
        ecnn_tile tile;
        uint32_t i, oo, kk;
        random_q(&q);
        q.w_count = rnd(2) ? o : 1;
        for (i = 0; i < o; i++) fc_scales[i] = 0.001f + (float)rnd(1000) * 1e-5f, fc_zw[i] = 0;
        q.w_scales = fc_scales;
        q.w_zero_points = fc_zw;
        q.w_layout = ECNN_LAYOUT_FC_PANEL8X4;
        /* packed weights: panel p, group g, output l, term t; zero past K and past O */
        for (oo = 0; oo < op; oo++)
            for (kk = 0; kk < kp; kk++) {
                const size_t at = (size_t)(oo / 8) * 8 * kp + (size_t)(kk / 4) * 32 + (oo % 8) * 4 + kk % 4;
                fc_w[at] = (int8_t)(oo < o && kk < k ? rnd_range(-128, 127) : 0);
            }
        for (i = 0; i < n * k; i++) fc_x[i] = (uint8_t)rnd(256);
        for (i = 0; i < o; i++) fc_b[i] = rnd_range(-20000, 20000);
        /* the whole op, or a tile of it (o0 a multiple of the panel) */
        tile.m0 = 0;
        tile.m1 = n;
        tile.o0 = 0;
        tile.o1 = o;
        if (trial % 3 == 1 && o > 8) {
            tile.o0 = 8;
            tile.m0 = n - 1;
        }
        memset(fc_want, 0, sizeof fc_want);
        memset(fc_got, 0, sizeof fc_got);
        ecnn_fc_q_panel8x4_portable(fc_want, fc_x, fc_w, trial % 5 ? fc_b : NULL, n, k, o, &tile, &q);
        fc(fc_got, fc_x, fc_w, trial % 5 ? fc_b : NULL, n, k, o, &tile, &q);
        check(memcmp(fc_want, fc_got, n * o) == 0, name, n, k, o);
    }
}

/* Every kernel of one ISA level (its name in the kernels' names), then the whole conv with them. */
static void test_level(const char *isa, const ecnn_conv_q_ukernels *uk, ecnn_fc_q_kernel *fc)
{
    char name[64];
    snprintf(name, sizeof name, "conv_q_dot_direct_%s", isa);
    test_dot_direct(name, uk->dot_direct);
    snprintf(name, sizeof name, "q_store_scaled_%s", isa);
    test_store(name, uk->store);
    snprintf(name, sizeof name, "conv_q_dw_direct_%s", isa);
    test_dw_direct(name, uk->dw_direct);
    snprintf(name, sizeof name, "conv_q_widen_%s", isa);
    test_widen(name, uk->widen);
    snprintf(name, sizeof name, "fc_q_panel8x4_%s", isa);
    test_fc(name, fc);
    snprintf(name, sizeof name, "conv2d_q_hwio %s", isa);
    test_conv(name, uk, 0);
}

int main(void)
{
    const ecnn_conv_q_ukernels portable = {.store = ecnn_q_store_scaled_portable};
    test_dot_direct("conv_q_dot_direct_portable", ecnn_conv_q_dot_direct_portable);
    test_dw_direct("conv_q_dw_direct_portable", ecnn_conv_q_dw_direct_portable);
    test_widen("conv_q_widen_portable", ecnn_conv_q_widen_portable);
    test_conv("conv2d_q_hwio portable", &portable, 1);
#if defined(__ARM_FEATURE_DSP)
    {
        const ecnn_conv_q_ukernels dsp = {.store = ecnn_q_store_scaled_dsp,
                                          .widen = ecnn_conv_q_widen_dsp,
                                          .dot_direct = ecnn_conv_q_dot_direct_dsp,
                                          .dw_direct = ecnn_conv_q_dw_direct_dsp};
        test_level("dsp", &dsp, ecnn_fc_q_panel8x4_dsp);
    }
#endif
#if defined(__ARM_FEATURE_MVE)
    {
        const ecnn_conv_q_ukernels mve = {.store = ecnn_q_store_scaled_mve,
                                          .widen = ecnn_conv_q_widen_mve,
                                          .dot_direct = ecnn_conv_q_dot_direct_mve,
                                          .dw_direct = ecnn_conv_q_dw_direct_mve};
        test_level("mve", &mve, ecnn_fc_q_panel8x4_mve);
    }
#endif
    printf("%u passed, %u failed\n", passed, failed);
    return failed != 0 || passed == 0;
}

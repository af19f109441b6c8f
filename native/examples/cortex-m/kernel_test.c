/* The Cortex-M int8 kernels (src/kernels/arm/cortexm) against the portable kernels they
 * replace, on seeded random shapes and values, run on the emulated core (`make kernel-test
 * CORE=m4|m55`). The portable kernels are themselves tested against the reference kernels on
 * the host (native/tests). Prints each failure and "N passed, M failed"; exit status 1 on any
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

/* ---- the conv microkernel: acc[o] from int16 term pairs ---------------------------------- */

#define MAX_PAIRS 64u
#define MAX_C8 64u
static int16_t xk[MAX_PAIRS * 2];
static int16_t wc[MAX_PAIRS * MAX_C8 * 2];
static int32_t want[MAX_C8], got[MAX_C8];

static void test_conv_dot(const char *name, ecnn_conv_q_dot_kernel *dot)
{
    unsigned trial;
    for (trial = 0; trial < 60; trial++) {
        const uint32_t pairs = 1 + rnd(MAX_PAIRS), c8 = 8 * (1 + rnd(MAX_C8 / 8));
        uint32_t i;
        for (i = 0; i < pairs * 2; i++) xk[i] = (int16_t)rnd_range(-255, 255);
        for (i = 0; i < pairs * c8 * 2; i++) wc[i] = (int16_t)rnd_range(-255, 255);
        /* the extremes, where a wrong widening or saturation would show */
        if (trial % 4 == 0) xk[0] = -255, wc[0] = -255, xk[1] = 255, wc[1] = -255;
        ecnn_conv_q_dot_portable(want, xk, wc, pairs, c8);
        memset(got, 0x5A, sizeof got);
        dot(got, xk, wc, pairs, c8);
        check(memcmp(want, got, c8 * sizeof got[0]) == 0, name, pairs, c8, trial);
    }
}

/* ---- the depthwise microkernel: one pixel's sums over a list of taps --------------------- */

#define DW_TAPS 9u
#define DW_STRIDE 64u
static uint8_t dw_x[DW_TAPS * 80];
static int16_t dw_w[DW_TAPS * DW_STRIDE];
static size_t dw_xoff[DW_TAPS];
static uint32_t dw_tap[DW_TAPS];

static void test_dw(const char *name, ecnn_conv_q_dw_kernel *dw)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t count = 1 + rnd(DW_STRIDE), taps = 1 + rnd(DW_TAPS);
        ecnn_qlinear_params q;
        uint32_t i, c;
        memset(&q, 0, sizeof q);
        q.x_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.x_zero_point = q.x_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
        for (i = 0; i < sizeof dw_x; i++) dw_x[i] = (uint8_t)rnd(256);
        for (i = 0; i < DW_TAPS * DW_STRIDE; i++) dw_w[i] = (int16_t)rnd_range(-255, 255);
        for (i = 0; i < taps; i++) { /* any offsets (unaligned too), taps in any order */
            dw_xoff[i] = rnd(sizeof dw_x - count);
            dw_tap[i] = rnd(DW_TAPS);
        }
        for (c = 0; c < count; c++) {
            int32_t a = 0;
            for (i = 0; i < taps; i++) {
                const uint8_t code = dw_x[dw_xoff[i] + c];
                a += ((q.x_type == ECNN_Q_U8 ? (int32_t)code : (int32_t)(int8_t)code) - q.x_zero_point) *
                     dw_w[dw_tap[i] * DW_STRIDE + c];
            }
            want[c] = a;
        }
        memset(got, 0x5A, sizeof got);
        dw(got, dw_x, dw_xoff, dw_tap, taps, dw_w, DW_STRIDE, count, &q);
        check(memcmp(want, got, count * sizeof got[0]) == 0, name, count, taps, trial);
    }
}

/* ---- the widening of one tap's codes ------------------------------------------------------- */

static int16_t wd_want[80], wd_got[80];

static void test_widen(const char *name, ecnn_conv_q_widen_kernel *widen)
{
    unsigned trial;
    for (trial = 0; trial < 80; trial++) {
        const uint32_t count = 1 + rnd(70), at = rnd(8); /* any alignment of the codes */
        ecnn_qlinear_params q;
        uint32_t i;
        memset(&q, 0, sizeof q);
        q.x_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.x_zero_point = q.x_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
        for (i = 0; i < count + 8; i++) dw_x[i] = (uint8_t)rnd(256);
        for (i = 0; i < count; i++) {
            const uint8_t code = dw_x[at + i];
            wd_want[i] = (int16_t)((q.x_type == ECNN_Q_U8 ? (int32_t)code : (int32_t)(int8_t)code) - q.x_zero_point);
        }
        memset(wd_got, 0x5A, sizeof wd_got);
        widen(wd_got, dw_x + at, count, &q);
        check(memcmp(wd_want, wd_got, count * sizeof wd_got[0]) == 0 && wd_got[count] == 0x5A5A, name, count, at,
              trial);
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
        memset(&q, 0, sizeof q);
        q.x_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_type = ECNN_Q_I8;
        q.y_type = rnd(2) ? ECNN_Q_U8 : ECNN_Q_I8;
        q.x_scale = 0.02f + (float)rnd(1000) * 1e-4f;
        q.x_zero_point = q.x_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
        q.w_count = rnd(2) ? o : 1;
        for (i = 0; i < o; i++) fc_scales[i] = 0.001f + (float)rnd(1000) * 1e-5f, fc_zw[i] = 0;
        q.w_scales = fc_scales;
        q.w_zero_points = fc_zw;
        q.y_scale = 0.05f + (float)rnd(1000) * 1e-3f;
        q.y_zero_point = q.y_type == ECNN_Q_U8 ? rnd_range(0, 255) : rnd_range(-128, 127);
        q.y_min = q.y_type == ECNN_Q_U8 ? 0 : -128;
        q.y_max = q.y_type == ECNN_Q_U8 ? 255 : 127;
        if (rnd(2)) q.y_min = q.y_zero_point; /* a fused Relu */
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

int main(void)
{
#if defined(__ARM_FEATURE_DSP)
    test_conv_dot("conv_q_dot_dsp", ecnn_conv_q_dot_dsp);
    test_store("q_store_scaled_dsp", ecnn_q_store_scaled_dsp);
    test_dw("conv_q_dw_dsp", ecnn_conv_q_dw_dsp);
    test_widen("conv_q_widen_dsp", ecnn_conv_q_widen_dsp);
    test_fc("fc_q_panel8x4_dsp", ecnn_fc_q_panel8x4_dsp);
#endif
#if defined(__ARM_FEATURE_MVE)
    test_conv_dot("conv_q_dot_mve", ecnn_conv_q_dot_mve);
    test_store("q_store_scaled_mve", ecnn_q_store_scaled_mve);
    test_dw("conv_q_dw_mve", ecnn_conv_q_dw_mve);
    test_widen("conv_q_widen_mve", ecnn_conv_q_widen_mve);
    test_fc("fc_q_panel8x4_mve", ecnn_fc_q_panel8x4_mve);
#endif
    printf("%u passed, %u failed\n", passed, failed);
    return failed != 0 || passed == 0;
}

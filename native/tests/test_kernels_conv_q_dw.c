/* The int8 depthwise conv (kernels/portable/conv_q_dw.c with the level's dw microkernel, and
 * every dw microkernel compiled for the level under test, listed or not) against the reference,
 * bit for bit, whole and in random tiles: channel counts that fill the SIMD groups (8, 16, 32,
 * 64 wide) and leave 1..15 over, 3x3 / 5x5 (and 1x1, 7x7, 3x5, dilation 2), stride 1 and 2,
 * padding, int8 and uint8 codes, per-channel weight zero points and scales, fused Relu, and rows
 * long enough that a run clipped at the top or bottom is cut at the row of zero-point codes,
 * more channels than the driver's slice, and rows of 8, 16 and 32 channels that the VNNI levels
 * run as flat bytes; weights in [-64, 64] (the AVX2 level's quad path), or all but one (drawn
 * from the others, so that the draws of the tests after these stay the same). */
#include "test_kernels.h"

#if defined(ECNN_CONV_Q_HOSTED)
#if defined(ECNN_WITH_X86)
ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx2, ecnn_conv_q_dw_avxvnni, ecnn_conv_q_dw_avx512, ecnn_conv_q_dw_avx512vnni;
#endif

/* Each dw microkernel and the level it needs (builds without ECNN_CONV_Q_HOSTED have none: their
 * depthwise conv is conv_q_direct.c's, which the level's config runs here). */
static const struct {
    uint32_t level;
    const char *name;
    ecnn_conv_q_dw_kernel *fn;
} dw_kernels[] = {
    {ECNN_ISA_PORTABLE, "conv_q_dw_portable", ecnn_conv_q_dw_portable},
#if defined(ECNN_WITH_X86)
    {ECNN_ISA_AVX2, "conv_q_dw_avx2", ecnn_conv_q_dw_avx2},
    {ECNN_ISA_AVXVNNI, "conv_q_dw_avxvnni", ecnn_conv_q_dw_avxvnni},
    {ECNN_ISA_AVX512, "conv_q_dw_avx512", ecnn_conv_q_dw_avx512},
    {ECNN_ISA_AVX512VNNI, "conv_q_dw_avx512vnni", ecnn_conv_q_dw_avx512vnni},
#endif
};
#define DW_KERNELS (sizeof dw_kernels / sizeof dw_kernels[0])
#define DW_KERNEL_NAME(i) (i > 0 ? dw_kernels[i - 1].name : "config")
#else
#define DW_KERNELS 0u
#define DW_KERNEL_NAME(i) "config"
#endif

#define DW_C_MAX 1030u
#define DW_X (2u * 13 * 40 * 128)
#define DW_Y (2u * 15 * 42 * 128)

/* A random depthwise geometry for trial. */
static void random_dw(ecnn_conv2d_args *p, uint32_t trial)
{
    static const uint32_t channels[] = {8, 16, 24, 40, 64, 128, 3, 70, 101, 17};
    static const uint32_t windows[][2] = {{3, 3}, {5, 5}, {3, 3}, {5, 5}, {1, 1}, {7, 7}, {3, 5}};
    uint32_t span_h, span_w, pad_bottom, pad_right;
    memset(p, 0, sizeof *p);
    p->group = p->c = p->o = trial % 21 == 10 ? 32 : channels[trial % 10];
    p->kh = windows[trial / 10 % 7][0];
    p->kw = windows[trial / 10 % 7][1];
    p->stride_h = (uint32_t)irand(1, 2);
    p->stride_w = (uint32_t)irand(1, 2);
    p->dilation_h = p->dilation_w = trial % 13 == 5 ? 2 : 1;
    span_h = p->dilation_h * (p->kh - 1) + 1;
    span_w = p->dilation_w * (p->kw - 1) + 1;
    p->pad_top = (uint32_t)irand(0, (int32_t)(span_h / 2));
    p->pad_left = (uint32_t)irand(0, (int32_t)(span_w / 2));
    pad_bottom = (uint32_t)irand(0, (int32_t)(span_h / 2));
    pad_right = (uint32_t)irand(0, (int32_t)(span_w / 2));
    p->h = (uint32_t)irand((int32_t)span_h, 13);
    /* 128 channels: long clipped runs; 8 and 32: long runs, several pixels a vector */
    p->w = trial % 10 == 5 || trial % 10 == 0 || trial % 21 == 10 ? (uint32_t)irand(39, 40)
                                                                  : (uint32_t)irand((int32_t)span_w, 13);
    if (trial % 25 == 12) { /* more channels than a slice of the driver */
        p->group = p->c = p->o = DW_C_MAX;
        p->h = (uint32_t)irand((int32_t)span_h, 6);
        p->w = (uint32_t)irand((int32_t)span_w, 6);
    }
    p->oh = (p->h + p->pad_top + pad_bottom - span_h) / p->stride_h + 1;
    p->ow = (p->w + p->pad_left + pad_right - span_w) / p->stride_w + 1;
}

#define DW_RANDOM_TRIALS 210u
#define DW_FLAT_TRIALS 24u

/* The flat-row trials, after the random ones: 8, 16 or 32 channels, 3x3 or 5x5, stride 1, "same"
 * padding and rows of 40 pixels, so that the VNNI levels' stride-1 runs treat whole rows as flat
 * bytes (their weights: int8 without zero points, set by flat_q). */
static void flat_dw(ecnn_conv2d_args *p, uint32_t trial)
{
    static const uint32_t channels[] = {8, 16, 32};
    const uint32_t t = trial - DW_RANDOM_TRIALS;
    memset(p, 0, sizeof *p);
    p->group = p->c = p->o = channels[t % 3];
    p->kh = p->kw = t / 3 % 2 ? 5 : 3;
    p->stride_h = p->stride_w = p->dilation_h = p->dilation_w = 1;
    p->pad_top = p->pad_left = p->kh / 2;
    p->h = p->oh = (uint32_t)irand((int32_t)p->kh, 13);
    p->w = p->ow = 40;
}

/* Random quantization: codes int8 or uint8, zero points anywhere in range (weight zero points
 * all 0 in a quarter of the trials), weight zero points and scales per channel or per tensor,
 * Relu or not. */
static void random_q(ecnn_qlinear_params *q, float *w_scales, int32_t *w_zero, uint32_t o, uint32_t trial)
{
    uint32_t i;
    memset(q, 0, sizeof *q);
    q->x_type = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
    q->w_type = trial % 3 == 0 ? ECNN_Q_U8 : ECNN_Q_I8;
    q->y_type = trial % 4 < 2 ? ECNN_Q_I8 : ECNN_Q_U8;
    q->x_scale = 0.03f;
    q->x_zero_point = irand(ecnn_qtype_min(q->x_type), ecnn_qtype_max(q->x_type));
    q->w_count = trial % 5 == 0 ? 1 : o;
    for (i = 0; i < o; i++) {
        w_scales[i] = 0.004f + 0.0003f * (float)i;
        w_zero[i] = trial % 7 == 3 || trial % 9 == 4 || trial % 25 == 12 /* the VNNI byte path's weights, if int8 */
                        ? 0
                        : irand(ecnn_qtype_min(q->w_type), ecnn_qtype_max(q->w_type));
    }
    q->w_scales = w_scales;
    q->w_zero_points = w_zero;
    q->y_scale = 0.05f;
    q->y_zero_point = irand(ecnn_qtype_min(q->y_type), ecnn_qtype_max(q->y_type));
    q->y_min = ecnn_qtype_min(q->y_type);
    q->y_max = ecnn_qtype_max(q->y_type);
    if (trial % 3 == 1 && q->y_zero_point > q->y_min) q->y_min = q->y_zero_point; /* fused Relu */
}

/* The conv through uk in up to 4 x 4 random tiles, each on a buffer of sentinel bytes: its
 * outputs equal to want, none outside. */
static int tiles_match(uint8_t *y, const uint8_t *want, const void *x, const void *wh, const int32_t *b, uint32_t n,
                       const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    const uint32_t rows = n * p->oh;
    const size_t ny = (size_t)rows * p->ow * p->o;
    const uint32_t r1 = (uint32_t)irand(0, (int32_t)rows), c1 = ECNN_TILE_O_CONV * (uint32_t)irand(0, 3);
    const uint32_t rcut[3] = {0, r1, rows}, ccut[3] = {0, c1 < p->o ? c1 : p->o, p->o};
    uint32_t i, j;
    size_t e;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++) {
            const ecnn_tile t = {rcut[i], rcut[i + 1], ccut[j], ccut[j + 1]};
            memset(y, 0xCD, ny);
            ecnn_conv2d_q_hwio(y, x, wh, b, n, &t, p, q, uk);
            for (e = 0; e < ny; e++) {
                const uint32_t m = (uint32_t)(e / ((size_t)p->ow * p->o)), ch = (uint32_t)(e % p->o);
                const int inside = m >= t.m0 && m < t.m1 && ch >= t.o0 && ch < t.o1;
                if (y[e] != (inside ? want[e] : 0xCD)) return 0;
            }
        }
    return 1;
}

void test_conv_q_depthwise(void)
{
    static uint8_t x[DW_X], w[DW_C_MAX * 49], wh[DW_C_MAX * 49], y_ref[DW_Y], y_fast[DW_Y];
    static int32_t b[DW_C_MAX];
    static float w_scales[DW_C_MAX];
    static int32_t w_zero[DW_C_MAX];
    uint32_t trial, i;
    for (trial = 0; trial < DW_RANDOM_TRIALS + DW_FLAT_TRIALS; trial++) {
        const uint32_t n = 1 + trial % 2;
        ecnn_conv2d_args p;
        ecnn_qlinear_params q;
        ecnn_conv_q_ukernels uk = ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk;
        const int32_t *bias = trial % 4 == 3 ? NULL : b;
        size_t nx, ny;
        if (trial < DW_RANDOM_TRIALS)
            random_dw(&p, trial);
        else
            flat_dw(&p, trial);
        random_q(&q, w_scales, w_zero, p.o, trial);
        if (trial >= DW_RANDOM_TRIALS) { /* int8 weights without zero points: the VNNI quad kernel's */
            q.w_type = ECNN_Q_I8;
            for (i = 0; i < p.o; i++) w_zero[i] = 0;
        }
        nx = (size_t)n * p.h * p.w * p.c;
        ny = (size_t)n * p.oh * p.ow * p.o;
        for (i = 0; i < nx; i++)
            x[i] = (uint8_t)(trial % 17 == 8 ? (q.x_type == ECNN_Q_U8 ? 255 : 128) : irand(0, 255));
        for (i = 0; i < p.o * p.kh * p.kw; i++) w[i] = (uint8_t)(trial % 17 == 8 ? 128 : irand(0, 255));
        if (trial % 4 == 0 || trial % 4 == 3) { /* reduce-range int8 weights: the AVX2 quad path's */
            for (i = 0; i < p.o * p.kh * p.kw; i++) w[i] = (uint8_t)(trial % 17 == 8 ? -64 : (int8_t)w[i] / 2);
            if (trial % 17 == 8) /* the largest pair sums: u = 255 against -64 */
                for (i = 0; i < nx; i++) x[i] = q.x_type == ECNN_Q_U8 ? 255 : 127;
            if (trial % 4 == 3) w[trial * 7 % (p.o * p.kh * p.kw)] = (uint8_t)(trial % 8 == 3 ? 65 : -65);
        }
        for (i = 0; i < p.o; i++) b[i] = irand(-20000, 20000);
        to_hwio(wh, w, &p, 1);
        ecnn_conv2d_q_ref(y_ref, x, w, bias, n, WHOLE(n * p.oh, p.o), &p, &q);
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
#if defined(ECNN_CONV_Q_HOSTED)
        CHECK(ecnn_conv2d_q_is_depthwise(&p) && ecnn_conv2d_q_hwio_fits(&p));
#else
        if (!ecnn_conv2d_q_hwio_fits(&p)) continue; /* beyond conv_q_direct.c's stack: the reference runs it */
#endif
        /* the level's config, then each microkernel the level runs */
        for (i = 0; i <= DW_KERNELS; i++) {
#if defined(ECNN_CONV_Q_HOSTED)
            if (i > 0) {
                if (dw_kernels[i - 1].level != isa->level) continue;
                uk.dw = dw_kernels[i - 1].fn;
            }
#endif
            memset(y_fast, 0xCD, ny);
            ecnn_conv2d_q_hwio(y_fast, x, wh, bias, n, WHOLE(n * p.oh, p.o), &p, &q, &uk);
            if (memcmp(y_ref, y_fast, ny) != 0)
                fprintf(stderr, "  %s: C %u, %ux%u window, stride %ux%u, trial %u differs\n", DW_KERNEL_NAME(i), p.c,
                        p.kh, p.kw, p.stride_h, p.stride_w, trial);
            CHECK(memcmp(y_ref, y_fast, ny) == 0);
            if (trial % 3 == 0) CHECK(tiles_match(y_fast, y_ref, x, wh, bias, n, &p, &q, &uk));
        }
    }
}

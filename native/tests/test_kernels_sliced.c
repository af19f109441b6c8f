/* CONV_2D_SLICED's kernels (kernels.h): the level's fast kernel over HWIO weights against its
 * reference, bit for bit, whole and in random tiles; the reference reads both layouts alike and,
 * with one slice over one channel per group, sums as CONV_2D's reference. */
#include "test_kernels.h"

#define SL_X (2u * 11 * 11 * 24)
#define SL_W (40u * 5 * 5 * 24)
#define SL_Y (2u * 15 * 15 * 40) /* OH, OW up to 11 + 2 + 2 - 1 + 1 (a 1-tap axis) */

static float sx[SL_X], sw[SL_W], swh[SL_W], sb[40], sy_ref[SL_Y], sy_fast[SL_Y];

/* Random geometry: kernels up to 5x5, padding up to 2 (windows with whole slices in the padding
 * when k_slice is small), groups, channels and outputs around the SIMD blocks (8, 16, 32). */
static void random_sliced(ecnn_conv2d_args *p, uint32_t trial, uint32_t *k_slice)
{
    static const uint32_t outs[] = {1, 7, 8, 15, 16, 17, 24, 32, 33, 40};
    uint32_t span_h, span_w, pad_bottom, pad_right, k;
    memset(p, 0, sizeof *p);
    p->group = trial % 5 == 4 ? 2 : 1;
    p->c = p->group * (uint32_t)irand(1, trial % 3 == 0 ? 12 : 4);
    p->o = p->group * (p->group == 1 ? outs[trial % 10] : (uint32_t)irand(1, 20));
    p->kh = (uint32_t)irand(1, trial % 4 == 1 ? 5 : 3);
    p->kw = (uint32_t)irand(1, trial % 4 == 1 ? 5 : 3);
    p->stride_h = (uint32_t)irand(1, 2);
    p->stride_w = (uint32_t)irand(1, 2);
    p->dilation_h = (uint32_t)irand(1, 2);
    p->dilation_w = (uint32_t)irand(1, 2);
    p->pad_top = (uint32_t)irand(0, 2);
    p->pad_left = (uint32_t)irand(0, 2);
    pad_bottom = (uint32_t)irand(0, 2);
    pad_right = (uint32_t)irand(0, 2);
    p->h = (uint32_t)irand(9, 11); /* >= the largest span, 9 */
    p->w = (uint32_t)irand(9, 11);
    span_h = p->dilation_h * (p->kh - 1) + 1;
    span_w = p->dilation_w * (p->kw - 1) + 1;
    p->oh = (p->h + p->pad_top + pad_bottom - span_h) / p->stride_h + 1;
    p->ow = (p->w + p->pad_left + pad_right - span_w) / p->stride_w + 1;
    p->act.act = trial % ACT_CODES; /* every activation code */
    p->act.act_p0 = p->act.act == ECNN_ACT_CLIP ? -0.5f : 0.1f;
    p->act.act_p1 = 0.5f;
    k = p->c / p->group * p->kh * p->kw;
    *k_slice = trial % 3 == 2 ? k + (uint32_t)irand(0, 3) /* one slice */ : (uint32_t)irand(1, k > 2 ? k - 1 : 1);
}

static void fill_sliced(const ecnn_conv2d_args *p, uint32_t n)
{
    const size_t nx = (size_t)n * p->h * p->w * p->c, nw = (size_t)p->o * p->kh * p->kw * (p->c / p->group);
    size_t i;
    for (i = 0; i < nx; i++) sx[i] = frand();
    for (i = 0; i < nw; i++) sw[i] = frand();
    for (i = 0; i < p->o; i++) sb[i] = frand();
    to_hwio(swh, sw, p, sizeof(float));
}

/* The fast kernel on random tiles (rows anywhere, channels at multiples of 16 when group 1). */
static void run_in_tiles(float *y, const ecnn_conv2d_args *p, uint32_t n, const float *b, uint32_t k_slice)
{
    const uint32_t rows = n * p->oh;
    uint32_t m0, m1, o0, o1;
    for (m0 = 0; m0 < rows; m0 = m1) {
        m1 = m0 + (uint32_t)irand(1, 4);
        if (m1 > rows) m1 = rows;
        for (o0 = 0; o0 < p->o; o0 = o1) {
            o1 = p->group == 1 ? o0 + ECNN_TILE_O_CONV * (uint32_t)irand(1, 2) : p->o;
            if (o1 > p->o) o1 = p->o;
            run_conv_sliced_f32_fast(y, sx, swh, b, n, &(ecnn_tile){m0, m1, o0, o1}, p, k_slice);
        }
    }
}

/* Random x, w, b (b: sb or NULL): the level's fast kernel as the op runs it (run_conv_sliced_f32_fast),
 * whole and in random tiles, against its reference on plain weights, bit for bit; with hwio_ref the reference on HWIO weights too. */
static void check_sliced(ecnn_conv2d_args *p, uint32_t n, const float *b, uint32_t k_slice, int hwio_ref)
{
    const size_t ny = (size_t)n * p->oh * p->ow * p->o;
    fill_sliced(p, n);
    ECNN_KERNEL(ecnn_conv2d_sliced_config, ref, isa)->fn(sy_ref, sx, sw, b, n, WHOLE(n * p->oh, p->o), p, k_slice);
    p->w_layout = ECNN_LAYOUT_CONV_HWIO;
    if (hwio_ref) {
        ECNN_KERNEL(ecnn_conv2d_sliced_config, ref, isa)
            ->fn(sy_fast, sx, swh, b, n, WHOLE(n * p->oh, p->o), p, k_slice);
        CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
    }
    memset(sy_fast, 0xFF, ny * sizeof(float));
    run_conv_sliced_f32_fast(sy_fast, sx, swh, b, n, WHOLE(n * p->oh, p->o), p, k_slice);
    CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
    memset(sy_fast, 0xFF, ny * sizeof(float));
    run_in_tiles(sy_fast, p, n, b, k_slice);
    CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
}

void test_conv_sliced(void)
{
    uint32_t trial;
    for (trial = 0; trial < 200; trial++) {
        ecnn_conv2d_args p;
        uint32_t k_slice;
        random_sliced(&p, trial, &k_slice);
        check_sliced(&p, 1 + trial % 2, trial % 2 ? sb : NULL, k_slice, 1); /* the reference reads HWIO too */
    }
}

/* One slice over one input channel per group: K's order (c, ky, kx) is CONV_2D's (ky, kx, c),
 * so both references give the same sums. */
void test_conv_sliced_one_slice(void)
{
    uint32_t trial;
    for (trial = 0; trial < 40; trial++) {
        ecnn_conv2d_args p;
        uint32_t k_slice;
        size_t ny;
        random_sliced(&p, trial * 3 + 2, &k_slice); /* a one-slice trial */
        p.c = p.group;
        k_slice = p.kh * p.kw;
        ny = (size_t)p.oh * p.ow * p.o;
        fill_sliced(&p, 1);
        ECNN_KERNEL(ecnn_conv2d_config, ref, isa)->fn(sy_ref, sx, sw, sb, 1, WHOLE(p.oh, p.o), &p);
        ECNN_KERNEL(ecnn_conv2d_sliced_config, ref, isa)->fn(sy_fast, sx, sw, sb, 1, WHOLE(p.oh, p.o), &p, k_slice);
        CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
    }
}

/* 600 terms an output in slices of 1 and 2 (more slices than the x86 kernels' table holds: window
 * by window), 7, 600 (one slice) and 1100 (wider than the table: the reference's own loop). */
void test_conv_sliced_windows(void)
{
    static const uint32_t slices[] = {1, 2, 7, 600, 1100};
    uint32_t i;
    for (i = 0; i < sizeof slices / sizeof slices[0]; i++) {
        ecnn_conv2d_args p;
        const size_t ny = 9u * 9 * 17;
        memset(&p, 0, sizeof p);
        p.h = p.w = p.oh = p.ow = 9;
        p.c = 24;
        p.o = 17;
        p.kh = p.kw = 5;
        p.pad_top = p.pad_left = 2;
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = p.group = 1;
        p.act.act = ECNN_ACT_RELU;
        fill_sliced(&p, 1);
        ECNN_KERNEL(ecnn_conv2d_sliced_config, ref, isa)->fn(sy_ref, sx, sw, sb, 1, WHOLE(9, 17), &p, slices[i]);
        p.w_layout = ECNN_LAYOUT_CONV_HWIO;
        ECNN_KERNEL(ecnn_conv2d_sliced_config, f32, isa)->fn(sy_fast, sx, swh, sb, 1, WHOLE(9, 17), &p, slices[i]);
        CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
        run_in_tiles(sy_fast, &p, 1, sb, slices[i]);
        CHECK(memcmp(sy_ref, sy_fast, ny * sizeof(float)) == 0);
    }
}

/* Image CNNs' first layers as int8 graphs run them (K = C * KH * KW in one slice, which the x86
 * kernels sum as a CONV_2D in K's order; or in two or more slices): C = 1, 3, 4, O = 4, 8, 12,
 * 16 (AVX-512: two pixels a zmm up to 8), 3x3 and 5x5, stride 1 and 2, padding 0 or 1, rows up
 * to 40 wide, whole and in random tiles. */
void test_conv_sliced_first_layers(void)
{
    static const uint32_t channels[] = {1, 3, 4}, outs[] = {4, 8, 12, 16};
    uint32_t trial;
    for (trial = 0; trial < 72; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 2, pad = trial / 24 % 2;
        uint32_t k;
        memset(&p, 0, sizeof p);
        p.group = 1;
        p.c = channels[trial % 3];
        p.o = outs[trial / 3 % 4];
        p.kh = p.kw = trial % 7 == 3 ? 5 : 3;
        p.stride_h = p.stride_w = 1 + trial / 12 % 2;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = p.pad_left = pad;
        p.h = (uint32_t)irand(6, 9);
        p.w = (uint32_t)irand(9, 40);
        p.oh = (p.h + 2 * pad - p.kh) / p.stride_h + 1;
        p.ow = (p.w + 2 * pad - p.kw) / p.stride_w + 1;
        p.act.act = trial % ACT_CODES; /* every activation code */
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.5f : 0.1f;
        p.act.act_p1 = 0.5f;
        k = p.c * p.kh * p.kw;
        k = trial % 4 == 1 ? (k + 1) / 2 : k + trial % 3 * 8; /* two slices, or one (MLAS's 32 for 27) */
        check_sliced(&p, n, trial % 5 == 4 ? NULL : sb, k, 0);
    }
}

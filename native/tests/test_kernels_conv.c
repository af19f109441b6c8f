/* The float convs over HWIO weights against the reference, bit for bit. */
#include "test_kernels.h"

/* Random conv geometry: odd sizes, strides, padding, dilation, groups. */
void random_conv(ecnn_conv2d_args *p, uint32_t trial)
{
    uint32_t span_h, span_w;
    memset(p, 0, sizeof *p);
    p->group = trial % 4 == 3 ? 3 : 1;
    p->c = p->group * (uint32_t)irand(1, 3);
    p->o = p->group * (trial % 5 == 2 ? 8u * (uint32_t)irand(1, 2) /* the SIMD conv's blocks of 8 */
                                      : (uint32_t)irand(1, trial % 2 ? 7 : 23));
    RANDOM_WINDOW(p);
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
void to_hwio(void *dst, const void *src, const ecnn_conv2d_args *p, size_t esize)
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

/* Float conv with random x, w, b (bias when with_bias): the HWIO fast kernel as the op runs it
 * (run_conv_f32_fast) against the reference on plain weights, bit for bit. Leaves x, w (plain), wh (HWIO), b and y_ref filled;
 * p->w_layout is back to plain on return. */
void check_conv_f32_hwio(ecnn_conv2d_args *p, uint32_t n, int with_bias, float *x, float *w, float *wh, float *b,
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
    run_conv_f32_fast(y_fast, x, wh, with_bias ? b : NULL, n, WHOLE(n * p->oh, p->o), p);
    p->w_layout = ECNN_LAYOUT_PLAIN;
    CHECK(memcmp(y_ref, y_fast, ny * sizeof(float)) == 0);
}

#define CONV_X (3u * 9 * 9 * 70)
#define CONV_W (72u * 3 * 3 * 40)
#define CONV_Y (3u * 11 * 11 * 72)

void test_conv_hwio(void)
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
 * (AVX2: 6 pixels; AVX-512: 12, 24 for <= 16 channels) plus a remainder and padded edges;
 * O / group 8, 16 or 24 (16-channel blocks and a last 8), or 1..23 (AVX2: a last 1..7 under a
 * mask). Own geometry (not random_conv): C <= 6, W 13..29. */
void test_conv_hwio_wide_rows(void)
{
    static float cx[2 * 7 * 29 * 6], cw[72 * 3 * 3 * 3], cwh[72 * 3 * 3 * 3], cb[72];
    static float cy_ref[2 * 8 * 31 * 72], cy_fast[2 * 8 * 31 * 72];
    uint32_t trial;
    for (trial = 0; trial < 60; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 2;
        memset(&p, 0, sizeof p);
        p.group = trial % 3 == 2 ? 3 : 1;
        p.c = p.group * (uint32_t)irand(1, trial % 3 == 2 ? 2 : 3);
        p.o =
            p.group * (trial % 5 == 1 ? (uint32_t)irand(1, 23) /* masked last channels */ : 8u * (uint32_t)irand(1, 3));
        RANDOM_WINDOW(&p);
        p.pad_top = (uint32_t)irand(0, 1);
        p.pad_left = (uint32_t)irand(0, 1);
        p.h = (uint32_t)irand(5, 7);
        p.w = (uint32_t)irand(13, 29);
        p.oh = (p.h + p.pad_top - (p.dilation_h * (p.kh - 1) + 1)) / p.stride_h + 1;      /* pad_bottom 0 */
        p.ow = (p.w + p.pad_left + 1 - (p.dilation_w * (p.kw - 1) + 1)) / p.stride_w + 1; /* pad_right 1 */
        p.act.act = trial % 4; /* none, Relu, LeakyRelu, Clip */
        p.act.act_p0 = trial % 4 == 3 ? -0.5f : 0.1f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_hwio(&p, n, trial % 2, cx, cw, cwh, cb, cy_ref, cy_fast);
    }
}

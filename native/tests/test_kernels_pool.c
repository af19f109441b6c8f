/* The pooling kernels against their references, bit for bit. */
#include "test_kernels.h"

void test_maxpool_q(void)
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
        RANDOM_WINDOW(&p);
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
        if (p.pad_top == 0 && p.pad_left == 0 && n == 1) { /* in place */
            memcpy(py_fast, px, (size_t)p.h * p.w * p.c);
            fast(py_fast, py_fast, n, WHOLE(p.oh, p.c), &p, (int)t);
            CHECK(memcmp(py_ref, py_fast, (size_t)p.oh * p.ow * p.c) == 0);
        }
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

/* A random average pooling geometry for the tests below, p->c already set: one trial in 5 global,
 * else a window of 1..3 taps a side, strides 1..2, `dilation`, pads 0 or 1 (the bottom and right
 * ones their own draws with own_pads, else equal to the top and left ones). */
static void random_avg_window(ecnn_pool2d_args *p, uint32_t trial, uint32_t dilation, int own_pads)
{
    uint32_t span_h, span_w;
    p->h = (uint32_t)irand(1, 9);
    p->w = (uint32_t)irand(1, 9);
    p->stride_h = p->stride_w = p->dilation_h = p->dilation_w = 1;
    if (trial % 5 == 0) {
        p->kh = p->h, p->kw = p->w;
        p->oh = p->ow = 1;
        return;
    }
    p->kh = (uint32_t)irand(1, 3);
    p->kw = (uint32_t)irand(1, 3);
    p->stride_h = (uint32_t)irand(1, 2);
    p->stride_w = (uint32_t)irand(1, 2);
    p->dilation_h = p->dilation_w = dilation;
    p->pad_top = p->kh > 1 ? (uint32_t)irand(0, 1) : 0;
    p->pad_left = p->kw > 1 ? (uint32_t)irand(0, 1) : 0;
    p->pad_bottom = own_pads && p->kh > 1 ? (uint32_t)irand(0, 1) : p->pad_top;
    p->pad_right = own_pads && p->kw > 1 ? (uint32_t)irand(0, 1) : p->pad_left;
    span_h = dilation * (p->kh - 1) + 1;
    span_w = dilation * (p->kw - 1) + 1;
    p->h = p->h < span_h ? span_h : p->h;
    p->w = p->w < span_w ? span_w : p->w;
    p->oh = (p->h + p->pad_top + p->pad_bottom - span_h) / p->stride_h + 1;
    p->ow = (p->w + p->pad_left + p->pad_right - span_w) / p->stride_w + 1;
}

/* Float average pooling: the level's kernel against the reference bit for bit, over windows
 * with padding (counted or not), strides, dilation and global pooling, channels around the
 * kernel's blocks. */
void test_avgpool_f32(void)
{
    static float x[2 * 9 * 9 * 150], y_ref_p[2 * 10 * 10 * 150], y_fast_p[2 * 10 * 10 * 150];
    uint32_t trial, i;
    for (trial = 0; trial < 80; trial++) {
        ecnn_pool2d_args p;
        const uint32_t n = 1 + trial % 2;
        size_t ny;
        memset(&p, 0, sizeof p);
        p.c = trial % 4 == 0 ? 64u * (uint32_t)irand(1, 2) : (uint32_t)irand(1, 150);
        random_avg_window(&p, trial, 1 + trial % 3 / 2, 0);
        p.count_include_pad = trial % 5 != 0 && trial % 2;
        for (i = 0; i < n * p.h * p.w * p.c; i++) x[i] = frand();
        ny = (size_t)n * p.oh * p.ow * p.c;
        ecnn_avgpool2d_f32_ref(y_ref_p, x, n, WHOLE(n * p.oh, p.c), &p);
        ECNN_KERNEL(ecnn_pool2d_config, avg, isa)->fn(y_fast_p, x, n, WHOLE(n * p.oh, p.c), &p);
        CHECK(memcmp(y_ref_p, y_fast_p, ny * sizeof(float)) == 0);
    }
}

/* int8 / uint8 average pooling: the level's kernel against the reference bit for bit, both rules
 * (global, and windows with padding on every side, counted or not, strides), both rounding
 * domains, channels around the kernel's 16-channel blocks, random scales and zero points and
 * extreme scale ratios (outputs past int32, which the conversion sends to the minimum). */
void test_avgpool_q(void)
{
    static uint8_t x[2 * 9 * 9 * 50], y_ref_q[2 * 10 * 10 * 50], y_fast_q[2 * 10 * 10 * 50];
    static const float extreme[] = {1e30f, 1e-30f, 3e9f, 1e-9f};
    const ecnn_avgpool2d_q_impl *fast = ECNN_KERNEL(ecnn_pool2d_config, avg_q, isa);
    uint32_t trial, i;
    for (trial = 0; trial < 400; trial++) {
        ecnn_pool2d_args p;
        ecnn_qtensor qx, qy;
        const uint32_t n = 1 + trial % 2;
        const int uint8_rounding = trial / 2 % 2;
        size_t ny;
        memset(&p, 0, sizeof p);
        p.c = trial % 4 == 0 ? 16u * (uint32_t)irand(1, 3) : (uint32_t)irand(1, 50);
        random_avg_window(&p, trial, 1, 1);
        p.count_include_pad = trial % 5 != 0 && trial % 3 == 0;
        qx.type = qy.type = trial % 3 == 1 ? ECNN_Q_U8 : ECNN_Q_I8;
        qx.scale = 0.001f + 0.1f * (float)(next_u32() % 1000) / 1000.0f;
        qy.scale = trial % 13 == 7 ? extreme[next_u32() % 4] : 0.001f + 0.1f * (float)(next_u32() % 1000) / 1000.0f;
        qx.zero_point = irand(ecnn_qtype_min(qx.type), ecnn_qtype_max(qx.type));
        qy.zero_point = irand(ecnn_qtype_min(qy.type), ecnn_qtype_max(qy.type));
        for (i = 0; i < n * p.h * p.w * p.c; i++) x[i] = (uint8_t)irand(0, 255);
        ny = (size_t)n * p.oh * p.ow * p.c;
        ecnn_avgpool2d_q_ref(y_ref_q, x, n, WHOLE(n * p.oh, p.c), &p, &qx, &qy, uint8_rounding);
        fast->fn(y_fast_q, x, n, WHOLE(n * p.oh, p.c), &p, &qx, &qy, uint8_rounding);
        if (memcmp(y_ref_q, y_fast_q, ny) != 0)
            fprintf(stderr, "  %s: trial %u, c %u, %ux%u window %ux%u\n", fast->name, trial, p.c, p.h, p.w, p.kh, p.kw);
        CHECK(memcmp(y_ref_q, y_fast_q, ny) == 0);
    }
}

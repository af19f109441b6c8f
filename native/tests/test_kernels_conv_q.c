/* The int8 conv over HWIO weights in the shapes of real CNNs (pointwise over many channels,
 * 3x3 with padding and strides, DS-CNN's 10x4 first layer, grouped, the largest window the
 * hosted kernel takes) against the reference, bit for bit, whole and cut into random tiles.
 * Weights int8 with zero points 0 take the byte path where the level has one
 * (ecnn_conv_q_ukernels.conv_u8); nonzero weight zero points the int16 path, with uint8 weights
 * in every other shape. */
#include "test_kernels.h"

typedef struct {
    uint32_t n, h, w, c, o, kh, kw, stride, pad_top, pad_left, pad_end, dilation, group;
} conv_shape;

static const conv_shape shapes[] = {
    {1, 5, 5, 64, 64, 1, 1, 1, 0, 0, 0, 1, 1},   /* DS-CNN's pointwise */
    {1, 3, 3, 256, 256, 1, 1, 1, 0, 0, 0, 1, 1}, /* MobileNetV1's last pointwise */
    {2, 6, 7, 13, 21, 1, 1, 1, 0, 0, 0, 1, 1},   /* odd K, channels not a multiple of 16 */
    {1, 7, 9, 24, 40, 1, 1, 2, 0, 0, 0, 1, 1},   /* strided pointwise */
    {1, 4, 5, 20, 17, 1, 1, 1, 1, 1, 1, 1, 1},   /* padded pointwise: border pixels all zx */
    {1, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1},   /* ResNet-8's 3x3 */
    {2, 9, 8, 16, 32, 3, 3, 2, 1, 1, 0, 1, 1},   /* strided 3x3 */
    {1, 11, 11, 3, 8, 3, 3, 2, 0, 0, 1, 1, 1},   /* MobileNet's first conv: K = 27 */
    {1, 13, 7, 1, 64, 10, 4, 2, 4, 1, 5, 1, 1},  /* DS-CNN's first conv: K = 40 */
    {1, 9, 9, 5, 11, 3, 3, 1, 2, 2, 2, 2, 1},    /* dilated, K = 45 */
    {1, 6, 6, 8, 20, 3, 3, 1, 1, 1, 1, 1, 2},    /* grouped: 4 channels a group */
    {1, 5, 4, 112, 100, 1, 1, 1, 0, 0, 0, 1, 1}, /* two channel blocks: 64 and 36 */
    /* dense pointwise of few channels (ecnn_conv_q_ukernels.pw_u8): whole rows of outputs
     * packed 4 vectors a store, pixel counts not a multiple of a group */
    {1, 9, 7, 8, 16, 1, 1, 1, 0, 0, 0, 1, 1},   /* MobileNetV1's 8 -> 16 */
    {2, 5, 7, 16, 32, 1, 1, 1, 0, 0, 0, 1, 1},  /* 16 -> 32, two samples */
    {1, 7, 5, 4, 8, 1, 1, 1, 0, 0, 0, 1, 1},    /* 4 -> 8 */
    {1, 6, 5, 24, 48, 1, 1, 1, 0, 0, 0, 1, 1},  /* three vectors */
    {1, 5, 5, 32, 64, 1, 1, 1, 0, 0, 0, 1, 1},  /* four vectors */
    {1, 7, 6, 12, 24, 1, 1, 1, 0, 0, 0, 1, 1},  /* a last vector of 8: not packed */
    {1, 11, 3, 8, 20, 1, 1, 1, 0, 0, 0, 1, 1},  /* a last vector of 4 */
    {1, 5, 6, 16, 100, 1, 1, 1, 0, 0, 0, 1, 1}, /* two channel blocks, not whole rows */
    {1, 5, 6, 50, 20, 1, 1, 1, 0, 0, 0, 1, 1},  /* k = 50, not whole 4-byte groups: conv_u8's tiles */
    {1, 9, 8, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1},   /* 3x3 over 4 channels: whole quads, padded */
    {1, 4, 4, 113, 70, 3, 3, 1, 1, 1, 1, 1, 1}, /* K = 1017, the hosted kernel's largest */
    {3, 5, 6, 48, 130, 3, 3, 1, 1, 0, 1, 1, 1}, /* three blocks, a last of 2 */
    /* first layers (C = 1..3: the small-K kernel, ecnn_conv_q_ukernels.small, where the level has one) */
    {1, 28, 28, 1, 16, 3, 3, 1, 0, 0, 0, 1, 1}, /* the reference model's conv: K = 9, no padding */
    {2, 9, 11, 1, 16, 3, 3, 1, 1, 1, 1, 1, 1},  /* padded ("same"), two samples */
    {3, 7, 10, 2, 20, 3, 3, 2, 1, 1, 1, 1, 1},  /* C = 2, strided, a last block of 4 channels */
    {2, 13, 12, 3, 32, 3, 3, 2, 1, 1, 0, 1, 1}, /* C = 3, strided: 3 quads a window row */
    {1, 9, 8, 1, 24, 5, 5, 1, 2, 2, 2, 1, 1},   /* 5x5: 10 quads */
    {2, 5, 7, 1, 8, 1, 1, 1, 0, 0, 0, 1, 1},    /* K = 1 */
    {1, 6, 5, 2, 16, 2, 3, 1, 1, 0, 1, 1, 1},   /* 2x3 window */
    {1, 4, 5, 1, 16, 3, 3, 1, 3, 3, 3, 1, 1},   /* windows wholly in the padding: the bias alone */
    {1, 7, 13, 3, 45, 4, 3, 1, 0, 0, 0, 1, 1},  /* 4x3x3: 12 quads, the most; odd O */
};

#define Q_X (3u * 13 * 11 * 256)
#define Q_W (256u * 300)
#define Q_Y (3u * 13 * 11 * 256)

/* The tile of rows [m0, m1) x channels [o0, o1) through the level's kernel. */
static void run_tile(uint8_t *y, const uint8_t *x, const uint8_t *w, const int32_t *b, uint32_t n, uint32_t m0,
                     uint32_t m1, uint32_t o0, uint32_t o1, const ecnn_conv2d_args *p, const ecnn_qlinear_params *q)
{
    ecnn_conv2d_q_hwio(y, x, w, b, n, &(ecnn_tile){m0, m1, o0, o1}, p, q, &ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk);
}

void test_conv_q_cnn_shapes(void)
{
    static uint8_t x[Q_X], w[Q_W], wh[Q_W], y_ref[Q_Y], y_fast[Q_Y];
    static int32_t b[256], w_zero[256];
    static float w_scales[256];
    uint32_t si, trial, i;
    for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (trial = 0; trial < 6; trial++) {
            const conv_shape *sh = &shapes[si];
            const uint32_t n = sh->n;
            ecnn_conv2d_args p;
            ecnn_qlinear_params q;
            size_t nx, nw, ny;
            uint32_t m0, o0;
            memset(&p, 0, sizeof p);
            p.h = sh->h, p.w = sh->w, p.c = sh->c, p.o = sh->o, p.kh = sh->kh, p.kw = sh->kw;
            p.stride_h = p.stride_w = sh->stride;
            p.dilation_h = p.dilation_w = sh->dilation;
            p.pad_top = sh->pad_top, p.pad_left = sh->pad_left, p.group = sh->group;
            p.oh = (p.h + p.pad_top + sh->pad_end - (p.dilation_h * (p.kh - 1) + 1)) / p.stride_h + 1;
            p.ow = (p.w + p.pad_left + sh->pad_end - (p.dilation_w * (p.kw - 1) + 1)) / p.stride_w + 1;
            nx = (size_t)n * p.h * p.w * p.c;
            nw = (size_t)p.o * p.kh * p.kw * (p.c / p.group);
            ny = (size_t)n * p.oh * p.ow * p.o;
            CHECK(nx <= Q_X && nw <= Q_W && ny <= Q_Y);
            memset(&q, 0, sizeof q);
            q.x_type = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
            q.w_type = trial == 5 && si % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
            q.y_type = trial % 3 == 1 ? ECNN_Q_U8 : ECNN_Q_I8;
            q.x_scale = 0.02f;
            /* trial 2: zx at the dtype minimum (c = 0, a Relu's output: no correction) */
            q.x_zero_point =
                trial == 2 ? ecnn_qtype_min(q.x_type) : irand(ecnn_qtype_min(q.x_type), ecnn_qtype_max(q.x_type));
            q.w_count = trial % 3 == 0 ? 1 : p.o;
            for (i = 0; i < p.o; i++) {
                w_scales[i] = 0.001f + 0.00003f * (float)i;
                /* trial 5: the int16 path */
                w_zero[i] = trial == 5 ? (q.w_type == ECNN_Q_U8 ? 128 : 0) + irand(-3, 3) : 0;
            }
            q.w_scales = w_scales;
            q.w_zero_points = w_zero;
            q.y_scale = 0.05f + 0.01f * (float)sh->kh * (float)sh->kw * (float)(p.c / p.group) / 64.0f;
            q.y_zero_point = irand(ecnn_qtype_min(q.y_type), ecnn_qtype_max(q.y_type));
            q.y_min = ecnn_qtype_min(q.y_type);
            q.y_max = ecnn_qtype_max(q.y_type);
            if (trial % 4 == 1 && q.y_zero_point > q.y_min) q.y_min = q.y_zero_point; /* fused Relu */
            for (i = 0; i < nx; i++) x[i] = (uint8_t)irand(0, 255);
            for (i = 0; i < nw; i++) w[i] = (uint8_t)irand(0, 255); /* -128..127 as int8, extremes included */
            for (i = 0; i < p.o; i++) b[i] = irand(-20000, 20000);
            to_hwio(wh, w, &p, 1);
            ecnn_conv2d_q_ref(y_ref, x, w, trial % 2 ? NULL : b, n, WHOLE(n * p.oh, p.o), &p, &q);
            p.w_layout = ECNN_LAYOUT_CONV_HWIO;
            CHECK(ecnn_conv2d_q_hwio_fits(&p));
#if defined(ECNN_CONV_Q_HOSTED)
            /* the first layers whose window rows are not whole 4-byte groups take the small-K
             * kernel where the level has one (but for trial 5's weight zero points); at levels
             * without the byte path, so do whole-group rows with few outputs */
            {
                const ecnn_conv_q_ukernels *uk = &ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk;
                if (uk->small && p.c <= 3 && p.dilation_w == 1 && p.kw * p.c % 4 != 0 && trial != 5)
                    CHECK(ecnn_conv2d_q_small_fits(&p, &q, uk));
                if (uk->small && !uk->conv_u8 && p.kh == 1 && p.kw == 1 && p.c <= 16 && p.o <= 32 && trial != 5)
                    CHECK(ecnn_conv2d_q_small_fits(&p, &q, uk));
                if (trial == 5) CHECK(!ecnn_conv2d_q_small_fits(&p, &q, uk));
            }
#endif
            memset(y_fast, 0xA5, ny);
            run_tile(y_fast, x, wh, trial % 2 ? NULL : b, n, 0, n * p.oh, 0, p.o, &p, &q);
            CHECK(memcmp(y_ref, y_fast, ny) == 0);
            /* random tiles: rows in runs of 1..3, channels at multiples of 8 (grouped: whole) */
            memset(y_fast, 0xA5, ny);
            for (m0 = 0; m0 < n * p.oh;) {
                const uint32_t rows = (uint32_t)irand(1, 3), m1 = m0 + rows < n * p.oh ? m0 + rows : n * p.oh;
                for (o0 = 0; o0 < p.o;) {
                    const uint32_t step = p.group > 1 ? p.o : 8u * (uint32_t)irand(1, 9);
                    const uint32_t o1 = o0 + step < p.o ? o0 + step : p.o;
                    run_tile(y_fast, x, wh, trial % 2 ? NULL : b, n, m0, m1, o0, o1, &p, &q);
                    o0 = o1;
                }
                m0 = m1;
            }
            CHECK(memcmp(y_ref, y_fast, ny) == 0);
        }
}

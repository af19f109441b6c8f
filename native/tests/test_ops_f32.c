/* C tests of the issue-6 ops (AVG_POOL_2D, ADD, MUL, CONCAT, PAD, TRANSPOSE, activation codes
 * 4..7): the reference kernels against naive index arithmetic written independently here, a
 * small residual model through the loader and ecnn_run, and the loader's refusal of bad
 * parameters. Numerics against onnxruntime: tests/export/test_ops_float_*.py. Called from
 * test_native.c's main (run_ops_f32_tests). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "kernels/kernels.h"
#include "edgecnn.h"
#include "harness.h"
#include "model_builder.h"

void run_ops_f32_tests(void);

static uint32_t ops_rng = 777u;
static float orand(void) /* uniform in [-1, 1) */
{
    ops_rng = ops_rng * 1664525u + 1013904223u;
    return (float)((ops_rng >> 8) & 0xFFFFu) / 32768.0f - 1.0f;
}

/* Row-major offset of index idx in dims. */
static size_t offset_of(const uint32_t *idx, const uint32_t *dims, uint32_t rank)
{
    size_t off = 0;
    uint32_t k;
    for (k = 0; k < rank; k++) off = off * dims[k] + idx[k];
    return off;
}

/* Steps idx through dims row-major; 0 after the last index. */
static int next_index(uint32_t *idx, const uint32_t *dims, uint32_t rank)
{
    uint32_t k = rank;
    while (k-- > 0) {
        if (++idx[k] < dims[k]) return 1;
        idx[k] = 0;
    }
    return 0;
}

static void test_transpose_kernel(void)
{
    static const uint32_t xdims[4] = {2, 3, 1, 4}, perm[4] = {3, 0, 2, 1};
    float x[2 * 24], y[2 * 24];
    uint8_t xb[2 * 24], yb[2 * 24];
    uint32_t ydims[4], idx[4] = {0, 0, 0, 0}, xi[4], s, k;
    for (k = 0; k < 48; k++) {
        x[k] = orand();
        xb[k] = (uint8_t)(k * 7);
    }
    for (k = 0; k < 4; k++) ydims[k] = xdims[perm[k]];
    ecnn_transpose_ref(y, x, 2, 4, 4, xdims, perm);
    ecnn_transpose_ref(yb, xb, 2, 1, 4, xdims, perm);
    for (s = 0; s < 2; s++) {
        do {
            for (k = 0; k < 4; k++) xi[perm[k]] = idx[k]; /* y axis k is x axis perm[k] */
            CHECK(y[s * 24 + offset_of(idx, ydims, 4)] == x[s * 24 + offset_of(xi, xdims, 4)]);
            CHECK(yb[s * 24 + offset_of(idx, ydims, 4)] == xb[s * 24 + offset_of(xi, xdims, 4)]);
        } while (next_index(idx, ydims, 4));
    }
}

/* Pads of rank 1..4 with random dims (0 included) and pads, the trailing axes often unpadded
 * (the kernel moves them as one block), nothing padded at all now and then; float values -1.5
 * (a byte pattern) and 0 (a memset), int8 codes -7 and 0. */
static void test_pad_kernel(void)
{
    enum {
        CASES = 200,
        N = 2,
        MAXD = 4,
        MAXP = 2,
        MAXY = (MAXD + 2 * MAXP) * (MAXD + 2 * MAXP) * (MAXD + 2 * MAXP) * (MAXD + 2 * MAXP)
    };
    static float x[N * MAXD * MAXD * MAXD * MAXD], y[N * MAXY + 1]; /* + 1: the guard after y */
    static uint8_t xb[N * MAXD * MAXD * MAXD * MAXD], yb[N * MAXY + 1];
    uint32_t c;
    for (c = 0; c < CASES; c++) {
        uint32_t xdims[4], before[4], after[4], ydims[4], idx[4] = {0, 0, 0, 0}, rank = 1 + c % 4, k, s;
        uint32_t padded_from = (c / 4) % (rank + 1); /* axes >= this one are not padded */
        size_t xs = 1, ys = 1, i;
        const float value = c % 3 == 0 ? 0.0f : -1.5f;
        const int32_t code = c % 3 == 0 ? 0 : -7;
        for (k = 0; k < rank; k++) {
            xdims[k] = (uint32_t)((orand() + 1.0f) * 2.5f) % (MAXD + 1); /* 0..4, mostly 1..4 */
            if (xdims[k] == 0 && c % 7 != 0) xdims[k] = 1;
            before[k] = k < padded_from ? (uint32_t)((orand() + 1.0f) * 1.5f) % (MAXP + 1) : 0;
            after[k] = k < padded_from ? (uint32_t)((orand() + 1.0f) * 1.5f) % (MAXP + 1) : 0;
            ydims[k] = xdims[k] + before[k] + after[k];
            xs *= xdims[k];
            ys *= ydims[k];
        }
        for (i = 0; i < N * xs; i++) {
            x[i] = orand();
            xb[i] = (uint8_t)(100 + i);
        }
        memset(y, 0x55, sizeof y);
        memset(yb, 0x55, sizeof yb);
        ecnn_pad_ref(y, x, N, 4, rank, xdims, before, after, mb_f32_bits(value));
        ecnn_pad_ref(yb, xb, N, 1, rank, xdims, before, after, (uint32_t)code);
        if (ys == 0) continue;
        for (s = 0; s < N; s++) {
            do {
                uint32_t xi[4], inside = 1;
                for (k = 0; k < rank; k++) {
                    inside &= idx[k] >= before[k] && idx[k] < before[k] + xdims[k];
                    xi[k] = idx[k] - before[k];
                }
                CHECK(y[s * ys + offset_of(idx, ydims, rank)] ==
                      (inside ? x[s * xs + offset_of(xi, xdims, rank)] : value));
                CHECK(yb[s * ys + offset_of(idx, ydims, rank)] ==
                      (inside ? xb[s * xs + offset_of(xi, xdims, rank)] : (uint8_t)code));
            } while (next_index(idx, ydims, rank));
        }
        CHECK(((const uint8_t *)y)[N * ys * 4] == 0x55 && yb[N * ys] == 0x55); /* nothing written past y */
    }
}

static void test_concat_kernel(void)
{
    /* Two samples of [2, a_i, 3] joined on axis 1: rows = 2 samples x 2 = 4. */
    float a[2 * 2 * 1 * 3], b[2 * 2 * 2 * 3], y[2 * 2 * 3 * 3];
    const void *xs[2];
    size_t block[2] = {1 * 3 * 4, 2 * 3 * 4};
    uint32_t r, j;
    for (j = 0; j < 12; j++) a[j] = orand();
    for (j = 0; j < 24; j++) b[j] = orand();
    xs[0] = a;
    xs[1] = b;
    ecnn_concat_ref(y, xs, block, 2, 4);
    for (r = 0; r < 4; r++)
        for (j = 0; j < 9; j++) CHECK(y[r * 9 + j] == (j < 3 ? a[r * 3 + j] : b[r * 6 + j - 3]));
}

/* The average over window positions, counted as docs/file-format.md says: the reference of the reference. */
static void test_avgpool_kernel(void)
{
    enum { AH = 5, AW = 6, AC = 2 };
    float x[AH * AW * AC], y[4 * 4 * AC];
    uint32_t cip, ceil_pass;
    uint32_t k;
    for (k = 0; k < AH * AW * AC; k++) x[k] = orand();
    for (cip = 0; cip < 2; cip++) {
        for (ceil_pass = 0; ceil_pass < 2; ceil_pass++) {
            ecnn_pool2d_args p;
            uint32_t oy, ox, c;
            memset(&p, 0, sizeof p);
            p.h = AH, p.w = AW, p.c = AC, p.kh = 3, p.kw = 2, p.stride_h = 2, p.stride_w = 3;
            p.pad_top = 1, p.pad_left = 1, p.pad_bottom = 0, p.pad_right = 1, p.dilation_h = 1, p.dilation_w = 2;
            p.count_include_pad = cip;
            /* floor: OH = (5+1-3)/2+1 = 2, OW = (6+2-3)/3+1 = 2; ceil_mode adds a window each way */
            p.oh = 2 + ceil_pass, p.ow = 2 + ceil_pass;
            ecnn_avgpool2d_f32_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, AC}, &p);
            for (oy = 0; oy < p.oh; oy++)
                for (ox = 0; ox < p.ow; ox++)
                    for (c = 0; c < AC; c++) {
                        float sum = 0.0f;
                        uint32_t count = 0, ky, kx;
                        for (ky = 0; ky < p.kh; ky++)
                            for (kx = 0; kx < p.kw; kx++) {
                                const int iy = (int)(oy * 2 + ky) - 1, ix = (int)(ox * 3 + kx * 2) - 1;
                                const int in_x = iy >= 0 && iy < AH && ix >= 0 && ix < AW;
                                const int in_pad = iy >= -1 && iy < AH + 0 && ix >= -1 && ix < AW + 1;
                                if (cip ? in_pad : in_x) count++;
                                if (in_x) sum += x[(iy * AW + ix) * AC + c];
                            }
                        CHECK(count > 0 && y[(oy * p.ow + ox) * AC + c] == sum / (float)count);
                    }
        }
    }
}

static void test_binary_and_new_activations(void)
{
    float a[7], b[7], y[7];
    ecnn_act_params act = {ECNN_ACT_NONE, 0.0f, 0.0f};
    uint32_t i, code;
    for (i = 0; i < 7; i++) {
        a[i] = orand() * 4.0f;
        b[i] = orand() * 4.0f;
    }
    ecnn_binary_f32_ref(y, a, b, 1, 7, 7, ECNN_ARITH_ADD, &act);
    for (i = 0; i < 7; i++) CHECK(y[i] == a[i] + b[i]);
    act.act = ECNN_ACT_RELU;
    ecnn_binary_f32_ref(y, a, b, 1, 7, 7, ECNN_ARITH_MUL, &act);
    for (i = 0; i < 7; i++) CHECK(y[i] == (a[i] * b[i] > 0.0f ? a[i] * b[i] : 0.0f));
    memcpy(y, a, sizeof y); /* in place */
    act.act = ECNN_ACT_NONE;
    ecnn_binary_f32_ref(y, y, b, 1, 7, 7, ECNN_ARITH_ADD, &act);
    for (i = 0; i < 7; i++) CHECK(y[i] == a[i] + b[i]);
    /* b per sample and channel: 2 samples of 3 rows x 2 channels, b [2 samples][2] */
    {
        float a2[12], b2[4], y2[12];
        for (i = 0; i < 12; i++) a2[i] = orand();
        for (i = 0; i < 4; i++) b2[i] = orand();
        ecnn_binary_f32_ref(y2, a2, b2, 2, 6, 2, ECNN_ARITH_MUL, &act);
        for (i = 0; i < 12; i++) CHECK(y2[i] == a2[i] * b2[(i / 6) * 2 + i % 2]);
    }
    for (code = ECNN_ACT_SIGMOID; code <= ECNN_ACT_SWISH; code++) {
        act.act = code;
        act.act_p0 = 0.25f;
        act.act_p1 = 0.5f;
        ecnn_activation_f32_ref(y, a, 7, &act);
        for (i = 0; i < 7; i++) {
            const double v = a[i];
            double want;
            switch (code) {
            case ECNN_ACT_SIGMOID: want = 1.0 / (1.0 + exp(-v)); break;
            case ECNN_ACT_TANH: want = tanh(v); break;
            case ECNN_ACT_HARD_SIGMOID: want = fmax(0.0, fmin(1.0, 0.25 * v + 0.5)); break;
            case ECNN_ACT_HARD_SWISH: want = v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5)); break;
            default: want = v / (1.0 + exp(-v)); break; /* ECNN_ACT_SWISH */
            }
            CHECK(fabs(y[i] - want) <= 1e-6 * (1.0 + fabs(want)));
        }
    }
}

/* The depthwise fast kernel against the reference, bit for bit, on odd geometries (channels
 * below and above its block of 64, padding larger than the kernel, strides, dilations). */
static void test_depthwise_kernel_matches_reference(void)
{
    static float x[2 * 7 * 6 * 70], w[3 * 3 * 70], b[70], y1[2 * 9 * 8 * 70], y2[2 * 9 * 8 * 70];
    static const uint32_t chans[3] = {1, 5, 70};
    uint32_t ci, variant, i;
    for (i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = orand();
    for (i = 0; i < sizeof w / sizeof w[0]; i++) w[i] = orand();
    for (i = 0; i < 70; i++) b[i] = orand();
    for (ci = 0; ci < 3; ci++) {
        for (variant = 0; variant < 4; variant++) {
            ecnn_conv2d_args p;
            size_t count;
            memset(&p, 0, sizeof p);
            p.h = 7, p.w = 6, p.c = chans[ci], p.o = chans[ci], p.group = chans[ci], p.kh = 3, p.kw = 3;
            p.stride_h = 1 + variant % 2, p.stride_w = 1 + variant / 2;
            p.dilation_h = 1 + variant / 2, p.dilation_w = 1;
            p.pad_top = variant, p.pad_left = 4 - variant;                        /* up to 4: more than the kernel */
            p.oh = (p.h + 2 * p.pad_top - p.dilation_h * 2 - 1) / p.stride_h + 1; /* pad_bottom = pad_top */
            p.ow = (p.w + 2 * p.pad_left - p.dilation_w * 2 - 1) / p.stride_w + 1;
            p.act.act = variant == 3 ? ECNN_ACT_CLIP : ECNN_ACT_NONE, p.act.act_p0 = -0.5f, p.act.act_p1 = 0.5f;
            p.w_layout = ECNN_LAYOUT_CONV_HWIO;
            count = (size_t)2 * p.oh * p.ow * p.o;
            ecnn_conv2d_f32_ref(y1, x, w, variant == 1 ? NULL : b, 2, &(ecnn_tile){0, 2 * p.oh, 0, p.o}, &p);
            ecnn_conv2d_f32_dw_portable(y2, x, w, variant == 1 ? NULL : b, 2, &(ecnn_tile){0, 2 * p.oh, 0, p.o}, &p);
            CHECK(memcmp(y1, y2, count * sizeof(float)) == 0);
        }
    }
}

/* ---- a residual model through the loader ------------------------------------------- */
/* input [4,3,2] (HWC) -> TRANSPOSE(2,0,1) [2,4,3] -> TRANSPOSE(1,2,0) [4,3,2] (t2, the input
 * again) -> ACTIVATION relu (r) -> ADD(r, t2) in place over r -> PAD [5,4,2] -> AVG_POOL 2x2/1
 * -> [4,3,2] -> CONCAT(a, t2) axis 2 [4,3,4] -> MUL with itself -> output */
static model_builder ob;
static union {
    uint8_t b[MB_MAX_FILE + 64];
    double align_;
} ops_file_u;
static union {
    uint8_t b[8192 + 64];
    double align_;
} ops_arena_u;
static float ops_in[2 * 24], ops_out[2 * 48];

enum { P_PERM = 0, P_PAD = 1, P_CONCAT = 2, P_AVG = 3, P_ADD = 4 };

/* Builds the model with one field broken (what = -1: none); returns the file size. */
static uint32_t build_residual(int what, uint8_t **file)
{
    static const uint32_t d_in[3] = {4, 3, 2}, d_t1[3] = {2, 4, 3}, d_p[3] = {5, 4, 2}, d_c[3] = {4, 3, 4};
    uint32_t perm1[5] = {2, 0, 1, 0, 0}, perm2[5] = {1, 2, 0, 0, 0};
    uint32_t pad_p[11] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t avg_p[11] = {2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1}, relu_p[3] = {ECNN_ACT_RELU, 0, 0}, none_p[3] = {0, 0, 0};
    uint32_t concat_p[1] = {2};
    uint16_t in, t1, t2, r, s, pd, a, c, out;
    uint32_t i;
    pad_p[10] = mb_f32_bits(0.0f);
    if (what == P_PERM) perm2[1] = 1;      /* not a permutation */
    if (what == P_PAD) pad_p[0] = 2;       /* output dims no longer input + pads */
    if (what == P_CONCAT) concat_p[0] = 1; /* axis lengths do not add up */
    if (what == P_AVG) avg_p[10] = 2;      /* count_include_pad not 0/1 */
    mb_init(&ob);
    in = mb_tensor_act(&ob, ECNN_KIND_INPUT, 0, 3, d_in);
    t1 = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 0, 3, d_t1);                       /* [0, 96) */
    t2 = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 128, 3, d_in);                     /* live until the CONCAT */
    r = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 0, 3, d_in);                        /* over t1 (dead) */
    s = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 0, 3, what == P_ADD ? d_t1 : d_in); /* in place over r */
    pd = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 256, 3, d_p);
    a = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 0, 3, d_in); /* over s (dead) */
    c = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 512, 3, d_c);
    out = mb_tensor_act(&ob, ECNN_KIND_OUTPUT, 0, 3, d_c);
    {
        const struct {
            uint16_t type;
            uint32_t ni;
            uint16_t inputs[2], output;
            uint32_t np;
            const uint32_t *params;
        } ops[] = {
            {ECNN_OP_TRANSPOSE, 1, {in}, t1, 5, perm1},   {ECNN_OP_TRANSPOSE, 1, {t1}, t2, 5, perm2},
            {ECNN_OP_ACTIVATION, 1, {t2}, r, 3, relu_p},  {ECNN_OP_ADD, 2, {r, t2}, s, 3, none_p},
            {ECNN_OP_PAD, 1, {s}, pd, 11, pad_p},         {ECNN_OP_AVG_POOL_2D, 1, {pd}, a, 11, avg_p},
            {ECNN_OP_CONCAT, 2, {a, t2}, c, 1, concat_p}, {ECNN_OP_MUL, 2, {c, c}, out, 3, relu_p},
        };
        for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
            mb_op_add(&ob, ops[i].type, ops[i].ni, ops[i].inputs, 1, &ops[i].output, ops[i].np, ops[i].params);
    }
    *file = ops_file_u.b + ((64 - (uintptr_t)ops_file_u.b % 64) % 64);
    return mb_write(&ob, *file);
}

static void test_residual_model_runs(void)
{
    uint8_t *file, *arena = ops_arena_u.b + ((64 - (uintptr_t)ops_arena_u.b % 64) % 64);
    const uint32_t size = build_residual(-1, &file);
    ecnn_model m;
    size_t need;
    uint32_t s, h, w, c;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    if (m.err_detail && m.err_detail[0]) fprintf(stderr, "init: %s (op %d)\n", m.err_detail, m.err_op);
    CHECK_STATUS(ecnn_arena_size(&m, 2, &need), ECNN_OK);
    CHECK(need <= 8192);
    for (s = 0; s < 48; s++) ops_in[s] = orand() * 3.0f;
    CHECK_STATUS(ecnn_run(&m, 2, ops_in, sizeof ops_in, ops_out, sizeof ops_out, arena, need), ECNN_OK);
    for (s = 0; s < 2; s++) {
        const float *x = ops_in + s * 24;
        const float *y = ops_out + s * 48;
        float sres[4 * 3 * 2], padded[5 * 4 * 2];
        for (c = 0; c < 24; c++) sres[c] = (x[c] > 0.0f ? x[c] : 0.0f) + x[c];
        for (c = 0; c < 40; c++) padded[c] = 0.0f;
        for (h = 0; h < 4; h++)
            for (w = 0; w < 3; w++)
                for (c = 0; c < 2; c++) padded[((h + 1) * 4 + w + 1) * 2 + c] = sres[(h * 3 + w) * 2 + c];
        for (h = 0; h < 4; h++)
            for (w = 0; w < 3; w++)
                for (c = 0; c < 4; c++) {
                    float v;
                    if (c < 2) {
                        v = padded[(h * 4 + w) * 2 + c] + padded[(h * 4 + w + 1) * 2 + c];
                        v += padded[((h + 1) * 4 + w) * 2 + c];
                        v += padded[((h + 1) * 4 + w + 1) * 2 + c];
                        v = v / 4.0f; /* count_include_pad: every position is inside the padded area */
                    } else {
                        v = x[(h * 3 + w) * 2 + c - 2];
                    }
                    v = v * v;
                    CHECK(y[(h * 3 + w) * 4 + c] == v);
                }
    }
}

static void test_residual_model_refusals(void)
{
    static const struct {
        int what;
        const char *detail;
    } cases[] = {
        {P_PERM, "TRANSPOSE perm is not a permutation of the axes"},
        {P_PAD, "PAD output dims are not input dims + pads"},
        {P_CONCAT, "CONCAT input dims differ from the output's off the axis"},
        {P_AVG, "AVG_POOL_2D count_include_pad is not 0 or 1"},
        {P_ADD, "ADD/MUL output is not A's shape, or B is neither A's shape nor [1,...,1,C]"},
    };
    uint32_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *file;
        const uint32_t size = build_residual(cases[i].what, &file);
        ecnn_model m;
        const ecnn_status st = ecnn_model_init(&m, file, size);
        CHECK_STATUS(st, ECNN_E_CORRUPT);
        if (strcmp(ecnn_model_error(&m, NULL, NULL), cases[i].detail) != 0) {
            fprintf(stderr, "case %u: got \"%s\", want \"%s\"\n", i, ecnn_model_error(&m, NULL, NULL), cases[i].detail);
            CHECK(0);
        }
    }
}

/* input [3,2,4] -> relu r -> global AVG_POOL_2D g [1,1,4] -> MUL(r, g) broadcast per channel.
 * bad_b: g is [1,2,4] (a 1x2 pool): B broadcast along two axes, refused. */
static void test_broadcast_mul_model(void)
{
    static const uint32_t d_in[3] = {3, 2, 4}, d_g[3] = {1, 1, 4}, d_g2[3] = {1, 2, 4};
    uint32_t gap[11] = {3, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0}, gap2[11] = {3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0};
    const uint32_t relu_p[3] = {ECNN_ACT_RELU, 0, 0}, none_p[3] = {0, 0, 0};
    uint8_t *arena = ops_arena_u.b + ((64 - (uintptr_t)ops_arena_u.b % 64) % 64);
    int bad_b;
    for (bad_b = 0; bad_b < 2; bad_b++) {
        uint16_t in, r, g, out, i1[2], o1[1];
        uint8_t *file = ops_file_u.b + ((64 - (uintptr_t)ops_file_u.b % 64) % 64);
        uint32_t size, i, s;
        ecnn_model m;
        mb_init(&ob);
        in = mb_tensor_act(&ob, ECNN_KIND_INPUT, 0, 3, d_in);
        r = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 0, 3, d_in);
        g = mb_tensor_act(&ob, ECNN_KIND_ACTIVATION, 128, 3, bad_b ? d_g2 : d_g);
        out = mb_tensor_act(&ob, ECNN_KIND_OUTPUT, 0, 3, d_in);
        i1[0] = in, o1[0] = r;
        mb_op_add(&ob, ECNN_OP_ACTIVATION, 1, i1, 1, o1, 3, relu_p);
        i1[0] = r, o1[0] = g;
        mb_op_add(&ob, ECNN_OP_AVG_POOL_2D, 1, i1, 1, o1, 11, bad_b ? gap2 : gap);
        i1[0] = r, i1[1] = g, o1[0] = out;
        mb_op_add(&ob, ECNN_OP_MUL, 2, i1, 1, o1, 3, none_p);
        size = mb_write(&ob, file);
        if (bad_b) {
            CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
            CHECK(strstr(ecnn_model_error(&m, NULL, NULL), "nor [1,...,1,C]") != NULL);
            continue;
        }
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
        for (i = 0; i < 48; i++) ops_in[i] = orand();
        CHECK_STATUS(ecnn_run(&m, 2, ops_in, 2 * 24 * 4, ops_out, 2 * 24 * 4, arena, 2 * 256), ECNN_OK);
        for (s = 0; s < 2; s++) {
            for (i = 0; i < 24; i++) {
                const float *x = ops_in + s * 24;
                float mean = 0.0f, v = x[i] > 0.0f ? x[i] : 0.0f;
                uint32_t j;
                for (j = i % 4; j < 24; j += 4) mean += x[j] > 0.0f ? x[j] : 0.0f; /* (h, w) order */
                mean = mean / 6.0f;
                CHECK(ops_out[s * 24 + i] == v * mean);
            }
        }
    }
}

/* input [4,3] -> CHANNEL_ARITH mul_add_relu (K, B [3]) -> output: x * K, rounded, + B, rounded,
 * then Relu; and the records the loader refuses, each with its message. */
static void test_channel_mul_add_model(void)
{
    static const uint32_t d_x[2] = {4, 3}, d_k[1] = {3}, d_b2[1] = {2};
    static const float k[3] = {0.5f, -3.0f, 1.25f}, b[3] = {-0.75f, 0.5f, 2.0f};
    static const struct {
        uint32_t func, const_first, inputs, short_b;
        const char *detail; /* NULL: loads and runs */
    } cases[] = {
        {ECNN_ARITH_MUL_ADD_RELU, 0, 3, 0, NULL},
        {7, 0, 3, 0, "CHANNEL_ARITH func not 1..6 or const_first not 0/1"},
        {ECNN_ARITH_MUL_ADD, 0, 2, 0, "CHANNEL_ARITH mul_add needs 3 inputs (X, K, B), 1 output and const_first 0"},
        {ECNN_ARITH_MUL_ADD, 1, 3, 0, "CHANNEL_ARITH mul_add needs 3 inputs (X, K, B), 1 output and const_first 0"},
        {ECNN_ARITH_MUL_ADD, 0, 3, 1, "CHANNEL_ARITH B is not of K's shape"},
    };
    uint8_t *arena = ops_arena_u.b + ((64 - (uintptr_t)ops_arena_u.b % 64) % 64);
    uint32_t n, i;
    for (n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        uint8_t *file = ops_file_u.b + ((64 - (uintptr_t)ops_file_u.b % 64) % 64);
        const uint32_t params[2] = {cases[n].func, cases[n].const_first};
        uint16_t ins[3], out;
        ecnn_model m;
        uint32_t size;
        mb_init(&ob);
        ins[0] = mb_tensor_act(&ob, ECNN_KIND_INPUT, 0, 2, d_x);
        ins[1] = mb_tensor_const(&ob, 1, d_k, k);
        ins[2] = cases[n].short_b ? mb_tensor_const(&ob, 1, d_b2, b) : mb_tensor_const(&ob, 1, d_k, b);
        out = mb_tensor_act(&ob, ECNN_KIND_OUTPUT, 0, 2, d_x);
        mb_op_add(&ob, ECNN_OP_CHANNEL_ARITH, cases[n].inputs, ins, 1, &out, 2, params);
        size = mb_write(&ob, file);
        if (cases[n].detail != NULL) {
            CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
            CHECK(strcmp(ecnn_model_error(&m, NULL, NULL), cases[n].detail) == 0);
            continue;
        }
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
        for (i = 0; i < 24; i++) ops_in[i] = orand() * 4.0f;
        CHECK_STATUS(ecnn_run(&m, 2, ops_in, 24 * 4, ops_out, 24 * 4, arena, 2 * 256), ECNN_OK);
        for (i = 0; i < 24; i++) {
            const float p = ops_in[i] * k[i % 3], v = p + b[i % 3];
            CHECK(ops_out[i] == (v > 0.0f ? v : 0.0f));
        }
    }
}

void run_ops_f32_tests(void)
{
    RUN_TEST(test_transpose_kernel);
    RUN_TEST(test_pad_kernel);
    RUN_TEST(test_concat_kernel);
    RUN_TEST(test_avgpool_kernel);
    RUN_TEST(test_binary_and_new_activations);
    RUN_TEST(test_residual_model_runs);
    RUN_TEST(test_residual_model_refusals);
    RUN_TEST(test_broadcast_mul_model);
    RUN_TEST(test_channel_mul_add_model);
    RUN_TEST(test_depthwise_kernel_matches_reference);
}

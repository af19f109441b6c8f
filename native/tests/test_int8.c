/* C tests of the int8 reference kernels (kernels_ref_i8.c): rounding ties to even,
 * saturation at both ends, zero points, per-channel scales, padding, uint8 and int8.
 * Expected values are worked out by hand in the comments; the Python tests
 * (tests/export/test_int8_ops.py) compare the same kernels with onnxruntime bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "kernels/kernels_i8.h"

int harness_checks_failed = 0;
int harness_tests_passed = 0;
int harness_tests_failed = 0;

static const float ONE = 1.0f;
static const int32_t ZERO = 0;

/* x_scale * w_scale / y_scale = 1/16: acc / 16 lands on .5 when acc = 16k + 8. */
static ecnn_qlinear_params sixteenth(ecnn_qtype y_type, int32_t zy)
{
    static const float w_scale = 0.25f;
    ecnn_qlinear_params q;
    memset(&q, 0, sizeof q);
    q.x_type = ECNN_Q_I8;
    q.w_type = ECNN_Q_I8;
    q.y_type = y_type;
    q.x_scale = 0.25f;
    q.w_scales = &w_scale;
    q.w_zero_points = &ZERO;
    q.w_count = 1;
    q.y_scale = 1.0f;
    q.y_zero_point = zy;
    q.y_min = ecnn_qtype_min(y_type);
    q.y_max = ecnn_qtype_max(y_type);
    return q;
}

static void test_requantize_ties_to_even(void)
{
    ecnn_qlinear_params q = sixteenth(ECNN_Q_I8, 0);
    const float s = ecnn_requant_scale(&q, 0);
    CHECK(s == 0.0625f);
    CHECK(ecnn_requantize(8, s, &q) == 0);    /* 0.5 -> 0 */
    CHECK(ecnn_requantize(24, s, &q) == 2);   /* 1.5 -> 2 */
    CHECK(ecnn_requantize(40, s, &q) == 2);   /* 2.5 -> 2 */
    CHECK(ecnn_requantize(-8, s, &q) == 0);   /* -0.5 -> 0 */
    CHECK(ecnn_requantize(-24, s, &q) == -2); /* -1.5 -> -2 */
    CHECK(ecnn_requantize(-40, s, &q) == -2); /* -2.5 -> -2 */
    CHECK(ecnn_requantize(25, s, &q) == 2);   /* 1.5625 -> 2 */
    q.y_zero_point = 3;                       /* rounding happens before the zero point is added */
    CHECK(ecnn_requantize(40, s, &q) == 5);   /* 2.5 -> 2, + 3 */
}

static void test_requantize_saturates_and_relu(void)
{
    ecnn_qlinear_params q = sixteenth(ECNN_Q_I8, -10);
    const float s = ecnn_requant_scale(&q, 0);
    CHECK(ecnn_requantize(100000, s, &q) == 127);
    CHECK(ecnn_requantize(-100000, s, &q) == -128);
    CHECK(ecnn_requantize(2147483647, s, &q) == 127);
    q = sixteenth(ECNN_Q_U8, 200);
    CHECK(ecnn_requantize(100000, s, &q) == 255);
    CHECK(ecnn_requantize(-100000, s, &q) == 0);
    CHECK(ecnn_requantize(-160, s, &q) == 190);
    q.y_min = q.y_zero_point; /* a fused Relu: nothing below the zero point (real 0) */
    CHECK(ecnn_requantize(-160, s, &q) == 200);
    CHECK(ecnn_requantize(160, s, &q) == 210);
}

static void test_quantize_and_dequantize(void)
{
    const float x[] = {0.125f, 0.375f, -0.125f, -0.375f, 1000.0f, -1000.0f, INFINITY, -INFINITY, NAN, 0.3f};
    int8_t y[10];
    uint8_t u[10];
    float back[10];
    /* scale 0.25: x / scale = 0.5, 1.5, -0.5, -1.5 -> 0, 2, 0, -2; 0.3 / 0.25 = 1.2 -> 1 */
    ecnn_quantize_ref(y, x, 10, 0.25f, 5, ECNN_Q_I8);
    CHECK(y[0] == 5 && y[1] == 7 && y[2] == 5 && y[3] == 3);
    CHECK(y[4] == 127 && y[5] == -128 && y[6] == 127 && y[7] == -128);
    CHECK(y[8] == -128); /* NaN -> the minimum, as onnxruntime's SSE/NEON QuantizeLinear */
    CHECK(y[9] == 6);
    ecnn_quantize_ref(u, x, 10, 0.25f, 128, ECNN_Q_U8);
    CHECK(u[0] == 128 && u[1] == 130 && u[3] == 126 && u[4] == 255 && u[5] == 0 && u[8] == 0);
    ecnn_dequantize_ref(back, y, 4, 0.25f, 5, ECNN_Q_I8);
    CHECK(back[0] == 0.0f && back[1] == 0.5f && back[3] == -0.5f);
    ecnn_dequantize_ref(back, u, 2, 0.5f, 128, ECNN_Q_U8);
    CHECK(back[0] == 0.0f && back[1] == 1.0f);
}

static void test_fully_connected_per_channel(void)
{
    /* x = [3, 5] with zx = 1 -> centred [2, 4]; w rows [1, 2] and [-3, 1] (zw 0).
     * acc0 = 2 + 8 + b0(4) = 14, acc1 = -6 + 4 + b1(-1) = -3.
     * scales: (0.5 * 0.25) / 0.125 = 1 and (0.5 * 1.0) / 0.125 = 4 -> 14 and -12, + zy 2. */
    const int8_t x[2] = {3, 5};
    const int8_t w[4] = {1, 2, -3, 1};
    const int32_t b[2] = {4, -1};
    const float ws[2] = {0.25f, 1.0f};
    const int32_t wz[2] = {0, 0};
    int8_t y[2];
    ecnn_qlinear_params q;
    memset(&q, 0, sizeof q);
    q.x_type = q.w_type = q.y_type = ECNN_Q_I8;
    q.x_scale = 0.5f;
    q.x_zero_point = 1;
    q.w_scales = ws;
    q.w_zero_points = wz;
    q.w_count = 2;
    q.y_scale = 0.125f;
    q.y_zero_point = 2;
    q.y_min = -128;
    q.y_max = 127;
    ecnn_fully_connected_q_ref(y, x, w, b, 1, 2, 2, &(ecnn_tile){0, 1, 0, 2}, &q);
    CHECK(y[0] == 16 && y[1] == -10);
    ecnn_fully_connected_q_ref(y, x, w, NULL, 1, 2, 2, &(ecnn_tile){0, 1, 0, 2}, &q); /* no bias: 10 and -2 * 4 */
    CHECK(y[0] == 12 && y[1] == -6);
}

static void test_conv_padding_is_a_real_zero(void)
{
    /* uint8 input 2x2x1, zx = 10: centred [[1, 2], [3, 4]]; one 3x3 kernel of ones, pad 1:
     * every output sums the centred values its window covers (padding contributes 0).
     * Output scale 1 (1 * 1 / 1), zy = 0: [[10, 10], [10, 10]] since each window covers all four. */
    const uint8_t x[4] = {11, 12, 13, 14};
    int8_t w[9];
    uint8_t y[4];
    ecnn_conv2d_args p;
    ecnn_qlinear_params q;
    int i;
    for (i = 0; i < 9; i++) w[i] = 1;
    memset(&p, 0, sizeof p);
    p.h = p.w = 2;
    p.c = p.o = 1;
    p.oh = p.ow = 2;
    p.kh = p.kw = 3;
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_left = 1;
    p.dilation_h = p.dilation_w = 1;
    p.group = 1;
    memset(&q, 0, sizeof q);
    q.x_type = ECNN_Q_U8;
    q.w_type = ECNN_Q_I8;
    q.y_type = ECNN_Q_U8;
    q.x_scale = 1.0f;
    q.x_zero_point = 10;
    q.w_scales = &ONE;
    q.w_zero_points = &ZERO;
    q.w_count = 1;
    q.y_scale = 1.0f;
    q.y_min = 0;
    q.y_max = 255;
    ecnn_conv2d_q_ref(y, x, w, NULL, 1, &(ecnn_tile){0, p.oh, 0, p.o}, &p, &q);
    CHECK(y[0] == 10 && y[1] == 10 && y[2] == 10 && y[3] == 10);
    p.pad_top = p.pad_left = 0; /* a 1x1 output needs a 2x2 kernel without padding */
    p.kh = p.kw = 2;
    p.oh = p.ow = 1;
    ecnn_conv2d_q_ref(y, x, w, NULL, 1, &(ecnn_tile){0, p.oh, 0, p.o}, &p, &q);
    CHECK(y[0] == 10);
}

/* One-channel pooling of an h x w map to oh x ow with a kh x kw window: stride and dilation 1,
 * no padding (a test sets the rest). */
static ecnn_pool2d_args pool_args(uint32_t h, uint32_t w, uint32_t oh, uint32_t ow, uint32_t kh, uint32_t kw)
{
    ecnn_pool2d_args p;
    memset(&p, 0, sizeof p);
    p.h = h;
    p.w = w;
    p.c = 1;
    p.oh = oh;
    p.ow = ow;
    p.kh = kh;
    p.kw = kw;
    p.stride_h = p.stride_w = 1;
    p.dilation_h = p.dilation_w = 1;
    return p;
}

static void test_maxpool_int8_and_uint8(void)
{
    const int8_t xi[4] = {-128, -5, -7, -100};
    const uint8_t xu[4] = {0, 200, 255, 3};
    int8_t yi[1];
    uint8_t yu[1];
    const ecnn_pool2d_args p = pool_args(2, 2, 1, 1, 2, 2);
    ecnn_maxpool2d_q_ref(yi, xi, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, ECNN_Q_I8);
    ecnn_maxpool2d_q_ref(yu, xu, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, ECNN_Q_U8);
    CHECK(yi[0] == -5);
    CHECK(yu[0] == 255);
}

/* ---- issue 6 ops ---------------------------------------------------------------------- */

static ecnn_qtensor qt(ecnn_qtype type, float scale, int32_t zero_point)
{
    ecnn_qtensor q;
    q.type = type;
    q.scale = scale;
    q.zero_point = zero_point;
    return q;
}

static void test_add_fused_multiply_add(void)
{
    /* A case onnxruntime 1.32 (x86 AVX2 QLinearAdd) answers 54: with fused multiply-adds the value
     * is exactly 54.5 (ties to even -> 54); rounding each product first gives 54.500008 -> 55. */
    const ecnn_qtensor qa = qt(ECNN_Q_U8, 0.0029244602f, 209), qb = qt(ECNN_Q_U8, 0.22788337f, 84);
    const ecnn_qtensor qy = qt(ECNN_Q_U8, 0.06259061f, 115);
    const uint8_t a[3] = {83, 255, 0}, b[3] = {69, 255, 0};
    uint8_t y[3];
    ecnn_add_q_ref(y, a, b, 1, 3, 3, 3, &qa, &qb, &qy);
    CHECK(y[0] == 54);
    CHECK(y[1] == 255); /* (255-209)*0.0029 + (255-84)*0.228 = 39.1 -> 115 + 625: saturates */
    CHECK(y[2] == 0);   /* -0.61 - 19.1 -> 115 - 315: saturates at 0 */
}

static void test_add_int8_in_place_and_zero_points(void)
{
    /* scales 1, 1 -> 1: y = (a - 3) + (b + 2) + zy, exact; in place over a */
    const ecnn_qtensor qa = qt(ECNN_Q_I8, 1.0f, 3), qb = qt(ECNN_Q_I8, 1.0f, -2), qy = qt(ECNN_Q_I8, 1.0f, -1);
    int8_t a[4] = {3, 10, -128, 127};
    const int8_t b[4] = {-2, 5, -128, 127};
    ecnn_add_q_ref(a, a, b, 1, 4, 4, 4, &qa, &qb, &qy);
    CHECK(a[0] == -1);   /* 0 + 0 - 1 */
    CHECK(a[1] == 13);   /* 7 + 7 - 1 */
    CHECK(a[2] == -128); /* -131 - 126 - 1: saturates */
    CHECK(a[3] == 127);  /* 124 + 129 - 1: saturates */
}

static void test_global_average_pool(void)
{
    /* 2x2 map, 1 channel: sum 10 - 4 * zx(2) = 2; scale 1 / (1 * 4) -> 0.5: a tie, to even 0, + zy 5 */
    const ecnn_qtensor qx = qt(ECNN_Q_U8, 1.0f, 2), qy = qt(ECNN_Q_U8, 1.0f, 5);
    const uint8_t x[4] = {1, 2, 3, 4};
    uint8_t y[1];
    const ecnn_pool2d_args p = pool_args(2, 2, 1, 1, 2, 2);
    ecnn_avgpool2d_q_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, &qx, &qy, 0);
    CHECK(y[0] == 5);
}

static void test_average_pool_window_and_count(void)
{
    /* 3x1 map, kernel 2x1, stride 2, pad bottom 1: windows {x0, x1} and {x2, pad}. */
    const ecnn_qtensor qx = qt(ECNN_Q_I8, 0.5f, 0), qy = qt(ECNN_Q_I8, 0.5f, -3);
    const int8_t x[3] = {4, 7, 9};
    int8_t y[2];
    ecnn_pool2d_args p = pool_args(3, 1, 2, 1, 2, 1);
    p.stride_h = 2;
    p.pad_bottom = 1;
    ecnn_avgpool2d_q_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, &qx, &qy, 0);
    CHECK(y[0] == 2); /* (2 + 3.5) / 2 = 2.75 -> / 0.5 = 5.5, + -3 = 2.5 -> 2 (even) */
    CHECK(y[1] == 6); /* 4.5 / 1 -> 9 - 3 = 6 */
    p.count_include_pad = 1;
    ecnn_avgpool2d_q_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, &qx, &qy, 0);
    CHECK(y[1] == 2); /* 4.5 / 2 = 2.25 -> 4.5 - 3 = 1.5 -> 2 (even) */
}

static void test_average_pool_uint8_rounding(void)
{
    /* v = (0.5 + 2^-20) * 1 / 1: as int8 (zy 0) 0.50000095 -> 1; as uint8 (zy 128) the sum
     * 128.50000095 rounds to 128.5 in f32 -> 128 (even) -> 0. Kernel 1x1 on a 2x1 map. */
    const ecnn_qtensor qx = qt(ECNN_Q_I8, 0.50000095367431640625f, 0), qy = qt(ECNN_Q_I8, 1.0f, 0);
    const int8_t x[2] = {1, 1};
    int8_t y[2];
    const ecnn_pool2d_args p = pool_args(2, 1, 2, 1, 1, 1);
    ecnn_avgpool2d_q_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, &qx, &qy, 0);
    CHECK(y[0] == 1 && y[1] == 1);
    ecnn_avgpool2d_q_ref(y, x, 1, &(ecnn_tile){0, p.oh, 0, p.c}, &p, &qx, &qy, 1);
    CHECK(y[0] == 0 && y[1] == 0);
}

static void test_sigmoid_table(void)
{
    const ecnn_qtensor qx = qt(ECNN_Q_I8, 0.1f, 0), qy = qt(ECNN_Q_I8, 1.0f / 256.0f, -128);
    const int8_t x[3] = {0, 127, -128};
    int8_t y[3];
    ecnn_act_params act;
    float v;
    memset(&act, 0, sizeof act);
    act.act = 4;
    CHECK(ecnn_logistic_mlas(0.0f) == 0.5f);
    for (v = -20.0f; v <= 20.0f; v += 0.25f) CHECK(fabsf(ecnn_logistic_mlas(v) - 1.0f / (1.0f + expf(-v))) < 1e-6f);
    ecnn_activation_q_ref(y, x, 3, &act, &qx, &qy);
    CHECK(y[0] == 0);    /* 0.5 * 256 - 128 */
    CHECK(y[1] == 127);  /* sigmoid(12.7) * 256 = 255.999...: saturates */
    CHECK(y[2] == -128); /* sigmoid(-12.8) * 256 = 0.0007 -> 0 - 128 */
}

static void test_requantize_copy_and_convert(void)
{
    const ecnn_qtensor same = qt(ECNN_Q_U8, 0.5f, 10), other = qt(ECNN_Q_U8, 1.0f, 0);
    const uint8_t x[3] = {10, 13, 255};
    uint8_t y[3];
    ecnn_requantize_q_ref(y, x, 3, &same, &same);
    CHECK(y[0] == 10 && y[1] == 13 && y[2] == 255);
    ecnn_requantize_q_ref(y, x, 3, &same, &other);
    CHECK(y[0] == 0);   /* 0 */
    CHECK(y[1] == 2);   /* 1.5 -> 2 (even) */
    CHECK(y[2] == 122); /* 122.5 -> 122 (even) */
}

int main(void)
{
    RUN_TEST(test_requantize_ties_to_even);
    RUN_TEST(test_requantize_saturates_and_relu);
    RUN_TEST(test_quantize_and_dequantize);
    RUN_TEST(test_fully_connected_per_channel);
    RUN_TEST(test_conv_padding_is_a_real_zero);
    RUN_TEST(test_maxpool_int8_and_uint8);
    RUN_TEST(test_add_fused_multiply_add);
    RUN_TEST(test_add_int8_in_place_and_zero_points);
    RUN_TEST(test_global_average_pool);
    RUN_TEST(test_average_pool_window_and_count);
    RUN_TEST(test_average_pool_uint8_rounding);
    RUN_TEST(test_sigmoid_table);
    RUN_TEST(test_requantize_copy_and_convert);
    printf("int8 kernels: %d passed, %d failed\n", harness_tests_passed, harness_tests_failed);
    return harness_tests_failed != 0;
}

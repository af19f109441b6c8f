/* C unit tests of the edgecnn library: loading, validation of damaged files, the
 * arena plan checks, run-argument checks, the ISA level choice, and kernels against naive
 * loops. Numerics against onnxruntime are tested from Python (tests/native/test_native_kernels.py). */
#define _POSIX_C_SOURCE 200112L /* setenv, for EDGECNN_ISA */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "kernels/kernels.h"
#include "edgecnn.h"
#include "harness.h"
#include "model_builder.h"

int harness_checks_failed = 0;
int harness_tests_passed = 0;
int harness_tests_failed = 0;

static model_builder builder;
/* 64-byte aligned file and arena storage (C99 has no aligned_alloc: use unions of wide types). */
static union {
    uint8_t b[MB_MAX_FILE + 64];
    double align_;
} file_store_u;
#define file_store (file_store_u.b)

static uint8_t *aligned64(uint8_t *p)
{
    return p + ((64 - (uintptr_t)p % 64) % 64);
}

static uint32_t rng_state = 12345u;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xFFFFu) / 32768.0f - 1.0f;
}

/* ---- the small test model ---------------------------------------------------------- */
/* input [5,5,2] -> CONV_2D 3@3x3 pad 1, LeakyRelu 0.1 -> [5,5,3] -> MAX_POOL_2D 2x2/2 -> [2,2,3]
 * -> RESHAPE [12] -> FULLY_CONNECTED 4 + Relu -> FULLY_CONNECTED 3 (no bias) -> SOFTMAX -> [3] */
enum { H = 5, W = 5, C = 2, O1 = 3, PH = 2, PW = 2, F2 = 4, F3 = 3 };
static float w1[O1 * 3 * 3 * C], b1[O1], w2[F2 * PH * PW * O1], b2[F2], w3[F3 * F2];
/* Arena offsets of the activations, per sample; tests edit them to break the plan. */
static uint32_t off_conv = 0, off_pool = 320, off_fc1 = 0, off_fc2 = 64;
static uint32_t k_slice = 4; /* CONV_2D_SLICED's 13th parameter when the conv is one */

static uint8_t *build_small_model(uint32_t *size, uint16_t conv_op_type)
{
    const uint32_t d_in[3] = {H, W, C}, d_w1[4] = {O1, 3, 3, C}, d_b1[1] = {O1}, d_a1[3] = {H, W, O1};
    const uint32_t d_a2[3] = {PH, PW, O1}, d_a3[1] = {PH * PW * O1}, d_w2[2] = {F2, PH * PW * O1};
    const uint32_t d_b2[1] = {F2}, d_a4[1] = {F2}, d_w3[2] = {F3, F2}, d_a5[1] = {F3}, d_out[1] = {F3};
    uint16_t in, tw1, tb1, a1, a2, a3, tw2, tb2, a4, tw3, a5, out;
    uint32_t conv_p[13] = {1, 1, 1, 1, 1, 1, 1, 1, 1, ECNN_ACT_LEAKY_RELU, 0, 0, 0};
    const uint32_t pool_p[10] = {2, 2, 2, 2, 0, 0, 0, 0, 1, 1};
    const uint32_t relu_p[3] = {ECNN_ACT_RELU, 0, 0}, none_p[3] = {0, 0, 0};
    uint8_t *file = aligned64(file_store);
    conv_p[10] = mb_f32_bits(0.1f);
    conv_p[12] = k_slice;
    mb_init(&builder);
    in = mb_tensor_act(&builder, ECNN_KIND_INPUT, 0, 3, d_in);
    tw1 = mb_tensor_const(&builder, 4, d_w1, w1);
    tb1 = mb_tensor_const(&builder, 1, d_b1, b1);
    a1 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, off_conv, 3, d_a1);
    a2 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, off_pool, 3, d_a2);
    a3 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, off_pool, 1, d_a3);
    tw2 = mb_tensor_const(&builder, 2, d_w2, w2);
    tb2 = mb_tensor_const(&builder, 1, d_b2, b2);
    a4 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, off_fc1, 1, d_a4);
    tw3 = mb_tensor_const(&builder, 2, d_w3, w3);
    a5 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, off_fc2, 1, d_a5);
    out = mb_tensor_act(&builder, ECNN_KIND_OUTPUT, 0, 1, d_out);
    mb_op_linear(&builder, conv_op_type, in, tw1, tb1, a1, conv_op_type == ECNN_OP_CONV_2D_SLICED ? 13 : 12, conv_p);
    mb_op_1to1(&builder, ECNN_OP_MAX_POOL_2D, a1, a2, 10, pool_p);
    mb_op_1to1(&builder, ECNN_OP_RESHAPE, a2, a3, 0, NULL);
    mb_op_linear(&builder, ECNN_OP_FULLY_CONNECTED, a3, tw2, tb2, a4, 3, relu_p);
    mb_op_linear(&builder, ECNN_OP_FULLY_CONNECTED, a4, tw3, ECNN_NO_TENSOR, a5, 3, none_p);
    mb_op_1to1(&builder, ECNN_OP_SOFTMAX, a5, out, 0, NULL);
    *size = mb_write(&builder, file);
    return file;
}

static void init_weights(void)
{
    size_t i;
    for (i = 0; i < sizeof w1 / sizeof *w1; i++) w1[i] = frand();
    for (i = 0; i < sizeof b1 / sizeof *b1; i++) b1[i] = frand();
    for (i = 0; i < sizeof w2 / sizeof *w2; i++) w2[i] = frand();
    for (i = 0; i < sizeof b2 / sizeof *b2; i++) b2[i] = frand();
    for (i = 0; i < sizeof w3 / sizeof *w3; i++) w3[i] = frand();
}

/* The same network as naive double-precision loops, written independently of the kernels. */
static void naive_forward(double *probs, const float *x)
{
    double a1[H][W][O1], a2[PH][PW][O1], a4[F2], a5[F3], mx, sum;
    int y, xx, o, ky, kx, c, j, k;
    for (y = 0; y < H; y++)
        for (xx = 0; xx < W; xx++)
            for (o = 0; o < O1; o++) {
                double acc = b1[o];
                for (ky = 0; ky < 3; ky++)
                    for (kx = 0; kx < 3; kx++)
                        for (c = 0; c < C; c++) {
                            const int iy = y - 1 + ky, ix = xx - 1 + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            acc += (double)x[(iy * W + ix) * C + c] * w1[((o * 3 + ky) * 3 + kx) * C + c];
                        }
                a1[y][xx][o] = acc < 0 ? 0.1 * acc : acc;
            }
    for (y = 0; y < PH; y++)
        for (xx = 0; xx < PW; xx++)
            for (o = 0; o < O1; o++) {
                double m = a1[2 * y][2 * xx][o];
                for (ky = 0; ky < 2; ky++)
                    for (kx = 0; kx < 2; kx++)
                        if (a1[2 * y + ky][2 * xx + kx][o] > m) m = a1[2 * y + ky][2 * xx + kx][o];
                a2[y][xx][o] = m;
            }
    for (j = 0; j < F2; j++) {
        double acc = b2[j];
        for (k = 0; k < PH * PW * O1; k++) acc += (&a2[0][0][0])[k] * w2[j * PH * PW * O1 + k];
        a4[j] = acc > 0 ? acc : 0;
    }
    for (j = 0; j < F3; j++) {
        double acc = 0;
        for (k = 0; k < F2; k++) acc += a4[k] * w3[j * F2 + k];
        a5[j] = acc;
    }
    mx = a5[0];
    for (j = 1; j < F3; j++) mx = a5[j] > mx ? a5[j] : mx;
    sum = 0;
    for (j = 0; j < F3; j++) sum += exp(a5[j] - mx);
    for (j = 0; j < F3; j++) probs[j] = exp(a5[j] - mx) / sum;
}

static union {
    uint8_t b[(1 << 16) + 64];
    double align_;
} arena_store_u;

/* Runs the model on `batch` random samples and compares with the naive forward pass. */
static void run_and_compare(const ecnn_model *m, uint32_t batch, uint32_t arena_per_sample)
{
    float x[8 * H * W * C], y[8 * F3];
    double want[F3];
    size_t arena_bytes = 0;
    uint8_t *arena = aligned64(arena_store_u.b);
    uint32_t i, s;
    for (i = 0; i < batch * H * W * C; i++) x[i] = frand();
    CHECK_STATUS(ecnn_arena_size(m, batch, &arena_bytes), ECNN_OK);
    CHECK(arena_bytes == (size_t)batch * arena_per_sample);
    CHECK_STATUS(
        ecnn_run(m, batch, x, sizeof(float) * batch * H * W * C, y, sizeof(float) * batch * F3, arena, arena_bytes),
        ECNN_OK);
    for (s = 0; s < batch; s++) {
        naive_forward(want, x + s * H * W * C);
        for (i = 0; i < F3; i++) CHECK(fabs(y[s * F3 + i] - want[i]) < 1e-5);
    }
}

static void test_status_strings(void)
{
    int s;
    for (s = 1; s >= -15; s--) CHECK(ecnn_status_string((ecnn_status)s) != NULL);
    CHECK(strstr(ecnn_status_string(ECNN_E_ISA), "EDGECNN_ISA") != NULL);
    CHECK(strstr(ecnn_status_string(ECNN_E_VERSION), "recompile") != NULL);
    CHECK(strstr(ecnn_status_string(ECNN_E_BATCH), "batch") != NULL);
    CHECK(strstr(ecnn_status_string(ECNN_E_NONFINITE), "NaN") != NULL);
    CHECK(strcmp(ecnn_op_name(ECNN_OP_CONV_2D), "CONV_2D") == 0);
    CHECK(strcmp(ecnn_op_name(9999), "UNKNOWN") == 0);
    CHECK(strcmp(ecnn_version(), "0.1.0") == 0);
}

static void test_small_model_runs(void)
{
    uint32_t size;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    ecnn_model_info info;
    ecnn_op_info op;
    ecnn_tensor_info t;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK_STATUS(ecnn_model_get_info(&m, &info), ECNN_OK);
    CHECK(info.num_ops == 6 && info.num_tensors == 12 && info.arena_per_sample == 384);
    CHECK(info.weight_bytes == sizeof w1 + sizeof b1 + sizeof w2 + sizeof b2 + sizeof w3);
    CHECK(info.activation_bytes == 4 * (H * W * O1 + 2 * PH * PW * O1 + F2 + F3));
    CHECK_STATUS(ecnn_model_op(&m, 0, &op), ECNN_OK);
    CHECK(op.op_type == ECNN_OP_CONV_2D && op.macs_per_sample == (uint64_t)H * W * O1 * 9 * C);
    CHECK(op.weight_bytes == sizeof w1 + sizeof b1);
    CHECK_STATUS(ecnn_model_op(&m, 4, &op), ECNN_OK);
    CHECK(op.inputs[2] == ECNN_NO_TENSOR && op.macs_per_sample == F3 * F2);
    CHECK_STATUS(ecnn_model_op(&m, 6, &op), ECNN_E_ARG);
    CHECK_STATUS(ecnn_model_tensor(&m, info.input, &t), ECNN_OK);
    CHECK(t.kind == ECNN_KIND_INPUT && t.rank == 3 && t.dims[0] == H && t.dims[2] == C);
    run_and_compare(&m, 1, 384);
    run_and_compare(&m, 3, 384);
    run_and_compare(&m, 8, 384);
}

/* The conv as CONV_2D_SLICED (K = 18 in slices of 4): the same network, summed in another order;
 * a k_slice of 0 is refused at load. */
static void test_sliced_conv_model(void)
{
    uint32_t size;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D_SLICED);
    ecnn_model m;
    ecnn_op_info op;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK_STATUS(ecnn_model_op(&m, 0, &op), ECNN_OK);
    CHECK(op.op_type == ECNN_OP_CONV_2D_SLICED && op.macs_per_sample == (uint64_t)H * W * O1 * 9 * C);
    CHECK(strncmp(op.kernel, "conv2d_sliced_f32_", 18) == 0);
    run_and_compare(&m, 3, 384);
    k_slice = 0;
    file = build_small_model(&size, ECNN_OP_CONV_2D_SLICED);
    k_slice = 4;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
    CHECK(strstr(ecnn_model_error(&m, NULL, NULL), "CONV_2D_SLICED k_slice is 0") != NULL);
}

/* The level: the best the CPU runs, or EDGECNN_ISA's; an unknown or unsupported name is an error
 * of ecnn_model_init that says so. Each op names the kernel its eval runs. */
static void test_isa_choice(void)
{
    uint32_t size, i;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    const char *env = getenv("EDGECNN_ISA"), *name;
    char saved[64] = "";
    ecnn_model m;
    ecnn_op_info op;
    int runs, found = 0;
    if (env) strncpy(saved, env, sizeof saved - 1);
    CHECK(strcmp(ecnn_isa_level(0, &runs), "portable") == 0 && runs == 1);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    for (i = 0; (name = ecnn_isa_level(i, &runs)) != NULL; i++) found |= strcmp(name, ecnn_model_isa(&m)) == 0 && runs;
    CHECK(found);
    CHECK(strcmp(ecnn_model_isa(NULL), "") == 0);
    CHECK(setenv("EDGECNN_ISA", "portable", 1) == 0);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK(strcmp(ecnn_model_isa(&m), "portable") == 0);
    CHECK_STATUS(ecnn_model_op(&m, 0, &op), ECNN_OK);
    CHECK(strcmp(op.kernel, "conv2d_f32_ref") == 0); /* OHWI weights: the reference */
    CHECK_STATUS(ecnn_model_op(&m, 1, &op), ECNN_OK);
    CHECK(strcmp(op.kernel, "maxpool2d_portable") == 0);
    CHECK_STATUS(ecnn_model_op(&m, 5, &op), ECNN_OK);
    CHECK(strcmp(op.kernel, "softmax_f32_ref") == 0);
    run_and_compare(&m, 2, 384);
    CHECK(setenv("EDGECNN_ISA", "no-such-level", 1) == 0);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_ISA);
    CHECK(strstr(ecnn_model_error(&m, NULL, NULL), "not a level of this build (portable") != NULL);
    for (i = 0; (name = ecnn_isa_level(i, &runs)) != NULL; i++) {
        if (runs) continue;
        CHECK(setenv("EDGECNN_ISA", name, 1) == 0);
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_ISA);
        CHECK(strstr(ecnn_model_error(&m, NULL, NULL), "does not support") != NULL);
    }
    if (env)
        CHECK(setenv("EDGECNN_ISA", saved, 1) == 0);
    else
        CHECK(unsetenv("EDGECNN_ISA") == 0);
}

static void test_run_arguments(void)
{
    uint32_t size;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    float x[2 * H * W * C] = {0}, y[2 * F3];
    uint8_t *arena = aligned64(arena_store_u.b);
    size_t need = 0;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK_STATUS(ecnn_arena_size(&m, 0, &need), ECNN_E_ARG);
    CHECK_STATUS(ecnn_arena_size(&m, 2, &need), ECNN_OK);
    CHECK_STATUS(ecnn_run(&m, 0, x, 0, y, 0, arena, need), ECNN_E_ARG);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x - 4, y, sizeof y, arena, need), ECNN_E_SIZE);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x, y, sizeof y + 4, arena, need), ECNN_E_SIZE);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x, y, sizeof y, arena, need - 1), ECNN_E_ARENA);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x, y, sizeof y, arena + 4, need), ECNN_E_ALIGN);
    CHECK_STATUS(ecnn_run(&m, 2, NULL, sizeof x, y, sizeof y, arena, need), ECNN_E_ARG);
    /* With a 32-bit size_t (armv7) the byte count of 2^32-1 samples itself overflows. */
    CHECK_STATUS(ecnn_run(&m, 0xFFFFFFFFu, x, sizeof x, y, sizeof y, arena, need),
                 sizeof(size_t) < 8 ? ECNN_E_OVERFLOW : ECNN_E_SIZE);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x, y, sizeof y, arena, need), ECNN_OK);
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 6, 4, x, sizeof x, y, sizeof y, arena, need), ECNN_E_ARG); /* unknown flag */
    /* ECNN_RUN_FINITE_INPUT: a NaN or an infinity anywhere in the batch is refused before any op runs. */
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 6, ECNN_RUN_FINITE_INPUT, x, sizeof x, y, sizeof y, arena, need), ECNN_OK);
    x[2 * H * W * C - 1] = HUGE_VALF;
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 6, ECNN_RUN_FINITE_INPUT, x, sizeof x, y, sizeof y, arena, need),
                 ECNN_E_NONFINITE);
    x[2 * H * W * C - 1] = -HUGE_VALF;
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 0, ECNN_RUN_FINITE_INPUT, x, sizeof x, y, sizeof y, arena, need),
                 ECNN_E_NONFINITE);
    x[2 * H * W * C - 1] = 0.0f;
    x[H * W * C] = nanf("");
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 6, ECNN_RUN_FINITE_INPUT, x, sizeof x, y, sizeof y, arena, need),
                 ECNN_E_NONFINITE);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x, y, sizeof y, arena, need), ECNN_OK); /* unchecked: runs */
    x[H * W * C] = 3.4e38f;                                                        /* finite, however large */
    CHECK_STATUS(ecnn_run_ops(&m, 2, 0, 6, ECNN_RUN_FINITE_INPUT, x, sizeof x, y, sizeof y, arena, need), ECNN_OK);
    CHECK_STATUS(ecnn_model_init(NULL, file, size), ECNN_E_ARG);
    CHECK_STATUS(ecnn_model_init(&m, NULL, size), ECNN_E_ARG);
    CHECK_STATUS(ecnn_model_init(&m, file + 2, size), ECNN_E_ALIGN);
}

static void test_truncated_files(void)
{
    uint32_t size, len;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    for (len = 0; len < size; len++) {
        const ecnn_status st = ecnn_model_init(&m, file, len);
        CHECK(st == ECNN_E_TRUNCATED);
    }
    CHECK_STATUS(ecnn_model_init(&m, file, size + 100), ECNN_OK); /* longer buffer: fine */
}

/* Every single-bit flip anywhere is caught: by the magic, version, size or CRC checks. */
static void test_bit_flips(void)
{
    uint32_t size, pos, bit;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    for (pos = 0; pos < size; pos++) {
        for (bit = 0; bit < 8; bit += 3) {
            ecnn_status st;
            file[pos] ^= (uint8_t)(1u << bit);
            st = ecnn_model_init(&m, file, size);
            if (pos < 4)
                CHECK(st == ECNN_E_MAGIC);
            else if (pos < 8)
                CHECK(st == ECNN_E_VERSION);
            else
                CHECK(st == ECNN_E_CRC || st == ECNN_E_TRUNCATED || st == ECNN_E_CORRUPT);
            file[pos] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
}

static void test_wrong_version(void)
{
    uint32_t size;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    file[4] = 3;
    mb_fix_crc(file, size);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_VERSION);
    CHECK(m.version == 3);
    file[4] = 0;
    mb_fix_crc(file, size);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_VERSION);
    file[4] = 2; /* a version 1 layout (64-byte header) called version 2 */
    mb_fix_crc(file, size);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
}

/* Format version 2: the fixed batch is enforced, the metadata handed out; version 1 reads as any batch. */
static void test_version_2_batch_and_metadata(void)
{
    static const char meta[] = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,5,5,2],\"type\":\"tensor(float)\"}]}";
    uint32_t size, bytes = 1;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    ecnn_model m;
    ecnn_model_info info;
    const char *text = NULL;
    float x[3 * H * W * C] = {0}, y[3 * F3];
    uint8_t *arena = aligned64(arena_store_u.b);
    size_t need = 0;
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK_STATUS(ecnn_model_metadata(&m, &text, &bytes), ECNN_OK);
    CHECK(bytes == 0 && text != NULL && text[0] == 0);
    CHECK_STATUS(ecnn_model_get_info(&m, &info), ECNN_OK);
    CHECK(info.batch == 0 && info.version == 1);

    size = mb_to_version_2(file, 2, meta);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    CHECK_STATUS(ecnn_model_get_info(&m, &info), ECNN_OK);
    CHECK(info.batch == 2 && info.version == 2);
    CHECK_STATUS(ecnn_model_metadata(&m, &text, &bytes), ECNN_OK);
    CHECK(bytes == sizeof meta - 1 && memcmp(text, meta, bytes) == 0);
    CHECK_STATUS(ecnn_arena_size(&m, 3, &need), ECNN_OK);
    CHECK_STATUS(ecnn_run(&m, 3, x, sizeof x, y, sizeof y, arena, need), ECNN_E_BATCH);
    CHECK_STATUS(ecnn_run(&m, 1, x, sizeof x / 3, y, sizeof y / 3, arena, need), ECNN_E_BATCH);
    CHECK_STATUS(ecnn_run(&m, 2, x, sizeof x / 3 * 2, y, sizeof y / 3 * 2, arena, need), ECNN_OK);
    CHECK_STATUS(ecnn_model_metadata(NULL, &text, &bytes), ECNN_E_ARG);

    file[72] = 0xFF; /* metadata running into the weights */
    mb_fix_crc(file, size);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
    CHECK(strstr(ecnn_model_error(&m, NULL, NULL), "metadata") != NULL);
}

/* Overwrites a u32 field of tensor `t` (byte offset `field` in its record), fixes the CRC. */
static ecnn_status init_with_tensor_field(uint32_t t, uint32_t field, uint32_t value, ecnn_model *m)
{
    uint32_t size;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    uint8_t *p = file + 64 + 48 * t + field;
    p[0] = (uint8_t)value;
    p[1] = (uint8_t)(value >> 8);
    p[2] = (uint8_t)(value >> 16);
    p[3] = (uint8_t)(value >> 24);
    mb_fix_crc(file, size);
    return ecnn_model_init(m, file, size);
}

static void test_bad_offsets_and_shapes(void)
{
    ecnn_model m;
    int32_t op, tensor;
    /* constant W1 (tensor 1) offset past the data */
    CHECK_STATUS(init_with_tensor_field(1, 24, 0x10000, &m), ECNN_E_CORRUPT);
    ecnn_model_error(&m, &op, &tensor);
    CHECK(tensor == 1);
    /* misaligned constant offset */
    CHECK_STATUS(init_with_tensor_field(1, 24, 4, &m), ECNN_E_CORRUPT);
    /* activation beyond the arena */
    CHECK_STATUS(init_with_tensor_field(3, 24, 1 << 20, &m), ECNN_E_CORRUPT);
    /* size inconsistent with dims */
    CHECK_STATUS(init_with_tensor_field(3, 28, 4, &m), ECNN_E_CORRUPT);
    /* conv output height wrong (dims and size both changed consistently) */
    {
        uint32_t size;
        uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
        file[64 + 48 * 3 + 4] = 4;    /* a1 dims[0] 5 -> 4 */
        file[64 + 48 * 3 + 28] = 240; /* size 300 -> 240 (0x12C -> 0x0F0) */
        file[64 + 48 * 3 + 29] = 0;
        mb_fix_crc(file, size);
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
        ecnn_model_error(&m, &op, &tensor);
        CHECK(op == 0);
    }
    /* dtype i8 on a float op: a later build's kernel, not this one's */
    CHECK_STATUS(init_with_tensor_field(1, 0, ECNN_KIND_CONSTANT | (ECNN_DTYPE_I8 << 8) | (4u << 16), &m),
                 ECNN_E_CORRUPT); /* size no longer matches 1-byte elements */
    /* unknown op type */
    {
        uint32_t size;
        uint8_t *file = build_small_model(&size, 200);
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_UNSUPPORTED);
        CHECK(strstr(ecnn_model_error(&m, &op, NULL), "op type") != NULL && op == 0);
    }
    /* header field: data_offset not aligned */
    {
        uint32_t size;
        uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
        file[40] += 4;
        mb_fix_crc(file, size);
        CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
    }
}

static void test_arena_plan_checks(void)
{
    uint32_t size;
    uint8_t *file;
    ecnn_model m;
    /* fc1 output placed over the reshape output it reads: live at the same time */
    off_fc1 = 320;
    file = build_small_model(&size, ECNN_OP_CONV_2D);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
    CHECK(strstr(m.err_detail, "arena plan") != NULL);
    off_fc1 = 0;
    /* fc2 output over fc1's output it reads */
    off_fc2 = 0;
    file = build_small_model(&size, ECNN_OP_CONV_2D);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
    off_fc2 = 64;
    file = build_small_model(&size, ECNN_OP_CONV_2D);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
}

/* MAX_POOL_2D without top/left padding may write over its input: accepted and correct. */
static void test_inplace_maxpool(void)
{
    uint32_t size;
    uint8_t *file;
    ecnn_model m;
    ecnn_model_info info;
    off_pool = 0;
    off_fc1 = 64;
    off_fc2 = 128;
    file = build_small_model(&size, ECNN_OP_CONV_2D);
    CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
    ecnn_model_get_info(&m, &info);
    CHECK(info.arena_per_sample == 320);
    run_and_compare(&m, 1, 320);
    run_and_compare(&m, 5, 320);
    off_pool = 320;
    off_fc1 = 0;
    off_fc2 = 64;
}

/* In-place ACTIVATION: allowed when nothing reads the input afterwards, refused otherwise. */
static void test_inplace_activation(void)
{
    const uint32_t d[1] = {16};
    const uint32_t relu_p[3] = {ECNN_ACT_RELU, 0, 0}, leaky_p[3] = {ECNN_ACT_LEAKY_RELU, 0, 0};
    uint8_t *file = aligned64(file_store);
    uint8_t *arena = aligned64(arena_store_u.b);
    float x[16], y[16];
    uint32_t size, i;
    int reuse;
    ecnn_model m;
    for (reuse = 0; reuse < 2; reuse++) {
        uint16_t in, a, b2, out;
        mb_init(&builder);
        in = mb_tensor_act(&builder, ECNN_KIND_INPUT, 0, 1, d);
        a = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 0, 1, d);
        b2 = mb_tensor_act(&builder, ECNN_KIND_ACTIVATION, 0, 1, d); /* in place over a */
        out = mb_tensor_act(&builder, ECNN_KIND_OUTPUT, 0, 1, d);
        mb_op_1to1(&builder, ECNN_OP_ACTIVATION, in, a, 3, leaky_p);
        mb_op_1to1(&builder, ECNN_OP_ACTIVATION, a, b2, 3, relu_p);
        mb_op_1to1(&builder, ECNN_OP_RESHAPE, reuse ? a : b2, out, 0, NULL);
        size = mb_write(&builder, file);
        if (reuse) {
            CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_E_CORRUPT);
        } else {
            CHECK_STATUS(ecnn_model_init(&m, file, size), ECNN_OK);
            for (i = 0; i < 16; i++) x[i] = frand();
            CHECK_STATUS(ecnn_run(&m, 1, x, sizeof x, y, sizeof y, arena, 64), ECNN_OK);
            for (i = 0; i < 16; i++) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f)); /* leaky 0 then relu */
        }
    }
}

static void test_channel_arith_and_softmax_in_place(void)
{
    float x[2 * 3], y[2 * 3], k3[3] = {0.5f, -2.0f, 4.0f}, k1[1] = {3.0f};
    uint32_t func, first, i;
    for (func = ECNN_ARITH_ADD; func <= ECNN_ARITH_DIV; func++) {
        for (first = 0; first < 2; first++) {
            for (i = 0; i < 6; i++) x[i] = frand() + 2.0f;
            ecnn_channel_arith_f32_ref(y, x, k3, NULL, 3, 2, 3, func, first);
            for (i = 0; i < 6; i++) {
                const float a = first ? k3[i % 3] : x[i], b = first ? x[i] : k3[i % 3];
                const float want = func == 1 ? a + b : func == 2 ? a - b : func == 3 ? a * b : a / b;
                CHECK(y[i] == want);
            }
            ecnn_channel_arith_f32_ref(y, x, k1, NULL, 1, 2, 3, func, first); /* scalar constant, then in place */
            ecnn_channel_arith_f32_ref(x, x, k1, NULL, 1, 2, 3, func, first);
            for (i = 0; i < 6; i++) CHECK(x[i] == y[i]);
        }
    }
    for (func = ECNN_ARITH_MUL_ADD; func <= ECNN_ARITH_MUL_ADD_RELU; func++) { /* x * k, rounded, + b */
        const float b3[3] = {-1.0f, 0.125f, 3.0f};
        for (i = 0; i < 6; i++) x[i] = frand() * 4.0f - 2.0f;
        ecnn_channel_arith_f32_ref(y, x, k3, b3, 3, 2, 3, func, 0);
        for (i = 0; i < 6; i++) {
            const float p = x[i] * k3[i % 3], s = p + b3[i % 3];
            CHECK(y[i] == (func == ECNN_ARITH_MUL_ADD_RELU && !(s > 0.0f) ? 0.0f : s));
        }
        ecnn_channel_arith_f32_ref(x, x, k3, b3, 3, 2, 3, func, 0); /* in place */
        for (i = 0; i < 6; i++) CHECK(x[i] == y[i]);
    }
    for (i = 0; i < 6; i++) x[i] = frand() * 50.0f;
    ecnn_softmax_f32_ref(x, x, 2, 3);
    CHECK(fabsf(x[0] + x[1] + x[2] - 1.0f) < 1e-6f && fabsf(x[3] + x[4] + x[5] - 1.0f) < 1e-6f);
}

/* Structural fuzzing: change bytes of the header, tensor table and op list, fix the CRC so
 * the structural checks are what stands between the bytes and the kernels; init must
 * return a status and, if it accepts the file, running it must stay in bounds (ASan). */
static void test_fuzz_fields(void)
{
    static const uint8_t values[] = {0x00, 0x01, 0x02, 0x05, 0x40, 0x7F, 0x80, 0xFF};
    uint32_t size, pos, v, accepted = 0, total = 0;
    uint8_t *file = build_small_model(&size, ECNN_OP_CONV_2D);
    uint8_t *arena = aligned64(arena_store_u.b);
    const uint32_t data_offset = (uint32_t)file[40] | ((uint32_t)file[41] << 8);
    ecnn_model m;
    for (pos = 8; pos < data_offset; pos++) {
        const uint8_t orig = file[pos];
        for (v = 0; v < sizeof values; v++) {
            ecnn_status st;
            file[pos] = values[v];
            mb_fix_crc(file, size);
            st = ecnn_model_init(&m, file, size);
            total++;
            CHECK(st <= 0 && st >= ECNN_E_OVERFLOW);
            if (st == ECNN_OK) {
                ecnn_model_info info;
                ecnn_tensor_info ti, to;
                size_t need;
                static float x[4096], y[4096];
                accepted++;
                ecnn_model_get_info(&m, &info);
                ecnn_model_tensor(&m, info.input, &ti);
                ecnn_model_tensor(&m, info.output, &to);
                if (ecnn_arena_size(&m, 2, &need) == ECNN_OK && need <= sizeof arena_store_u.b - 64 &&
                    2u * ti.size <= sizeof x && 2u * to.size <= sizeof y)
                    CHECK_STATUS(ecnn_run(&m, 2, x, 2u * ti.size, y, 2u * to.size, arena, need), ECNN_OK);
            }
        }
        file[pos] = orig;
    }
    mb_fix_crc(file, size);
    printf("  fuzz: %u of %u edited files accepted and run\n", accepted, total);
}

void run_ops_f32_tests(void); /* test_ops_f32.c: the issue-6 ops */

int main(void)
{
    init_weights();
    RUN_TEST(test_status_strings);
    RUN_TEST(test_small_model_runs);
    RUN_TEST(test_isa_choice);
    RUN_TEST(test_run_arguments);
    RUN_TEST(test_truncated_files);
    RUN_TEST(test_bit_flips);
    RUN_TEST(test_wrong_version);
    RUN_TEST(test_version_2_batch_and_metadata);
    RUN_TEST(test_bad_offsets_and_shapes);
    RUN_TEST(test_arena_plan_checks);
    RUN_TEST(test_inplace_activation);
    RUN_TEST(test_inplace_maxpool);
    RUN_TEST(test_channel_arith_and_softmax_in_place);
    RUN_TEST(test_fuzz_fields);
    RUN_TEST(test_sliced_conv_model);
    run_ops_f32_tests();
    printf("%d passed, %d failed\n", harness_tests_passed, harness_tests_failed);
    return harness_tests_failed == 0 ? 0 : 1;
}

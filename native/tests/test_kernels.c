/* The fast kernels against their reference kernels, at every ISA level of this build that the
 * CPU runs (a level it cannot run is named "compiled, not run on this CPU"), over odd sizes
 * (not multiples of any vector width) and every quantization variant: float bit-identical (the
 * fast kernels keep the reference summation order), int8 bit-identical (exact int32 sums). Each
 * case runs the kernel the level's op config picks (src/ops) and the level's reference kernel
 * on both the plain and the packed weights. */
#include "test_kernels.h"

const ecnn_isa_info *isa;

int harness_checks_failed = 0;
int harness_tests_passed = 0;
int harness_tests_failed = 0;

static uint32_t rng = 2024u;
uint32_t next_u32(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
float frand(void)
{
    return (float)(next_u32() & 0xFFFFu) / 32768.0f - 1.0f;
} /* [-1, 1) */
int32_t irand(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next_u32() % (uint32_t)(hi - lo + 1));
}

/* The ops' split of a fused activation at the level under test (ecnn_act_after_take reads the
 * run's reference flag and its model's level only). */
static void split_act(const ecnn_act_params *act, ecnn_act_params *kernel_act, ecnn_act_after *after)
{
    static ecnn_model m;
    ecnn_run_ctx r;
    memset(&r, 0, sizeof r);
    m.isa = isa;
    r.m = &m;
    *kernel_act = *act;
    ecnn_act_after_take(&r, kernel_act, after);
    CHECK(ecnn_act_in_kernel(kernel_act->act));
}

void run_fc_f32_fast(const ecnn_fc_f32_impl *kernel, float *y, const float *x, const float *w, const float *b,
                     uint32_t n, uint32_t k, uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    ecnn_act_params kernel_act;
    ecnn_act_after after;
    split_act(act, &kernel_act, &after);
    kernel->fn(y, x, w, b, n, k, o, t, &kernel_act);
    ecnn_act_after_rows(&after, y, NULL, t->m0, t->m1, o, t->o0, t->o1);
}

void run_conv_f32_fast(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                       const ecnn_conv2d_args *p)
{
    ecnn_conv2d_args kp = *p;
    ecnn_act_after after;
    split_act(&p->act, &kp.act, &after);
    ecnn_conv2d_f32_fast(isa, &kp)->fn(y, x, w, b, n, t, &kp);
    ecnn_act_after_rows(&after, y, NULL, (size_t)t->m0 * p->ow, (size_t)t->m1 * p->ow, p->o, t->o0, t->o1);
}

void run_conv_sliced_f32_fast(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                              const ecnn_conv2d_args *p, uint32_t k_slice)
{
    ecnn_conv2d_args kp = *p;
    ecnn_act_after after;
    split_act(&p->act, &kp.act, &after);
    ECNN_KERNEL(ecnn_conv2d_sliced_config, f32, isa)->fn(y, x, w, b, n, t, &kp, k_slice);
    ecnn_act_after_rows(&after, y, NULL, (size_t)t->m0 * p->ow, (size_t)t->m1 * p->ow, p->o, t->o0, t->o1);
}

/* CHANNEL_ARITH: the level's kernel against the reference bit for bit, every operation (MUL_ADD
 * and MUL_ADD_RELU with their B), either operand order, a constant per channel or one, channels
 * around the kernel's 16-element blocks, out of place and in place, over values that include -0,
 * NaN and infinities. (ACTIVATION and ADD / MUL: test_kernels_f32_elementwise.c.) */
static void test_channel_arith_f32(void)
{
    static float x[3 * 200], k[200], b[200], y_ref_c[3 * 200], y_fast_c[3 * 200];
    static const float special[] = {-0.0f, 0.0f, NAN, INFINITY, -INFINITY, 0.25f, -0.25f};
    const ecnn_channel_arith_f32_impl *fast = ECNN_KERNEL(ecnn_channel_arith_config, f32, isa);
    uint32_t trial, i;
    for (trial = 0; trial < 192; trial++) {
        const uint32_t rows = 1 + trial % 3, c = trial % 8 == 1 ? 16u * (uint32_t)irand(1, 3) : (uint32_t)irand(1, 200);
        const uint32_t k_count = trial / 2 % 2 ? c : 1;
        const uint32_t arith = 1 + trial % 6, const_first = trial / 12 % 2;
        /* b only for the functions that read it: the others must not touch it */
        const float *bp = arith >= ECNN_ARITH_MUL_ADD ? b : NULL;
        for (i = 0; i < rows * c; i++) x[i] = next_u32() % 9 == 0 ? special[next_u32() % 7] : frand();
        for (i = 0; i < k_count; i++) k[i] = next_u32() % 9 == 0 ? special[next_u32() % 7] : frand();
        for (i = 0; i < k_count; i++) b[i] = next_u32() % 9 == 0 ? special[next_u32() % 7] : frand();
        ecnn_channel_arith_f32_ref(y_ref_c, x, k, bp, k_count, rows, c, arith, const_first);
        fast->fn(y_fast_c, x, k, bp, k_count, rows, c, arith, const_first);
        CHECK(memcmp(y_ref_c, y_fast_c, (size_t)rows * c * sizeof(float)) == 0);
        fast->fn(x, x, k, bp, k_count, rows, c, arith, const_first); /* in place */
        CHECK(memcmp(y_ref_c, x, (size_t)rows * c * sizeof(float)) == 0);
    }
}

/* ecnn_crc32 (the table, and the level's PCLMULQDQ folding on x86) against a bitwise CRC-32 over
 * every length 0..300 at odd offsets, and the standard check value of "123456789". */
static void test_crc32(void)
{
    static uint8_t buf[320];
    size_t off, len, i;
    int b;
    for (i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)next_u32();
    CHECK(ecnn_crc32((const uint8_t *)"123456789", 9, isa) == 0xCBF43926u);
    for (off = 0; off < 5; off += 3)
        for (len = 0; len + off <= 300; len++) {
            uint32_t crc = 0xFFFFFFFFu;
            for (i = 0; i < len; i++) {
                crc ^= buf[off + i];
                for (b = 0; b < 8; b++) crc = crc & 1u ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
            CHECK(ecnn_crc32(buf + off, len, isa) == (crc ^ 0xFFFFFFFFu));
        }
}

/* Kernels compiled but listed in no config (ops/fully_connected.c says why), in a config row of
 * the level whose CPU features they need: tested against that level's reference where the CPU
 * has it. */
#ifdef ECNN_WITH_X86
ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx512;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avx512;
static const struct {
    uint32_t level;
    ecnn_fc_kernels fc;
} undispatched[] = {
    {ECNN_ISA_AVX512, {.f32 = ECNN_IMPL(ecnn_fc_f32_panel16_avx512), .q = ECNN_IMPL(ecnn_fc_q_panel8x4_avx512)}},
};

static void test_undispatched_kernels(void)
{
    uint32_t i;
    for (i = 0; i < sizeof undispatched / sizeof undispatched[0]; i++) {
        const ecnn_fc_kernels *fc = &undispatched[i].fc;
        if (!ecnn_isa_runs_here(undispatched[i].level)) {
            printf("%s, %s: compiled, not run on this CPU\n", fc->f32.name, fc->q.name);
            continue;
        }
        isa = &ecnn_isa_levels[undispatched[i].level];
        fc_f32_kernel = &fc->f32;
        fc_q_kernel = &fc->q;
        printf("%s, %s (no config lists them)\n", fc->f32.name, fc->q.name);
        RUN_TEST(test_fc_f32_panel16);
        RUN_TEST(test_fc_f32_act_special_values);
        RUN_TEST(test_f32_subnormals);
        RUN_TEST(test_fc_q_panel8x4);
    }
}
#endif

int main(void)
{
    uint32_t level;
    int runs, not_run = 0;
    const char *name;
    for (level = 0; (name = ecnn_isa_level(level, &runs)) != NULL; level++) {
        if (!runs) {
            printf("level %s: compiled, not run on this CPU\n", name);
            not_run++;
            continue;
        }
        isa = &ecnn_isa_levels[level];
        fc_f32_kernel = ECNN_KERNEL(ecnn_fc_config, f32, isa);
        fc_q_kernel = ECNN_KERNEL(ecnn_fc_config, q, isa);
        printf("level %s: kernels %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s\n", name,
               ECNN_KERNEL(ecnn_fc_config, f32, isa)->name, ECNN_KERNEL(ecnn_fc_config, q, isa)->name,
               ECNN_KERNEL(ecnn_fc_config, g4, isa)->name, ECNN_KERNEL(ecnn_conv2d_config, f32, isa)->name,
               ECNN_KERNEL(ecnn_conv2d_config, dw, isa)->name, ECNN_KERNEL(ecnn_conv2d_config, q, isa)->name,
               ECNN_KERNEL(ecnn_pool2d_config, max, isa)->name, ECNN_KERNEL(ecnn_pool2d_config, avg, isa)->name,
               ECNN_KERNEL(ecnn_pool2d_config, avg_q, isa)->name,
               ECNN_KERNEL(ecnn_channel_arith_config, f32, isa)->name,
               ECNN_KERNEL(ecnn_conv2d_sliced_config, f32, isa)->name,
               ECNN_KERNEL(ecnn_q_elementwise_config, quantize, isa)->name,
               ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, isa)->name,
               ECNN_KERNEL(ecnn_q_elementwise_config, add, isa)->name,
               ECNN_KERNEL(ecnn_q_elementwise_config, mul, isa)->name,
               ECNN_KERNEL(ecnn_f32_elementwise_config, activation, isa)->name,
               ECNN_KERNEL(ecnn_f32_elementwise_config, binary, isa)->name);
        RUN_TEST(test_fc_f32_panel16);
        RUN_TEST(test_fc_f32_fused_mac);
        RUN_TEST(test_fc_f32_act_special_values);
        RUN_TEST(test_fc_g4_panel16);
        RUN_TEST(test_f32_subnormals);
        RUN_TEST(test_fc_q_panel8x4);
        RUN_TEST(test_conv_hwio);
        RUN_TEST(test_conv_hwio_wide_rows);
        RUN_TEST(test_conv_q_cnn_shapes);
        RUN_TEST(test_conv_q_depthwise);
        RUN_TEST(test_conv_sliced);
        RUN_TEST(test_conv_sliced_one_slice);
        RUN_TEST(test_conv_sliced_windows);
        RUN_TEST(test_conv_sliced_first_layers);
        RUN_TEST(test_maxpool_q);
        RUN_TEST(test_crc32);
        RUN_TEST(test_tiles);
        RUN_TEST(test_conv_cnn_shapes);
        RUN_TEST(test_conv_first_layers);
        RUN_TEST(test_conv_depthwise);
        RUN_TEST(test_conv_depthwise_maps);
        RUN_TEST(test_channel_arith_f32);
        RUN_TEST(test_avgpool_f32);
        RUN_TEST(test_avgpool_q);
        RUN_TEST(test_concat_rows);
        RUN_TEST(test_quantize_dequantize);
        RUN_TEST(test_binary_q_kernels);
        RUN_TEST(test_activation_f32_kernels);
        RUN_TEST(test_activation_f32_sweep);
        RUN_TEST(test_binary_f32_kernels);
        RUN_TEST(test_activation_q_table);
    }
#ifdef ECNN_WITH_X86
    test_undispatched_kernels();
#endif
    printf("%d passed, %d failed (%u levels run, %d not run on this CPU)\n", harness_tests_passed, harness_tests_failed,
           level - (uint32_t)not_run, not_run);
    return harness_tests_failed != 0;
}

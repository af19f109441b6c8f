/* CONCAT's row kernels (kernels/concat_rows.h) against ecnn_concat_ref and ecnn_concat_q_ref, bit
 * for bit: each input's rows into its columns, blocks of every copy width (1, 4, 8, 16 bytes and
 * past 64) and requantized int8 / uint8 inputs through the level's DEQUANTIZE and QUANTIZE
 * kernels, some with the output's quantization (a copy), some with extreme scale ratios. */
#include "kernels/concat_rows.h"
#include "test_kernels.h"

#define CAT_INPUTS 4u
#define CAT_ROWS 20u
#define CAT_BLOCK 300u /* bytes of an input a row: more than one requantization chunk */

/* Each input's block in bytes: a copy width in turn, else random. */
static size_t random_block(uint32_t trial, uint32_t i)
{
    static const size_t widths[] = {16, 8, 4, 32, 24, 12, 3, 80, 280};
    return (trial + i) % 3 ? widths[(trial + i) % 9] : (size_t)irand(1, 70);
}

void test_concat_rows(void)
{
    static uint8_t x[CAT_INPUTS][CAT_ROWS * CAT_BLOCK], y_ref_b[CAT_ROWS * CAT_INPUTS * CAT_BLOCK],
        y_fast_b[CAT_ROWS * CAT_INPUTS * CAT_BLOCK];
    static const float extreme[] = {1e30f, 1e-30f, 3e9f, 1e-9f};
    ecnn_dequantize_kernel *dequantize = ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, isa)->fn;
    ecnn_quantize_kernel *quantize = ECNN_KERNEL(ecnn_q_elementwise_config, quantize, isa)->fn;
    uint32_t trial, i;
    for (trial = 0; trial < 200; trial++) {
        const uint32_t count = 2 + trial % 3, rows = (uint32_t)irand(1, CAT_ROWS);
        const int quantized = trial % 2;
        const ecnn_qtype t = trial % 4 == 1 ? ECNN_Q_U8 : ECNN_Q_I8;
        const void *xs[CAT_INPUTS];
        size_t block[CAT_INPUTS], row_bytes = 0, at = 0, k;
        ecnn_qtensor qx[CAT_INPUTS], qy;
        qy.type = t;
        qy.scale = 0.001f + 0.1f * (float)(next_u32() % 1000) / 1000.0f;
        qy.zero_point = irand(ecnn_qtype_min(t), ecnn_qtype_max(t));
        for (i = 0; i < count; i++) {
            block[i] = random_block(trial, i);
            row_bytes += block[i];
            xs[i] = x[i];
            for (k = 0; k < rows * block[i]; k++) x[i][k] = (uint8_t)next_u32();
            qx[i] = qy;
            if (i % 2 == 1 || trial % 7 == 3) { /* another quantization: requantized */
                qx[i].scale =
                    trial % 5 == 2 ? extreme[next_u32() % 4] : 0.001f + 0.1f * (float)(next_u32() % 1000) / 1000.0f;
                qx[i].zero_point = irand(ecnn_qtype_min(t), ecnn_qtype_max(t));
            }
        }
        if (quantized)
            ecnn_concat_q_ref(y_ref_b, xs, block, qx, count, rows, &qy);
        else
            ecnn_concat_ref(y_ref_b, xs, block, count, rows);
        memset(y_fast_b, 0xCD, rows * row_bytes);
        for (i = 0; i < count; at += block[i], i++) {
            if (quantized)
                ecnn_requantize_rows(y_fast_b + at, row_bytes, x[i], block[i], rows, &qx[i], &qy, dequantize, quantize);
            else
                ecnn_copy_rows(y_fast_b + at, row_bytes, x[i], block[i], rows);
        }
        if (memcmp(y_ref_b, y_fast_b, rows * row_bytes) != 0)
            fprintf(stderr, "  trial %u: %u inputs, %u rows, %s\n", trial, count, rows, quantized ? "int8" : "copy");
        CHECK(memcmp(y_ref_b, y_fast_b, rows * row_bytes) == 0);
    }
}

/* Float CHANNEL_ARITH (kernels.h ecnn_channel_arith_f32_ref's contract and result, bit for bit):
 * the reference picks the constant, the operand order and the operation per element; here one
 * loop per case, each element the reference's own expression (a batch norm no convolution
 * absorbs runs as MUL_ADD: the product, then the sum, two roundings as ONNX Mul + Add). A row
 * goes in blocks of ARITH_BLOCK elements through a stack array: a fixed trip count, and no store
 * the compiler must fear aliases x (y may be x), so the loops vectorise even at -O2's cheap cost
 * model (-ffp-contract=off: no fused multiply-add). The x86 levels have their own
 * (x86/channel_arith_f32.h). */
#include "kernels/kernels.h"

#define ARITH_BLOCK 16u

/* Every row: yr[i] = EXPR, with xr and yr the block's part of the row and kv, bv the constants of
 * channel i0 + i (bv: MUL_ADD's B). */
#define ARITH_ROWS(KV, EXPR)                                                                                           \
    for (r = 0; r < rows; r++)                                                                                         \
        for (i0 = 0; i0 < c; i0 += ARITH_BLOCK) {                                                                      \
            const float *xr = x + (size_t)r * c + i0;                                                                  \
            float *yr = y + (size_t)r * c + i0;                                                                        \
            if (c - i0 >= ARITH_BLOCK) {                                                                               \
                float block[ARITH_BLOCK];                                                                              \
                for (i = 0; i < ARITH_BLOCK; i++) {                                                                    \
                    const float kv = (KV);                                                                             \
                    block[i] = (EXPR);                                                                                 \
                }                                                                                                      \
                for (i = 0; i < ARITH_BLOCK; i++) yr[i] = block[i];                                                    \
            } else {                                                                                                   \
                for (i = 0; i < c - i0; i++) {                                                                         \
                    const float kv = (KV);                                                                             \
                    yr[i] = (EXPR);                                                                                    \
                }                                                                                                      \
            }                                                                                                          \
        }
/* The operations, the constant second (or first) operand; BV: B's value (MUL_ADD only). The
 * product of MUL_ADD is a float before the sum (-ffp-contract=off: no fused multiply-add). */
#define ARITH_FUNCS(KV, BV, A, B)                                                                                      \
    switch (func) {                                                                                                    \
    case ECNN_ARITH_ADD: ARITH_ROWS(KV, (A) + (B)) break;                                                              \
    case ECNN_ARITH_SUB: ARITH_ROWS(KV, (A) - (B)) break;                                                              \
    case ECNN_ARITH_MUL: ARITH_ROWS(KV, (A) * (B)) break;                                                              \
    case ECNN_ARITH_DIV: ARITH_ROWS(KV, (A) / (B)) break;                                                              \
    case ECNN_ARITH_MUL_ADD: ARITH_ROWS(KV, (A) * (B) + (BV)) break;                                                   \
    default: ARITH_ROWS(KV, relu((A) * (B) + (BV))) break;                                                             \
    }

/* The reference's Relu (NaN and -0 give +0). */
static float relu(float v)
{
    return v > 0.0f ? v : 0.0f;
}

void ecnn_channel_arith_f32_portable(float *y, const float *x, const float *k, const float *b, uint32_t k_count,
                                     size_t rows, uint32_t c, uint32_t func, uint32_t const_first)
{
    size_t r;
    uint32_t i, i0;
    if (k_count == 1) { /* one constant: the rows are one flat row */
        if (rows * c <= UINT32_MAX) c = (uint32_t)(rows * c), rows = 1;
        if (const_first) {
            ARITH_FUNCS(k[0], b[0], kv, xr[i])
        } else {
            ARITH_FUNCS(k[0], b[0], xr[i], kv)
        }
    } else if (const_first) {
        ARITH_FUNCS(k[i0 + i], b[i0 + i], kv, xr[i])
    } else {
        ARITH_FUNCS(k[i0 + i], b[i0 + i], xr[i], kv)
    }
}

/* Float CHANNEL_ARITH (kernels.h ecnn_channel_arith_f32_ref's contract and result, bit for bit):
 * the reference picks the constant, the operand order and the operation per element; here one
 * loop per case, each element the reference's own expression, so the loops vectorise (a batch
 * norm tf2onnx leaves as Mul + Add runs two of these per layer). */
#include "kernels/kernels.h"

/* Every row: yr[i] = EXPR, with xr the row and kv the constant of channel i. */
#define ARITH_ROWS(KV, EXPR)                                                                                           \
    for (r = 0; r < rows; r++) {                                                                                       \
        const float *xr = x + (size_t)r * c;                                                                           \
        float *yr = y + (size_t)r * c;                                                                                 \
        for (i = 0; i < c; i++) {                                                                                      \
            const float kv = (KV);                                                                                     \
            yr[i] = (EXPR);                                                                                            \
        }                                                                                                              \
    }
/* The four operations, the constant second (or first) operand. */
#define ARITH_FUNCS(KV, A, B)                                                                                          \
    switch (func) {                                                                                                    \
    case ECNN_ARITH_ADD: ARITH_ROWS(KV, (A) + (B)) break;                                                              \
    case ECNN_ARITH_SUB: ARITH_ROWS(KV, (A) - (B)) break;                                                              \
    case ECNN_ARITH_MUL: ARITH_ROWS(KV, (A) * (B)) break;                                                              \
    default: ARITH_ROWS(KV, (A) / (B)) break;                                                                          \
    }

void ecnn_channel_arith_f32_portable(float *y, const float *x, const float *k, uint32_t k_count, size_t rows,
                                     uint32_t c, uint32_t func, uint32_t const_first)
{
    size_t r;
    uint32_t i;
    if (k_count == 1) {
        if (const_first) {
            ARITH_FUNCS(k[0], kv, xr[i])
        } else {
            ARITH_FUNCS(k[0], xr[i], kv)
        }
    } else if (const_first) {
        ARITH_FUNCS(k[i], kv, xr[i])
    } else {
        ARITH_FUNCS(k[i], xr[i], kv)
    }
}

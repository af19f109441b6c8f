/* CONCAT's row kernels (src/kernels/portable/concat.c): one input's rows at a time into their
 * columns of y, ecnn_concat_ref's and ecnn_concat_q_ref's results for those elements bit for bit.
 * The op (ops/concat.c) runs them in place of the references. */
#ifndef ECNN_KERNELS_CONCAT_ROWS_H
#define ECNN_KERNELS_CONCAT_ROWS_H

#include "kernels/kernels_q_elementwise.h"

/* `rows` blocks of `bytes` bytes from x (packed) to y, one every y_step bytes. */
void ecnn_copy_rows(uint8_t *y, size_t y_step, const uint8_t *x, size_t bytes, size_t rows);

/* ecnn_requantize_q_ref of `rows` blocks of `count` codes from x (packed) to y, one every y_step
 * bytes: a copy when qx equals qy, else DequantizeLinear (the level's `dequantize`, ecnn_dequantize_ref's
 * result) then QuantizeLinear (`quantize`, ecnn_quantize_ref's) through a stack buffer: the
 * reference's two steps, sx * (float)(x - zx) then quantize_one. */
void ecnn_requantize_rows(uint8_t *y, size_t y_step, const uint8_t *x, size_t count, size_t rows,
                          const ecnn_qtensor *qx, const ecnn_qtensor *qy, ecnn_dequantize_kernel *dequantize,
                          ecnn_quantize_kernel *quantize);

#endif /* ECNN_KERNELS_CONCAT_ROWS_H */

/* CONCAT's row kernels (kernels/concat_rows.h). A dense block's concat joins a few channels a
 * pixel, so its blocks are a few bytes: a memcpy call each cost more than the copy (int8
 * 16x16x(16 + 8): 512 calls, ~1.9 us on Zen 5). Blocks of whole 16, 8 or 4 bytes move as
 * fixed-size copies the compiler inlines as one load and store. */
#include <string.h>

#include "kernels/concat_rows.h"

#define COPY_ROWS_OF(UNIT)                                                                                             \
    for (r = 0; r < rows; r++)                                                                                         \
        for (j = 0; j < bytes; j += (UNIT)) memcpy(y + r * y_step + j, x + r * bytes + j, (UNIT))

void ecnn_copy_rows(uint8_t *y, size_t y_step, const uint8_t *x, size_t bytes, size_t rows)
{
    size_t r, j;
    if (bytes > 64) { /* long blocks: memcpy's own loop */
        for (r = 0; r < rows; r++) memcpy(y + r * y_step, x + r * bytes, bytes);
    } else if (bytes % 16 == 0) {
        COPY_ROWS_OF(16);
    } else if (bytes % 8 == 0) {
        COPY_ROWS_OF(8);
    } else if (bytes % 4 == 0) {
        COPY_ROWS_OF(4);
    } else {
        COPY_ROWS_OF(1);
    }
}

#define REQUANTIZE_CHUNK 256u /* floats on the stack */

void ecnn_requantize_rows(uint8_t *y, size_t y_step, const uint8_t *x, size_t count, size_t rows,
                          const ecnn_qtensor *qx, const ecnn_qtensor *qy, ecnn_dequantize_kernel *dequantize,
                          ecnn_quantize_kernel *quantize)
{
    float buf[REQUANTIZE_CHUNK];
    size_t r, j;
    if (qx->type == qy->type && qx->scale == qy->scale && qx->zero_point == qy->zero_point) {
        ecnn_copy_rows(y, y_step, x, count,
                       rows); /* QLinearConcat copies an input that has the output's quantization */
        return;
    }
    for (r = 0; r < rows; r++)
        for (j = 0; j < count; j += REQUANTIZE_CHUNK) {
            const uint32_t part = (uint32_t)(count - j < REQUANTIZE_CHUNK ? count - j : REQUANTIZE_CHUNK);
            dequantize(buf, x + r * count + j, part, qx->scale, qx->zero_point, qx->type);
            quantize(y + r * y_step + j, buf, part, qy->scale, qy->zero_point, qy->type);
        }
}

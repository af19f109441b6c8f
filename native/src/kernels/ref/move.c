/* Data movement kernels (TRANSPOSE, PAD, CONCAT): they copy elements of any dtype, so the
 * float and the int8 paths share them (docs/file-format.md: same quantization on every tensor). They
 * are the only kernels for these ops: no fast variant, nothing to keep bit-identical. */
#include <string.h>

#include "edgecnn.h" /* ECNN_MAX_RANK */
#include "kernels/kernels.h"

/* Copies one element of esize bytes (1 or 4: every dtype of the format). */
static inline void copy_elem(uint8_t *y, const uint8_t *x, uint32_t esize)
{
    if (esize == 4)
        memcpy(y, x, 4);
    else
        *y = *x;
}

void ecnn_transpose_ref(void *y, const void *x, uint32_t n, uint32_t esize, uint32_t rank, const uint32_t *xdims,
                        const uint32_t *perm)
{
    /* Walk y in row-major order; idx counts y's position along each axis, ystride[k] is the
     * x step (in elements) for one step along y's axis k. */
    size_t xstride[ECNN_MAX_RANK], ystep[ECNN_MAX_RANK], per_sample = 1;
    uint32_t ydims[ECNN_MAX_RANK], idx[ECNN_MAX_RANK];
    uint8_t *yb = (uint8_t *)y;
    const uint8_t *xb = (const uint8_t *)x;
    uint32_t s, k;
    size_t i;
    if (rank == 0) {
        memcpy(y, x, (size_t)n * esize);
        return;
    }
    for (k = rank; k-- > 0;) {
        xstride[k] = per_sample;
        per_sample *= xdims[k];
    }
    for (k = 0; k < rank; k++) {
        ydims[k] = xdims[perm[k]];
        ystep[k] = xstride[perm[k]];
    }
    for (s = 0; s < n; s++) {
        const uint8_t *xs = xb + (size_t)s * per_sample * esize;
        size_t xoff = 0; /* x element offset of y's current position */
        for (k = 0; k < rank; k++) idx[k] = 0;
        for (i = 0; i < per_sample; i++) {
            copy_elem(yb, xs + xoff * esize, esize);
            yb += esize;
            /* next y position: carry over the axes from the innermost */
            for (k = rank; k-- > 0;) {
                if (++idx[k] < ydims[k]) {
                    xoff += ystep[k];
                    break;
                }
                idx[k] = 0;
                xoff -= ystep[k] * (ydims[k] - 1);
            }
        }
    }
}

void ecnn_pad_ref(void *y, const void *x, uint32_t n, uint32_t esize, uint32_t rank, const uint32_t *xdims,
                  const uint32_t *before, const uint32_t *after, uint32_t value_bits)
{
    size_t ystride[ECNN_MAX_RANK], y_per_sample = 1, x_per_sample = 1, rows = 1, i;
    uint32_t ydims[ECNN_MAX_RANK], idx[ECNN_MAX_RANK], s, k;
    uint8_t value[4];
    uint8_t *yb = (uint8_t *)y;
    const uint8_t *xb = (const uint8_t *)x;
    value[0] = (uint8_t)value_bits; /* little-endian bytes of the pad element */
    value[1] = (uint8_t)(value_bits >> 8);
    value[2] = (uint8_t)(value_bits >> 16);
    value[3] = (uint8_t)(value_bits >> 24);
    for (k = 0; k < rank; k++) ydims[k] = xdims[k] + before[k] + after[k];
    for (k = rank; k-- > 0;) {
        ystride[k] = y_per_sample;
        y_per_sample *= ydims[k];
        x_per_sample *= xdims[k];
    }
    for (k = 0; k + 1 < rank; k++) rows *= xdims[k];
    for (i = 0; i < (size_t)n * y_per_sample; i++) copy_elem(yb + i * esize, value, esize);
    if (rank == 0) {
        memcpy(y, x, (size_t)n * esize);
        return;
    }
    for (s = 0; s < n; s++) {
        uint8_t *ys = yb + (size_t)s * y_per_sample * esize;
        const uint8_t *xs = xb + (size_t)s * x_per_sample * esize;
        const size_t row_bytes = (size_t)xdims[rank - 1] * esize;
        for (k = 0; k < rank; k++) idx[k] = 0;
        /* one contiguous row of x (its last axis) at a time */
        for (i = 0; i < rows; i++) {
            size_t yoff = before[rank - 1];
            for (k = 0; k + 1 < rank; k++) yoff += (size_t)(idx[k] + before[k]) * ystride[k];
            memcpy(ys + yoff * esize, xs + i * row_bytes, row_bytes);
            for (k = rank - 1; k-- > 0;) {
                if (++idx[k] < xdims[k]) break;
                idx[k] = 0;
            }
        }
    }
}

void ecnn_concat_ref(void *y, const void *const *xs, const size_t *block_bytes, uint32_t count, size_t rows)
{
    uint8_t *yb = (uint8_t *)y;
    size_t r;
    uint32_t i;
    for (r = 0; r < rows; r++) {
        for (i = 0; i < count; i++) {
            memcpy(yb, (const uint8_t *)xs[i] + r * block_bytes[i], block_bytes[i]);
            yb += block_bytes[i];
        }
    }
}

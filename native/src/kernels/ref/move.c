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

/* Fills `bytes` bytes at y (whole elements of esize bytes) with `value`, the element's
 * little-endian bytes. */
static void fill_elements(uint8_t *y, size_t bytes, uint32_t esize, const uint8_t *value)
{
    size_t done;
    if (esize == 1 || (value[1] == value[0] && value[2] == value[0] && value[3] == value[0])) {
        memset(y, value[0], bytes); /* a zero pad, the common case */
        return;
    }
    if (bytes == 0) return;
    memcpy(y, value, esize);
    for (done = esize; done < bytes; done *= 2) memcpy(y + done, y, done < bytes - done ? done : bytes - done);
}

/* y is written once, front to back: the axes after the last padded one move as one block, so
 * a row of y (along that axis) is a fill, one copy of an x row and a fill, or wholly padding. */
void ecnn_pad_ref(void *y, const void *x, uint32_t n, uint32_t esize, uint32_t rank, const uint32_t *xdims,
                  const uint32_t *before, const uint32_t *after, uint32_t value_bits)
{
    uint32_t ydims[ECNN_MAX_RANK], idx[ECNN_MAX_RANK], last = rank, k;
    size_t block = esize, x_elements = 1, rows = 1, r, pre, post, x_row, y_row;
    uint8_t value[4];
    uint8_t *yb = (uint8_t *)y;
    const uint8_t *xb = (const uint8_t *)x;
    value[0] = (uint8_t)value_bits;
    value[1] = (uint8_t)(value_bits >> 8);
    value[2] = (uint8_t)(value_bits >> 16);
    value[3] = (uint8_t)(value_bits >> 24);
    for (k = 0; k < rank; k++) {
        ydims[k] = xdims[k] + before[k] + after[k];
        x_elements *= xdims[k];
        if (before[k] != 0 || after[k] != 0) last = k;
    }
    if (last == rank) { /* nothing padded (rank 0 included) */
        memcpy(y, x, (size_t)n * x_elements * esize);
        return;
    }
    for (k = last + 1; k < rank; k++) block *= xdims[k];
    for (k = 0; k < last; k++) rows *= ydims[k];
    rows *= n; /* the samples are one more outer axis, never padded */
    pre = (size_t)before[last] * block;
    post = (size_t)after[last] * block;
    x_row = (size_t)xdims[last] * block;
    y_row = (size_t)ydims[last] * block;
    for (k = 0; k < last; k++) idx[k] = 0;
    for (r = 0; r < rows; r++) {
        int inside = 1;
        for (k = 0; k < last; k++) inside &= idx[k] >= before[k] && idx[k] < before[k] + xdims[k];
        if (inside) {
            fill_elements(yb, pre, esize, value);
            memcpy(yb + pre, xb, x_row);
            fill_elements(yb + pre + x_row, post, esize, value);
            xb += x_row;
        } else {
            fill_elements(yb, y_row, esize, value);
        }
        yb += y_row;
        for (k = last; k-- > 0;) {
            if (++idx[k] < ydims[k]) break;
            idx[k] = 0;
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

/* Reference float32 kernels: the straightforward loops, ONNX semantics. They are the oracle
 * for faster kernels and the kernels of the ops that have no faster one; keep them simple
 * rather than fast. The conv and fully connected references are in dot_f32.c. */
#include <math.h>
#include <stddef.h>

#include "kernels/kernels.h"

void ecnn_softmax_f32_ref(float *y, const float *x, size_t rows, uint32_t c)
{
    size_t r;
    uint32_t i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * c;
        float *yr = y + (size_t)r * c;
        float mx = xr[0];
        float sum = 0.0f;
        for (i = 1; i < c; i++) mx = xr[i] > mx ? xr[i] : mx;
        for (i = 0; i < c; i++) {
            yr[i] = expf(xr[i] - mx); /* in place is fine: xr[i] is read before yr[i] is written */
            sum += yr[i];
        }
        for (i = 0; i < c; i++) yr[i] = yr[i] / sum;
    }
}

void ecnn_activation_f32_ref(float *y, const float *x, size_t count, const ecnn_act_params *act)
{
    size_t i;
    for (i = 0; i < count; i++) y[i] = ecnn_apply_act(x[i], act);
}

void ecnn_channel_arith_f32_ref(float *y, const float *x, const float *k, const float *b, uint32_t k_count, size_t rows,
                                uint32_t c, uint32_t func, uint32_t const_first)
{
    size_t r;
    uint32_t i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * c;
        float *yr = y + (size_t)r * c;
        for (i = 0; i < c; i++) {
            const uint32_t ki = k_count == 1 ? 0 : i;
            const float a = const_first ? k[ki] : xr[i];
            const float o = const_first ? xr[i] : k[ki];
            float v;
            switch (func) {
            case ECNN_ARITH_ADD: v = a + o; break;
            case ECNN_ARITH_SUB: v = a - o; break;
            case ECNN_ARITH_MUL: v = a * o; break;
            case ECNN_ARITH_DIV: v = a / o; break;
            default: /* MUL_ADD, MUL_ADD_RELU: the product is a float before the addition */
                v = a * o;
                v = v + b[ki];
                if (func == ECNN_ARITH_MUL_ADD_RELU) v = v > 0.0f ? v : 0.0f;
                break;
            }
            yr[i] = v;
        }
    }
}

/* MAX_POOL_2D and AVG_POOL_2D: one walk over each window's taps inside x, folding them into yp
 * by the max (the first tap copied) or by the sum (from 0, then divided by the count). */
static void pool2d_f32_ref(float *y, const float *x, const ecnn_tile *t, const ecnn_pool2d_args *p, int average)
{
    /* The padded area [-pad_top, h + pad_bottom) x [-pad_left, w + pad_right) bounds the mean's
     * count with count_include_pad; without it, x itself does. */
    const int padded = average && p->count_include_pad;
    const uint32_t area_h = padded ? p->h + p->pad_top + p->pad_bottom : p->h;
    const uint32_t area_w = padded ? p->w + p->pad_left + p->pad_right : p->w;
    const uint32_t shift_h = padded ? p->pad_top : 0, shift_w = padded ? p->pad_left : 0;
    uint32_t m, s, oy, ox, ky, kx, c;
    int64_t iy, ix;
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->c);
        uint32_t count = 0;
        int first = 1;
        if (average)
            for (c = t->o0; c < t->o1; c++) yp[c] = 0.0f;
        for (ky = 0; ky < p->kh; ky++)
            for (kx = 0; kx < p->kw; kx++) {
                const float *xp;
                /* a position of the counted area (shifted so that it starts at 0) */
                count += ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top - shift_h, p->dilation_h, area_h, &iy) &&
                         ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left - shift_w, p->dilation_w, area_w, &ix);
                if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) ||
                    !ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                    continue;
                xp = xs + ((size_t)iy * p->w + (size_t)ix) * p->c;
                if (average)
                    for (c = t->o0; c < t->o1; c++) yp[c] += xp[c];
                else
                    for (c = t->o0; c < t->o1; c++) yp[c] = first || xp[c] > yp[c] ? xp[c] : yp[c];
                first = 0;
            }
        if (average)
            for (c = t->o0; c < t->o1; c++) yp[c] = yp[c] / (float)count; /* count >= 1: validated */
    }
}

void ecnn_maxpool2d_f32_ref(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p)
{
    (void)n;
    pool2d_f32_ref(y, x, t, p, 0);
}

void ecnn_avgpool2d_f32_ref(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p)
{
    (void)n;
    pool2d_f32_ref(y, x, t, p, 1);
}

void ecnn_binary_f32_ref(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                         uint32_t func, const ecnn_act_params *act)
{
    size_t i, j;
    uint32_t s;
    if (b_count == a_count) { /* elementwise: one flat loop over the batch */
        if (func == 3) {      /* ECNN_ARITH_MUL */
            for (i = 0; i < (size_t)n * a_count; i++) y[i] = ecnn_apply_act(a[i] * b[i], act);
        } else {
            for (i = 0; i < (size_t)n * a_count; i++) y[i] = ecnn_apply_act(a[i] + b[i], act);
        }
        return;
    }
    for (s = 0; s < n; s++) { /* b repeats every b_count elements within its sample */
        const float *as = a + (size_t)s * a_count, *bs = b + (size_t)s * b_count;
        float *ys = y + (size_t)s * a_count;
        for (i = 0; i < a_count; i += b_count)
            for (j = 0; j < b_count; j++)
                ys[i + j] = ecnn_apply_act(func == 3 ? as[i + j] * bs[j] : as[i + j] + bs[j], act);
    }
}

void ecnn_fully_connected_g4_f32_ref(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                     uint32_t o, const ecnn_tile *t, const ecnn_act_params *act, uint32_t layout)
{
    uint32_t s, j, i;
    (void)n; /* samples and outputs come from the tile */
    for (s = t->m0; s < t->m1; s++) {
        const float *xs = x + (size_t)s * k;
        for (j = t->o0; j < t->o1; j++) {
#define W(i) w[ecnn_fc_w_index(layout, j, i, k)]
            float acc = b ? b[j] : 0.0f, group, term;
            for (i = 0; i + 4 <= k; i += 4) {
                group = xs[i] * W(i);
                term = xs[i + 1] * W(i + 1);
                group = group + term;
                term = xs[i + 2] * W(i + 2);
                group = group + term;
                term = xs[i + 3] * W(i + 3);
                group = group + term;
                acc = group + acc;
            }
            if (k - i >= 2) {
                group = xs[i] * W(i);
                term = xs[i + 1] * W(i + 1);
                group = group + term;
                acc = group + acc;
                i += 2;
            }
            if (i < k) {
                term = xs[i] * W(i);
                acc = term + acc;
            }
#undef W
            y[(size_t)s * o + j] = ecnn_apply_act(acc, act);
        }
    }
}

/* Reference float kernels of the ops that enlarge a feature map or scale it per element:
 * PRELU, CONV_TRANSPOSE_2D and RESIZE_2D (ONNX PRelu, ConvTranspose, Resize). Plain loops;
 * each call computes whole output rows, so a tile's results do not depend on the tiling. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"

void ecnn_prelu_f32_ref(float *y, const float *x, const float *slope, uint32_t slope_count, size_t rows)
{
    size_t r;
    uint32_t i;
    for (r = 0; r < rows; r++) {
        const float *xr = x + r * slope_count;
        float *yr = y + r * slope_count;
        for (i = 0; i < slope_count; i++) yr[i] = xr[i] < 0.0f ? slope[i] * xr[i] : xr[i];
    }
}

/* The input index that output index `out` reads through kernel tap `k` of a transposed
 * convolution (out = in * stride - pad + k * dil), or 0 when no input index does. */
static int transposed_tap(uint32_t out, uint32_t k, uint32_t stride, uint32_t pad, uint32_t dil, uint32_t in,
                          uint32_t *idx)
{
    const int64_t t = (int64_t)out + pad - (int64_t)k * dil;
    if (t < 0 || t % stride != 0 || t / stride >= in) return 0;
    *idx = (uint32_t)(t / stride);
    return 1;
}

void ecnn_conv_transpose2d_f32_ref(float *y, const float *x, const float *w, const float *b, size_t row0, size_t rows,
                                   const ecnn_conv_transpose2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    size_t r;
    uint32_t ox, o, ky, kx, c, iy, ix;
    for (r = row0; r < row0 + rows; r++) {
        const size_t s = r / p->oh;
        const uint32_t oy = (uint32_t)(r % p->oh);
        const float *xs = x + s * p->h * p->w * p->c;
        float *yr = y + r * p->ow * p->o;
        for (ox = 0; ox < p->ow; ox++)
            for (o = 0; o < p->o; o++) {
                const uint32_t g = o / og;
                float acc = 0.0f;
                for (ky = 0; ky < p->kh; ky++) {
                    if (!transposed_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy)) continue;
                    for (kx = 0; kx < p->kw; kx++) {
                        const float *xp, *wp;
                        if (!transposed_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix)) continue;
                        xp = xs + ((size_t)iy * p->w + ix) * p->c + (size_t)g * cg;
                        wp = w + (((size_t)o * p->kh + ky) * p->kw + kx) * cg;
                        for (c = 0; c < cg; c++) acc += xp[c] * wp[c];
                    }
                }
                yr[(size_t)ox * p->o + o] = b ? acc + b[o] : acc;
            }
    }
}

/* Output index `out` as an input coordinate (ONNX Resize's coordinate_transformation_mode, in
 * float as onnxruntime computes it); roi0 / roi1 are tf_crop_and_resize's window. */
static float resize_coord(uint32_t coord, uint32_t out, float scale, uint32_t out_len, uint32_t in_len, float roi0,
                          float roi1)
{
    const float x = (float)out;
    switch (coord) {
    case ECNN_COORD_ALIGN_CORNERS: return out_len == 1 ? 0.0f : x * (float)(in_len - 1) / (float)(out_len - 1);
    case ECNN_COORD_ASYMMETRIC: return x / scale;
    case ECNN_COORD_PYTORCH_HALF_PIXEL: return out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case ECNN_COORD_HALF_PIXEL_SYMMETRIC: {
        const float adjustment = (float)out_len / (scale * (float)in_len);
        const float center = (float)in_len / 2.0f;
        return center * (1.0f - adjustment) + (x + 0.5f) / scale - 0.5f;
    }
    case ECNN_COORD_TF_HALF_PIXEL_FOR_NN: return (x + 0.5f) / scale;
    case ECNN_COORD_TF_CROP_AND_RESIZE:
        return out_len > 1 ? roi0 * (float)(in_len - 1) + x * (roi1 - roi0) * (float)(in_len - 1) / (float)(out_len - 1)
                           : 0.5f * (roi0 + roi1) * (float)(in_len - 1);
    default: return (x + 0.5f) / scale - 0.5f;
    }
}

static uint32_t nearest_index(uint32_t mode, float v, float scale, uint32_t in_len)
{
    float i;
    switch (mode) {
    case ECNN_NEAREST_ROUND_PREFER_CEIL: i = roundf(v); break;
    case ECNN_NEAREST_FLOOR: i = floorf(v); break;
    case ECNN_NEAREST_CEIL: i = ceilf(v); break;
    case ECNN_NEAREST_SIMPLE: i = scale < 1.0f ? ceilf(v) : truncf(v); break;
    default: i = (float)(int64_t)v + 0.5f == v ? floorf(v) : roundf(v); break;
    }
    if (!(i > 0.0f)) return 0; /* also NaN */
    return i >= (float)in_len ? in_len - 1 : (uint32_t)i;
}

/* Up to 4 input indices of one axis and their weights: linear interpolation (2 taps, clamped
 * to the input as onnxruntime: both weights 0.5 when the indices meet at the border) or cubic
 * (4 taps around floor(v), indices clamped to the input; exclude_outside zeroes the weights of
 * taps outside it and renormalises). Returns the number of taps. */
static uint32_t resize_taps(const ecnn_resize2d_args *p, float v, uint32_t in_len, uint32_t *idx, float *wt)
{
    uint32_t i;
    if (p->mode == ECNN_RESIZE_LINEAR) {
        const float last = (float)(in_len - 1);
        v = v < 0.0f ? 0.0f : v > last ? last : v;
        idx[0] = (uint32_t)v;
        if (idx[0] > in_len - 1) idx[0] = in_len - 1;
        idx[1] = idx[0] + 1 < in_len ? idx[0] + 1 : in_len - 1;
        wt[1] = fabsf(v - (float)idx[0]);
        wt[0] = fabsf(v - (float)idx[1]);
        if (idx[0] == idx[1]) wt[0] = wt[1] = 0.5f;
        return 2;
    } else {
        const float a = p->cubic_a, base = floorf(v), s = v - base;
        float sum = 0.0f;
        wt[0] = ((a * (s + 1.0f) - 5.0f * a) * (s + 1.0f) + 8.0f * a) * (s + 1.0f) - 4.0f * a;
        wt[1] = ((a + 2.0f) * s - (a + 3.0f)) * s * s + 1.0f;
        wt[2] = ((a + 2.0f) * (1.0f - s) - (a + 3.0f)) * (1.0f - s) * (1.0f - s) + 1.0f;
        wt[3] = ((a * (2.0f - s) - 5.0f * a) * (2.0f - s) + 8.0f * a) * (2.0f - s) - 4.0f * a;
        for (i = 0; i < 4; i++) {
            const float at = base - 1.0f + (float)i;
            const int outside = !(at >= 0.0f) || at > (float)(in_len - 1);
            idx[i] = !(at >= 0.0f) ? 0 : at > (float)(in_len - 1) ? in_len - 1 : (uint32_t)at;
            if (p->exclude_outside && outside) wt[i] = 0.0f;
            sum += wt[i];
        }
        if (p->exclude_outside)
            for (i = 0; i < 4; i++) wt[i] = wt[i] / sum;
        return 4;
    }
}

/* tf_crop_and_resize: a coordinate outside the input gives the extrapolation value. */
static int outside(const ecnn_resize2d_args *p, float v, uint32_t in_len)
{
    return p->coord == ECNN_COORD_TF_CROP_AND_RESIZE && (v < 0.0f || v > (float)(in_len - 1));
}

void ecnn_resize2d_f32_ref(float *y, const float *x, size_t row0, size_t rows, const ecnn_resize2d_args *p)
{
    size_t r;
    uint32_t ox, c, i, j, ny, nx, iy[4], ix[4];
    float wy[4], wx[4];
    for (r = row0; r < row0 + rows; r++) {
        const size_t s = r / p->oh;
        const uint32_t oy = (uint32_t)(r % p->oh);
        const float *xs = x + s * p->h * p->w * p->c;
        float *yr = y + r * p->ow * p->c;
        const float vy = resize_coord(p->coord, oy, p->scale_h, p->oh, p->h, p->roi_h0, p->roi_h1);
        ny = p->mode != ECNN_RESIZE_NEAREST ? resize_taps(p, vy, p->h, iy, wy) : 0;
        for (ox = 0; ox < p->ow; ox++) {
            const float vx = resize_coord(p->coord, ox, p->scale_w, p->ow, p->w, p->roi_w0, p->roi_w1);
            float *yp = yr + (size_t)ox * p->c;
            if (outside(p, vy, p->h) || outside(p, vx, p->w)) {
                for (c = 0; c < p->c; c++) yp[c] = p->extrapolation;
            } else if (p->mode == ECNN_RESIZE_NEAREST) {
                const float *xp = xs + ((size_t)nearest_index(p->nearest_mode, vy, p->scale_h, p->h) * p->w +
                                        nearest_index(p->nearest_mode, vx, p->scale_w, p->w)) *
                                           p->c;
                for (c = 0; c < p->c; c++) yp[c] = xp[c];
            } else if (p->mode == ECNN_RESIZE_LINEAR) {
                const float *p00, *p01, *p10, *p11;
                resize_taps(p, vx, p->w, ix, wx);
                p00 = xs + ((size_t)iy[0] * p->w + ix[0]) * p->c;
                p01 = xs + ((size_t)iy[0] * p->w + ix[1]) * p->c;
                p10 = xs + ((size_t)iy[1] * p->w + ix[0]) * p->c;
                p11 = xs + ((size_t)iy[1] * p->w + ix[1]) * p->c;
                for (c = 0; c < p->c; c++)
                    yp[c] = wx[0] * wy[0] * p00[c] + wx[1] * wy[0] * p01[c] + wx[0] * wy[1] * p10[c] +
                            wx[1] * wy[1] * p11[c];
            } else { /* cubic: each tap row along x, then the rows along y */
                nx = resize_taps(p, vx, p->w, ix, wx);
                for (c = 0; c < p->c; c++) {
                    float acc = 0.0f;
                    for (j = 0; j < ny; j++) {
                        const float *xrow = xs + (size_t)iy[j] * p->w * p->c + c;
                        float row = 0.0f;
                        for (i = 0; i < nx; i++) row += wx[i] * xrow[(size_t)ix[i] * p->c];
                        acc += wy[j] * row;
                    }
                    yp[c] = acc;
                }
            }
        }
    }
}

void ecnn_resize2d_nearest_ref(void *y, const void *x, uint32_t esize, size_t row0, size_t rows,
                               const ecnn_resize2d_args *p)
{
    const size_t pixel = (size_t)p->c * esize;
    size_t r;
    uint32_t ox;
    for (r = row0; r < row0 + rows; r++) {
        const size_t s = r / p->oh;
        const uint32_t oy = (uint32_t)(r % p->oh);
        const float vy = resize_coord(p->coord, oy, p->scale_h, p->oh, p->h, p->roi_h0, p->roi_h1);
        const uint8_t *xrow =
            (const uint8_t *)x + (s * p->h + nearest_index(p->nearest_mode, vy, p->scale_h, p->h)) * p->w * pixel;
        uint8_t *yr = (uint8_t *)y + r * p->ow * pixel;
        for (ox = 0; ox < p->ow; ox++) {
            const float vx = resize_coord(p->coord, ox, p->scale_w, p->ow, p->w, p->roi_w0, p->roi_w1);
            memcpy(yr + ox * pixel, xrow + nearest_index(p->nearest_mode, vx, p->scale_w, p->w) * pixel, pixel);
        }
    }
}

/* Reference float kernels of the ops that enlarge a feature map or scale it per element:
 * PRELU, CONV_TRANSPOSE_2D and RESIZE_2D (ONNX PRelu, ConvTranspose, Resize). Plain loops;
 * each call computes whole output rows, so a tile's results do not depend on the tiling. */
#include <math.h>
#include <stddef.h>

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
 * float as onnxruntime computes it). */
static float resize_coord(uint32_t coord, uint32_t out, float scale, uint32_t out_len, uint32_t in_len)
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

/* The two input indices and their weights of linear interpolation at coordinate v (clamped to
 * the input, as onnxruntime: both weights 0.5 when the indices meet at the border). */
static void linear_taps(float v, uint32_t in_len, uint32_t *i0, uint32_t *i1, float *w0, float *w1)
{
    const float last = (float)(in_len - 1);
    v = v < 0.0f ? 0.0f : v > last ? last : v;
    *i0 = (uint32_t)v;
    if (*i0 > in_len - 1) *i0 = in_len - 1;
    *i1 = *i0 + 1 < in_len ? *i0 + 1 : in_len - 1;
    *w1 = fabsf(v - (float)*i0); /* weight of i1 */
    *w0 = fabsf(v - (float)*i1); /* weight of i0 */
    if (*i0 == *i1) *w0 = *w1 = 0.5f;
}

void ecnn_resize2d_f32_ref(float *y, const float *x, size_t row0, size_t rows, const ecnn_resize2d_args *p)
{
    size_t r;
    uint32_t ox, c;
    for (r = row0; r < row0 + rows; r++) {
        const size_t s = r / p->oh;
        const uint32_t oy = (uint32_t)(r % p->oh);
        const float *xs = x + s * p->h * p->w * p->c;
        float *yr = y + r * p->ow * p->c;
        const float vy = resize_coord(p->coord, oy, p->scale_h, p->oh, p->h);
        if (p->mode == ECNN_RESIZE_NEAREST) {
            const float *xrow = xs + (size_t)nearest_index(p->nearest_mode, vy, p->scale_h, p->h) * p->w * p->c;
            for (ox = 0; ox < p->ow; ox++) {
                const float vx = resize_coord(p->coord, ox, p->scale_w, p->ow, p->w);
                const float *xp = xrow + (size_t)nearest_index(p->nearest_mode, vx, p->scale_w, p->w) * p->c;
                for (c = 0; c < p->c; c++) yr[(size_t)ox * p->c + c] = xp[c];
            }
        } else {
            uint32_t y0, y1, x0, x1;
            float wy0, wy1, wx0, wx1;
            linear_taps(vy, p->h, &y0, &y1, &wy0, &wy1);
            for (ox = 0; ox < p->ow; ox++) {
                const float *p00, *p01, *p10, *p11;
                linear_taps(resize_coord(p->coord, ox, p->scale_w, p->ow, p->w), p->w, &x0, &x1, &wx0, &wx1);
                p00 = xs + ((size_t)y0 * p->w + x0) * p->c;
                p01 = xs + ((size_t)y0 * p->w + x1) * p->c;
                p10 = xs + ((size_t)y1 * p->w + x0) * p->c;
                p11 = xs + ((size_t)y1 * p->w + x1) * p->c;
                for (c = 0; c < p->c; c++)
                    yr[(size_t)ox * p->c + c] =
                        wx0 * wy0 * p00[c] + wx1 * wy0 * p01[c] + wx0 * wy1 * p10[c] + wx1 * wy1 * p11[c];
            }
        }
    }
}

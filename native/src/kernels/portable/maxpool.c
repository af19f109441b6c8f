/* Max pooling in plain C99, float and int8 / uint8 (kernels.h): the reference's loop order
 * (first window tap copied, then max; in place under the same conditions) with the padding
 * taps skipped up front and channels in fixed-size blocks, so the compiler vectorises it. */
#include "kernels/kernels_i8.h"

#define POOL_LANES 8u

static void maxpool2d_f32(float *y, const float *x, uint32_t n, const ecnn_pool2d_args *p)
{
    uint32_t s, oy, ox, ky, kx, c, l;
    const uint32_t cfull = p->c / POOL_LANES * POOL_LANES;
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->c;
                int first = 1;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (ky = ky0; ky < ky1; ky++) {
                    const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                    for (kx = kx0; kx < kx1; kx++) {
                        const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                        const float *xp = xs + (iy * p->w + ix) * p->c;
                        if (first) {
                            for (c = 0; c < p->c; c++) yp[c] = xp[c];
                            first = 0;
                            continue;
                        }
                        for (c = 0; c < cfull; c += POOL_LANES)
                            for (l = 0; l < POOL_LANES; l++) yp[c + l] = xp[c + l] > yp[c + l] ? xp[c + l] : yp[c + l];
                        for (c = cfull; c < p->c; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
                    }
                }
            }
        }
    }
}

/* int8 codes compare as bytes with the sign bit flipped (x ^ 0x80 maps -128..127 onto 0..255
 * in order), so one loop serves both types. */
static void maxpool2d_q(void *y, const void *x, uint32_t n, const ecnn_pool2d_args *p, int type)
{
    const uint8_t flip = type == ECNN_Q_U8 ? 0 : 0x80;
    uint32_t s, oy, ox, ky, kx, c;
    for (s = 0; s < n; s++)
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * p->c;
                uint8_t *yp = (uint8_t *)y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->c;
                int first = 1;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (ky = ky0; ky < ky1; ky++) {
                    const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                    for (kx = kx0; kx < kx1; kx++) {
                        const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                        const uint8_t *xp = xs + (iy * p->w + ix) * p->c;
                        if (first) {
                            for (c = 0; c < p->c; c++) yp[c] = xp[c];
                            first = 0;
                        } else {
                            for (c = 0; c < p->c; c++) yp[c] = (uint8_t)(xp[c] ^ flip) > (uint8_t)(yp[c] ^ flip) ? xp[c] : yp[c];
                        }
                    }
                }
            }
        }
}

void ecnn_maxpool2d_portable(void *y, const void *x, uint32_t n, const ecnn_pool2d_args *p, int type)
{
    if (type == ECNN_POOL_F32)
        maxpool2d_f32((float *)y, (const float *)x, n, p);
    else
        maxpool2d_q(y, x, n, p, type);
}

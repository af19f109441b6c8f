/* Max pooling in plain C99, float and int8 / uint8 (kernels.h): the reference's loop order
 * (first window tap copied, then max; in place under the same conditions) with the padding
 * taps skipped up front and channels in fixed-size blocks, so the compiler vectorises it. */
#include "kernels/kernels_i8.h"

#define POOL_LANES 8u

/* The first tap of each output pixel is copied, then every tap (the first again: max(v, v) = v
 * bit for bit) folded in with the reference's compare. */
static void maxpool2d_f32(float *y, const float *x, const ecnn_tile *t, const ecnn_pool2d_args *p)
{
    const uint32_t cfull = t->o0 + (t->o1 - t->o0) / POOL_LANES * POOL_LANES;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c, l;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->c);
        for (c = t->o0; c < t->o1; c++) yp[c] = xs[ECNN_TAP_AT(p, oy, ox, ky0, kx0) + c];
        for (ky = ky0; ky < ky1; ky++)
            for (kx = kx0; kx < kx1; kx++) {
                const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
                for (c = t->o0; c < cfull; c += POOL_LANES)
                    for (l = 0; l < POOL_LANES; l++) yp[c + l] = xp[c + l] > yp[c + l] ? xp[c + l] : yp[c + l];
                for (c = cfull; c < t->o1; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
            }
    }
}

/* int8 codes compare as bytes with the sign bit flipped (x ^ 0x80 maps -128..127 onto 0..255
 * in order), so one loop serves both types. */
static void maxpool2d_q(uint8_t *y, const uint8_t *x, const ecnn_tile *t, const ecnn_pool2d_args *p, int type)
{
    const uint8_t flip = type == ECNN_Q_U8 ? 0 : 0x80;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const uint8_t *xs = x + (size_t)s * p->h * p->w * p->c;
        uint8_t *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->c);
        for (c = t->o0; c < t->o1; c++) yp[c] = xs[ECNN_TAP_AT(p, oy, ox, ky0, kx0) + c];
        for (ky = ky0; ky < ky1; ky++)
            for (kx = kx0; kx < kx1; kx++) {
                const uint8_t *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
                for (c = t->o0; c < t->o1; c++)
                    yp[c] = (uint8_t)(xp[c] ^ flip) > (uint8_t)(yp[c] ^ flip) ? xp[c] : yp[c];
            }
    }
}

void ecnn_maxpool2d_portable(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                             int type)
{
    (void)n; /* rows and channels come from the tile */
    if (type == ECNN_POOL_F32)
        maxpool2d_f32((float *)y, (const float *)x, t, p);
    else
        maxpool2d_q((uint8_t *)y, (const uint8_t *)x, t, p, type);
}

/* Max pooling in plain C99, float and int8 / uint8 (kernels.h): the reference's loop order
 * (first window tap copied, then max; in place under the same conditions) with the padding
 * taps skipped up front and channels in fixed-size blocks, so the compiler vectorises it. */
#include "kernels/kernels_i8.h"

#define POOL_LANES 8u

/* One tap folded into the output pixel's channels [o0, o1): the reference's compare, in blocks of
 * POOL_LANES (vectorisable). */
static void fold_f32(float *yp, const float *xp, uint32_t o0, uint32_t o1)
{
    const uint32_t cfull = o0 + (o1 - o0) / POOL_LANES * POOL_LANES;
    uint32_t c, l;
    for (c = o0; c < cfull; c += POOL_LANES)
        for (l = 0; l < POOL_LANES; l++) yp[c + l] = xp[c + l] > yp[c + l] ? xp[c + l] : yp[c + l];
    for (c = cfull; c < o1; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
}

/* int8 codes compare as bytes with the sign bit flipped (x ^ 0x80 maps -128..127 onto 0..255
 * in order), so one loop serves both types. */
static void fold_q(uint8_t *yp, const uint8_t *xp, uint32_t o0, uint32_t o1, uint8_t flip)
{
    uint32_t c;
    for (c = o0; c < o1; c++) yp[c] = (uint8_t)(xp[c] ^ flip) > (uint8_t)(yp[c] ^ flip) ? xp[c] : yp[c];
}

/* The first tap of each output pixel is copied (forward, as the reference: in place, y is at or
 * before it), then every tap (the first again: max(v, v) = v bit for bit) folded in. */
void ecnn_maxpool2d_portable(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                             int type)
{
    const size_t e = type == ECNN_POOL_F32 ? sizeof(float) : 1; /* bytes an element */
    const uint8_t flip = type == ECNN_Q_U8 ? 0 : 0x80;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c;
    (void)n; /* rows and channels come from the tile */
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * p->c * e;
        uint8_t *yp = (uint8_t *)y + ECNN_PIXEL_AT(p, s, oy, ox, p->c) * e;
        const uint8_t *first = xs + ECNN_TAP_AT(p, oy, ox, ky0, kx0) * e;
        for (c = (uint32_t)(t->o0 * e); c < t->o1 * e; c++) yp[c] = first[c];
        for (ky = ky0; ky < ky1; ky++)
            for (kx = kx0; kx < kx1; kx++) {
                const uint8_t *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) * e;
                if (type == ECNN_POOL_F32)
                    fold_f32((float *)yp, (const float *)xp, t->o0, t->o1);
                else
                    fold_q(yp, xp, t->o0, t->o1, flip);
            }
    }
}

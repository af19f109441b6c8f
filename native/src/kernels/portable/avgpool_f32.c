/* Float average pooling (kernels.h ecnn_avgpool2d_f32_ref's contract and result, bit for bit):
 * the reference's sums (the window positions inside x added in (ky, kx) order to a +0 start,
 * then one division by the count) kept in a block of accumulators over channels instead of in
 * y, with the padding taps skipped up front and the count taken per axis (the counted positions
 * form a rectangle), so the channel loops are plain enough for the compiler to vectorise.
 * x86/avgpool_f32.h does the same with the sums in vector registers. */
#include "kernels/kernels.h"

#ifndef ECNN_AVGPOOL2D_F32
#define ECNN_AVGPOOL2D_F32 ecnn_avgpool2d_f32_portable
#endif

#define AVG_BLOCK 64u /* channels whose sums stay in one stack array */

void ECNN_AVGPOOL2D_F32(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p)
{
    float acc[AVG_BLOCK];
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c0, c;
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->c);
        const float count = ecnn_avgpool_count(p, oy, ox);
        for (c0 = t->o0; c0 < t->o1; c0 += AVG_BLOCK) {
            const uint32_t width = t->o1 - c0 < AVG_BLOCK ? t->o1 - c0 : AVG_BLOCK;
            for (c = 0; c < width; c++) acc[c] = 0.0f;
            for (ky = ky0; ky < ky1; ky++)
                for (kx = kx0; kx < kx1; kx++) {
                    const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + c0;
                    for (c = 0; c < width; c++) acc[c] += xp[c];
                }
            for (c = 0; c < width; c++) yp[c0 + c] = acc[c] / count;
        }
    }
}

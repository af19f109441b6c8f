/* Depthwise float convolution (CONV_2D with group == C == O: one input channel per output,
 * MobileNet's 3x3 blocks) over HWIO weights. The general HWIO kernels loop over groups, so
 * with one channel per group nothing is vectorised; here the channels are the inner loop:
 * for each output pixel, each tap adds x[pixel, c] * w[tap, c] to a block of channels.
 * Every output still sums its taps in the reference order ((ky, kx) increasing, padding
 * skipped, one ecnn_mac each, bias last), so results are BIT-IDENTICAL to
 * the reference of the same rounding (native/tests check it). */
#include "kernels/kernels.h"

#define DW_BLOCK 64u /* channels whose accumulators stay in one stack array */

void ecnn_conv2d_f32_dw_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                 const ecnn_tile *t, const ecnn_conv2d_args *p)
{
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c0, c;
    float acc[DW_BLOCK];
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (c0 = t->o0; c0 < t->o1; c0 += DW_BLOCK) {
            const uint32_t count = t->o1 - c0 < DW_BLOCK ? t->o1 - c0 : DW_BLOCK;
            for (c = 0; c < count; c++) acc[c] = 0.0f;
            for (ky = ky0; ky < ky1; ky++)
                for (kx = kx0; kx < kx1; kx++) {
                    const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + c0;
                    const float *wp = w + ((size_t)ky * p->kw + kx) * p->o + c0; /* HWIO, C/group = 1 */
                    for (c = 0; c < count; c++) acc[c] = ecnn_mac(acc[c], xp[c], wp[c]);
                }
            for (c = 0; c < count; c++) yp[c0 + c] = ecnn_apply_kernel_act(b ? acc[c] + b[c0 + c] : acc[c], &p->act);
        }
    }
}

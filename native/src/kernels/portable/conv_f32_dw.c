/* Depthwise float convolution (CONV_2D with group == C == O: one input channel per output,
 * MobileNet's 3x3 blocks) over HWIO weights. The general HWIO kernels loop over groups, so
 * with one channel per group nothing is vectorised; here the channels are the inner loop:
 * for each output pixel, each tap adds x[pixel, c] * w[tap, c] to a block of channels.
 * Every output still sums its taps in the reference order ((ky, kx) increasing, padding
 * skipped, one ecnn_mac each, bias last), so results are BIT-IDENTICAL to
 * the reference of the same rounding (native/tests check it). */
#include "kernels/kernels.h"

#ifndef ECNN_CONV2D_F32_DW /* x86/avx2/fma_ref.c compiles it again, with FMA */
#define ECNN_CONV2D_F32_DW ecnn_conv2d_f32_dw_portable
#endif

#define DW_BLOCK 64u /* channels whose accumulators stay in one stack array */

void ECNN_CONV2D_F32_DW(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_conv2d_args *p)
{
    uint32_t s, oy, ox, ky, kx, c0, c;
    float acc[DW_BLOCK];
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->o;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (c0 = 0; c0 < p->c; c0 += DW_BLOCK) {
                    const uint32_t count = p->c - c0 < DW_BLOCK ? p->c - c0 : DW_BLOCK;
                    for (c = 0; c < count; c++) acc[c] = 0.0f;
                    for (ky = ky0; ky < ky1; ky++) {
                        const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                        for (kx = kx0; kx < kx1; kx++) {
                            const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                            const float *xp = xs + (iy * p->w + ix) * p->c + c0;
                            const float *wp = w + ((size_t)ky * p->kw + kx) * p->o + c0; /* HWIO, C/group = 1 */
                            for (c = 0; c < count; c++) acc[c] = ecnn_mac(acc[c], xp[c], wp[c]);
                        }
                    }
                    for (c = 0; c < count; c++) yp[c0 + c] = ecnn_apply_act(b ? acc[c] + b[c0 + c] : acc[c], &p->act);
                }
            }
        }
    }
}

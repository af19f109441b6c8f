/* Float conv over HWIO weights in plain C99 (kernels.h): for each output pixel, terms in the
 * reference order (ky, kx, c), vectorisable over a block of output channels; bit-identical to
 * ecnn_conv2d_f32_ref. */
#include "kernels/kernels.h"

#define CONV_O_BLOCK 64u /* output channels whose accumulators stay in one stack array */

void ecnn_conv2d_f32_hwio_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                   const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    uint32_t s, oy, ox, ky, kx, c, g, o0, o;
    float acc[CONV_O_BLOCK];
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->o;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (g = 0; g < p->group; g++)
                    for (o0 = 0; o0 < og; o0 += CONV_O_BLOCK) {
                        /* Terms in the reference order (ky, kx, c), vectorised over output channels. */
                        const uint32_t count = og - o0 < CONV_O_BLOCK ? og - o0 : CONV_O_BLOCK;
                        const size_t oc = (size_t)g * og + o0; /* first output channel of the block */
                        for (o = 0; o < count; o++) acc[o] = 0.0f;
                        for (ky = ky0; ky < ky1; ky++) {
                            const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                            for (kx = kx0; kx < kx1; kx++) {
                                const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                                const float *xp = xs + (iy * p->w + ix) * p->c + (size_t)g * cg;
                                const float *wk = w + ((size_t)ky * p->kw + kx) * cg * p->o + oc;
                                for (c = 0; c < cg; c++) {
                                    const float xv = xp[c];
                                    const float *wr = wk + (size_t)c * p->o;
                                    for (o = 0; o < count; o++) acc[o] = ecnn_mac(acc[o], xv, wr[o]);
                                }
                            }
                        }
                        for (o = 0; o < count; o++) yp[oc + o] = ecnn_apply_act(b ? acc[o] + b[oc + o] : acc[o], &p->act);
                    }
            }
        }
    }
}

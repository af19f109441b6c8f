/* CONV_2D_SLICED over HWIO weights in plain C99 (kernels.h): for each output pixel, the terms in
 * the reference's order (c, ky, kx) and slices, vectorisable over a block of output channels;
 * bit-identical to ecnn_conv2d_sliced_f32_ref. */
#include "kernels/kernels.h"

#define SLICED_O_BLOCK 64u /* output channels whose sums stay in stack arrays */

void ecnn_conv2d_sliced_f32_hwio_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                          const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c, g, o;
    float total[SLICED_O_BLOCK], slice[SLICED_O_BLOCK];
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (g = 0; g < p->group; g++) {
            const uint32_t lo = g * og > t->o0 ? g * og : t->o0, hi = (g + 1) * og < t->o1 ? (g + 1) * og : t->o1;
            uint32_t oc;
            for (oc = lo; oc < hi; oc += SLICED_O_BLOCK) {
                const uint32_t count = hi - oc < SLICED_O_BLOCK ? hi - oc : SLICED_O_BLOCK;
                uint32_t k_end = k_slice; /* the end of the slice being summed */
                for (o = 0; o < count; o++) total[o] = slice[o] = 0.0f;
                for (c = 0; c < cg; c++)
                    for (ky = ky0; ky < ky1; ky++)
                        for (kx = kx0; kx < kx1; kx++) {
                            const uint32_t k = (c * p->kh + ky) * p->kw + kx;
                            const float xv = xs[ECNN_TAP_AT(p, oy, ox, ky, kx) + (size_t)g * cg + c];
                            const float *wk = w + (((size_t)ky * p->kw + kx) * cg + c) * p->o + oc;
                            if (k >= k_end) { /* slices without a tap inside x add +0: nothing */
                                for (o = 0; o < count; o++) {
                                    total[o] += slice[o];
                                    slice[o] = 0.0f;
                                }
                                k_end = (k / k_slice + 1) * k_slice;
                            }
                            for (o = 0; o < count; o++) slice[o] = ecnn_mac(slice[o], xv, wk[o]);
                        }
                for (o = 0; o < count; o++) {
                    const float sum = total[o] + slice[o];
                    yp[oc + o] = ecnn_apply_act(b ? sum + b[oc + o] : sum, &p->act);
                }
            }
        }
    }
}

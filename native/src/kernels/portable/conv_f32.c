/* Float conv over HWIO weights in plain C99 (kernels.h): for each output pixel, terms in the
 * reference order (ky, kx, c), vectorisable over a block of output channels; bit-identical to
 * ecnn_conv2d_f32_ref. */
#include "kernels/kernels.h"

#define CONV_O_BLOCK 64u /* output channels whose accumulators stay in one stack array */

void ecnn_conv2d_f32_hwio_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                   const ecnn_tile *t, const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c, g, o;
    float acc[CONV_O_BLOCK];
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (g = 0; g < p->group; g++) {
            /* the tile's channels of this group */
            const uint32_t lo = g * og > t->o0 ? g * og : t->o0, hi = (g + 1) * og < t->o1 ? (g + 1) * og : t->o1;
            uint32_t oc; /* first output channel of the block */
            for (oc = lo; oc < hi; oc += CONV_O_BLOCK) {
                /* Terms in the reference order (ky, kx, c), vectorised over output channels. */
                const uint32_t count = hi - oc < CONV_O_BLOCK ? hi - oc : CONV_O_BLOCK;
                for (o = 0; o < count; o++) acc[o] = 0.0f;
                for (ky = ky0; ky < ky1; ky++)
                    for (kx = kx0; kx < kx1; kx++) {
                        const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + (size_t)g * cg;
                        const float *wk = w + ((size_t)ky * p->kw + kx) * cg * p->o + oc;
                        for (c = 0; c < cg; c++)
                            for (o = 0; o < count; o++) acc[o] = ecnn_mac(acc[o], xp[c], wk[(size_t)c * p->o + o]);
                    }
                for (o = 0; o < count; o++)
                    yp[oc + o] = ecnn_apply_kernel_act(b ? acc[o] + b[oc + o] : acc[o], &p->act);
            }
        }
    }
}

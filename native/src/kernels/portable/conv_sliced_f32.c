/* CONV_2D_SLICED over HWIO weights in plain C99 (kernels.h): the reference's terms (c, ky, kx)
 * and slices for a block of output channels at a time, vectorisable over the block;
 * bit-identical to ecnn_conv2d_sliced_f32_ref. */
#include "kernels/kernels.h"

#define SLICED_O_BLOCK 64u /* output channels whose sums stay in stack arrays */

/* Output channels [oc, oc + count) of one output pixel yp, taps [ky0, ky1) x [kx0, kx1) of
 * sample xs; xg: the pixel's group's channel 0 in xs. */
static void sliced_block(float *yp, const float *xs, const float *w, const float *b, const ecnn_conv2d_args *p,
                         uint32_t oy, uint32_t ox, uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1, uint32_t oc,
                         uint32_t count, uint32_t k_slice)
{
    const uint32_t cg = p->c / p->group;
    const float *xg = xs + (size_t)(oc / (p->o / p->group)) * cg;
    float total[SLICED_O_BLOCK], slice[SLICED_O_BLOCK];
    uint32_t k_end = k_slice, c, ky, kx, j; /* k_end: the end of the slice being summed */
    for (j = 0; j < count; j++) total[j] = slice[j] = 0.0f;
    for (c = 0; c < cg; c++)
        for (ky = ky0; ky < ky1; ky++)
            for (kx = kx0; kx < kx1; kx++) {
                const uint32_t k = (c * p->kh + ky) * p->kw + kx;
                const float xv = xg[ECNN_TAP_AT(p, oy, ox, ky, kx) + c];
                const float *wk = w + (((size_t)ky * p->kw + kx) * cg + c) * p->o + oc;
                if (k >= k_end) { /* slices without a tap inside x add +0: nothing */
                    for (j = 0; j < count; j++) {
                        total[j] += slice[j];
                        slice[j] = 0.0f;
                    }
                    k_end = (k / k_slice + 1) * k_slice;
                }
                for (j = 0; j < count; j++) slice[j] = ecnn_mac(slice[j], xv, wk[j]);
            }
    for (j = 0; j < count; j++) {
        const float sum = total[j] + slice[j];
        yp[oc + j] = ecnn_apply_kernel_act(b ? sum + b[oc + j] : sum, &p->act);
    }
}

void ecnn_conv2d_sliced_f32_hwio_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                          const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice)
{
    const uint32_t og = p->o / p->group;
    uint32_t m, s, oy, ox, ky0, ky1, kx0, kx1, oc, end;
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    for (oc = t->o0; oc < t->o1; oc = end) { /* blocks within one group */
        end = (oc / og + 1) * og;
        if (end > t->o1) end = t->o1;
        if (end - oc > SLICED_O_BLOCK) end = oc + SLICED_O_BLOCK;
        sliced_block(y + ECNN_PIXEL_AT(p, s, oy, ox, p->o), x + (size_t)s * p->h * p->w * p->c, w, b, p, oy, ox, ky0,
                     ky1, kx0, kx1, oc, end - oc, k_slice);
    }
}

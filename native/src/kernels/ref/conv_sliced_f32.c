/* The reference CONV_2D_SLICED (kernels.h): a float convolution summed as onnxruntime's MLAS sums
 * it (im2col with K in channel, row, column order, an SGEMM in K slices, the bias last). Taps in
 * the padding are skipped: onnxruntime's im2col holds +0 there, whose products leave a sum
 * unchanged (a sum that starts at +0 never becomes -0). ecnn_mac fuses as the ISA level does:
 * compiled again with FMA for the x86 SIMD levels (x86/avx2/fma_ref.c). */
#include "kernels/kernels.h"

#ifndef ECNN_CONV2D_SLICED_F32_REF
#define ECNN_CONV2D_SLICED_F32_REF ecnn_conv2d_sliced_f32_ref
#endif

/* Output channel o of output pixel (oy, ox) of one sample xs, before bias and activation. */
static float sliced_sum(const float *xs, const float *w, const ecnn_conv2d_args *p, uint32_t o, uint32_t oy,
                        uint32_t ox, uint32_t k_slice)
{
    const uint32_t cg = p->c / p->group;
    const float *xg = xs + (size_t)(o / (p->o / p->group)) * cg; /* its group's channel 0 */
    float total = 0.0f, slice = 0.0f;
    uint32_t k = 0, c, ky, kx;
    for (c = 0; c < cg; c++)
        for (ky = 0; ky < p->kh; ky++)
            for (kx = 0; kx < p->kw; kx++, k++) {
                int64_t iy, ix;
                if (k > 0 && k % k_slice == 0) { /* the slice before k is complete */
                    total += slice;
                    slice = 0.0f;
                }
                if (ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) &&
                    ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                    slice = ecnn_mac(slice, xg[((size_t)iy * p->w + (size_t)ix) * p->c + c],
                                     w[ecnn_conv_w_base(p, o, ky, kx) + c * ecnn_conv_w_cstep(p)]);
            }
    return total + slice;
}

void ECNN_CONV2D_SLICED_F32_REF(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice)
{
    uint32_t m, s, oy, ox, o;
    (void)n; /* rows and channels come from the tile */
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    for (o = t->o0; o < t->o1; o++) {
        const float sum = sliced_sum(x + (size_t)s * p->h * p->w * p->c, w, p, o, oy, ox, k_slice);
        y[ECNN_PIXEL_AT(p, s, oy, ox, p->o) + o] = ecnn_apply_act(b ? sum + b[o] : sum, &p->act);
    }
}

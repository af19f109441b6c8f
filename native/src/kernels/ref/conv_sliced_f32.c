/* The reference CONV_2D_SLICED (kernels.h): a float convolution summed as onnxruntime's MLAS sums
 * it (im2col with K in channel, row, column order, an SGEMM in K slices, the bias last). Taps in
 * the padding are skipped: onnxruntime's im2col holds +0 there, whose products leave a sum
 * unchanged (a sum that starts at +0 never becomes -0). ecnn_mac fuses as the ISA level does:
 * compiled again with FMA for the x86 SIMD levels (x86/avx2/fma_ref.c). */
#include "kernels/kernels.h"

#ifndef ECNN_CONV2D_SLICED_F32_REF
#define ECNN_CONV2D_SLICED_F32_REF ecnn_conv2d_sliced_f32_ref
#endif

void ECNN_CONV2D_SLICED_F32_REF(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    const size_t cs = ecnn_conv_w_cstep(p);
    uint32_t m, s, oy, ox, o, ky, kx, c;
    int64_t iy, ix;
    (void)n; /* rows and channels come from the tile */
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (o = t->o0; o < t->o1; o++) {
            float total = 0.0f, slice = 0.0f;
            uint32_t k = 0;
            for (c = 0; c < cg; c++)
                for (ky = 0; ky < p->kh; ky++)
                    for (kx = 0; kx < p->kw; kx++, k++) {
                        if (k > 0 && k % k_slice == 0) { /* the slice before k is complete */
                            total += slice;
                            slice = 0.0f;
                        }
                        if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) ||
                            !ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                            continue;
                        slice = ecnn_mac(slice, xs[((size_t)iy * p->w + (size_t)ix) * p->c + (size_t)(o / og) * cg + c],
                                         w[ecnn_conv_w_base(p, o, ky, kx) + c * cs]);
                    }
            total += slice;
            if (b) total += b[o];
            y[ECNN_PIXEL_AT(p, s, oy, ox, p->o) + o] = ecnn_apply_act(total, &p->act);
        }
    }
}

/* Reference float32 conv and fully connected kernels: the straightforward loops, ONNX
 * semantics, the oracle of every fast conv and FC kernel. Products are summed in the order of
 * the loops below, one ecnn_mac per term, bias added last (as ONNX MatMul + Add and Conv do), so
 * results stay within a few ulp of onnxruntime. ecnn_mac fuses where the compiler targets FMA
 * (kernels.h): compiled again with FMA for the ISA levels that have it (x86/avx2/fma_ref.c)
 * under the names ECNN_CONV2D_F32_REF / ECNN_FC_F32_REF give. */
#include "kernels/kernels.h"

#ifndef ECNN_CONV2D_F32_REF
#define ECNN_CONV2D_F32_REF ecnn_conv2d_f32_ref
#define ECNN_FC_F32_REF ecnn_fully_connected_f32_ref
#endif

void ECNN_CONV2D_F32_REF(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                         const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group;    /* input channels per group */
    const uint32_t og = p->o / p->group;    /* output channels per group */
    const size_t cs = ecnn_conv_w_cstep(p); /* weight step from channel c to c + 1 */
    uint32_t m, s, oy, ox, o, ky, kx, c;
    int64_t iy, ix;
    (void)n; /* rows and channels come from the tile */
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (o = t->o0; o < t->o1; o++) {
            float acc = 0.0f;
            for (ky = 0; ky < p->kh; ky++)
                for (kx = 0; kx < p->kw; kx++) {
                    const float *xp = xs + (size_t)(o / og) * cg, *wp = w + ecnn_conv_w_base(p, o, ky, kx);
                    if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) ||
                        !ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                        continue;
                    xp += ((size_t)iy * p->w + (size_t)ix) * p->c;
                    for (c = 0; c < cg; c++) acc = ecnn_mac(acc, xp[c], wp[c * cs]);
                }
            if (b) acc += b[o];
            y[ECNN_PIXEL_AT(p, s, oy, ox, p->o) + o] = ecnn_apply_act(acc, &p->act);
        }
    }
}

void ECNN_FC_F32_REF(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k, uint32_t o,
                     const ecnn_tile *t, const ecnn_act_params *act, uint32_t layout)
{
    uint32_t s, j, i;
    (void)n; /* samples and outputs come from the tile */
    for (s = t->m0; s < t->m1; s++) {
        const float *xs = x + (size_t)s * k;
        for (j = t->o0; j < t->o1; j++) {
            float acc = 0.0f;
            for (i = 0; i < k; i++) acc = ecnn_mac(acc, xs[i], w[ecnn_fc_w_index(layout, j, i, k)]);
            if (b) acc += b[j];
            y[(size_t)s * o + j] = ecnn_apply_act(acc, act);
        }
    }
}

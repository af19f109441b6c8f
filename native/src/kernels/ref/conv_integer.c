/* Reference kernel of CONV_INTEGER_2D (ONNX ConvInteger / MatMulInteger): exact int32 sums. */
#include <stddef.h>

#include "kernels/kernels.h"

static int32_t code_at(const void *base, size_t i, int is_unsigned)
{
    return is_unsigned ? (int32_t)((const uint8_t *)base)[i] : (int32_t)((const int8_t *)base)[i];
}

void ecnn_conv_integer2d_ref(int32_t *y, const void *x, const void *w, const int32_t *w_zp, uint32_t w_zp_count,
                             size_t row0, size_t rows, const ecnn_conv_integer2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    size_t r;
    uint32_t ox, o, ky, kx, c;
    int64_t iy, ix;
    for (r = row0; r < row0 + rows; r++) {
        const size_t s = r / p->oh;
        const uint32_t oy = (uint32_t)(r % p->oh);
        const size_t xs = s * p->h * p->w * p->c;
        int32_t *yr = y + r * p->ow * p->o;
        for (ox = 0; ox < p->ow; ox++)
            for (o = 0; o < p->o; o++) {
                const int32_t wz = w_zp ? w_zp[w_zp_count == 1 ? 0 : o] : 0;
                uint32_t acc = 0; /* modulo 2^32: no signed overflow */
                for (ky = 0; ky < p->kh; ky++) {
                    if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy)) continue;
                    for (kx = 0; kx < p->kw; kx++) {
                        size_t xi, wi;
                        if (!ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix)) continue;
                        xi = xs + ((size_t)iy * p->w + (size_t)ix) * p->c + (size_t)(o / og) * cg;
                        wi = (((size_t)o * p->kh + ky) * p->kw + kx) * cg;
                        for (c = 0; c < cg; c++)
                            acc += (uint32_t)((code_at(x, xi + c, p->x_unsigned) - p->x_zero_point) *
                                              (code_at(w, wi + c, p->w_unsigned) - wz));
                    }
                }
                yr[(size_t)ox * p->o + o] = (int32_t)acc;
            }
    }
}

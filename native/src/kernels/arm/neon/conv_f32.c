/* NEON float conv over HWIO weights (kernels.h), O / group a multiple of 8: terms in the
 * reference order, one ecnn_mac each, bit-identical to the reference. */
#include "kernels/arm/neon/neon.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_neon;

void ecnn_conv2d_f32_hwio_neon(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                               const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c, g, o0, l;
    (void)n; /* rows and channels come from the tile (channels: multiples of 8, as O / group) */
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (g = 0; g < p->group; g++)
            for (o0 = g * og > t->o0 ? g * og : t->o0; o0 < (g + 1) * og && o0 < t->o1; o0 += 8) {
                float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
                float out[8];
                for (ky = ky0; ky < ky1; ky++)
                    for (kx = kx0; kx < kx1; kx++) {
                        const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + (size_t)g * cg;
                        const float *wk = w + ((size_t)ky * p->kw + kx) * cg * p->o + o0;
                        for (c = 0; c < cg; c++) {
                            const float32x4_t xb = vdupq_n_f32(xp[c]);
                            a0 = F32_MAC(a0, xb, vld1q_f32(wk + (size_t)c * p->o));
                            a1 = F32_MAC(a1, xb, vld1q_f32(wk + (size_t)c * p->o + 4));
                        }
                    }
                if (b) {
                    a0 = vaddq_f32(a0, vld1q_f32(b + o0));
                    a1 = vaddq_f32(a1, vld1q_f32(b + o0 + 4));
                }
                vst1q_f32(out, a0);
                vst1q_f32(out + 4, a1);
                for (l = 0; l < 8; l++) yp[o0 + l] = ecnn_apply_kernel_act(out[l], &p->act);
            }
    }
}

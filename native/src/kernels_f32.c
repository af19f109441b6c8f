/* Faster portable float32 kernels; see kernels.h. The reference versions in
 * kernels_ref_f32.c are their oracle (native/tests): every kernel here sums its terms in
 * the reference order (one ecnn_mac per term, bias last), so it gives the reference's
 * result bit for bit. Plain C99, no intrinsics; simd.h picks intrinsics kernels where the
 * CPU has them.
 *
 * Fully connected weights in the plain [O][K] layout (a weight shared by several ops,
 * which the compiler leaves unpacked) run on the reference kernel: a faster kernel for
 * that layout would have to sum in another order (lanes over k) and so round differently. */
#include <stddef.h>

#include "kernels.h"

/* ---- packed weights (ECNN_LAYOUT_FC_PANEL16, ECNN_LAYOUT_CONV_HWIO) ------------------- */

#include "simd.h"

/* Samples per block of the portable panel kernel: each loaded weight row feeds FC_SAMPLES products. */
#define FC_SAMPLES 4u

#ifndef ECNN_SIMD_FC_F32 /* SIMD builds run their own kernel; the portable build (and its tests) this one */
void ecnn_fc_f32_panel16_portable(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                  uint32_t o, const ecnn_act_params *act)
{
    const uint32_t panels = (o + ECNN_PANEL_F32 - 1) / ECNN_PANEL_F32;
    uint32_t p, s0, s, i, l;
    for (p = 0; p < panels; p++) {
        const float *wp = w + (size_t)p * ECNN_PANEL_F32 * k;
        const uint32_t o0 = p * ECNN_PANEL_F32;
        const uint32_t width = o - o0 < ECNN_PANEL_F32 ? o - o0 : ECNN_PANEL_F32;
        for (s0 = 0; s0 < n; s0 += FC_SAMPLES) {
            const uint32_t ns = n - s0 < FC_SAMPLES ? n - s0 : FC_SAMPLES;
            float acc[FC_SAMPLES][ECNN_PANEL_F32];
            for (s = 0; s < FC_SAMPLES; s++)
                for (l = 0; l < ECNN_PANEL_F32; l++) acc[s][l] = 0.0f;
            /* k ascending, one ecnn_mac per term: the reference order. */
            for (i = 0; i < k; i++) {
                const float *wi = wp + (size_t)i * ECNN_PANEL_F32;
                for (s = 0; s < ns; s++) {
                    const float xv = x[(size_t)(s0 + s) * k + i];
                    for (l = 0; l < ECNN_PANEL_F32; l++) acc[s][l] = ecnn_mac(acc[s][l], xv, wi[l]);
                }
            }
            for (s = 0; s < ns; s++)
                for (l = 0; l < width; l++) {
                    float v = acc[s][l];
                    if (b) v += b[o0 + l];
                    y[(size_t)(s0 + s) * o + o0 + l] = ecnn_apply_act(v, act);
                }
        }
    }
}
#endif

void ecnn_fc_f32_panel16(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k, uint32_t o,
                         const ecnn_act_params *act)
{
#ifdef ECNN_SIMD_FC_F32
    ECNN_SIMD_FC_F32(y, x, w, b, n, k, o, act);
#else
    ecnn_fc_f32_panel16_portable(y, x, w, b, n, k, o, act);
#endif
}


/* Output channels per block: the accumulators of one output pixel stay in a stack array. */
#define CONV_O_BLOCK 64u

void ecnn_conv2d_f32_hwio(float *y, const float *x, const float *w, const float *b, uint32_t n,
                          const ecnn_conv2d_args *p)
{
#if defined(ECNN_X86_AVX2_KERNELS)
    ECNN_SIMD_CONV_F32(y, x, w, b, n, p); /* any O / group (masked last channels) */
#else
#ifdef ECNN_SIMD_CONV_F32
    if ((p->o / p->group) % 8 == 0) { /* the NEON kernel takes whole blocks of 8 output channels */
        ECNN_SIMD_CONV_F32(y, x, w, b, n, p);
        return;
    }
#endif
    ecnn_conv2d_f32_hwio_portable(y, x, w, b, n, p);
#endif
}

#ifndef ECNN_X86_AVX2_KERNELS /* x86 SIMD builds never call it (their kernel takes every O / group) */
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
#endif

/* Max pooling, the reference's loop order (first tap copied, then max; in place under the
 * same conditions) with padding taps skipped up front and channels in fixed-size blocks.
 * x86 SIMD builds run the AVX2 kernel for every C. */
#define POOL_LANES 8u

void ecnn_maxpool2d_f32(float *y, const float *x, uint32_t n, const ecnn_pool2d_args *p)
{
#ifdef ECNN_X86_AVX2_KERNELS
    ecnn_maxpool2d_avx2(y, x, n, p, ECNN_POOL_F32); /* any C */
#else
    uint32_t s, oy, ox, ky, kx, c, l;
    const uint32_t cfull = p->c / POOL_LANES * POOL_LANES;
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->c;
                int first = 1;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (ky = ky0; ky < ky1; ky++) {
                    const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                    for (kx = kx0; kx < kx1; kx++) {
                        const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                        const float *xp = xs + (iy * p->w + ix) * p->c;
                        if (first) {
                            for (c = 0; c < p->c; c++) yp[c] = xp[c];
                            first = 0;
                            continue;
                        }
                        for (c = 0; c < cfull; c += POOL_LANES)
                            for (l = 0; l < POOL_LANES; l++) yp[c + l] = xp[c + l] > yp[c + l] ? xp[c + l] : yp[c + l];
                        for (c = cfull; c < p->c; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
                    }
                }
            }
        }
    }
#endif
}

const char *ecnn_simd(void)
{
#if defined(ECNN_SIMD_AVX512)
    return "avx512";
#elif defined(ECNN_SIMD_AVX2)
    return "avx2";
#elif defined(ECNN_SIMD_NEON)
    return "neon";
#else
    return "portable";
#endif
}

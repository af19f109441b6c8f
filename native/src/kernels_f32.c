/* Faster portable float32 kernels; see kernels.h. The reference versions in
 * kernels_ref_f32.c are their oracle (native/tests).
 *
 * Plain C99, no intrinsics: the loops over LANES partial sums have a fixed order, so
 * the compiler may vectorize them without -ffast-math (each lane is one SIMD slot).
 *
 * Fully connected: y[s, j] = x[s, :] . w[j, :]. The work is cut into blocks of up to
 * 4 samples x 4 outputs so each loaded x and w vector feeds several products (register
 * blocking). Every block size sums in exactly the same order (lane l takes the k with
 * k mod 4 == l, lanes combined as (l0 + l1) + (l2 + l3), then the bias), so a sample's
 * result does not depend on the batch it is in. */
#include <stddef.h>

#include "kernels.h"

#define LANES 4u

/* DOT_BLOCK(NS, NJ) defines dot_NSxNJ(out, x, w, k): out[s * NJ + j] = x_s . w_j for NS
 * rows of x and NJ rows of w (row stride k). */
#define DOT_BLOCK(NS, NJ)                                                                              \
    static void dot_##NS##x##NJ(float *out, const float *x, const float *w, uint32_t k)                \
    {                                                                                                  \
        float acc[NS][NJ][LANES];                                                                      \
        const uint32_t kl = k - k % LANES;                                                             \
        uint32_t s, j, l, i;                                                                           \
        for (s = 0; s < NS; s++)                                                                       \
            for (j = 0; j < NJ; j++)                                                                   \
                for (l = 0; l < LANES; l++) acc[s][j][l] = 0.0f;                                       \
        for (i = 0; i < kl; i += LANES)                                                                \
            for (s = 0; s < NS; s++)                                                                   \
                for (j = 0; j < NJ; j++)                                                               \
                    for (l = 0; l < LANES; l++)                                                        \
                        acc[s][j][l] += x[(size_t)s * k + i + l] * w[(size_t)j * k + i + l];           \
        for (s = 0; s < NS; s++)                                                                       \
            for (j = 0; j < NJ; j++) {                                                                 \
                for (i = kl; i < k; i++) acc[s][j][i - kl] += x[(size_t)s * k + i] * w[(size_t)j * k + i]; \
                out[s * NJ + j] = (acc[s][j][0] + acc[s][j][1]) + (acc[s][j][2] + acc[s][j][3]);       \
            }                                                                                          \
    }

DOT_BLOCK(4, 4)
DOT_BLOCK(4, 1)
DOT_BLOCK(1, 4)
DOT_BLOCK(1, 1)

/* Finishes a block: bias, activation, store. d is [ns][nj]. */
static void store_block(float *y, const float *d, uint32_t s0, uint32_t ns, uint32_t j0, uint32_t nj, uint32_t o,
                        const float *b, const ecnn_act_params *act)
{
    uint32_t s, j;
    for (s = 0; s < ns; s++)
        for (j = 0; j < nj; j++) {
            const float v = d[s * nj + j];
            y[(size_t)(s0 + s) * o + j0 + j] = ecnn_apply_act(b ? v + b[j0 + j] : v, act);
        }
}

void ecnn_fully_connected_f32(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    uint32_t s0, j0;
    float d[16];
    for (s0 = 0; s0 < n; s0 += (n - s0 >= 4 ? 4 : 1)) {
        const int four = n - s0 >= 4;
        const float *xs = x + (size_t)s0 * k;
        for (j0 = 0; j0 + 4 <= o; j0 += 4) {
            if (four) {
                dot_4x4(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 4, j0, 4, o, b, act);
            } else {
                dot_1x4(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 1, j0, 4, o, b, act);
            }
        }
        for (; j0 < o; j0++) {
            if (four) {
                dot_4x1(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 4, j0, 1, o, b, act);
            } else {
                dot_1x1(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 1, j0, 1, o, b, act);
            }
        }
    }
}

/* ---- packed weights (ECNN_LAYOUT_FC_PANEL16, ECNN_LAYOUT_CONV_HWIO) ------------------- */

#include "simd.h"

/* Samples per block of the portable panel kernel: each loaded weight row feeds FC_SAMPLES products. */
#define FC_SAMPLES 4u

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
            /* k ascending, one multiply and one add per term: the reference order. */
            for (i = 0; i < k; i++) {
                const float *wi = wp + (size_t)i * ECNN_PANEL_F32;
                for (s = 0; s < ns; s++) {
                    const float xv = x[(size_t)(s0 + s) * k + i];
                    for (l = 0; l < ECNN_PANEL_F32; l++) acc[s][l] += xv * wi[l];
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
                          const ecnn_conv2d_params *p)
{
#ifdef ECNN_SIMD_FC_F32
    if ((p->o / p->group) % 8 == 0) { /* the SIMD kernel takes whole blocks of 8 output channels */
        ECNN_SIMD_CONV_F32(y, x, w, b, n, p);
        return;
    }
#endif
    ecnn_conv2d_f32_hwio_portable(y, x, w, b, n, p);
}

void ecnn_conv2d_f32_hwio_portable(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                   const ecnn_conv2d_params *p)
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
                                    for (o = 0; o < count; o++) acc[o] += xv * wr[o];
                                }
                            }
                        }
                        for (o = 0; o < count; o++) yp[oc + o] = ecnn_apply_act(b ? acc[o] + b[oc + o] : acc[o], &p->act);
                    }
            }
        }
    }
}

/* Max pooling, the reference's loop order (first tap copied, then max; in place under the
 * same conditions) with padding taps skipped up front and channels in fixed-size blocks. */
#define POOL_LANES 8u

void ecnn_maxpool2d_f32(float *y, const float *x, uint32_t n, const ecnn_pool2d_params *p)
{
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

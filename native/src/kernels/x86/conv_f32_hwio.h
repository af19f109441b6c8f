/* The pixel loop of the x86 float convs over HWIO weights (kernels.h), shared by the AVX2 and
 * AVX-512 kernels: it cuts a tile into blocks of up to CONV_PIX output pixels whose windows
 * start pix_step floats apart in x (outputs y_step apart in y) and calls the includer's
 * microkernel on each block:
 *
 *   static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp,
 *                          const float *b, uint32_t nky, uint32_t nkx, uint32_t np, uint32_t count);
 *
 * which computes np (1..CONV_PIX) pixels x `count` output channels of one group (yp, wp, b at
 * the first of them), taps ky in [0, nky) and kx in [0, nkx) from xp / wp, channels c in
 * [0, cg): the reference order, one F32_MAC per term, then the bias and the activation.
 *
 * A 1x1 stride-1 conv without padding is a GEMM over NHWC (rows pixels, columns output
 * channels): its pixels follow each other in x and y across image rows and samples, so a tile
 * is one run of (m1 - m0) * OW pixels. Other convs go row by row: neighbouring pixels whose
 * windows lie wholly inside the row (all kx taps) in blocks, a row's last 1..CONV_PIX - 1 of
 * them in one shorter block. The pixels whose window reaches into the left/right padding skip
 * the taps there as the reference does, so they cannot share a block with their row; alone,
 * a pixel's sum would be one chain of dependent multiply-adds, so the pixels of one such
 * column in consecutive rows of a sample whose windows have every ky tap go together instead
 * (same taps; their windows stride_h rows apart). Rows whose window reaches into the
 * top/bottom padding skip those taps for the whole row; their border pixels go one by one.
 * Every output is computed the same way whatever block it falls in, so the tiling changes
 * nothing. */
#ifndef ECNN_KERNELS_X86_CONV_F32_HWIO_H
#define ECNN_KERNELS_X86_CONV_F32_HWIO_H

#include "kernels/x86/x86.h"

typedef struct {
    size_t o;        /* output channels: the step between c and c + 1 in w */
    size_t pix_step; /* input floats from one pixel of a block to the next */
    size_t y_step;   /* output floats from one pixel of a block to the next */
    size_t x_row;    /* from tap ky to ky + 1 in x */
    size_t x_tap;    /* from tap kx to kx + 1 in x */
    size_t w_row;    /* from tap ky to ky + 1 in w (the kx taps of a row follow each other) */
    uint32_t cg;     /* input channels per group */
    const ecnn_act_params *act;
} conv_geom;

static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count);

/* np pixels from xp / yp, taps [ky0, ky0 + nky) x [kx0, kx0 + nkx): every group's channels that
 * lie in the tile's [o0, o1). */
static ALWAYS_INLINE void conv_groups(float *yp, const float *xp, const float *w, const float *b, const conv_geom *g,
                                      const ecnn_tile *t, uint32_t group, uint32_t kw, uint32_t ky0, uint32_t kx0,
                                      uint32_t nky, uint32_t nkx, uint32_t np)
{
    const uint32_t og = (uint32_t)g->o / group;
    uint32_t gi;
    for (gi = 0; gi < group; gi++) {
        const uint32_t lo = gi * og > t->o0 ? gi * og : t->o0, hi = (gi + 1) * og < t->o1 ? (gi + 1) * og : t->o1;
        if (lo < hi)
            conv_block(yp + lo, xp + (size_t)gi * g->cg, g, w + ((size_t)ky0 * kw + kx0) * g->cg * g->o + lo,
                       b ? b + lo : NULL, nky, nkx, np, hi - lo);
    }
}

static ALWAYS_INLINE void conv_hwio_tile(float *y, const float *x, const float *w, const float *b, const ecnn_tile *t,
                                         const ecnn_conv2d_args *p)
{
    conv_geom g;
    uint32_t m, ox, full0, full1;
    g.o = g.y_step = p->o;
    g.cg = p->c / p->group;
    g.x_row = (size_t)p->dilation_h * p->w * p->c;
    g.x_tap = (size_t)p->dilation_w * p->c;
    g.w_row = (size_t)p->kw * g.cg * g.o;
    g.act = &p->act;
    if (p->kh == 1 && p->kw == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
        p->oh == p->h && p->ow == p->w) {
        const size_t end = (size_t)t->m1 * p->ow;
        size_t px;
        g.pix_step = p->c;
        for (px = (size_t)t->m0 * p->ow; px < end; px += CONV_PIX) {
            const uint32_t np = end - px < CONV_PIX ? (uint32_t)(end - px) : CONV_PIX;
            conv_groups(y + px * g.o, x + px * p->c, w, b, &g, t, p->group, 1, 0, 0, 1, 1, np);
        }
        return;
    }
    g.pix_step = (size_t)p->stride_w * p->c;
    ecnn_full_columns(p, &full0, &full1);
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        uint32_t ky0, ky1;
        size_t iy0;
        ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
        iy0 = (size_t)oy * p->stride_h + (size_t)ky0 * p->dilation_h - p->pad_top; /* inside x when ky0 < ky1 */
        for (ox = 0; ox < p->ow;) {
            float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * g.o;
            uint32_t kx0 = 0, kx1 = p->kw, np = 1;
            if (ox >= full0 && ox < full1)
                np = full1 - ox < CONV_PIX ? full1 - ox : CONV_PIX;
            else if (ky0 == 0 && ky1 == p->kh) { /* a border column: the column pass below */
                ox = ox < full0 ? full1 > full0 ? full0 : ox + 1 : ox + 1;
                continue;
            } else
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
            if (kx0 < kx1 && ky0 < ky1)
                conv_groups(
                    yp, xs + (iy0 * p->w + (size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) * p->c,
                    w, b, &g, t, p->group, p->kw, ky0, kx0, ky1 - ky0, kx1 - kx0, np);
            else { /* a window wholly in the padding: no term, the bias alone */
                np = 1;
                conv_groups(yp, xs, w, b, &g, t, p->group, p->kw, 0, 0, 0, 0, 1);
            }
            ox += np;
        }
    }
    /* The border columns of the rows with every ky tap: runs of consecutive such rows of one
     * sample, the pixels of a run stride_h input rows apart. */
    g.pix_step = (size_t)p->stride_h * p->w * p->c;
    g.y_step = (size_t)p->ow * p->o;
    for (ox = 0; ox < p->ow; ox = ox + 1 == full0 && full1 > full0 ? full1 : ox + 1) {
        uint32_t kx0, kx1;
        if (ox >= full0 && ox < full1) continue; /* full0 == full1: no inside column */
        ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
        for (m = t->m0; m < t->m1;) {
            const uint32_t s = m / p->oh, oy = m % p->oh;
            uint32_t ky0, ky1, np = 1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            if (ky0 != 0 || ky1 != p->kh) { /* done in the row pass */
                m++;
                continue;
            }
            while (np < CONV_PIX && m + np < t->m1 && oy + np < p->oh &&
                   ecnn_tap_range(oy + np, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1) &&
                   ky0 == 0 && ky1 == p->kh)
                np++;
            if (kx0 < kx1)
                conv_groups(y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->o,
                            x + (((size_t)s * p->h + (size_t)oy * p->stride_h - p->pad_top) * p->w +
                                 (size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) *
                                    p->c,
                            w, b, &g, t, p->group, p->kw, 0, kx0, p->kh, kx1 - kx0, np);
            else /* a window wholly in the padding: no term, the bias alone */
                conv_groups(y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->o, x, w, b, &g, t, p->group, p->kw, 0, 0,
                            0, 0, np);
            m += np;
        }
    }
}

#endif /* ECNN_KERNELS_X86_CONV_F32_HWIO_H */

/* The x86 depthwise float convs (CONV_2D with group == C == O, HWIO weights), shared by the
 * AVX2 and AVX-512 kernels: channels in the vector lanes, and up to DW_PIX neighbouring output
 * pixels of a row per block so that a block has several independent sums in flight even when C
 * is one or two vectors (a 3x3 tap chain of one pixel is 9 dependent multiply-adds). The
 * includer defines VF_BITS (vec_f32.h), DW_PIX, DW_VECS (the most vectors of channels a block
 * takes), DW_KERNEL (the kernel's name), the lane masks of a block's last vector
 *
 *   typedef ... dw_mask;
 *   static dw_mask dw_lanes(dw_mask m, uint32_t v, uint32_t nv);  the lanes of vector v of nv
 *   static VF dw_load(const float *p, uint32_t v, dw_mask k);      vector v at p, lanes k
 *   static void dw_store(float *p, uint32_t v, dw_mask k, VF r);
 *
 * (masked lanes read no memory and are not stored), and the block loop
 *
 *   static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp,
 *                        const float *b, uint32_t nky, uint32_t nkx, uint32_t np, uint32_t count);
 *
 * which cuts `count` channels into calls of dw_tile (below) with np and nv constants. A block is
 * np (1..DW_PIX) pixels (windows pix_step floats apart) x `count` channels (yp, xp, wp, b at
 * the first), taps ky in [0, nky) (x_row / w_row apart) and kx in [0, nkx) (x_tap / o apart):
 * each output sums its taps in the reference order ((ky, kx) increasing, taps in the padding
 * skipped), one VF_MAC each, then the bias and the activation. Pixels whose window reaches into
 * the left/right padding go one by one with their own taps; every output is computed the same
 * way whatever block or tile it falls in. */
#ifndef ECNN_KERNELS_X86_CONV_F32_DW_H
#define ECNN_KERNELS_X86_CONV_F32_DW_H

#include "kernels/x86/vec_f32.h"

typedef struct {
    size_t o;        /* channels: the step between pixels in y and between taps in w */
    size_t pix_step; /* input floats from one pixel of a block to the next */
    size_t x_row;    /* from tap ky to ky + 1 in x */
    size_t x_tap;    /* from tap kx to kx + 1 in x */
    size_t w_row;    /* from tap ky to ky + 1 in w */
    const ecnn_act_params *act;
} conv_geom;

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t np, uint32_t count);

/* np pixels x nv vectors of channels (the last under m). Relu is max(v, +0) (+0 for NaN and
 * -0, as v > 0 ? v : 0); Clip max(lo, v) then min(hi, .), which return v when either is NaN or
 * both are equal, as the reference's comparisons do. np and nv are constants at every call
 * (the function is inlined), so the accumulators stay in registers. */
static ALWAYS_INLINE void dw_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                  uint32_t nky, uint32_t nkx, const uint32_t np, const uint32_t nv, dw_mask m)
{
    const VF zero = VF_ZERO();
    VF a[DW_PIX][DW_VECS];
    uint32_t ky, kx, j, v;
    for (j = 0; j < np; j++)
        for (v = 0; v < nv; v++) a[j][v] = zero;
    for (ky = 0; ky < nky; ky++) {
        const float *xr = xp + ky * g->x_row, *wr = wp + ky * g->w_row;
        for (kx = 0; kx < nkx; kx++, xr += g->x_tap, wr += g->o)
            for (v = 0; v < nv; v++) {
                const dw_mask k = dw_lanes(m, v, nv);
                const VF wv = dw_load(wr, v, k);
                for (j = 0; j < np; j++) a[j][v] = VF_MAC(a[j][v], dw_load(xr + j * g->pix_step, v, k), wv);
            }
    }
    for (v = 0; v < nv; v++) {
        const dw_mask k = dw_lanes(m, v, nv);
        const VF bv = b ? dw_load(b, v, k) : zero;
        for (j = 0; j < np; j++) {
            VF r = b ? VF_ADD(a[j][v], bv) : a[j][v];
            if (g->act->act == ECNN_ACT_RELU)
                r = VF_MAX(r, zero);
            else if (g->act->act == ECNN_ACT_CLIP)
                r = VF_MIN(VF_SET1(g->act->act_p1), VF_MAX(VF_SET1(g->act->act_p0), r));
            dw_store(yp + j * g->o, v, k, r);
        }
    }
}

/* The activations other than none, Relu and Clip (dw_tile applies those two in
 * registers), in place on np pixels x count channels: the reference's scalar loop. A float
 * store and reload is exact, so this is ecnn_apply_act(sum + bias). */
static NOINLINE void dw_act(float *yp, size_t o, uint32_t np, uint32_t count, const ecnn_act_params *act)
{
    uint32_t j;
    for (j = 0; j < np; j++) ecnn_activation_f32_ref(yp + j * o, yp + j * o, count, act);
}

ecnn_conv2d_f32_kernel DW_KERNEL;
void DW_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
               const ecnn_conv2d_args *p)
{
    const uint32_t count = t->o1 - t->o0;
    const int act_after = p->act.act > ECNN_ACT_RELU && p->act.act != ECNN_ACT_CLIP;
    conv_geom g;
    uint32_t m, ox, full0, full1;
    (void)n; /* rows and channels come from the tile */
    g.o = p->o;
    g.pix_step = (size_t)p->stride_w * p->c;
    g.x_row = (size_t)p->dilation_h * p->w * p->c;
    g.x_tap = (size_t)p->dilation_w * p->c;
    g.w_row = (size_t)p->kw * p->o;
    g.act = &p->act;
    ecnn_full_columns(p, &full0, &full1);
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const float *xs = x + (size_t)s * p->h * p->w * p->c + t->o0;
        uint32_t ky0, ky1;
        size_t iy0;
        ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
        iy0 = (size_t)oy * p->stride_h + (size_t)ky0 * p->dilation_h - p->pad_top; /* inside x when ky0 < ky1 */
        for (ox = 0; ox < p->ow;) {
            float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * g.o + t->o0;
            uint32_t kx0 = 0, kx1 = p->kw, np = 1;
            if (ox >= full0 && ox < full1)
                np = full1 - ox < DW_PIX ? full1 - ox : DW_PIX;
            else
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
            if (kx0 < kx1 && ky0 < ky1)
                dw_block(
                    yp, xs + (iy0 * p->w + (size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) * p->c,
                    &g, w + ((size_t)ky0 * p->kw + kx0) * g.o + t->o0, b ? b + t->o0 : NULL, ky1 - ky0, kx1 - kx0, np,
                    count);
            else { /* a window wholly in the padding: no term, the bias alone */
                np = 1;
                dw_block(yp, xs, &g, w, b ? b + t->o0 : NULL, 0, 0, 1, count);
            }
            if (act_after) dw_act(yp, g.o, np, count, &p->act);
            ox += np;
        }
    }
}

#endif /* ECNN_KERNELS_X86_CONV_F32_DW_H */

/* The x86 depthwise float convs (CONV_2D with group == C == O, HWIO weights), shared by the
 * AVX2 and AVX-512 kernels. A tile is cut into runs of output pixels that have the same window
 * taps, and each run goes through one loop of blocks (dw_pixels): np pixels x nv vectors of
 * channels, np up to 8 so that a block has several independent sums in flight even when C is
 * one or two vectors (a 3x3 tap chain of one pixel is 9 dependent multiply-adds). The runs:
 *
 * - a row's interior (every kx tap inside the input): one run of pixels;
 * - with stride 1 and C a divisor of the vector width, that interior as one flat run of
 *   pixels x channels: x of tap (ky, kx) is then contiguous too, and the tap's weights one
 *   vector repeating its C values, so every lane is used (vectors are the run's "pixels");
 * - each border column (ox whose window reaches into the left / right padding) down the rows
 *   of a sample that share their ky taps: one run, a row apart; every column so when the rows
 *   outnumber a row's interior pixels.
 *
 * 3x3 and 5x5 windows at stride 1 or 2 take the row blocks of conv_f32_dw_rows.h first (the
 * channels that fill whole vectors); the runs take what they leave.
 *
 * The includer defines VF_BITS (vec_f32.h), DW_PIX (the most pixels of a block), DW_VECS (the
 * most vectors of channels a block takes), DW_KERNEL (the kernel's name), the lane masks of a
 * block's last vector
 *
 *   typedef ... dw_mask;
 *   static dw_mask dw_lanes(dw_mask m, uint32_t v, uint32_t nv);  the lanes of vector v of nv
 *   static VF dw_load(const float *p, uint32_t v, dw_mask k);      vector v at p, lanes k
 *   static void dw_store(float *p, uint32_t v, dw_mask k, VF r);
 *   static dw_mask dw_first_lanes(uint32_t r);                     lanes [0, r) of one vector
 *   static VF dw_half(VF lo, VF hi);                               lo's upper half, hi's lower
 *
 * (masked lanes read no memory and are not stored), and the run
 *
 *   static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp,
 *                        const float *b, uint32_t nky, uint32_t nkx, uint32_t npix, uint32_t count);
 *
 * which cuts `count` channels into chunks and calls dw_pixels (below) with np and nv constants.
 * A run is npix pixels (x_pix floats apart in x, y_pix in y) x `count` channels (yp, xp, wp, b
 * at the first), taps ky in [0, nky) (x_row / w_row apart) and kx in [0, nkx) (x_tap / o
 * apart): each output sums its taps in the reference order ((ky, kx) increasing, taps in the
 * padding skipped), one VF_MAC each, then the bias and the activation, the same way whatever
 * run, block or tile it falls in. */
#ifndef ECNN_KERNELS_X86_CONV_F32_DW_H
#define ECNN_KERNELS_X86_CONV_F32_DW_H

#include "kernels/x86/vec_f32.h"

/* The most taps (kh x kw) of a conv that takes the flat path (its weights repeated on the
 * stack: 7x7, 3 KB on AVX-512). */
#define DW_FLAT_TAPS 49u

typedef struct {
    size_t o;            /* from tap kx to kx + 1 in w */
    size_t x_pix, y_pix; /* from one pixel of a run to the next, in x and in y */
    size_t x_row;        /* from tap ky to ky + 1 in x */
    size_t x_tap;        /* from tap kx to kx + 1 in x */
    size_t w_row;        /* from tap ky to ky + 1 in w */
    const ecnn_act_params *act;
} conv_geom;

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t npix, uint32_t count);

/* np pixels x nv vectors of channels (the last under m). Relu is max(v, +0) (+0 for NaN and
 * -0, as v > 0 ? v : 0); Clip max(lo, v) then min(hi, .), which return v when either is NaN or
 * both are equal, as the reference's comparisons do. np and nv are constants at every call
 * (the function is inlined), so the unused accumulators and branches vanish; the accumulators
 * are named variables (aJ_V: pixel J, vector V), which GCC keeps in registers where an array
 * of vectors would live on the stack. */
#if DW_PIX != 8
#error "DW_PIX is 8"
#endif
#define DW_EACH_PIX(M, V) M(0, V) M(1, V) M(2, V) M(3, V) M(4, V) M(5, V) M(6, V) M(7, V)
#if DW_VECS == 8
#define DW_EACH_VEC(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#elif DW_VECS == 4
#define DW_EACH_VEC(M) M(0) M(1) M(2) M(3)
#elif DW_VECS == 2
#define DW_EACH_VEC(M) M(0) M(1)
#else
#error "DW_VECS is 2, 4 or 8"
#endif
/* How a block walks its taps: DW_GENERAL (g's steps); DW_FLAT (the flat path: one vector from
 * "pixel" to "pixel" and from tap to tap in w); DW_FLAT_HALF3 (the flat path with 3 kx taps,
 * dilation 1 and C half a vector: tap 0 reads vector J, tap 2 vector J + 1 and tap 1 the half
 * between them (dw_half), so each x vector is loaded once, aligned, for 3 terms). */
enum { DW_GENERAL, DW_FLAT, DW_FLAT_HALF3 };

static ALWAYS_INLINE void dw_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                  uint32_t nky, uint32_t nkx, const uint32_t np, const uint32_t nv, dw_mask m,
                                  const int mode)
{
    const int flat = mode != DW_GENERAL;
    const VF zero = VF_ZERO();
    const uint32_t act = g->act->act;
    /* the flat path's steps are one vector: constants, so the loads take immediate offsets */
    const size_t x_pix = flat ? VF_LANES : g->x_pix, y_pix = flat ? VF_LANES : g->y_pix, w_tap = flat ? VF_LANES : g->o;
    const size_t w_row = flat ? (size_t)nkx * VF_LANES : g->w_row; /* flat: every kx tap */
    uint32_t ky, kx;
#define DW_DECL(J, V) VF a##J##_##V = zero;
#define DW_DECL_V(V) DW_EACH_PIX(DW_DECL, V)
    DW_EACH_VEC(DW_DECL_V)
#undef DW_DECL_V
#undef DW_DECL
    for (ky = 0; ky < nky; ky++) {
        const float *xr = xp + ky * g->x_row, *wr = wp + ky * w_row;
        if (mode == DW_FLAT_HALF3) {
            const dw_mask k = dw_first_lanes(VF_LANES);
            const VF w0 = dw_load(wr, 0, k), w1 = dw_load(wr + VF_LANES, 0, k), w2 = dw_load(wr + 2 * VF_LANES, 0, k);
            VF lo = dw_load(xr, 0, k), hi;
#define DW_HALF(J, V)                                                                                                  \
    if (J < np) {                                                                                                      \
        hi = dw_load(xr + (J + 1) * VF_LANES, 0, k);                                                                   \
        a##J##_##V = VF_MAC(VF_MAC(VF_MAC(a##J##_##V, lo, w0), dw_half(lo, hi), w1), hi, w2);                          \
        lo = hi;                                                                                                       \
    }
            DW_EACH_PIX(DW_HALF, 0)
#undef DW_HALF
            continue;
        }
        for (kx = 0; kx < nkx; kx++, xr += g->x_tap, wr += w_tap) {
#define DW_MAC(J, V)                                                                                                   \
    if (J < np) a##J##_##V = VF_MAC(a##J##_##V, dw_load(xr + J * x_pix, V, k), wv);
#define DW_TAP(V)                                                                                                      \
    if (V < nv) {                                                                                                      \
        const dw_mask k = dw_lanes(m, V, nv);                                                                          \
        const VF wv = dw_load(wr, V, k);                                                                               \
        DW_EACH_PIX(DW_MAC, V)                                                                                         \
    }
            DW_EACH_VEC(DW_TAP)
#undef DW_TAP
#undef DW_MAC
        }
    }
#define DW_OUT(J, V)                                                                                                   \
    if (J < np) {                                                                                                      \
        VF r = b ? VF_ADD(a##J##_##V, bv) : a##J##_##V;                                                                \
        if (act == ECNN_ACT_RELU)                                                                                      \
            r = VF_MAX(r, zero);                                                                                       \
        else if (act == ECNN_ACT_CLIP)                                                                                 \
            r = VF_MIN(VF_SET1(g->act->act_p1), VF_MAX(VF_SET1(g->act->act_p0), r));                                   \
        dw_store(yp + J * y_pix, V, k, r);                                                                             \
    }
#define DW_OUT_V(V)                                                                                                    \
    if (V < nv) {                                                                                                      \
        const dw_mask k = dw_lanes(m, V, nv);                                                                          \
        const VF bv = b ? dw_load(b, V, k) : zero;                                                                     \
        DW_EACH_PIX(DW_OUT, V)                                                                                         \
    }
    DW_EACH_VEC(DW_OUT_V)
#undef DW_OUT_V
#undef DW_OUT
}

/* A run of npix pixels in blocks of np (4 or 8), the rest in blocks of 4, 2 and 1. */
static ALWAYS_INLINE void dw_pixels(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                    uint32_t nky, uint32_t nkx, uint32_t npix, const uint32_t np, const uint32_t nv,
                                    dw_mask m, const int mode)
{
    const int flat = mode != DW_GENERAL;
    const size_t x_pix = flat ? VF_LANES : g->x_pix, y_pix = flat ? VF_LANES : g->y_pix;
    uint32_t j = 0;
    for (; j + np <= npix; j += np) dw_tile(yp + j * y_pix, xp + j * x_pix, g, wp, b, nky, nkx, np, nv, m, mode);
    if (np > 4 && npix - j >= 4) {
        dw_tile(yp + j * y_pix, xp + j * x_pix, g, wp, b, nky, nkx, 4, nv, m, mode);
        j += 4;
    }
    if (npix - j >= 2) {
        dw_tile(yp + j * y_pix, xp + j * x_pix, g, wp, b, nky, nkx, 2, nv, m, mode);
        j += 2;
    }
    if (npix - j >= 1) dw_tile(yp + j * y_pix, xp + j * x_pix, g, wp, b, nky, nkx, 1, nv, m, mode);
}

/* The flat path's run: len floats of pixels x channels (C dividing the vector width) from yp /
 * xp, the taps' weights and the bias repeated over a vector (dw_flat_weights), one vector per
 * "pixel" and a last one under a mask; half3: DW_FLAT_HALF3's whole vectors. */
static NOINLINE void dw_flat(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                             uint32_t nky, uint32_t nkx, uint32_t len, int half3)
{
    const uint32_t nvec = len / VF_LANES, rest = len % VF_LANES;
    const dw_mask whole = dw_first_lanes(VF_LANES);
    uint32_t j;
    if (nvec < 8) {
        dw_pixels(yp, xp, g, wp, b, nky, nkx, nvec, 8, 1, whole, half3 ? DW_FLAT_HALF3 : DW_FLAT);
    } else /* blocks of 8 vectors, the last moved back to end at the run's end (its first vectors again) */
        for (j = 0;; j = j + 16 <= nvec ? j + 8 : nvec - 8) {
            const size_t at = (size_t)j * VF_LANES;
            if (half3)
                dw_tile(yp + at, xp + at, g, wp, b, nky, nkx, 8, 1, whole, DW_FLAT_HALF3);
            else
                dw_tile(yp + at, xp + at, g, wp, b, nky, nkx, 8, 1, whole, DW_FLAT);
            if (j + 8 >= nvec) break;
        }
    if (rest)
        dw_tile(yp + (size_t)nvec * VF_LANES, xp + (size_t)nvec * VF_LANES, g, wp, b, nky, nkx, 1, 1,
                dw_first_lanes(rest), DW_FLAT);
}

/* The flat path's weights and bias: each tap's C weights (and the C biases) repeated over a
 * vector, in wrep[tap * VF_LANES ...]; returns 0 (no flat path) unless stride 1, C a proper
 * divisor of the vector width, the tile takes every channel and the taps fit. */
static int dw_flat_weights(const ecnn_conv2d_args *p, const ecnn_tile *t, const float *w, const float *b, float *wrep,
                           float *brep)
{
    const uint32_t taps = p->kh * p->kw;
    uint32_t i, l;
    if (p->stride_w != 1 || p->c >= VF_LANES || VF_LANES % p->c != 0 || t->o0 != 0 || t->o1 != p->c ||
        taps > DW_FLAT_TAPS)
        return 0;
    for (i = 0; i < taps; i++)
        for (l = 0; l < VF_LANES; l++) wrep[i * VF_LANES + l] = w[(size_t)i * p->o + l % p->c];
    for (l = 0; l < VF_LANES; l++) brep[l] = b ? b[l % p->c] : 0.0f;
    return 1;
}

/* The rows [m, *end) of tile t that follow row m in its sample with the same ky taps [*ky0, *ky1). */
static uint32_t dw_row_run(const ecnn_conv2d_args *p, const ecnn_tile *t, uint32_t m, uint32_t *ky0, uint32_t *ky1)
{
    const uint32_t last = m - m % p->oh + p->oh < t->m1 ? m - m % p->oh + p->oh : t->m1;
    uint32_t end = m + 1, a, b;
    ecnn_tap_range(m % p->oh, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, ky0, ky1);
    while (end < last && ecnn_tap_range(end % p->oh, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &a, &b) &&
           a == *ky0 && b == *ky1)
        end++;
    return end;
}

#include "kernels/x86/conv_f32_dw_rows.h"

/* Any depthwise conv, tile t: the runs above. */
static void dw_runs(float *y, const float *x, const float *w, const float *b, const ecnn_tile *t,
                    const ecnn_conv2d_args *p)
{
    const uint32_t count = t->o1 - t->o0;
    float wrep[DW_FLAT_TAPS * VF_LANES], brep[VF_LANES];
    const float *bt = b ? b + t->o0 : NULL;
    const int flat = dw_flat_weights(p, t, w, b, wrep, brep);
    const int half3 = p->kw == 3 && p->dilation_w == 1 && 2 * p->c == VF_LANES;
    conv_geom g, col;
    uint32_t m, end, r, ox, full0, full1;
    g.o = p->o;
    g.x_pix = (size_t)p->stride_w * p->c;
    g.y_pix = p->o;
    g.x_row = (size_t)p->dilation_h * p->w * p->c;
    g.x_tap = (size_t)p->dilation_w * p->c;
    g.w_row = (size_t)p->kw * p->o;
    g.act = &p->act;
    col = g; /* a border column: one pixel a row */
    col.x_pix = (size_t)p->stride_h * p->w * p->c;
    col.y_pix = (size_t)p->ow * p->o;
    ecnn_full_columns(p, &full0, &full1);
    for (m = t->m0; m < t->m1; m = end) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const float *xs = x + (size_t)s * p->h * p->w * p->c + t->o0;
        float *yr = y + ((size_t)s * p->oh + oy) * p->ow * g.o + t->o0;
        uint32_t ky0, ky1, nky, interior;
        size_t iy0;
        end = dw_row_run(p, t, m, &ky0, &ky1);
        nky = ky1 > ky0 ? ky1 - ky0 : 0;
        /* the interior by rows, unless the run has more rows than a row has interior pixels
         * (narrow maps such as DS-CNN's 5 columns): then every column goes down the rows */
        interior = full1 > full0 && (flat || end - m <= full1 - full0) ? full1 - full0 : 0;
        /* inside x when there are ky taps (otherwise no x is read) */
        iy0 = nky ? (size_t)oy * p->stride_h + (size_t)ky0 * p->dilation_h - p->pad_top : 0;
        for (ox = 0; ox < p->ow; ox++) { /* columns down the run's rows */
            uint32_t kx0, kx1;
            if (ox == full0) ox += interior;
            if (ox >= p->ow) break;
            ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
            if (kx0 < kx1 && nky)
                dw_block(yr + (size_t)ox * g.o,
                         xs +
                             (iy0 * p->w + (size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) * p->c,
                         &col, w + ((size_t)ky0 * p->kw + kx0) * g.o + t->o0, bt, nky, kx1 - kx0, end - m, count);
            else /* windows wholly in the padding: no term, the bias alone */
                dw_block(yr + (size_t)ox * g.o, xs, &col, w, bt, 0, 0, end - m, count);
        }
        for (r = 0; r < end - m && interior; r++) { /* each row's interior (no x read without ky taps) */
            const size_t x0 =
                nky ? ((iy0 + (size_t)r * p->stride_h) * p->w + (size_t)full0 * p->stride_w - p->pad_left) * p->c : 0;
            float *yp = yr + ((size_t)r * p->ow + full0) * g.o;
            if (flat) {
                dw_flat(yp, xs + x0, &g, wrep + (size_t)ky0 * p->kw * VF_LANES, b ? brep : NULL, nky, p->kw,
                        interior * p->c, half3);
            } else
                dw_block(yp, xs + x0, &g, w + (size_t)ky0 * p->kw * g.o + t->o0, bt, nky, p->kw, interior, count);
        }
    }
}

ecnn_conv2d_f32_kernel DW_KERNEL;
void DW_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
               const ecnn_conv2d_args *p)
{
    ecnn_tile rest = *t;
    (void)n; /* rows and channels come from the tile */
    rest.o0 += dw_rows(y, x, w, b, t, p);
    if (rest.o0 < rest.o1) dw_runs(y, x, w, b, &rest, p);
}

#endif /* ECNN_KERNELS_X86_CONV_F32_DW_H */

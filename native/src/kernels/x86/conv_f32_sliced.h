/* The x86 CONV_2D_SLICED kernels over HWIO weights (kernels.h), shared by the AVX2 and AVX-512
 * files, which include it after x86/conv_f32_hwio.h and give, besides that header's lane loads
 * and stores, the channel blocks of a width:
 *
 *   static conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width);
 *
 * (the first `width` of `rest` channels: two vectors or one, and its lanes).
 *
 * A tile is cut into blocks of up to conv_pix_max output pixels (CONV_PIX, or CONV_PIX1 when
 * the tile's channels fit one vector) that have the same taps inside the input: in each output
 * row, runs of the columns whose window has every kx tap, in blocks of near-equal size; then
 * each other (border) column, down runs of rows of one sample with the same ky taps. A block's
 * taps inside the input, k = (c * KH + ky) * KW + kx in k order, go into a table (their x and
 * w offsets, and where each slice ends), so that the multiply-add loop runs over a whole slice;
 * for np pixels x one or two vectors of output channels it sums each slice with one VF_MAC per
 * term, and adds it to the total kept in y (a float store and reload is exact). The table holds
 * whole slices, up to SLICED_TAB taps: a conv with more is summed window by window. A conv of
 * one slice (k_slice >= K, image CNNs' first layers) is a CONV_2D summed in K's order c, ky, kx:
 * the includer's SLICED_ONE_SLICE(y, x, w, b, n, t, p), if it defines one, runs it (the HWIO
 * conv's blocks, no table, no store and reload of the totals). Every output
 * is computed the same way whatever block it falls in: bit-identical to the level's
 * ecnn_conv2d_sliced_f32_ref. */
#ifndef ECNN_KERNELS_X86_CONV_F32_SLICED_H
#define ECNN_KERNELS_X86_CONV_F32_SLICED_H

#define SLICED_TAB 1024u   /* taps a table holds: MLAS's widest K slice */
#define SLICED_SLICES 256u /* slices a table holds */

typedef struct {
    conv_geom c; /* o, pix_step, y_step, x_row, x_tap, cg, act as in the HWIO conv (w_row unused) */
    uint32_t kh, kw, k_slice;
} sliced_geom;

/* The taps of a window of whole slices [k0, k_end) for one set of taps inside the input
 * (ky0..ky1, kx0..kx1): x offsets from the block's first pixel's tap (ky0, kx0) in its group's
 * channel 0, w offsets from the block's first channel, the end of each slice in them. */
typedef struct {
    uint32_t xo[SLICED_TAB], wo[SLICED_TAB], ends[SLICED_SLICES];
    uint32_t n_slices, k0, k_end, ky0, ky1, kx0, kx1; /* k_end 0: empty */
} sliced_tab;

/* Fills t with the window of whole slices that starts at k0 (a slice start). */
static void sliced_tab_fill(sliced_tab *t, const sliced_geom *g, uint32_t k0, uint32_t ky0, uint32_t ky1, uint32_t kx0,
                            uint32_t kx1)
{
    const uint32_t taps = g->kh * g->kw, k_all = g->c.cg * taps;
    uint32_t k = k0, n = 0, c = k0 / taps, ky = k0 % taps / g->kw, kx = k0 % g->kw;
    t->n_slices = 0;
    while (k < k_all && t->n_slices < SLICED_SLICES && n + g->k_slice <= SLICED_TAB) {
        const uint32_t end = k_all - k < g->k_slice ? k_all : k + g->k_slice;
        for (; k < end; k++) {
            if (ky >= ky0 && ky < ky1 && kx >= kx0 && kx < kx1) {
                t->xo[n] = (uint32_t)((ky - ky0) * g->c.x_row + (kx - kx0) * g->c.x_tap + c);
                t->wo[n] = (uint32_t)((((size_t)ky * g->kw + kx) * g->c.cg + c) * g->c.o);
                n++;
            }
            if (++kx == g->kw) {
                kx = 0;
                if (++ky == g->kh) ky = 0, c++;
            }
        }
        t->ends[t->n_slices++] = n;
    }
    t->k0 = k0, t->k_end = k, t->ky0 = ky0, t->ky1 = ky1, t->kx0 = kx0, t->kx1 = kx1;
}

/* total + bias, then Relu or Clip (kernels.h ecnn_act_in_kernel). */
static ALWAYS_INLINE VF sliced_finish(VF v, int has_bias, VF bias, const ecnn_act_params *act)
{
    if (has_bias) v = VF_ADD(v, bias);
    if (act->act == ECNN_ACT_RELU) return VF_MAX(v, VF_ZERO());
    if (act->act == ECNN_ACT_CLIP) return VF_MIN(VF_SET1(act->act_p1), VF_MAX(VF_SET1(act->act_p0), v));
    return v;
}

/* np pixels x one or two (two) vectors of channels, the slices of table t; xp: the first
 * pixel's tap (ky0, kx0), its group's channel 0; wp, b, yp: at the block's first channel. The
 * totals start in y unless t starts at k = 0; after the conv's last slice, the bias and the
 * activation. */
static ALWAYS_INLINE void sliced_tile(float *yp, const float *xp, const sliced_geom *g, const float *wp, const float *b,
                                      const sliced_tab *t, const uint32_t np, const int two, conv_mask m,
                                      uint32_t width)
{
    const VF zero = VF_ZERO();
    const size_t pix_step = g->c.pix_step;
    const int last = t->k_end == g->c.cg * g->kh * g->kw;
    uint32_t sl, i = 0;
    VF b0 = zero, b1 = zero;
    if (last && b) {
        b0 = conv_load0(b, two, m);
        if (two) b1 = conv_load1(b, m);
    }
    for (sl = 0; sl < t->n_slices; sl++) {
        const int started = t->k0 > 0 || sl > 0, finish = last && sl + 1 == t->n_slices;
#define SLICED_DECL(J) VF a##J = zero, c##J = zero;
        CONV_TILE_ROWS(SLICED_DECL)
#undef SLICED_DECL
        for (; i < t->ends[sl]; i++) {
            const float *xt = xp + t->xo[i], *wt = wp + t->wo[i];
            const VF wv = conv_load0(wt, two, m);
            const VF wu = two ? conv_load1(wt, m) : wv;
            VF xb;
#define SLICED_STEP(J)                                                                                                 \
    if (J < np) {                                                                                                      \
        xb = VF_BCAST(xt + J * pix_step);                                                                              \
        a##J = VF_MAC(a##J, xb, wv);                                                                                   \
        if (two) c##J = VF_MAC(c##J, xb, wu);                                                                          \
    }
            CONV_TILE_ROWS(SLICED_STEP)
#undef SLICED_STEP
        }
/* Row J's slice added to its total in y (when started), then stored, finished when `finish`. */
#define SLICED_END(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        float *yj = yp + J * g->c.y_step;                                                                              \
        if (started) a##J = VF_ADD(conv_load0(yj, two, m), a##J);                                                      \
        conv_store0(yj, two, width, m, finish ? sliced_finish(a##J, b != NULL, b0, g->c.act) : a##J);                  \
        if (two) {                                                                                                     \
            if (started) c##J = VF_ADD(conv_load1(yj, m), c##J);                                                       \
            conv_store1(yj, m, finish ? sliced_finish(c##J, b != NULL, b1, g->c.act) : c##J);                          \
        }                                                                                                              \
    }
        CONV_TILE_ROWS(SLICED_END)
#undef SLICED_END
    }
}

/* sliced_tile with np (1..CONV_PIX; one vector: 1..CONV_PIX1) a constant in each copy. */
static ALWAYS_INLINE void sliced_tile_np(float *yp, const float *xp, const sliced_geom *g, const float *wp,
                                         const float *b, const sliced_tab *t, uint32_t np, const int two, conv_mask m,
                                         uint32_t width)
{
#define CONV_NP_CALL(NP) sliced_tile(yp, xp, g, wp, b, t, NP, two, m, width)
    if (two) {
        CONV_FOR_NP(np) /* np <= CONV_PIX: conv_pix_max */
    } else {
        CONV_FOR_NP1(np)
    }
#undef CONV_NP_CALL
}

/* np pixels of sample xs (their first at output yp, column ox, row oy) with the taps
 * [ky0, ky1) x [kx0, kx1): every group's channels in the tile, in channel blocks, window by
 * window of t (refilled unless it holds these taps' first window). */
static void sliced_pixels(float *yp, const float *xs, const float *w, const float *b, const sliced_geom *g,
                          sliced_tab *t, const ecnn_tile *tile, const ecnn_conv2d_args *p, uint32_t oy, uint32_t ox,
                          uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1, uint32_t np)
{
    const uint32_t og = p->o / p->group, k_all = g->c.cg * g->kh * g->kw;
    /* the first pixel's tap (ky0, kx0); only read when the window has a tap inside x */
    const float *xp = ky0 < ky1 && kx0 < kx1 ? xs + ECNN_TAP_AT(p, oy, ox, ky0, kx0) : xs;
    uint32_t k0 = 0;
    if (t->k_end == 0 || t->k0 != 0 || t->ky0 != ky0 || t->ky1 != ky1 || t->kx0 != kx0 || t->kx1 != kx1)
        sliced_tab_fill(t, g, 0, ky0, ky1, kx0, kx1);
    for (;;) {
        uint32_t gi;
        for (gi = 0; gi < p->group; gi++) {
            const uint32_t lo = gi * og > tile->o0 ? gi * og : tile->o0;
            const uint32_t hi = (gi + 1) * og < tile->o1 ? (gi + 1) * og : tile->o1;
            uint32_t o0, width;
            for (o0 = lo; o0 < hi; o0 += width) {
                int two;
                const conv_mask m = conv_lanes(hi - o0, &two, &width);
                const float *bp = b ? b + o0 : NULL;
                if (two)
                    sliced_tile_np(yp + o0, xp + (size_t)gi * g->c.cg, g, w + o0, bp, t, np, 1, m, width);
                else
                    sliced_tile_np(yp + o0, xp + (size_t)gi * g->c.cg, g, w + o0, bp, t, np, 0, m, width);
            }
        }
        k0 = t->k_end;
        if (k0 == k_all) break;
        sliced_tab_fill(t, g, k0, ky0, ky1, kx0, kx1);
    }
}

ecnn_conv2d_sliced_f32_kernel SLICED_KERNEL, ecnn_conv2d_sliced_f32_ref_fma;
void SLICED_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                   const ecnn_conv2d_args *p, uint32_t k_slice)
{
    sliced_geom g;
    sliced_tab tab;
    const uint32_t pix_max = conv_pix_max(p, t);
    uint32_t m, ox, full0, full1;
    if (k_slice > SLICED_TAB) { /* wider than any MLAS slice: the reference, which rounds alike */
        ecnn_conv2d_sliced_f32_ref_fma(y, x, w, b, n, t, p, k_slice);
        return;
    }
#ifdef SLICED_ONE_SLICE
    if (k_slice >= p->c / p->group * p->kh * p->kw) { /* the whole window from zero, then the bias */
        SLICED_ONE_SLICE(y, x, w, b, n, t, p);
        return;
    }
#endif
    tab.k_end = 0;
    g.c.o = p->o;
    g.c.cg = p->c / p->group;
    g.kh = p->kh;
    g.kw = p->kw;
    g.k_slice = k_slice;
    g.c.x_row = (size_t)p->dilation_h * p->w * p->c;
    g.c.x_tap = (size_t)p->dilation_w * p->c;
    g.c.act = &p->act;
    ecnn_full_columns(p, &full0, &full1);
    /* Rows: runs of the columns [full0, full1), pixels stride_w apart. */
    g.c.pix_step = (size_t)p->stride_w * p->c;
    g.c.y_step = p->o;
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        uint32_t ky0, ky1, np;
        ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
        for (ox = full0; ox < full1; ox += np) {
            np = conv_even_block(full1 - ox, pix_max);
            sliced_pixels(y + ECNN_PIXEL_AT(p, s, oy, ox, p->o), x + (size_t)s * p->h * p->w * p->c, w, b, &g, &tab, t,
                          p, oy, ox, ky0, ky1, 0, p->kw, np);
        }
    }
    /* Border columns: runs of rows of one sample with the same ky taps, pixels stride_h rows apart. */
    g.c.pix_step = (size_t)p->stride_h * p->w * p->c;
    g.c.y_step = (size_t)p->ow * p->o;
    for (ox = 0; ox < p->ow; ox = ox + 1 == full0 && full1 > full0 ? full1 : ox + 1) {
        uint32_t kx0, kx1;
        if (ox >= full0 && ox < full1) continue;
        ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
        for (m = t->m0; m < t->m1;) {
            const uint32_t s = m / p->oh, oy = m % p->oh;
            uint32_t ky0, ky1, ky0n, ky1n, np = 1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            while (np < pix_max && m + np < t->m1 && oy + np < p->oh &&
                   ecnn_tap_range(oy + np, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0n, &ky1n) &&
                   ky0n == ky0 && ky1n == ky1)
                np++;
            sliced_pixels(y + ECNN_PIXEL_AT(p, s, oy, ox, p->o), x + (size_t)s * p->h * p->w * p->c, w, b, &g, &tab, t,
                          p, oy, ox, ky0, ky1, kx0, kx1, np);
            m += np;
        }
    }
}

#endif /* ECNN_KERNELS_X86_CONV_F32_SLICED_H */

/* The x86 CONV_2D_SLICED kernels over HWIO weights (kernels.h), shared by the AVX2 and AVX-512
 * files, which include it after x86/conv_f32_hwio.h and give, besides that header's lane loads
 * and stores, the channel blocks of a width:
 *
 *   static conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width);
 *
 * (the first `width` of `rest` channels: two vectors or one, and its lanes).
 *
 * A tile is cut into blocks of up to CONV_PIX output pixels that have the same taps inside the
 * input: in each output row, runs of the columns whose window has every kx tap; then each other
 * (border) column, down runs of rows of one sample with the same ky taps. A block sums, for
 * np pixels x one or two vectors of output channels, the terms k = (c * KH + ky) * KW + kx in
 * k order, one VF_MAC each into the slice's accumulators; at each slice end the slice is added
 * to the total kept in y (a float store and reload is exact). Every output is computed the same
 * way whatever block it falls in: bit-identical to the level's ecnn_conv2d_sliced_f32_ref. */
#ifndef ECNN_KERNELS_X86_CONV_F32_SLICED_H
#define ECNN_KERNELS_X86_CONV_F32_SLICED_H

typedef struct {
    conv_geom c; /* o, pix_step, y_step, x_row, x_tap, cg, act as in the HWIO conv (w_row unused) */
    uint32_t kh, kw, k_slice;
} sliced_geom;

/* Row J's slice accumulators (the first vector a, with two the second c) added to the totals
 * stored at y (when `started`), stored back, and restarted from zero. */
#define SLICED_FLUSH(J)                                                                                                \
    if (J < np) {                                                                                                      \
        float *yj = yp + J * g->c.y_step;                                                                              \
        if (started) a##J = VF_ADD(conv_load0(yj, two, m), a##J);                                                      \
        conv_store0(yj, two, width, m, a##J);                                                                          \
        a##J = zero;                                                                                                   \
        if (two) {                                                                                                     \
            if (started) c##J = VF_ADD(conv_load1(yj, m), c##J);                                                       \
            conv_store1(yj, m, c##J);                                                                                  \
            c##J = zero;                                                                                               \
        }                                                                                                              \
    }

/* total + bias, then Relu or Clip (the others: conv_act_block after the store). */
static ALWAYS_INLINE VF sliced_finish(VF v, int has_bias, VF bias, const ecnn_act_params *act)
{
    if (has_bias) v = VF_ADD(v, bias);
    if (act->act == ECNN_ACT_RELU) return VF_MAX(v, VF_ZERO());
    if (act->act == ECNN_ACT_CLIP) return VF_MIN(VF_SET1(act->act_p1), VF_MAX(VF_SET1(act->act_p0), v));
    return v;
}

/* np pixels x one or two (two) vectors of channels, taps [ky0, ky1) x [kx0, kx1); xp: the first
 * pixel's tap (ky0, kx0), its group's channel 0; wp, b, yp: at the block's first channel. */
static ALWAYS_INLINE void sliced_tile(float *yp, const float *xp, const sliced_geom *g, const float *wp, const float *b,
                                      uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1, const uint32_t np,
                                      const int two, conv_mask m, uint32_t width)
{
    const VF zero = VF_ZERO();
    const size_t o = g->c.o, pix_step = g->c.pix_step, w_tap = g->c.cg * o;
    uint32_t c, ky, kx, k_end = g->k_slice;
    int started = 0;
    VF b0 = zero, b1 = zero;
#define SLICED_DECL(J) VF a##J = zero, c##J = zero;
    CONV_ROWS(SLICED_DECL)
#undef SLICED_DECL
    for (c = 0; c < g->c.cg; c++)
        for (ky = ky0; ky < ky1; ky++) {
            const float *xt = xp + (ky - ky0) * g->c.x_row + c;
            const float *wt = wp + ((size_t)ky * g->kw + kx0) * w_tap + c * o;
            uint32_t k = (c * g->kh + ky) * g->kw + kx0;
            for (kx = kx0; kx < kx1; kx++, k++, xt += g->c.x_tap, wt += w_tap) {
                const VF wv = conv_load0(wt, two, m);
                const VF wu = two ? conv_load1(wt, m) : wv;
                VF xb;
                if (k >= k_end) { /* a slice ends before k (slices without a tap inside x add +0: nothing) */
                    CONV_ROWS(SLICED_FLUSH)
                    started = 1;
                    k_end = (k / g->k_slice + 1) * g->k_slice;
                }
#define SLICED_STEP(J)                                                                                                 \
    if (J < np) {                                                                                                      \
        xb = VF_BCAST(xt + J * pix_step);                                                                              \
        a##J = VF_MAC(a##J, xb, wv);                                                                                   \
        if (two) c##J = VF_MAC(c##J, xb, wu);                                                                          \
    }
                CONV_ROWS(SLICED_STEP)
#undef SLICED_STEP
            }
        }
    if (b) {
        b0 = conv_load0(b, two, m);
        if (two) b1 = conv_load1(b, m);
    }
#define SLICED_END(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        float *yj = yp + J * g->c.y_step;                                                                              \
        if (started) a##J = VF_ADD(conv_load0(yj, two, m), a##J);                                                      \
        conv_store0(yj, two, width, m, sliced_finish(a##J, b != NULL, b0, g->c.act));                                  \
        if (two) {                                                                                                     \
            if (started) c##J = VF_ADD(conv_load1(yj, m), c##J);                                                       \
            conv_store1(yj, m, sliced_finish(c##J, b != NULL, b1, g->c.act));                                          \
        }                                                                                                              \
    }
    CONV_ROWS(SLICED_END)
#undef SLICED_END
}
#undef SLICED_FLUSH

/* sliced_tile with np (1..CONV_PIX) a constant in each copy, then the activations it leaves. */
static ALWAYS_INLINE void sliced_tile_np(float *yp, const float *xp, const sliced_geom *g, const float *wp,
                                         const float *b, uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1,
                                         uint32_t np, const int two, conv_mask m, uint32_t width)
{
#define CONV_NP_CALL(NP) sliced_tile(yp, xp, g, wp, b, ky0, ky1, kx0, kx1, NP, two, m, width)
    CONV_FOR_NP(np)
#undef CONV_NP_CALL
    if (g->c.act->act > ECNN_ACT_RELU && g->c.act->act != ECNN_ACT_CLIP)
        conv_act_block(yp, g->c.y_step, np, width, g->c.act);
}

/* np pixels of sample xs (their first at output yp, column ox, row oy) with the taps
 * [ky0, ky1) x [kx0, kx1): every group's channels in the tile, in channel blocks. */
static void sliced_pixels(float *yp, const float *xs, const float *w, const float *b, const sliced_geom *g,
                          const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t oy, uint32_t ox, uint32_t ky0,
                          uint32_t ky1, uint32_t kx0, uint32_t kx1, uint32_t np)
{
    const uint32_t og = p->o / p->group;
    /* the first pixel's tap (ky0, kx0); only read when the window has a tap inside x */
    const float *xp = ky0 < ky1 && kx0 < kx1 ? xs + ECNN_TAP_AT(p, oy, ox, ky0, kx0) : xs;
    uint32_t gi;
    for (gi = 0; gi < p->group; gi++) {
        const uint32_t lo = gi * og > t->o0 ? gi * og : t->o0, hi = (gi + 1) * og < t->o1 ? (gi + 1) * og : t->o1;
        uint32_t o0, width;
        for (o0 = lo; o0 < hi; o0 += width) {
            int two;
            const conv_mask m = conv_lanes(hi - o0, &two, &width);
            const float *bp = b ? b + o0 : NULL;
            if (two)
                sliced_tile_np(yp + o0, xp + (size_t)gi * g->c.cg, g, w + o0, bp, ky0, ky1, kx0, kx1, np, 1, m, width);
            else
                sliced_tile_np(yp + o0, xp + (size_t)gi * g->c.cg, g, w + o0, bp, ky0, ky1, kx0, kx1, np, 0, m, width);
        }
    }
}

ecnn_conv2d_sliced_f32_kernel SLICED_KERNEL;
void SLICED_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                   const ecnn_conv2d_args *p, uint32_t k_slice)
{
    sliced_geom g;
    uint32_t m, ox, full0, full1;
    (void)n; /* rows and channels come from the tile */
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
            np = full1 - ox < CONV_PIX ? full1 - ox : CONV_PIX;
            sliced_pixels(y + ECNN_PIXEL_AT(p, s, oy, ox, p->o), x + (size_t)s * p->h * p->w * p->c, w, b, &g, t, p, oy,
                          ox, ky0, ky1, 0, p->kw, np);
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
            while (np < CONV_PIX && m + np < t->m1 && oy + np < p->oh &&
                   ecnn_tap_range(oy + np, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0n, &ky1n) &&
                   ky0n == ky0 && ky1n == ky1)
                np++;
            sliced_pixels(y + ECNN_PIXEL_AT(p, s, oy, ox, p->o), x + (size_t)s * p->h * p->w * p->c, w, b, &g, t, p, oy,
                          ox, ky0, ky1, kx0, kx1, np);
            m += np;
        }
    }
}

#endif /* ECNN_KERNELS_X86_CONV_F32_SLICED_H */

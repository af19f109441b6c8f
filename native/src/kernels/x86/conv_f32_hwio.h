/* The x86 float convs over HWIO weights (kernels.h), shared by the AVX2 and AVX-512 kernels.
 * The pixel loop cuts a tile into blocks of up to CONV_PIX (6 or 12; CONV_PIX1 when each block
 * is one vector of channels) output pixels whose windows start pix_step floats apart in x
 * (outputs y_step apart in y) and calls the block loop on each (conv_block), which cuts np
 * pixels x `count` output channels of one group (yp, wp, b at the first of them) into
 * conv_tile_np calls (below) of up to two vectors of channels: taps ky in [0, nky) and kx in
 * [0, nkx) from xp / wp, channels c in [0, cg), the reference order, one VF_MAC per term, then
 * the bias and the activation (CONV_PAIRS, AVX-512: two pixels a vector instead, below). The
 * includer defines VF_BITS (vec_f32.h), CONV_PIX, optionally CONV_PIX1 and CONV_WIDTH1 (blocks
 * of one vector take up to CONV_PIX1 pixels; conv_lanes gives one vector for up to CONV_WIDTH1
 * channels), CONV_KERNEL (the kernel's name), the channel blocks of a width and the lanes of a
 * block's two vectors (not with CONV_PAIRS)
 *
 *   typedef ... conv_mask;
 *   static conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width);
 *                     the first `width` of `rest` channels: two vectors or one, and its lanes
 *   static VF conv_load0(const float *p, int two, conv_mask m);   the first vector at p
 *   static VF conv_load1(const float *p, conv_mask m);            the second (two only)
 *   static void conv_store0(float *p, int two, uint32_t width, conv_mask m, VF v);
 *   static void conv_store1(float *p, conv_mask m, VF v);
 *
 * (`width` channels in all; masked lanes read no memory and are not stored).
 *
 * A 1x1 stride-1 conv without padding is a GEMM over NHWC (rows pixels, columns output
 * channels): its pixels follow each other in x and y across image rows and samples, so a tile
 * is one run of (m1 - m0) * OW pixels. Other convs go row by row: neighbouring pixels whose
 * windows lie wholly inside the row (all kx taps) in blocks of near-equal size. The pixels
 * whose window reaches into the left/right padding skip the taps there as the reference does,
 * so they cannot share a block with their row; alone,
 * a pixel's sum would be one chain of dependent multiply-adds, so the pixels of one such
 * column in consecutive rows of a sample whose windows have every ky tap go together instead
 * (same taps; their windows stride_h rows apart). Rows whose window reaches into the
 * top/bottom padding skip those taps for the whole row; their border pixels go one by one.
 * Every output is computed the same way whatever block it falls in, so the tiling changes
 * nothing. */
#ifndef ECNN_KERNELS_X86_CONV_F32_HWIO_H
#define ECNN_KERNELS_X86_CONV_F32_HWIO_H

#include "kernels/x86/vec_f32.h"

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

#ifndef CONV_PAIRS
static conv_mask conv_lanes(uint32_t rest, int *two, uint32_t *width);
#endif

/* CONV_ROWS(M) expands M(J) for every row J of a block (conv_f32_sliced.h uses it too). */
#if CONV_PIX == 6
#define CONV_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)
#elif CONV_PIX == 12
#define CONV_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
#else
#error "CONV_PIX is 6 or 12"
#endif
/* Blocks of one vector of channels (!two) take up to CONV_PIX1 pixels (the includer's, or
 * CONV_PIX): as many accumulators as two-vector blocks use. CONV_TILE_ROWS expands M(J) for
 * the rows of either. */
#ifndef CONV_PIX1
#define CONV_PIX1 CONV_PIX
#define CONV_WIDTH1 0u
#endif
#if CONV_PIX1 == CONV_PIX
#define CONV_TILE_ROWS CONV_ROWS
#define CONV_FOR_NP1 CONV_FOR_NP
#else
#if CONV_PIX == 6 && CONV_PIX1 == 12
#define CONV_TILE_ROWS(M) CONV_ROWS(M) M(6) M(7) M(8) M(9) M(10) M(11)
#elif CONV_PIX == 12 && CONV_PIX1 == 24
#define CONV_TILE_ROWS(M) CONV_ROWS(M) M(12) M(13) M(14) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)
#else
#error "CONV_PIX1 is CONV_PIX or twice it"
#endif
#define CONV_FOR_NP1(np)                                                                                               \
    switch (np) {                                                                                                      \
        CONV_TILE_ROWS(CONV_NP_CASE)                                                                                   \
    default: break;                                                                                                    \
    }
#endif
/* CONV_NP_CALL(NP) (defined where it is used) with NP a constant equal to np (1..CONV_PIX): one
 * copy of a block per pixel count, whose unused rows vanish (conv_f32_sliced.h uses it too). */
#define CONV_NP_CASE(J)                                                                                                \
    case J + 1:                                                                                                        \
        CONV_NP_CALL(J + 1);                                                                                           \
        break;
#define CONV_FOR_NP(np)                                                                                                \
    switch (np) {                                                                                                      \
        CONV_ROWS(CONV_NP_CASE)                                                                                        \
    default: break;                                                                                                    \
    }

/* The terms of a block's sums in their order, the body (__VA_ARGS__) run for each with wt at
 * the term's weights and CONV_TERM_X(J, step) the input of the block's pixel J, step floats
 * apart (each order in the form the compiler makes fastest): ky, kx, c (CONV_2D's), or
 * with CONV_C_OUTER c, ky, kx (a CONV_2D_SLICED of one slice: x86/<isa>/conv_f32_sliced1.c).
 * The includer of the macro declares ky, kx, c. */
#ifdef CONV_C_OUTER
#define CONV_FOR_TERMS(...)                                                                                            \
    for (c = 0; c < g->cg; c++) {                                                                                      \
        const float *xr = xp + c, *wk = wp + (size_t)c * g->o;                                                         \
        const size_t w_tap = (size_t)g->cg * g->o;                                                                     \
        for (ky = 0; ky < nky; ky++, xr += g->x_row, wk += g->w_row)                                                   \
            for (kx = 0; kx < nkx; kx++) {                                                                             \
                const float *xt = xr + kx * g->x_tap, *wt = wk + kx * w_tap;                                           \
                __VA_ARGS__                                                                                            \
            }                                                                                                          \
    }
#define CONV_TERM_X(J, step) (xt + (J) * (step))
#else
#define CONV_FOR_TERMS(...)                                                                                            \
    for (ky = 0; ky < nky; ky++) {                                                                                     \
        const float *xk = xp + ky * g->x_row, *wt = wp + ky * g->w_row;                                                \
        for (kx = 0; kx < nkx; kx++, xk += g->x_tap)                                                                   \
            for (c = 0; c < g->cg; c++, wt += g->o) {                                                                  \
                __VA_ARGS__                                                                                            \
            }                                                                                                          \
    }
#define CONV_TERM_X(J, step) (xk + (J) * (step) + c)
#endif

#ifndef CONV_PAIRS
/* np pixels x one vector of channels, or two (two). Relu is max(v, +0) (+0 for NaN and -0, as
 * v > 0 ? v : 0); Clip max(lo, v) then min(hi, .), which return v when either operand is NaN
 * or both are equal, as the reference's comparisons do.
 * np and two are constants at every call (the function is inlined), so the unused accumulators
 * and branches vanish. */
static ALWAYS_INLINE void conv_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                    uint32_t nky, uint32_t nkx, const uint32_t np, const int two, conv_mask m,
                                    uint32_t width)
{
    const VF zero = VF_ZERO();
    const size_t pix_step = g->pix_step;
    const uint32_t act = g->act->act;
    uint32_t ky, kx, c;
#define CONV_DECL(J) VF a##J = zero, c##J = zero;
    CONV_TILE_ROWS(CONV_DECL)
#undef CONV_DECL
#define CONV_STEP(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        xb = VF_BCAST(CONV_TERM_X(J, pix_step));                                                                       \
        a##J = VF_MAC(a##J, xb, wv);                                                                                   \
        if (two) c##J = VF_MAC(c##J, xb, wu);                                                                          \
    }
    CONV_FOR_TERMS(const VF wv = conv_load0(wt, two, m); const VF wu = two ? conv_load1(wt, m) : wv; VF xb;
                   CONV_TILE_ROWS(CONV_STEP))
#undef CONV_STEP
/* Row J's accumulators, the first and (with two) the second, each through F(v, its s0 / s1). */
#define CONV_MAP(J, F, s0, s1)                                                                                         \
    if (J < np) {                                                                                                      \
        a##J = F(a##J, s0);                                                                                            \
        if (two) c##J = F(c##J, s1);                                                                                   \
    }
    if (b) {
        const VF b0 = conv_load0(b, two, m);
        const VF b1 = two ? conv_load1(b, m) : b0;
#define CONV_BIAS(J) CONV_MAP(J, VF_ADD, b0, b1)
        CONV_TILE_ROWS(CONV_BIAS)
#undef CONV_BIAS
    }
    if (act == ECNN_ACT_RELU) {
#define CONV_RELU(J) CONV_MAP(J, VF_MAX, zero, zero)
        CONV_TILE_ROWS(CONV_RELU)
#undef CONV_RELU
    } else if (act == ECNN_ACT_CLIP) {
        const VF lo = VF_SET1(g->act->act_p0), hi = VF_SET1(g->act->act_p1);
#define CONV_CLAMP(v, lo_) VF_MIN(hi, VF_MAX(lo_, v))
#define CONV_CLIP(J) CONV_MAP(J, CONV_CLAMP, lo, lo)
        CONV_TILE_ROWS(CONV_CLIP)
#undef CONV_CLIP
#undef CONV_CLAMP
    }
#undef CONV_MAP
#define CONV_STORE(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        conv_store0(yp + J * g->y_step, two, width, m, a##J);                                                          \
        if (two) conv_store1(yp + J * g->y_step, m, c##J);                                                             \
    }
    CONV_TILE_ROWS(CONV_STORE)
#undef CONV_STORE
}

/* conv_tile with np (1..CONV_PIX; one vector: 1..CONV_PIX1) a constant in each copy. */
static ALWAYS_INLINE void conv_tile_np(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                       uint32_t nky, uint32_t nkx, uint32_t np, const int two, conv_mask m,
                                       uint32_t width)
{
#define CONV_NP_CALL(NP) conv_tile(yp, xp, g, wp, b, nky, nkx, NP, two, m, width)
    if (two) {
        CONV_FOR_NP(np) /* np <= CONV_PIX: conv_pix_max */
    } else {
        CONV_FOR_NP1(np)
    }
#undef CONV_NP_CALL
}

/* np pixels x `count` channels of one group, in conv_lanes' blocks. */
static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count)
{
    uint32_t o0, width;
    for (o0 = 0; o0 < count; o0 += width) {
        int two;
        const conv_mask m = conv_lanes(count - o0, &two, &width);
        if (two)
            conv_tile_np(yp + o0, xp, g, wp + o0, b ? b + o0 : NULL, nky, nkx, np, 1, m, width);
        else
            conv_tile_np(yp + o0, xp, g, wp + o0, b ? b + o0 : NULL, nky, nkx, np, 0, m, width);
    }
}

#else /* CONV_PAIRS */
/* Two pixels a zmm (CONV_PAIRS, AVX-512 only, O / group <= 8, where one pixel's channels would
 * leave half of each vector empty): row J of a block holds pixels 2J (lanes 0..7) and 2J + 1
 * (lanes 8..15), the weights repeated in both halves, each half the same terms in the same
 * order as a one-pixel row. rows (1..CONV_PIX1) is a constant in each copy; odd: the last row
 * has one pixel (its second half repeats the first pixel's terms and is not stored).
 *
 * Each term needs its two pixels' inputs in the two halves. Two broadcast loads a term bind the
 * loads, not the multiply-adds (no faster than one pixel a zmm on a Zen 5); when a row's two
 * windows lie within 16 floats of one another (a first layer's few channels: pix_step +
 * nkx * cg <= 16, taps cg floats apart), one masked load a row and tap row holds them all and
 * a permute per term picks the pair (MobileNet's 96x96x3 -> 8 s2: 9.4 -> 7.5 us). */
static ALWAYS_INLINE __m512 conv_pair_load(const float *p, __mmask16 lo) /* p[0..8) under lo, both halves */
{
    const __m512 v = _mm512_maskz_loadu_ps(lo, p);
    return _mm512_shuffle_f32x4(v, v, 0x44);
}

static ALWAYS_INLINE void conv_pair_tile(float *yp, const float *xp, const conv_geom *g, const float *wp,
                                         const float *b, uint32_t nky, uint32_t nkx, const uint32_t rows, int odd,
                                         __mmask16 lo)
{
    const __m512 zero = _mm512_setzero_ps();
    const size_t o = g->o, pix2 = 2 * g->pix_step, y2 = 2 * g->y_step;
    const size_t last_step = odd ? 0 : g->pix_step; /* to the last row's second pixel */
    const uint32_t act = g->act->act, span = nkx * g->cg;
    uint32_t ky, kx, c;
#define CONV_DECL(J) __m512 a##J = zero;
    CONV_TILE_ROWS(CONV_DECL)
#undef CONV_DECL
    if (g->x_tap == g->cg && g->pix_step + span <= 16) {
        /* lanes 0..7 term t of the first pixel, 8..15 of the second (pix_step floats on) */
        const __m512i second = _mm512_mask_set1_epi32(_mm512_setzero_si512(), 0xFF00, (int)g->pix_step);
        const __mmask16 window = (__mmask16)((1u << (g->pix_step + span)) - 1u);
        const __mmask16 window_last = (__mmask16)((1u << (last_step + span)) - 1u);
#define CONV_WINDOW(J)                                                                                                 \
    const __m512 x##J = J < rows ? _mm512_maskz_loadu_ps(J + 1 == rows ? window_last : window, xw + J * pix2) : zero;
#define CONV_STEP(J)                                                                                                   \
    if (J < rows) a##J = VF_MAC(a##J, _mm512_permutexvar_ps(J + 1 == rows ? idx_last : idx, x##J), wv);
/* term t (kx * cg + c) of tap row ky: the windows x##J loaded from xw, the weights at wt */
#define CONV_PERMUTE_TERM(t)                                                                                           \
    {                                                                                                                  \
        const __m512 wv = conv_pair_load(wt, lo);                                                                      \
        const __m512i idx = _mm512_add_epi32(second, _mm512_set1_epi32((int)(t)));                                     \
        const __m512i idx_last = odd ? _mm512_set1_epi32((int)(t)) : idx;                                              \
        CONV_TILE_ROWS(CONV_STEP)                                                                                      \
    }
#ifdef CONV_C_OUTER
        for (c = 0; c < g->cg; c++)
            for (ky = 0; ky < nky; ky++) {
                const float *xw = xp + ky * g->x_row, *wt = wp + ky * g->w_row + (size_t)c * o;
                CONV_TILE_ROWS(CONV_WINDOW)
                for (kx = 0; kx < nkx; kx++, wt += (size_t)g->cg * o) CONV_PERMUTE_TERM(kx * g->cg + c)
            }
#else
        for (ky = 0; ky < nky; ky++) {
            const float *xw = xp + ky * g->x_row, *wt = wp + ky * g->w_row;
            uint32_t t;
            CONV_TILE_ROWS(CONV_WINDOW)
            for (t = 0; t < span; t++, wt += o) CONV_PERMUTE_TERM(t)
        }
#endif
#undef CONV_PERMUTE_TERM
#undef CONV_STEP
#undef CONV_WINDOW
    } else {
#define CONV_STEP(J)                                                                                                   \
    if (J < rows) {                                                                                                    \
        const float *xj = CONV_TERM_X(J, pix2);                                                                        \
        const float *xj1 = xj + (J + 1 == rows ? last_step : g->pix_step);                                             \
        a##J = VF_MAC(a##J, _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(*xj), _mm512_set1_ps(*xj1)), wv);              \
    }
        CONV_FOR_TERMS(const __m512 wv = conv_pair_load(wt, lo); CONV_TILE_ROWS(CONV_STEP))
#undef CONV_STEP
    }
    if (b) {
        const __m512 bv = conv_pair_load(b, lo);
#define CONV_BIAS(J)                                                                                                   \
    if (J < rows) a##J = _mm512_add_ps(a##J, bv);
        CONV_TILE_ROWS(CONV_BIAS)
#undef CONV_BIAS
    }
    if (act == ECNN_ACT_RELU) {
#define CONV_RELU(J)                                                                                                   \
    if (J < rows) a##J = _mm512_max_ps(a##J, zero);
        CONV_TILE_ROWS(CONV_RELU)
#undef CONV_RELU
    } else if (act == ECNN_ACT_CLIP) {
        const __m512 vlo = _mm512_set1_ps(g->act->act_p0), vhi = _mm512_set1_ps(g->act->act_p1);
#define CONV_CLIP(J)                                                                                                   \
    if (J < rows) a##J = _mm512_min_ps(vhi, _mm512_max_ps(vlo, a##J));
        CONV_TILE_ROWS(CONV_CLIP)
#undef CONV_CLIP
    }
#define CONV_STORE(J)                                                                                                  \
    if (J < rows) {                                                                                                    \
        _mm512_mask_storeu_ps(yp + J * y2, lo, a##J);                                                                  \
        if (J + 1 < rows || !odd)                                                                                      \
            _mm256_mask_storeu_ps(yp + J * y2 + g->y_step, (__mmask8)lo, _mm512_extractf32x8_ps(a##J, 1));             \
    }
    CONV_TILE_ROWS(CONV_STORE)
#undef CONV_STORE
}

/* np pixels x `count` (<= 8) channels of one group, two pixels a zmm. */
static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count)
{
    const __mmask16 lo = (__mmask16)((1u << count) - 1u);
    const int odd = np % 2;
#define CONV_NP_CALL(ROWS) conv_pair_tile(yp, xp, g, wp, b, nky, nkx, ROWS, odd, lo)
    CONV_FOR_NP1((np + 1) / 2)
#undef CONV_NP_CALL
}
#endif /* CONV_PAIRS */

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

/* The next block of `rest` pixels in a run: the run cut into as few blocks of up to pix_max as
 * it takes, of near-equal size (26 = 13 + 13, not 24 + 2: a block of few pixels is a few chains
 * of dependent multiply-adds, bound by their latency). */
static uint32_t conv_even_block(uint32_t rest, uint32_t pix_max)
{
    const uint32_t blocks = (rest + pix_max - 1) / pix_max;
    return (rest + blocks - 1) / blocks;
}

/* The most pixels of a block: CONV_PIX1 when every channel block of the tile is one vector
 * (conv_lanes: at most CONV_WIDTH1 channels of a group in the tile), else CONV_PIX. */
static uint32_t conv_pix_max(const ecnn_conv2d_args *p, const ecnn_tile *t)
{
#ifdef CONV_PAIRS
    (void)p, (void)t;
    return 2 * CONV_PIX1;
#endif
    const uint32_t span = p->group == 1 ? t->o1 - t->o0 : p->o / p->group;
    return span <= CONV_WIDTH1 ? CONV_PIX1 : CONV_PIX;
}

/* Conv, w in HWIO, any O / group: terms in the reference order (ky, kx, c), one VF_MAC each:
 * bit-identical to the level's reference. With CONV_C_OUTER, in the order c, ky, kx: a
 * CONV_2D_SLICED of one slice (conv_f32_sliced.h SLICED_ONE_SLICE). */
ecnn_conv2d_f32_kernel CONV_KERNEL;
void CONV_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                 const ecnn_conv2d_args *p)
{
    conv_geom g;
    const uint32_t pix_max = conv_pix_max(p, t);
    uint32_t m, ox, full0, full1;
    (void)n; /* rows and channels come from the tile */
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
        for (px = (size_t)t->m0 * p->ow; px < end;) {
            const uint32_t np = end - px < 2 * pix_max ? conv_even_block((uint32_t)(end - px), pix_max) : pix_max;
            conv_groups(y + px * g.o, x + px * p->c, w, b, &g, t, p->group, 1, 0, 0, 1, 1, np);
            px += np;
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
                np = conv_even_block(full1 - ox, pix_max);
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
            while (np < pix_max && m + np < t->m1 && oy + np < p->oh &&
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

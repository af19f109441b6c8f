/* The x86 depthwise float convs' row blocks (included by conv_f32_dw.h, which tries them first):
 * square 3x3 and 5x5 windows, the same stride 1 or 2 on both axes, dilation 1 (MobileNet's,
 * DS-CNN's), maps of 4 columns or more. A block is P output pixels of one row (P a constant, 4
 * to 8: the row in equal blocks, the last one moved left to end at the row's end, so that its
 * first pixels are computed again, the same way) x one vector of channels. The block reads its
 * window rows' input pixels once each, in row-major order, and multiplies each into every output
 * of the block whose window holds it: an output's terms still come in the reference order ((ky,
 * kx) increasing, one VF_MAC each), and a row of P outputs costs (P - 1) * S + K loads a window
 * row instead of P * K. Taps in the padding are skipped: window rows outside the input as a
 * whole, columns outside it one by one (in a row's first and last blocks, and every 5x5 block).
 * A 3x3 window's weights are 9 registers over a row's vector where DW_ROWS_WEIGHT_REGS allows
 * (AVX-512), else a window row's are loaded per block. Then the bias and Relu / Clip, as dw_tile
 * does. Rows outside, vectors inside: a row's window rows stay in L1 from vector to vector.
 *
 * The includer defines what conv_f32_dw.h needs (VF, dw_mask, dw_load, ...), DW_ROWS_WEIGHT_REGS,
 * and DW_ROWS_MASKED: 1 when a last vector of fewer channels takes the row blocks under a mask
 * (else the runs take those channels). */
#ifndef ECNN_KERNELS_X86_CONV_F32_DW_ROWS_H
#define ECNN_KERNELS_X86_CONV_F32_DW_ROWS_H

#define DW_ROWS_P 8 /* the most output pixels of a block */

/* What a block reads, for one sample and one vector of channels. */
typedef struct {
    const float *x;       /* the sample's input at the vector's first channel */
    const float *w;       /* tap (0, 0)'s weights at the vector's first channel (taps o apart) */
    ptrdiff_t rows, cols; /* of the input */
    ptrdiff_t c;          /* from one input column to the next */
    size_t o;             /* from one output pixel (and one tap's weights) to the next */
} dw_rows_geom;

/* The unrolled loops: window columns I of a block (up to (8 - 1) * 2 + 5 = 19), output pixels
 * J, taps KX. */
#define DWR_EACH_COL(M)                                                                                                \
    M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15) M(16) M(17) M(18)
#define DWR_EACH_PIX(M, I) M(0, I) M(1, I) M(2, I) M(3, I) M(4, I) M(5, I) M(6, I) M(7, I)
#define DWR_EACH_OUT(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define DWR_EACH_TAP(M, KY) M(0, KY) M(1, KY) M(2, KY) M(3, KY) M(4, KY)
#define DWR_EACH_ROW(M) M(0) M(1) M(2) M(3) M(4)

/* P outputs from window column ix0 (the block's first, may be in the padding) of the window
 * rows from iy0: y at the first output, wa the taps' weights when K * K <= DW_ROWS_WEIGHT_REGS,
 * k the vector's lanes; edge: some window column may lie outside the input. */
static ALWAYS_INLINE void dw_rows_block(float *y, const dw_rows_geom *g, ptrdiff_t iy0, ptrdiff_t ix0, const VF *wa,
                                        dw_mask k, VF bias, int has_bias, const ecnn_act_params *act, const int P,
                                        const int S, const int K, const int edge)
{
    const VF zero = VF_ZERO();
    const int ncols = (P - 1) * S + K, wregs = K * K <= DW_ROWS_WEIGHT_REGS;
    /* the window columns inside the input: [lo, hi) */
    const ptrdiff_t lo = -ix0, hi = g->cols - ix0;
#define DWR_DECL(J) VF a##J = zero;
    DWR_EACH_OUT(DWR_DECL)
#undef DWR_DECL
#define DWR_WEIGHT(KX, KY) const VF w##KX = KX < K ? (wregs ? wa[KY * K + KX] : dw_load(wr + KX * g->o, 0, k)) : zero;
#define DWR_MAC(J, I)                                                                                                  \
    if (J < P && I - S * J >= 0 && I - S * J < K) a##J = VF_MAC(a##J, xv, DWR_TAP_W(I - S * J));
#define DWR_COL(I)                                                                                                     \
    if (I < ncols && (!edge || (I >= lo && I < hi))) {                                                                 \
        const VF xv = dw_load(g->x + (xr + I * g->c), 0, k);                                                           \
        DWR_EACH_PIX(DWR_MAC, I)                                                                                       \
    }
#define DWR_TAP_W(KX) ((KX) == 0 ? w0 : (KX) == 1 ? w1 : (KX) == 2 ? w2 : (KX) == 3 ? w3 : w4)
#define DWR_ROW(KY)                                                                                                    \
    if (KY < K && iy0 + KY >= 0 && iy0 + KY < g->rows) {                                                               \
        const ptrdiff_t xr = ((iy0 + KY) * g->cols + ix0) * g->c; /* column I at xr + I * c, inside x when I is */     \
        const float *wr = g->w + (size_t)KY * K * g->o;                                                                \
        DWR_EACH_TAP(DWR_WEIGHT, KY)                                                                                   \
        (void)wr;                                                                                                      \
        DWR_EACH_COL(DWR_COL)                                                                                          \
    }
    DWR_EACH_ROW(DWR_ROW)
#undef DWR_ROW
#undef DWR_TAP_W
#undef DWR_COL
#undef DWR_MAC
#undef DWR_WEIGHT
#define DWR_OUT(J)                                                                                                     \
    if (J < P) {                                                                                                       \
        VF r = has_bias ? VF_ADD(a##J, bias) : a##J;                                                                   \
        if (act->act == ECNN_ACT_RELU)                                                                                 \
            r = VF_MAX(r, zero);                                                                                       \
        else if (act->act == ECNN_ACT_CLIP)                                                                            \
            r = VF_MIN(VF_SET1(act->act_p1), VF_MAX(VF_SET1(act->act_p0), r));                                         \
        dw_store(y + J * g->o, 0, k, r);                                                                               \
    }
    DWR_EACH_OUT(DWR_OUT)
#undef DWR_OUT
}

/* The row blocks of tile t over its first nvec vectors of channels, P outputs a block. */
static ALWAYS_INLINE void dw_rows_tile(float *y, const float *x, const float *w, const float *b, const ecnn_tile *t,
                                       const ecnn_conv2d_args *p, uint32_t nvec, const int P, const int S, const int K)
{
    const ptrdiff_t ncols = (P - 1) * S + K;
    dw_rows_geom g;
    VF wa[DW_ROWS_WEIGHT_REGS > 0 ? DW_ROWS_WEIGHT_REGS : 1];
    uint32_t v, m;
    int i;
    g.rows = p->h;
    g.cols = p->w;
    g.c = p->c;
    g.o = p->o;
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const ptrdiff_t iy0 = (ptrdiff_t)oy * S - p->pad_top;
        for (v = 0; v < nvec; v++) {
            const size_t c0 = t->o0 + (size_t)v * VF_LANES;
            /* a last vector of fewer channels only where masks are cheap */
            const dw_mask k = dw_first_lanes(DW_ROWS_MASKED && c0 + VF_LANES > t->o1 ? t->o1 - c0 : VF_LANES);
            const VF bias = b ? dw_load(b + c0, 0, k) : VF_ZERO();
            float *yr = y + ((size_t)s * p->oh + oy) * p->ow * g.o + c0;
            uint32_t ox = 0;
            g.x = x + (size_t)s * p->h * p->w * p->c + c0;
            g.w = w + c0;
            for (i = 0; i < K * K && i < DW_ROWS_WEIGHT_REGS; i++) wa[i] = dw_load(g.w + i * g.o, 0, k);
            for (;;) {
                const ptrdiff_t ix0 = (ptrdiff_t)ox * S - p->pad_left;
                /* 5x5 blocks always check their columns: half the code, a few per cent slower */
                if (K == 3 && ix0 >= 0 && ix0 + ncols <= g.cols)
                    dw_rows_block(yr + (size_t)ox * g.o, &g, iy0, ix0, wa, k, bias, b != NULL, &p->act, P, S, K, 0);
                else
                    dw_rows_block(yr + (size_t)ox * g.o, &g, iy0, ix0, wa, k, bias, b != NULL, &p->act, P, S, K, 1);
                if (ox + P >= p->ow) break;
                ox = ox + 2 * P <= p->ow ? ox + P : p->ow - P;
            }
        }
    }
}

#define DW_ROWS_RUN(K, S)                                                                                              \
    static NOINLINE void dw_rows_##K##_##S(float *y, const float *x, const float *w, const float *b,                   \
                                           const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t nvec, uint32_t np)  \
    {                                                                                                                  \
        switch (np) {                                                                                                  \
        case 4: dw_rows_tile(y, x, w, b, t, p, nvec, 4, S, K); break;                                                  \
        case 5: dw_rows_tile(y, x, w, b, t, p, nvec, 5, S, K); break;                                                  \
        case 6: dw_rows_tile(y, x, w, b, t, p, nvec, 6, S, K); break;                                                  \
        case 7: dw_rows_tile(y, x, w, b, t, p, nvec, 7, S, K); break;                                                  \
        default: dw_rows_tile(y, x, w, b, t, p, nvec, 8, S, K); break;                                                 \
        }                                                                                                              \
    }
DW_ROWS_RUN(3, 1)
DW_ROWS_RUN(3, 2)
DW_ROWS_RUN(5, 1)
DW_ROWS_RUN(5, 2)
#undef DW_ROWS_RUN

/* Tile t's channels that fill whole vectors through the row blocks, when the conv has their
 * shape; returns how many channels (from t->o0) it computed: 0 when none. */
static uint32_t dw_rows(float *y, const float *x, const float *w, const float *b, const ecnn_tile *t,
                        const ecnn_conv2d_args *p)
{
    const uint32_t count = t->o1 - t->o0, k = p->kh, s = p->stride_h;
    const uint32_t nvec = DW_ROWS_MASKED ? (count + VF_LANES - 1) / VF_LANES : count / VF_LANES;
    const uint32_t done = DW_ROWS_MASKED ? count : nvec * VF_LANES;
    uint32_t np;
    /* not: maps under 4 columns (3 or fewer sums in flight a block: the runs take up to 128
     * channels a block there), C dividing the vector at stride 1 (the flat path) */
    if (nvec == 0 || p->kw != k || (k != 3 && k != 5) || p->stride_w != s || s > 2 || p->dilation_h != 1 ||
        p->dilation_w != 1 || p->ow < 4 || (s == 1 && p->c < VF_LANES && VF_LANES % p->c == 0))
        return 0;
    /* the row in equal blocks of at most DW_ROWS_P */
    np = (p->ow + DW_ROWS_P - 1) / DW_ROWS_P;
    np = (p->ow + np - 1) / np;
    if (k == 3)
        (s == 1 ? dw_rows_3_1 : dw_rows_3_2)(y, x, w, b, t, p, nvec, np);
    else
        (s == 1 ? dw_rows_5_1 : dw_rows_5_2)(y, x, w, b, t, p, nvec, np);
    return done;
}

#endif /* ECNN_KERNELS_X86_CONV_F32_DW_ROWS_H */

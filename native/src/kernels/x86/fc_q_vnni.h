/* The x86 VNNI fully connected int8 kernels over FC_PANEL8X4 (and _W64) weights (kernels_i8.h),
 * weight zero points 0, shared by the AVX-512 VNNI (zmm) and AVX-VNNI (ymm) kernels.
 *
 * vpdpbusd multiplies unsigned bytes by signed bytes and adds each 4 products to an int32 lane,
 * exactly (no int16 step, so any int8 weight). Inputs enter as unsigned bytes u = x - min
 * (x ^ 0x80 for int8 x, x itself for uint8), so x - zx = u - c with c = zx - min in [0, 255] and
 *     sum (x - zx) w = sum u w - c sum w;
 * c sum w, one vpdpbusd pass of c's bytes over a block's weights, is folded into its bias once
 * for all samples (skipped when c = 0: a Relu's output). Sums wrap in int32 lanes; the
 * validator guarantees the true sum fits int32, so the wrapped result is exact. The
 * requantization runs the reference's float steps on 8 or 16 lanes (x86/fc_q_store.h): the
 * same IEEE operations in the same order, so the same codes.
 *
 * One vector holds FQ_K k of 8 outputs of a panel (32 or 64 weight bytes) against FQ_K inputs
 * of a sample. Outputs go in blocks of 8 panels (64 outputs, the FC tile's granule,
 * ECNN_TILE_O_FC) whose scales and biases are prepared once; a block is computed TILE_S
 * samples x TILE_P panels at a time (the weights loaded once per TILE_S samples), or for one
 * sample all its panels side by side, each weight stream prefetched (batch 1 waits on memory).
 *
 * The includer defines FQ_VEC (its vector type), FQ_K (8 or 4), TILE_P (4 or 2), FQ_KERNEL (the
 * kernel's name), FQ_ZERO(), FQ_SET1_EPI8(c), FQ_STREAM_POINTERS (1: a tile keeps a pointer
 * per input and weight stream; 0: it computes them from one base, which spills fewer
 * registers in the AVX-VNNI loops and more in the AVX-512 ones, by their objdump) and
 * FQ_STORE16 (1: pairs of panels are requantized as one vector of 16 outputs), includes this
 * file, then defines the functions declared below. */
#ifndef ECNN_KERNELS_X86_FC_Q_VNNI_H
#define ECNN_KERNELS_X86_FC_Q_VNNI_H

/* GCC's partial redundancy elimination (on at -O3) turns the accumulators into chains of
 * register copies inside the k loop: about a third slower, measured on a Zen 4. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-partial-pre")
#endif
#include "kernels/x86/fc_q_store.h"

/* The loops over a tile's samples and panels, unrolled whole: the accumulators become registers. */
#define ECNN_UNROLL _Pragma("GCC unroll 8")

#define BLOCK_P 8u /* panels of a block: 64 outputs */
#define TILE_S 4u  /* samples of a tile */

/* The input vector of FQ_K k from FQ_K bytes at x, as u bytes (x ^ flip). */
static ALWAYS_INLINE FQ_VEC fq_x(const uint8_t *x, FQ_VEC flip);
/* The same for the last `rest` (1..FQ_K - 1) inputs of a row, reading no byte past them; the
 * lanes past them hold any u: their weights are 0 (fq_w_rest). */
static ALWAYS_INLINE FQ_VEC fq_x_rest(const uint8_t *x, uint32_t rest, FQ_VEC flip);
/* The weights of FQ_K k at wp; the last `rest` (1..FQ_K - 1) k of a panel (the padded weights
 * are 0 to a multiple of 4). */
static ALWAYS_INLINE FQ_VEC fq_w(const int8_t *wp);
static ALWAYS_INLINE FQ_VEC fq_w_rest(const int8_t *wp, uint32_t rest);
static ALWAYS_INLINE FQ_VEC fq_dot(FQ_VEC acc, FQ_VEC x, FQ_VEC w); /* vpdpbusd */
/* Requantizes the 8 outputs' sums in acc (x86/fc_q_store.h) and stores `width` (1..8) codes at y. */
static ALWAYS_INLINE void fq_store8(uint8_t *y, FQ_VEC acc, const int32_t *bias, const float *scales, uint32_t width,
                                    const rq256_consts *c);
#if FQ_STORE16
/* The same for two panels' accumulators, 16 outputs, `width` 9..16: one requantization of 16 lanes. */
static ALWAYS_INLINE void fq_store16(uint8_t *y, FQ_VEC acc0, FQ_VEC acc1, const int32_t *bias, const float *scales,
                                     uint32_t width, const rq512_consts *c);
#endif
/* c sum w of each output of np panels (8 int32 each). */
static void column_terms(int32_t *terms, const int8_t *w, size_t panel_bytes, uint32_t k, uint32_t np, uint8_t c);

/* What the tiles of one block share. */
typedef struct {
    const uint8_t *x; /* sample 0's inputs */
    const int8_t *w;  /* the block's first panel */
    size_t panel_bytes;
    uint32_t k, o, o0;   /* o0: the block's first output */
    FQ_VEC flip;         /* 0x80 bytes for int8 x (u = x ^ 0x80), 0 for uint8 */
    const int32_t *bias; /* BLOCK_P * 8 biases, c sum w taken off */
    const float *scales; /* BLOCK_P * 8 requantization scales */
    rq256_consts rq8;    /* the call's requantization constants */
#if FQ_STORE16
    rq512_consts rq16;
#endif
} block_args;

/* ns samples from s0 x np panels from panel pi of the block: ns and np are constants at each
 * call, so the accumulators stay in registers. */
static ALWAYS_INLINE void tile(void *y, const block_args *a, uint32_t s0, uint32_t pi, const uint32_t ns,
                               const uint32_t np)
{
    const uint32_t kk = a->k / FQ_K * FQ_K;
    const FQ_VEC flip = a->flip;
    FQ_VEC acc[TILE_S][BLOCK_P], xv[TILE_S];
    uint32_t s, p, i;
#if FQ_STREAM_POINTERS
    const uint8_t *xs[TILE_S];
    const int8_t *wps[BLOCK_P];
#define FQ_XS(s) xs[s]
#define FQ_WS(p) wps[p]
    ECNN_UNROLL
    for (s = 0; s < ns; s++) xs[s] = a->x + (size_t)(s0 + s) * a->k;
    ECNN_UNROLL
    for (p = 0; p < np; p++) wps[p] = a->w + (pi + p) * a->panel_bytes;
#else
    const uint8_t *x = a->x + (size_t)s0 * a->k;
    const int8_t *w = a->w + pi * a->panel_bytes;
#define FQ_XS(s) (x + (size_t)(s)*a->k)
#define FQ_WS(p) (w + (p)*a->panel_bytes)
#endif
    ECNN_UNROLL
    for (s = 0; s < ns; s++) ECNN_UNROLL
    for (p = 0; p < np; p++) acc[s][p] = FQ_ZERO();
    for (i = 0; i < kk; i += FQ_K) {
        ECNN_UNROLL
        for (s = 0; s < ns; s++) xv[s] = fq_x(FQ_XS(s) + i, flip);
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const int8_t *wp = FQ_WS(p) + (size_t)i * 8;
            const FQ_VEC wv = fq_w(wp);
            /* one prefetch per 64-byte line of the stream */
            if (ns == 1 && i % (64 / 8) == 0) _mm_prefetch((const char *)wp + ECNN_PREFETCH, _MM_HINT_T0);
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = fq_dot(acc[s][p], xv[s], wv);
        }
    }
    if (kk < a->k) { /* the last 1..FQ_K - 1 k */
        const uint32_t rest = a->k - kk;
        ECNN_UNROLL
        for (s = 0; s < ns; s++) xv[s] = fq_x_rest(FQ_XS(s) + kk, rest, flip);
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const FQ_VEC wv = fq_w_rest(FQ_WS(p) + (size_t)kk * 8, rest);
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = fq_dot(acc[s][p], xv[s], wv);
        }
    }
    {
        /* in registers: a byte store may alias *a */
        const rq256_consts rq8 = a->rq8;
#if FQ_STORE16
        const rq512_consts rq16 = a->rq16;
#endif
        ECNN_UNROLL
        for (s = 0; s < ns; s++) {
            p = 0;
#if FQ_STORE16
            ECNN_UNROLL
            for (; p + 2 <= np; p += 2) {
                const uint32_t first = a->o0 + (pi + p) * 8, l = (pi + p) * 8;
                fq_store16((uint8_t *)y + (size_t)(s0 + s) * a->o + first, acc[s][p], acc[s][p + 1], a->bias + l,
                           a->scales + l, a->o - first < 16 ? a->o - first : 16, &rq16);
            }
#endif
            ECNN_UNROLL
            for (; p < np; p++) {
                const uint32_t first = a->o0 + (pi + p) * 8, l = (pi + p) * 8;
                fq_store8((uint8_t *)y + (size_t)(s0 + s) * a->o + first, acc[s][p], a->bias + l, a->scales + l,
                          a->o - first < 8 ? a->o - first : 8, &rq8);
            }
        }
    }
}

#undef FQ_XS
#undef FQ_WS

/* One function per tile shape: samples x panels (one sample: up to a block's 8 panels). */
typedef void tile_fn(void *y, const block_args *a, uint32_t s0, uint32_t pi);
#define TILE_FN(NS, NP)                                                                                                \
    static NOINLINE void tile_##NS##x##NP(void *y, const block_args *a, uint32_t s0, uint32_t pi)                      \
    {                                                                                                                  \
        tile(y, a, s0, pi, NS, NP);                                                                                    \
    }
TILE_FN(1, 1)
TILE_FN(1, 2)
TILE_FN(1, 3)
TILE_FN(1, 4)
TILE_FN(1, 5)
TILE_FN(1, 6)
TILE_FN(1, 7)
TILE_FN(1, 8)
TILE_FN(2, 1)
TILE_FN(2, 2)
TILE_FN(3, 1)
TILE_FN(3, 2)
TILE_FN(4, 1)
TILE_FN(4, 2)
#if TILE_P == 4
TILE_FN(2, 3)
TILE_FN(2, 4)
TILE_FN(3, 3)
TILE_FN(3, 4)
TILE_FN(4, 3)
TILE_FN(4, 4)
static tile_fn *const tiles[TILE_S][BLOCK_P] = {
    {tile_1x1, tile_1x2, tile_1x3, tile_1x4, tile_1x5, tile_1x6, tile_1x7, tile_1x8},
    {tile_2x1, tile_2x2, tile_2x3, tile_2x4},
    {tile_3x1, tile_3x2, tile_3x3, tile_3x4},
    {tile_4x1, tile_4x2, tile_4x3, tile_4x4},
};
#elif TILE_P == 2
static tile_fn *const tiles[TILE_S][BLOCK_P] = {
    {tile_1x1, tile_1x2, tile_1x3, tile_1x4, tile_1x5, tile_1x6, tile_1x7, tile_1x8},
    {tile_2x1, tile_2x2},
    {tile_3x1, tile_3x2},
    {tile_4x1, tile_4x2},
};
#else
#error "TILE_P is 4 or 2"
#endif

ecnn_fc_q_kernel FQ_KERNEL;
void FQ_KERNEL(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
               const ecnn_tile *t, const ecnn_qlinear_params *q)
{
    /* The tile's panels [o0 / 8, panels): whole ones but the last (o1: a multiple of 64, or O) */
    const uint32_t panels = (t->o1 + 7) / 8, kp = (k + 3) / 4 * 4;
    const uint8_t c = (uint8_t)(q->x_zero_point - ecnn_qtype_min(q->x_type));
    int32_t bias[BLOCK_P * 8], terms[BLOCK_P * 8];
    float scales[BLOCK_P * 8];
    block_args a;
    uint32_t pb, s0;
    (void)n;
    a.x = (const uint8_t *)x;
    a.panel_bytes = (size_t)8 * kp;
    a.k = k;
    a.o = o;
    a.flip = FQ_SET1_EPI8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    a.bias = bias;
    a.scales = scales;
    a.rq8 = rq256_setup(q);
#if FQ_STORE16
    a.rq16 = rq512_setup(q);
#endif
    for (pb = t->o0 / 8; pb < panels; pb += BLOCK_P) {
        const uint32_t np = panels - pb < BLOCK_P ? panels - pb : BLOCK_P;
        a.w = (const int8_t *)w + pb * a.panel_bytes;
        a.o0 = pb * 8;
        if (c != 0) column_terms(terms, a.w, a.panel_bytes, k, np, c);
        ecnn_fc_q_block_constants(bias, scales, c != 0 ? terms : NULL, b, a.o0, np * 8, o, q);
        for (s0 = t->m0; s0 < t->m1; s0 += TILE_S) {
            const uint32_t ns = t->m1 - s0 < TILE_S ? t->m1 - s0 : TILE_S;
            uint32_t pi;
            if (ns == 1)
                tiles[0][np - 1](y, &a, s0, 0);
            else
                for (pi = 0; pi < np; pi += TILE_P)
                    tiles[ns - 1][(np - pi < TILE_P ? np - pi : TILE_P) - 1](y, &a, s0, pi);
        }
    }
}

#endif /* ECNN_KERNELS_X86_FC_Q_VNNI_H */

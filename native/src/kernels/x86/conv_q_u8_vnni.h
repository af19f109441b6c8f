/* The x86 VNNI byte microkernels of the int8 conv (ecnn_conv_q_ukernels.conv_u8 and pack_u8,
 * kernels_i8.h), shared by the AVX-512 VNNI (zmm) and AVX-VNNI (ymm) levels.
 *
 * vpdpbusd multiplies the pixels' unsigned bytes u (x ^ 0x80 for int8 x, x for uint8) by the
 * packed int8 weights and adds each 4 products to an int32 lane exactly: no int16 step, so
 * twice vpdpwssd's MACs an instruction. Sums wrap in int32 lanes; the validator guarantees the
 * true sum (after the caller's c sum w correction in the bias) fits int32, so the result is
 * exact. The requantization is x86/q_requant.h's: the reference's codes.
 *
 * One vector of weights holds 4 k of CQ_LANES channels (the packed rows of [k / 4][c16][4]
 * bytes). A tile is np pixels x nv vectors, np * nv <= CQ_ACC accumulators, each weight load
 * shared by the pixels, each pixel's 4 bytes broadcast once for the nv vectors; blocks of few
 * vectors take 8 pixels, whose independent chains cover vpdpbusd's latency.
 *
 * Dense pointwise runs (CQ_PW) address pixels by their index, not through pointer lists; their
 * sums start at the bias, and where a run's outputs are whole rows of the block (O = count, one
 * tile of vectors) 4 vectors of codes go out in one store: for C = 8 -> O = 16 the
 * requantization and the stores, not the 2 vpdpbusd a pixel, are most of the work.
 *
 * The includer defines CQ_BITS (512 or 256), CQ_VEC, CQ_LANES (16 or 8), CQ_ACC (accumulator
 * registers: 16 or 8), CQ_TILE_V (most vectors a tile: 4 or 2), CQ_PW_UNPACKED_K (the most k of
 * a pointwise run whose outputs are not whole rows; past it conv_u8's tiles are faster),
 * CQ_CONV, CQ_PW and CQ_PACK (the kernels' names), the intrinsics CQ_ZERO, CQ_SET1_EPI8,
 * CQ_SET1_EPI32, CQ_XOR, CQ_ADD_EPI32, CQ_LOAD, CQ_STORE and CQ_DPBUSD (vpdpbusd), includes this
 * file, then defines the helpers declared below. */
#ifndef ECNN_KERNELS_X86_CONV_Q_U8_VNNI_H
#define ECNN_KERNELS_X86_CONV_Q_U8_VNNI_H

#define RQ_BITS CQ_BITS
#include "kernels/x86/q_requant.h"

#define CQ_RQ(name) ECNN_RQ(CQ_BITS, name)

/* The loops over a tile's pixels and vectors, unrolled whole: the accumulators become registers. */
#define CQ_UNROLL _Pragma("GCC unroll 16")

#define CQ_PIXELS ECNN_CONV_Q_U8_PIXELS
#define CQ_WIDE_PIXELS 4u /* pixels of a tile of more than CQ_ACC / 8 vectors */

/* pack_u8's pieces: `left` (1..) of a row's 16 bytes (the rest 0), and vpdpbusd on 4 lanes. */
static ALWAYS_INLINE __m128i cq_load16(const int8_t *w, uint32_t left);
static ALWAYS_INLINE __m128i cq_dot128(__m128i acc, __m128i c, __m128i w);

/* The biases and scales of CQ_LANES channels, loaded once for all pixels (a byte store may alias
 * anything, so the compiler would reload them after every store). */
typedef struct {
    CQ_VEC bias;
    CQ_RQ(vf) scales;
} cq_requant;

static ALWAYS_INLINE void cq_requant_load(cq_requant *r, const int32_t *bias, const float *scales)
{
    r->bias = CQ_LOAD(bias);
    r->scales = CQ_RQ(scales)(scales);
}

/* The CQ_LANES sums (bias included) scaled, clamped and rounded, before zy. */
static ALWAYS_INLINE CQ_VEC cq_round(CQ_VEC sum, const cq_requant *r, const CQ_RQ(consts) * c)
{
    return CQ_RQ(round)(sum, r->scales, c);
}

/* The codes of cq_round's CQ_LANES values (+ zy): the first `width` (1..CQ_LANES) stored at y. */
static ALWAYS_INLINE void cq_store_rounded(uint8_t *y, CQ_VEC rounded, uint32_t width, const CQ_RQ(consts) * c)
{
    CQ_RQ(store)(y, CQ_ADD_EPI32(rounded, c->zy), width, c);
}

/* The codes of 4 x CQ_LANES rounded values, r0's first, in 4 * CQ_LANES consecutive bytes at y:
 * the packs interleave the vectors by 4 channels a 128-bit lane, the permute puts them in order. */
static ALWAYS_INLINE void cq_store4(uint8_t *y, CQ_VEC r0, CQ_VEC r1, CQ_VEC r2, CQ_VEC r3, const CQ_RQ(consts) * c)
{
    const CQ_VEC codes = CQ_RQ(pack4)(r0, r1, r2, r3, c);
#if CQ_BITS == 512
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    CQ_STORE(y, _mm512_permutexvar_epi32(order, codes));
#else
    CQ_STORE(y, _mm256_permutevar8x32_epi32(codes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
#endif
}

/* Requantizes the CQ_LANES sums of acc + bias and stores the first `width` (1..CQ_LANES) codes at y. */
static ALWAYS_INLINE void cq_store(uint8_t *y, CQ_VEC acc, const cq_requant *r, uint32_t width, const CQ_RQ(consts) * c)
{
    cq_store_rounded(y, cq_round(CQ_ADD_EPI32(acc, r->bias), r, c), width, c);
}

/* The 4 bytes of a pixel at xp as u bytes (x ^ flip) in every lane. */
static ALWAYS_INLINE CQ_VEC cq_quad(const uint8_t *xp, CQ_VEC flip)
{
    int32_t v;
    memcpy(&v, xp, sizeof v);
    return CQ_XOR(CQ_SET1_EPI32(v), flip);
}

/* What the tiles of one call share. */
typedef struct {
    void *y;
    const size_t *firsts;
    const uint8_t *const *xs;
    const size_t *xstrides;
    size_t row; /* packed bytes per 4 k: c16 * 4 */
    const ecnn_conv_q_u8_block *blk;
    CQ_RQ(consts) rq; /* the call's requantization constants */
} cq_args;

static void cq_args_init(cq_args *a, void *y, const size_t *firsts, const uint8_t *const *xs, const size_t *xstrides,
                         const ecnn_conv_q_u8_block *blk)
{
    a->y = y;
    a->firsts = firsts;
    a->xs = xs;
    a->xstrides = xstrides;
    a->row = (size_t)(blk->count + 15) / 16 * 16 * 4;
    a->blk = blk;
    a->rq = CQ_RQ(setup)(blk->q);
}

/* The most pixels of a tile of nv vectors. */
static inline uint32_t cq_most_pixels(uint32_t nv)
{
    return nv > CQ_ACC / 8 ? CQ_WIDE_PIXELS : CQ_PIXELS;
}

/* np pixels x nv vectors; constants at each call, so the accumulators stay in registers. */
static ALWAYS_INLINE void cq_tile(const cq_args *a, uint32_t p0, uint32_t v0, const uint32_t np, const uint32_t nv)
{
    const ecnn_conv_q_u8_block *blk = a->blk;
    const uint32_t run = blk->k / blk->rows, run4 = run / 4 * 4;
    const CQ_VEC fl = CQ_SET1_EPI8(blk->q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    const int8_t *wp = blk->wp + (size_t)v0 * CQ_LANES * 4;
    CQ_VEC acc[CQ_PIXELS][CQ_TILE_V], wv[CQ_TILE_V];
    const uint8_t *xr[CQ_PIXELS];
    uint32_t r, i, pi, v;
    CQ_UNROLL
    for (pi = 0; pi < np; pi++) CQ_UNROLL
    for (v = 0; v < nv; v++) acc[pi][v] = CQ_ZERO();
    for (r = 0; r < blk->rows; r++) {
        CQ_UNROLL
        for (pi = 0; pi < np; pi++) xr[pi] = a->xs[p0 + pi] + r * a->xstrides[p0 + pi];
        for (i = 0; i < run4; i += 4) {
            const int8_t *w = wp + ((size_t)r * run + i) / 4 * a->row;
            CQ_UNROLL
            for (v = 0; v < nv; v++) wv[v] = CQ_LOAD(w + v * CQ_LANES * 4);
            CQ_UNROLL
            for (pi = 0; pi < np; pi++) {
                const CQ_VEC xv = cq_quad(xr[pi] + i, fl);
                CQ_UNROLL
                for (v = 0; v < nv; v++) acc[pi][v] = CQ_DPBUSD(acc[pi][v], xv, wv[v]);
            }
        }
    }
    if (run4 < run) { /* one run (rows 1): its last 1..3 k; the packed weights past k are 0 */
        const int8_t *w = wp + (size_t)run4 / 4 * a->row;
        CQ_UNROLL
        for (v = 0; v < nv; v++) wv[v] = CQ_LOAD(w + v * CQ_LANES * 4);
        CQ_UNROLL
        for (pi = 0; pi < np; pi++) {
            const CQ_VEC xv = CQ_XOR(CQ_SET1_EPI32((int32_t)ecnn_load_upto4(a->xs[p0 + pi] + run4, run - run4)), fl);
            CQ_UNROLL
            for (v = 0; v < nv; v++) acc[pi][v] = CQ_DPBUSD(acc[pi][v], xv, wv[v]);
        }
    }
    {
        const CQ_RQ(consts) c = a->rq; /* in registers: a byte store may alias *a */
        CQ_UNROLL
        for (v = 0; v < nv; v++) {
            const uint32_t l = (v0 + v) * CQ_LANES, width = blk->count - l < CQ_LANES ? blk->count - l : CQ_LANES;
            cq_requant rq;
            cq_requant_load(&rq, blk->bias + l, blk->scales + l);
            CQ_UNROLL
            for (pi = 0; pi < np; pi++) cq_store((uint8_t *)a->y + a->firsts[p0 + pi] + l, acc[pi][v], &rq, width, &c);
        }
    }
}

typedef void cq_tile_fn(const cq_args *a, uint32_t p0, uint32_t v0);
#define CQ_TILE_FN(NP, NV)                                                                                             \
    static NOINLINE void cq_tile_##NP##x##NV(const cq_args *a, uint32_t p0, uint32_t v0)                               \
    {                                                                                                                  \
        cq_tile(a, p0, v0, NP, NV);                                                                                    \
    }
CQ_TILE_FN(1, 1)
CQ_TILE_FN(2, 1)
CQ_TILE_FN(3, 1)
CQ_TILE_FN(4, 1)
CQ_TILE_FN(5, 1)
CQ_TILE_FN(6, 1)
CQ_TILE_FN(7, 1)
CQ_TILE_FN(8, 1)
CQ_TILE_FN(1, 2)
CQ_TILE_FN(2, 2)
CQ_TILE_FN(3, 2)
CQ_TILE_FN(4, 2)
#if CQ_TILE_V == 4 && CQ_ACC == 16
CQ_TILE_FN(5, 2)
CQ_TILE_FN(6, 2)
CQ_TILE_FN(7, 2)
CQ_TILE_FN(8, 2)
CQ_TILE_FN(1, 3)
CQ_TILE_FN(2, 3)
CQ_TILE_FN(3, 3)
CQ_TILE_FN(4, 3)
CQ_TILE_FN(1, 4)
CQ_TILE_FN(2, 4)
CQ_TILE_FN(3, 4)
CQ_TILE_FN(4, 4)
static cq_tile_fn *const cq_tiles[CQ_PIXELS][CQ_TILE_V] = {
    {cq_tile_1x1, cq_tile_1x2, cq_tile_1x3, cq_tile_1x4},
    {cq_tile_2x1, cq_tile_2x2, cq_tile_2x3, cq_tile_2x4},
    {cq_tile_3x1, cq_tile_3x2, cq_tile_3x3, cq_tile_3x4},
    {cq_tile_4x1, cq_tile_4x2, cq_tile_4x3, cq_tile_4x4},
    {cq_tile_5x1, cq_tile_5x2, NULL, NULL},
    {cq_tile_6x1, cq_tile_6x2, NULL, NULL},
    {cq_tile_7x1, cq_tile_7x2, NULL, NULL},
    {cq_tile_8x1, cq_tile_8x2, NULL, NULL},
};
#elif CQ_TILE_V == 2 && CQ_ACC == 8
static cq_tile_fn *const cq_tiles[CQ_PIXELS][CQ_TILE_V] = {
    {cq_tile_1x1, cq_tile_1x2}, {cq_tile_2x1, cq_tile_2x2}, {cq_tile_3x1, cq_tile_3x2}, {cq_tile_4x1, cq_tile_4x2},
    {cq_tile_5x1, NULL},        {cq_tile_6x1, NULL},        {cq_tile_7x1, NULL},        {cq_tile_8x1, NULL},
};
#else
#error "CQ_TILE_V / CQ_ACC: 4 / 16 or 2 / 8"
#endif

ecnn_conv_q_u8_kernel CQ_CONV;
void CQ_CONV(void *y, const size_t *firsts, const uint8_t *const *xs, const size_t *xstrides, uint32_t npix,
             const ecnn_conv_q_u8_block *blk)
{
    const uint32_t vectors = (blk->count + CQ_LANES - 1) / CQ_LANES;
    cq_args a;
    uint32_t v0, nv, p0, np;
    cq_args_init(&a, y, firsts, xs, xstrides, blk);
    for (v0 = 0; v0 < vectors; v0 += nv) {
        nv = vectors - v0 < CQ_TILE_V ? vectors - v0 : CQ_TILE_V;
        for (p0 = 0; p0 < npix; p0 += np) {
            np = npix - p0 < cq_most_pixels(nv) ? npix - p0 : cq_most_pixels(nv);
            cq_tiles[np - 1][nv - 1](&a, p0, v0);
        }
    }
}

/* The most k of a dense pointwise run: a group's int8 bytes are flipped to u on the stack. */
#define CQ_PW_MAX_K 256u
#if CQ_PW_UNPACKED_K > CQ_PW_MAX_K
#error "CQ_PW_UNPACKED_K: at most CQ_PW_MAX_K"
#endif

/* A dense pointwise run's `groups` groups of np pixels x vectors v0 .. v0 + nv - 1: pixel i's
 * k bytes at x + i * k, its codes at y + i * o (y at the block's first channel). The sums start
 * at the bias; the requantization constants stay in registers for the whole run. Packed: the
 * outputs are whole rows of the block (o == count == nv * CQ_LANES), so a group's np x nv
 * vectors of codes are consecutive bytes, stored 4 vectors at a time (np * nv a multiple of 4). */
static ALWAYS_INLINE void cq_pw_run(uint8_t *y, const uint8_t *x, size_t groups, size_t o,
                                    const ecnn_conv_q_u8_block *blk, uint32_t v0, const uint32_t nv, const int packed)
{
    const uint32_t np = cq_most_pixels(nv); /* a constant: nv is one */
    const size_t k = blk->k, row = (size_t)(blk->count + 15) / 16 * 16 * 4, n = np * k;
    const int flips = blk->q->x_type != ECNN_Q_U8;
    const CQ_VEC fl = CQ_SET1_EPI8((char)0x80);
    const int8_t *wp = blk->wp + (size_t)v0 * CQ_LANES * 4;
    uint8_t flipped[CQ_PIXELS * CQ_PW_MAX_K];
    const CQ_RQ(consts) c = CQ_RQ(setup)(blk->q);
    cq_requant rq[CQ_TILE_V];
    size_t gi, i;
    uint32_t pi, v, j;
    CQ_UNROLL
    for (v = 0; v < nv; v++) {
        const uint32_t l = (v0 + v) * CQ_LANES;
        cq_requant_load(&rq[v], blk->bias + l, blk->scales + l);
    }
    y += (size_t)v0 * CQ_LANES;
    for (gi = 0; gi < groups; gi++, x += np * k, y += np * o) {
        CQ_VEC acc[CQ_PIXELS][CQ_TILE_V], wv[CQ_TILE_V];
        const uint8_t *xg = x;
        /* the group's u bytes: int8 x flipped once a byte, not once a broadcast */
        if (flips) {
            size_t b = 0;
            for (; b + sizeof(CQ_VEC) <= n; b += sizeof(CQ_VEC)) CQ_STORE(flipped + b, CQ_XOR(CQ_LOAD(x + b), fl));
            for (; b < n; b += 4) {
                uint32_t q4;
                memcpy(&q4, x + b, sizeof q4);
                q4 ^= 0x80808080u;
                memcpy(flipped + b, &q4, sizeof q4);
            }
            xg = flipped;
        }
        CQ_UNROLL
        for (pi = 0; pi < np; pi++) CQ_UNROLL
        for (v = 0; v < nv; v++) acc[pi][v] = rq[v].bias;
        for (i = 0; i < k; i += 4) {
            const int8_t *w = wp + i / 4 * row;
            CQ_UNROLL
            for (v = 0; v < nv; v++) wv[v] = CQ_LOAD(w + v * CQ_LANES * 4);
            CQ_UNROLL
            for (pi = 0; pi < np; pi++) {
                int32_t q4;
                CQ_VEC xv;
                memcpy(&q4, xg + pi * k + i, sizeof q4);
                xv = CQ_SET1_EPI32(q4);
                CQ_UNROLL
                for (v = 0; v < nv; v++) acc[pi][v] = CQ_DPBUSD(acc[pi][v], xv, wv[v]);
            }
        }
        if (packed) {
            CQ_VEC r[CQ_PIXELS * CQ_TILE_V];
            CQ_UNROLL
            for (pi = 0; pi < np; pi++) CQ_UNROLL
            for (v = 0; v < nv; v++) r[pi * nv + v] = cq_round(acc[pi][v], &rq[v], &c);
            CQ_UNROLL
            for (j = 0; j < np * nv; j += 4) cq_store4(y + j * CQ_LANES, r[j], r[j + 1], r[j + 2], r[j + 3], &c);
        } else {
            CQ_UNROLL
            for (pi = 0; pi < np; pi++) CQ_UNROLL
            for (v = 0; v < nv; v++)
                cq_store_rounded(y + pi * o + v * CQ_LANES, cq_round(acc[pi][v], &rq[v], &c), CQ_LANES, &c);
        }
    }
}

typedef void cq_pw_fn(uint8_t *y, const uint8_t *x, size_t groups, size_t o, const ecnn_conv_q_u8_block *blk,
                      uint32_t v0);
#define CQ_PW_FN(NV, PACKED, NAME)                                                                                     \
    static NOINLINE void NAME(uint8_t *y, const uint8_t *x, size_t groups, size_t o, const ecnn_conv_q_u8_block *blk,  \
                              uint32_t v0)                                                                             \
    {                                                                                                                  \
        cq_pw_run(y, x, groups, o, blk, v0, NV, PACKED);                                                               \
    }
/* [nv - 1][packed] */
CQ_PW_FN(1, 0, cq_pw_1)
CQ_PW_FN(1, 1, cq_pw_1_packed)
#if CQ_TILE_V == 4 && CQ_ACC == 16
CQ_PW_FN(2, 0, cq_pw_2)
CQ_PW_FN(2, 1, cq_pw_2_packed)
CQ_PW_FN(3, 0, cq_pw_3)
CQ_PW_FN(3, 1, cq_pw_3_packed)
CQ_PW_FN(4, 0, cq_pw_4)
CQ_PW_FN(4, 1, cq_pw_4_packed)
static cq_pw_fn *const cq_pw_runs[CQ_TILE_V][2] = {
    {cq_pw_1, cq_pw_1_packed}, {cq_pw_2, cq_pw_2_packed}, {cq_pw_3, cq_pw_3_packed}, {cq_pw_4, cq_pw_4_packed}};
#else
CQ_PW_FN(2, 0, cq_pw_2)
CQ_PW_FN(2, 1, cq_pw_2_packed)
static cq_pw_fn *const cq_pw_runs[CQ_TILE_V][2] = {{cq_pw_1, cq_pw_1_packed}, {cq_pw_2, cq_pw_2_packed}};
#endif

/* Pixels [first, first + npix) of a dense pointwise run through conv_u8's tiles, vectors v0 ..
 * v0 + nv - 1. */
static void cq_pw_listed(uint8_t *y, const uint8_t *x, size_t first, size_t npix, size_t o,
                         const ecnn_conv_q_u8_block *blk, uint32_t v0, uint32_t nv)
{
    const uint32_t most = cq_most_pixels(nv);
    size_t firsts[CQ_PIXELS], xstrides[CQ_PIXELS] = {0};
    const uint8_t *xs[CQ_PIXELS];
    cq_args a;
    uint32_t i, np;
    cq_args_init(&a, y, firsts, xs, xstrides, blk);
    for (; npix > 0; npix -= np, first += np) {
        np = npix < most ? (uint32_t)npix : most;
        for (i = 0; i < np; i++) {
            xs[i] = x + (first + i) * blk->k;
            firsts[i] = (first + i) * o;
        }
        cq_tiles[np - 1][nv - 1](&a, 0, v0);
    }
}

ecnn_conv_q_pw_u8_kernel CQ_PW;
void CQ_PW(uint8_t *y, const uint8_t *x, size_t npix, uint32_t o, const ecnn_conv_q_u8_block *blk)
{
    const uint32_t vectors = (blk->count + CQ_LANES - 1) / CQ_LANES, whole = blk->count / CQ_LANES;
    const int packed = o == blk->count && whole == vectors && whole <= CQ_TILE_V;
    /* the runs read whole 4-byte groups of k, up to a level's stack copy */
    const uint32_t runs = blk->k % 4 == 0 && blk->k <= (packed ? CQ_PW_MAX_K : CQ_PW_UNPACKED_K) ? whole : 0;
    uint32_t v0, nv;
    /* the whole vectors as runs of pixel groups, their last pixels through conv_u8's tiles */
    for (v0 = 0; v0 < runs; v0 += nv) {
        size_t groups, done;
        nv = runs - v0 < CQ_TILE_V ? runs - v0 : CQ_TILE_V;
        groups = npix / cq_most_pixels(nv);
        done = groups * cq_most_pixels(nv); /* the pixels the runs cover */
        cq_pw_runs[nv - 1][packed](y, x, groups, o, blk, v0);
        cq_pw_listed(y, x, done, npix - done, o, blk, v0, nv);
    }
    /* the other vectors (all of them when there are no runs) through conv_u8's tiles */
    for (v0 = runs; v0 < vectors; v0 += nv) {
        nv = vectors - v0 < CQ_TILE_V ? vectors - v0 : CQ_TILE_V;
        cq_pw_listed(y, x, 0, npix, o, blk, v0, nv);
    }
}

/* 16 channels x 4 k at a time: the 4 rows' 16 bytes interleaved by two rounds of unpacks into
 * the [channel][4 k] quads of 4 x 16 bytes; c sum w by vpdpbusd of c's bytes over each quad
 * vector (4 channels' sums). Rows past k and channels past count load as 0. */
ecnn_conv_q_pack_u8_kernel CQ_PACK;
void CQ_PACK(int8_t *wp, int32_t *terms, const int8_t *w, uint32_t k, uint32_t o, uint32_t oc, uint32_t count,
             uint8_t c)
{
    const uint32_t c16 = (count + 15) / 16 * 16;
    const __m128i cv = _mm_set1_epi8((char)c);
    uint32_t g, i, j;
    for (g = 0; g < c16; g += 16) {
        __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
        for (i = 0; i < k; i += 4) {
            __m128i r[4], a, b, cc, d, q0, q1, q2, q3;
            int8_t *dst = wp + (size_t)i * c16 + (size_t)g * 4;
            for (j = 0; j < 4; j++)
                r[j] = i + j < k ? cq_load16(w + (size_t)(i + j) * o + oc + g, count - g) : _mm_setzero_si128();
            a = _mm_unpacklo_epi8(r[0], r[1]);
            b = _mm_unpackhi_epi8(r[0], r[1]);
            cc = _mm_unpacklo_epi8(r[2], r[3]);
            d = _mm_unpackhi_epi8(r[2], r[3]);
            q0 = _mm_unpacklo_epi16(a, cc); /* channels 0..3, each its 4 k */
            q1 = _mm_unpackhi_epi16(a, cc);
            q2 = _mm_unpacklo_epi16(b, d);
            q3 = _mm_unpackhi_epi16(b, d);
            _mm_storeu_si128((__m128i *)dst, q0);
            _mm_storeu_si128((__m128i *)(dst + 16), q1);
            _mm_storeu_si128((__m128i *)(dst + 32), q2);
            _mm_storeu_si128((__m128i *)(dst + 48), q3);
            s0 = cq_dot128(s0, cv, q0);
            s1 = cq_dot128(s1, cv, q1);
            s2 = cq_dot128(s2, cv, q2);
            s3 = cq_dot128(s3, cv, q3);
        }
        _mm_storeu_si128((__m128i *)(terms + g), s0);
        _mm_storeu_si128((__m128i *)(terms + g + 4), s1);
        _mm_storeu_si128((__m128i *)(terms + g + 8), s2);
        _mm_storeu_si128((__m128i *)(terms + g + 12), s3);
    }
}

#endif /* ECNN_KERNELS_X86_CONV_Q_U8_VNNI_H */

/* FULLY_CONNECTED_G4's kernel over FC_PANEL16 weights (kernels.h), written once for the AVX2
 * (ymm) and AVX-512 (zmm) kernels: ecnn_fully_connected_g4_f32_ref's arithmetic with each output
 * of a panel in its own lane. For a group of four k and one sample, every vector of outputs
 * takes the same steps as the reference: product, product added to the group (vmulps and
 * vaddps, never fused), group added to the accumulator, which starts at the bias. Outputs are
 * therefore the reference's bit for bit, whatever the tile.
 *
 * Batch 1 streams G4_ROW_P panels side by side (independent accumulator chains; each panel a
 * sequential stream the hardware prefetcher follows: a software prefetch 512 bytes ahead made
 * the reference's 10000 x 512 layer up to 1.9x slower on a Zen 5). Larger batches go in tiles
 * of G4_TILE_S samples x G4_TILE_V vectors of outputs, whose weights, loaded once per group,
 * meet every sample of the tile; K is cut into blocks of G4_KBLOCK (a multiple of 4: groups
 * never straddle two blocks) whose weights stay in L1 while every sample tile uses them, the
 * partial sums waiting in y between blocks (a float store and reload is exact, so the order is
 * unchanged).
 *
 * The includer defines VF_BITS (vec_f32.h), G4_KERNEL (the kernel's name), G4_TILE_V and
 * optionally G4_TILE_S, includes this file, then defines g4_load_part and
 * g4_store_part (lane-masked loads and stores differ by more than a name between the widths). */
#ifndef ECNN_KERNELS_X86_FC_G4_F32_H
#define ECNN_KERNELS_X86_FC_G4_F32_H

#include "kernels/x86/vec_f32.h"

#define G4_VECS (ECNN_PANEL_F32 / VF_LANES) /* vectors per row of a panel */
#define G4_KBLOCK 256u                      /* k per block: 256 x 16 floats = 16 KB of weights */
/* A tile at batch > 1: G4_TILE_S samples x G4_TILE_V vectors (the includer's). On a Zen 5, batch
 * 64 of a 640 x 128 layer: AVX2 8 x 1 (8 accumulators, a group's 4 weight vectors and the
 * temporaries fit the 16 registers) 51 GMAC/s, 4 x 2 44; AVX-512 8 x 2 (two panels: each
 * broadcast input meets two weight vectors) 131 GMAC/s, 8 x 1 105. The AVX2 level runs on
 * Zen 1-3 and Intel AVX2 CPUs (Zen 4 and 5 take AVX-512), and on a Zen 1 (EPYC, family 23
 * model 1) AVX2's best tile is 1 x 4 instead: x86/avx2/fc_g4_f32.c. A row narrower than
 * G4_TILE_V vectors ends in a tile of 2 vectors, then 1. */
#ifndef G4_TILE_S
#define G4_TILE_S 8u
#endif
/* Panels side by side at batch 1 (there the weights' stream from L2 sets the pace: 2 panels
 * were 10-25 % slower with AVX2, the same with AVX-512). */
#define G4_ROW_P 4u
#define G4_UNROLL _Pragma("GCC unroll 16")

/* The first `lanes` (1..VF_LANES) floats at p, the other lanes 0; stored back. */
static ALWAYS_INLINE VF g4_load_part(const float *p, uint32_t lanes);
static ALWAYS_INLINE void g4_store_part(float *p, VF v, uint32_t lanes);

/* Valid lanes of vector v of a row `width` outputs wide (0 when it lies past them). */
static ALWAYS_INLINE uint32_t g4_lanes(uint32_t width, uint32_t v)
{
    return width <= v * VF_LANES ? 0 : width - v * VF_LANES < VF_LANES ? width - v * VF_LANES : VF_LANES;
}

/* One group of `terms` (4, 2 or 1: the reference's group, pair or single) k for ts samples x
 * nv vectors: xs[s] points at sample s's first k of the group, w at the group's first weight
 * row of the first panel, the next panel `panel` floats further. */
static ALWAYS_INLINE void g4_group(VF *acc, const float *const *xs, const float *w, size_t panel, const uint32_t ts,
                                   const uint32_t nv, const uint32_t terms)
{
    uint32_t s, v, i;
    G4_UNROLL
    for (s = 0; s < ts; s++) {
        G4_UNROLL
        for (v = 0; v < nv; v++) {
            const float *wv = w + (size_t)(v / G4_VECS) * panel + (v % G4_VECS) * VF_LANES;
            VF group = VF_MUL(VF_BCAST(xs[s]), VF_LOADU(wv));
            G4_UNROLL
            for (i = 1; i < terms; i++)
                group = VF_ADD(group, VF_MUL(VF_BCAST(xs[s] + i), VF_LOADU(wv + i * ECNN_PANEL_F32)));
            acc[s * nv + v] = VF_ADD(group, acc[s * nv + v]);
        }
    }
}

/* ts samples (the first ns stored; the others read sample 0) x nv vectors of outputs (whole
 * panels, or one vector of a panel) over the block's kc k, `width` outputs of them stored. y
 * points at (sample 0, the first output), x at (sample 0, the block's first k), w at the first
 * vector's first weight row of the block. first: the accumulators start at the bias (else at
 * y's partial sums). ts and nv are constants in every copy. */
static ALWAYS_INLINE void g4_tile(float *y, const float *x, const float *w, const float *bias, uint32_t k, uint32_t o,
                                  uint32_t kc, const uint32_t ts, const uint32_t nv, uint32_t ns, uint32_t width,
                                  int first)
{
    const size_t panel = (size_t)ECNN_PANEL_F32 * k;
    const float *xs[8], *xg[8];
    VF acc[8 * 4];
    uint32_t s, v, i;
    G4_UNROLL
    for (s = 0; s < ts; s++) {
        const uint32_t row = s < ns ? s : 0; /* a missing row reads sample 0's */
        const float *from = first ? bias : y + (size_t)row * o;
        xs[s] = x + (size_t)row * k;
        G4_UNROLL
        for (v = 0; v < nv; v++) {
            const uint32_t lanes = g4_lanes(width, v);
            acc[s * nv + v] = lanes && from ? g4_load_part(from + v * VF_LANES, lanes) : VF_ZERO();
        }
    }
    for (i = 0; i + 4 <= kc; i += 4) {
        G4_UNROLL
        for (s = 0; s < ts; s++) xg[s] = xs[s] + i;
        g4_group(acc, xg, w + (size_t)i * ECNN_PANEL_F32, panel, ts, nv, 4);
    }
    if (kc - i >= 2) { /* K's tail (only the last block has one): a pair, then a single */
        G4_UNROLL
        for (s = 0; s < ts; s++) xg[s] = xs[s] + i;
        g4_group(acc, xg, w + (size_t)i * ECNN_PANEL_F32, panel, ts, nv, 2);
        i += 2;
    }
    if (i < kc) {
        G4_UNROLL
        for (s = 0; s < ts; s++) xg[s] = xs[s] + i;
        g4_group(acc, xg, w + (size_t)i * ECNN_PANEL_F32, panel, ts, nv, 1);
    }
    G4_UNROLL
    for (s = 0; s < ts; s++) {
        G4_UNROLL
        for (v = 0; v < nv; v++) {
            const uint32_t lanes = g4_lanes(width, v);
            if (s < ns && lanes) g4_store_part(y + (size_t)s * o + v * VF_LANES, acc[s * nv + v], lanes);
        }
    }
}

/* The samples [s0, m1) of one K block x nv vectors of outputs from output c (`width` of them
 * stored; y, w and bias point at c): tiles of G4_TILE_S, the last of 1, 2, 4 or G4_TILE_S (a
 * copy of g4_tile per sample count; a tile of ns samples takes the next copy up). */
static ALWAYS_INLINE void g4_samples(float *y, const float *x, const float *w, const float *bias, uint32_t k,
                                     uint32_t o, uint32_t kc, uint32_t s0, uint32_t m1, const uint32_t nv,
                                     uint32_t width, int first)
{
    uint32_t s;
    for (s = s0; s < m1; s += G4_TILE_S) {
        const uint32_t ns = m1 - s < G4_TILE_S ? m1 - s : G4_TILE_S;
        float *yt = y + (size_t)s * o;
        const float *xt = x + (size_t)s * k;
        if (G4_TILE_S == 1 || ns == 1)
            g4_tile(yt, xt, w, bias, k, o, kc, 1, nv, ns, width, first);
        else if (ns == 2)
            g4_tile(yt, xt, w, bias, k, o, kc, 2, nv, ns, width, first);
        else if (ns <= 4)
            g4_tile(yt, xt, w, bias, k, o, kc, 4, nv, ns, width, first);
        else
            g4_tile(yt, xt, w, bias, k, o, kc, G4_TILE_S, nv, ns, width, first);
    }
}

void G4_KERNEL(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k, uint32_t o,
               const ecnn_tile *t, const ecnn_act_params *act)
{
    /* The tile's samples [m0, m1) and panels [p0, p1) (o0: a multiple of 16). */
    const uint32_t p1 = (t->o1 + ECNN_PANEL_F32 - 1) / ECNN_PANEL_F32;
    const uint32_t kblock = t->m1 - t->m0 <= G4_TILE_S ? k : G4_KBLOCK;
    uint32_t p = t->o0 / ECNN_PANEL_F32, kb, s;
    size_t i;
    (void)n;
    if (t->m1 - t->m0 == 1) { /* batch 1: G4_ROW_P panels side by side, then one at a time */
        const size_t row = (size_t)t->m0 * o;
        for (; p + G4_ROW_P <= p1 && (p + G4_ROW_P) * ECNN_PANEL_F32 <= t->o1; p += G4_ROW_P)
            g4_tile(y + row + p * ECNN_PANEL_F32, x + (size_t)t->m0 * k, w + (size_t)p * ECNN_PANEL_F32 * k,
                    b ? b + p * ECNN_PANEL_F32 : NULL, k, o, k, 1, G4_ROW_P * G4_VECS, 1, G4_ROW_P * ECNN_PANEL_F32, 1);
    }
    for (kb = 0; kb < k; kb += kblock) {
        const uint32_t kc = k - kb < kblock ? k - kb : kblock;
        uint32_t c, nv;
        for (c = p * ECNN_PANEL_F32; c < t->o1; c += nv * VF_LANES) { /* G4_TILE_V vectors, 2 or the last one */
            const uint32_t room = t->o1 - c;
            const float *wc = w + ((size_t)(c / ECNN_PANEL_F32) * k + kb) * ECNN_PANEL_F32 + c % ECNN_PANEL_F32;
            const float *bc = b ? b + c : NULL;
            nv = room > (G4_TILE_V - 1) * VF_LANES ? G4_TILE_V : G4_TILE_V > 2 && room > VF_LANES ? 2 : 1;
            if (nv == G4_TILE_V)
                g4_samples(y + c, x + kb, wc, bc, k, o, kc, t->m0, t->m1, G4_TILE_V, room, kb == 0);
            else if (G4_TILE_V > 2 && nv == 2)
                g4_samples(y + c, x + kb, wc, bc, k, o, kc, t->m0, t->m1, 2, room, kb == 0);
            else
                g4_samples(y + c, x + kb, wc, bc, k, o, kc, t->m0, t->m1, 1, room, kb == 0);
        }
    }
    if (act->act != ECNN_ACT_NONE) /* Relu or Clip over the tile's outputs */
        for (s = t->m0; s < t->m1; s++)
            for (i = (size_t)s * o + t->o0; i < (size_t)s * o + t->o1; i++) y[i] = ecnn_apply_kernel_act(y[i], act);
}

#endif /* ECNN_KERNELS_X86_FC_G4_F32_H */

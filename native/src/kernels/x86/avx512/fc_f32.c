/* AVX-512 fully connected float kernel over FC_PANEL16 weights (kernels.h). One zmm holds a row
 * of a panel (16 outputs of one k). Each output is one chain of ecnn_mac over k ascending (a
 * vfmadd: every AVX-512 CPU has FMA), then the bias, then the activation: the reference's order,
 * so the result is the reference's bit for bit. The speed comes from running many chains side
 * by side and from loading each weight and input as few times as possible:
 * - batch 1: FC_ROW_P panels side by side (a Zen 5 vfmadd has 4 cycles of latency and two issue
 *   per cycle: 8 independent chains keep it busy). Each panel is one sequential stream, which
 *   the hardware prefetcher follows: a software prefetch 256 / 512 bytes ahead made the FC
 *   autoencoder (1 MB of weights) 0-3 % / 10-15 % and the reference's 20 MB layer 0-10 % /
 *   25-55 % slower;
 * - up to FC_TILE_S samples: tiles of those samples x FC_TILE_P panels (each broadcast input
 *   meets two weight rows, each weight row every sample: 16 accumulators) over the whole K;
 * - more samples: K cut into blocks whose weights stay in L1 while every sample tile uses them,
 *   the partial sums waiting in y (a float store and reload is exact). The blocks of consecutive
 *   panels lie 64 * K bytes apart, out of the hardware prefetcher's sight, so the tiles of one
 *   block prefetch the next block into L2, a slice each (as the AVX2 kernel; without it the
 *   reference's layer at batch 64 was 1.1-2x slower). Up to FC_TILE_S samples the panels are
 *   streamed whole, and prefetching the next ones only got in the way (batch 8: 1.4x slower).
 * Relu and Clip are applied as the tile is stored. */
#include "kernels/x86/x86.h"
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx512;

#define FC_TILE_S 8u   /* samples per tile at batch > 1 */
#define FC_TILE_P 2u   /* panels per tile at batch > 1 */
#define FC_ROW_P 8u    /* panels side by side at batch 1 */
#define FC_KBLOCK 256u /* k per block at batch > FC_TILE_S: 2 panels x 256 x 64 bytes = 32 KB */
#define FC_UNROLL _Pragma("GCC unroll 16")

/* The output lanes of panel p of a run `width` outputs wide (0 when it lies past them). */
static ALWAYS_INLINE __mmask16 fc_lanes(uint32_t width, uint32_t p)
{
    const uint32_t rest = width <= p * 16 ? 0 : width - p * 16;
    return (__mmask16)(rest >= 16 ? 0xffffu : (1u << rest) - 1u);
}

/* One block of kc k for ts samples (the first ns stored; the others read sample 0) x np panels.
 * y points at (sample 0, the first panel's first output), x at (sample 0, the block's first k),
 * w at the first panel's first weight row of the block, bias at the first panel's (or NULL);
 * width outputs from y on are the run's. first: the sums start at 0 (else at y's partial sums);
 * last: the bias and a Relu / Clip are applied on the way out. Lines [0, ahead_lines) of each
 * panel's weights from `ahead` (the next block) are prefetched into L2, one per panel and k. ts
 * and np are constants in every copy. */
static ALWAYS_INLINE void fc_tile(float *y, const float *x, const float *w, const float *bias, uint32_t k, uint32_t o,
                                  uint32_t kc, const uint32_t ts, const uint32_t np, uint32_t ns, uint32_t width,
                                  int first, int last, const ecnn_act_params *act, const float *ahead,
                                  uint32_t ahead_lines)
{
    const size_t panel = (size_t)16 * k;
    const float *xs[FC_TILE_S];
    VF acc[FC_TILE_S * FC_TILE_P > FC_ROW_P ? FC_TILE_S * FC_TILE_P : FC_ROW_P], wv[FC_ROW_P];
    uint32_t s, p, i;
    FC_UNROLL
    for (s = 0; s < ts; s++) {
        const uint32_t row = s < ns ? s : 0;
        xs[s] = x + (size_t)row * k;
        FC_UNROLL
        for (p = 0; p < np; p++)
            acc[s * np + p] =
                first ? VF_ZERO() : _mm512_maskz_loadu_ps(fc_lanes(width, p), y + (size_t)row * o + p * 16);
    }
    for (i = 0; i < kc; i++) {
        if (i < ahead_lines) {
            FC_UNROLL
            for (p = 0; p < np; p++) _mm_prefetch((const char *)(ahead + p * panel + (size_t)i * 16), _MM_HINT_T1);
        }
        FC_UNROLL
        for (p = 0; p < np; p++) {
            wv[p] = VF_LOADU(w + p * panel + (size_t)i * 16);
        }
        FC_UNROLL
        for (s = 0; s < ts; s++) {
            const VF xb = VF_BCAST(xs[s] + i);
            FC_UNROLL
            for (p = 0; p < np; p++) acc[s * np + p] = VF_MAC(acc[s * np + p], xb, wv[p]);
        }
    }
    FC_UNROLL
    for (s = 0; s < ts; s++) {
        FC_UNROLL
        for (p = 0; p < np; p++) {
            const __mmask16 lanes = fc_lanes(width, p);
            VF v = acc[s * np + p];
            if (s >= ns || !lanes) continue;
            if (last) {
                if (bias) v = VF_ADD(v, _mm512_maskz_loadu_ps(lanes, bias + p * 16));
                /* as ecnn_apply_act: max / min return their second operand for NaN and equal zeros */
                if (act->act == ECNN_ACT_RELU) v = VF_MAX(v, VF_ZERO());
                if (act->act == ECNN_ACT_CLIP) v = VF_MIN(VF_SET1(act->act_p1), VF_MAX(VF_SET1(act->act_p0), v));
            }
            _mm512_mask_storeu_ps(y + (size_t)s * o + p * 16, lanes, v);
        }
    }
}

/* The samples [m0, m1) of one block x np panels: tiles of FC_TILE_S, the last of 1, 2, 4 or
 * FC_TILE_S (a tile of ns samples takes the next copy up). Tile t prefetches its slice of the
 * next block's ahead_lines lines per panel. */
static ALWAYS_INLINE void fc_samples(float *y, const float *x, const float *w, const float *bias, uint32_t k,
                                     uint32_t o, uint32_t kc, uint32_t m0, uint32_t m1, const uint32_t np,
                                     uint32_t width, int first, int last, const ecnn_act_params *act,
                                     const float *ahead, uint32_t ahead_lines)
{
    const uint32_t tiles = (m1 - m0 + FC_TILE_S - 1) / FC_TILE_S;
    const uint32_t share = (ahead_lines + tiles - 1) / tiles;
    uint32_t s, t;
    for (t = 0, s = m0; s < m1; t++, s += FC_TILE_S) {
        const uint32_t ns = m1 - s < FC_TILE_S ? m1 - s : FC_TILE_S;
        const uint32_t from = t * share < ahead_lines ? t * share : ahead_lines;
        const uint32_t count = ahead_lines - from < share ? ahead_lines - from : share;
        const float *a = ahead + (size_t)from * 16;
        float *yt = y + (size_t)s * o;
        const float *xt = x + (size_t)s * k;
        if (ns == 1)
            fc_tile(yt, xt, w, bias, k, o, kc, 1, np, ns, width, first, last, act, a, count);
        else if (ns == 2)
            fc_tile(yt, xt, w, bias, k, o, kc, 2, np, ns, width, first, last, act, a, count);
        else if (ns <= 4)
            fc_tile(yt, xt, w, bias, k, o, kc, 4, np, ns, width, first, last, act, a, count);
        else
            fc_tile(yt, xt, w, bias, k, o, kc, FC_TILE_S, np, ns, width, first, last, act, a, count);
    }
}

/* Batch 1 (sample m): the panels [p, p1) in runs of FC_ROW_P, then 4, 2, 1 side by side. */
static void fc_row(float *y, const float *x, const float *w, const float *b, uint32_t k, uint32_t o, uint32_t m,
                   uint32_t p, uint32_t p1, uint32_t o1, const ecnn_act_params *act)
{
    for (; p < p1;) {
        const uint32_t c = p * 16, rest = p1 - p;
        float *yc = y + (size_t)m * o + c;
        const float *xm = x + (size_t)m * k, *wc = w + (size_t)c * k, *bc = b ? b + c : NULL;
        if (rest >= FC_ROW_P) {
            fc_tile(yc, xm, wc, bc, k, o, k, 1, FC_ROW_P, 1, o1 - c, 1, 1, act, NULL, 0);
            p += FC_ROW_P;
        } else if (rest >= 4) {
            fc_tile(yc, xm, wc, bc, k, o, k, 1, 4, 1, o1 - c, 1, 1, act, NULL, 0);
            p += 4;
        } else if (rest >= 2) {
            fc_tile(yc, xm, wc, bc, k, o, k, 1, 2, 1, o1 - c, 1, 1, act, NULL, 0);
            p += 2;
        } else {
            fc_tile(yc, xm, wc, bc, k, o, k, 1, 1, 1, o1 - c, 1, 1, act, NULL, 0);
            p += 1;
        }
    }
}

void ecnn_fc_f32_panel16_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    /* The tile's samples [m0, m1) and panels [p0, p1) (o0: a multiple of 16) */
    const uint32_t p0 = t->o0 / 16, p1 = (t->o1 + 15) / 16;
    const int blocked = t->m1 - t->m0 > FC_TILE_S; /* K blocks, each block prefetching the next */
    const uint32_t kblock = blocked ? FC_KBLOCK : k;
    uint32_t kb, p;
    (void)n;
    if (k == 0) return; /* not produced by the compiler; keeps the loops below simple */
    if (t->m1 - t->m0 == 1)
        fc_row(y, x, w, b, k, o, t->m0, p0, p1, t->o1, act);
    else
        for (kb = 0; kb < k; kb += kblock) {
            const uint32_t kc = k - kb < kblock ? k - kb : kblock;
            const int first = kb == 0, last = kb + kc == k;
            uint32_t np;
            for (p = p0; p < p1; p += np) {
                const uint32_t c = p * 16;
                /* The block after this one: the next panels', or the first panels' next K block. */
                const uint32_t next_p = p + FC_TILE_P < p1 ? p + FC_TILE_P : p0;
                const uint32_t next_kb = p + FC_TILE_P < p1 ? kb : kb + kc;
                const uint32_t next_np = p1 - next_p < FC_TILE_P ? p1 - next_p : FC_TILE_P;
                const uint32_t next_lines = blocked && next_kb < k ? (k - next_kb < kblock ? k - next_kb : kblock) : 0;
                const float *next = w + ((size_t)next_p * k + next_kb) * 16;
                const float *wc = w + ((size_t)p * k + kb) * 16, *bc = b ? b + c : NULL;
                np = p1 - p >= FC_TILE_P ? FC_TILE_P : 1;
                /* a tile prefetches np panels of the next block: none when that block has fewer */
                if (np == FC_TILE_P)
                    fc_samples(y + c, x + kb, wc, bc, k, o, kc, t->m0, t->m1, FC_TILE_P, t->o1 - c, first, last, act,
                               next, next_np == FC_TILE_P ? next_lines : 0);
                else
                    fc_samples(y + c, x + kb, wc, bc, k, o, kc, t->m0, t->m1, 1, t->o1 - c, first, last, act, next,
                               next_lines);
            }
        }
}

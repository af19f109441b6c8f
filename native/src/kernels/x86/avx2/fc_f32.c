/* AVX2 fully connected float kernel over FC_PANEL16 weights (kernels.h).
 *
 * A tile of up to 6 samples x 16 outputs lives in 12 ymm
 * registers; for every k one weight row (16 floats, 2 loads) meets a broadcast x[s, k]
 * per sample. Each term is one ecnn_mac (kernels.h): a vfmadd where the build has FMA, else
 * a multiply and an add, so each output is summed in the reference order and results are
 * bit-identical to ecnn_fully_connected_f32_ref. For batches above one tile, K is cut into
 * blocks whose weights stay in L1 while every sample block uses them; partial sums wait in
 * y between blocks (a float store and reload is exact, so the order is unchanged). While
 * the tiles of one block run, they prefetch the next block's weights into L2, a slice each:
 * the blocks of consecutive panels lie 4 * 16 * K bytes apart, so the hardware prefetcher
 * cannot see the next one coming (batch 64 of the reference 10000x512 layer: ~10 -> ~8 ms).
 * A tile of fewer samples runs on a copy with fewer rows (2, 4 or 6); Relu and Clip are applied
 * as a tile is stored (Zen 5, the FC autoencoder's 128 x 128 layers: batch 8 3.8 -> 2.4 us,
 * batch 64 22.7 -> 15.7 us).
 */
#include "kernels/x86/x86.h"

ecnn_fc_f32_kernel ecnn_fc_f32_panel16_avx2;

#define F32_TILE 6u     /* samples per float tile: 12 accumulators + 2 weights + 1 broadcast */
#define F32_KBLOCK 256u /* k per block: 256 x 16 floats = 16 KB of weights */

/* The first `width` (1..16) floats at p as two vectors, zero filled / stored back. */
static void f32_load16(const float *p, uint32_t width, __m256 *lo, __m256 *hi)
{
    float t[16] = {0};
    if (width < 16) p = memcpy(t, p, width * sizeof(float));
    *lo = _mm256_loadu_ps(p);
    *hi = _mm256_loadu_ps(p + 8);
}
static void f32_store16(float *p, uint32_t width, __m256 lo, __m256 hi)
{
    float t[16];
    if (width == 16) {
        _mm256_storeu_ps(p, lo);
        _mm256_storeu_ps(p + 8, hi);
        return;
    }
    _mm256_storeu_ps(t, lo);
    _mm256_storeu_ps(t + 8, hi);
    memcpy(p, t, width * sizeof(float));
}

/* Relu or Clip on 16 outputs, as ecnn_apply_act: max / min return their second operand for NaN
 * and for equal zeros. */
static ALWAYS_INLINE void f32_relu_clip(__m256 *lo, __m256 *hi, const ecnn_act_params *act)
{
    if (act->act == ECNN_ACT_RELU) {
        *lo = _mm256_max_ps(*lo, _mm256_setzero_ps());
        *hi = _mm256_max_ps(*hi, _mm256_setzero_ps());
    } else if (act->act == ECNN_ACT_CLIP) {
        const __m256 min = _mm256_set1_ps(act->act_p0), max = _mm256_set1_ps(act->act_p1);
        *lo = _mm256_min_ps(max, _mm256_max_ps(min, *lo));
        *hi = _mm256_min_ps(max, _mm256_max_ps(min, *hi));
    }
}

/* One tile: `rows` (a constant: 2, 4 or F32_TILE) samples x 16 outputs over k in [0, kc) of this
 * block, written out register by register (arrays of accumulators end up on the stack). x
 * points at sample 0, element kb; w at the block's first weight row. A tile of ns < rows
 * samples reads sample 0 in place of the missing rows and stores only its ns rows. On the way
 * it prefetches the 64-byte lines prefetch[0, prefetch_lines) into L2 (one per k). */
#define F32_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)
static ALWAYS_INLINE void f32_tile_rows(float *y, size_t ystride, const float *x, size_t xstride, const float *w,
                                        uint32_t kc, const uint32_t rows, uint32_t ns, int first, int last,
                                        const float *bias, uint32_t width, const ecnn_act_params *act,
                                        const char *prefetch, uint32_t prefetch_lines)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 bias0 = zero, bias1 = zero;
    uint32_t i;
#define F32_DECL(S)                                                                                                    \
    const float *x##S = x + (S < ns ? S : 0) * xstride;                                                                \
    __m256 a##S = zero, b##S = zero;
    F32_ROWS(F32_DECL)
#undef F32_DECL
    if (!first) { /* partial sums of the earlier K blocks (a float store and reload is exact) */
#define F32_LOAD(S)                                                                                                    \
    if (S < ns) f32_load16(y + S * ystride, width, &a##S, &b##S);
        F32_ROWS(F32_LOAD)
#undef F32_LOAD
    }
    for (i = 0; i < kc; i++) {
        const __m256 w0 = _mm256_loadu_ps(w + (size_t)i * 16), w1 = _mm256_loadu_ps(w + (size_t)i * 16 + 8);
        __m256 xb;
        if (i < prefetch_lines) _mm_prefetch(prefetch + (size_t)i * 64, _MM_HINT_T1);
#define F32_STEP(S)                                                                                                    \
    if (S < rows) {                                                                                                    \
        xb = _mm256_broadcast_ss(x##S + i);                                                                            \
        a##S = F32_MAC(a##S, xb, w0);                                                                                  \
        b##S = F32_MAC(b##S, xb, w1);                                                                                  \
    }
        F32_ROWS(F32_STEP)
#undef F32_STEP
    }
    if (last && bias) f32_load16(bias, width, &bias0, &bias1);
#define F32_STORE(S)                                                                                                   \
    if (S < ns) {                                                                                                      \
        if (last && bias) {                                                                                            \
            a##S = _mm256_add_ps(a##S, bias0);                                                                         \
            b##S = _mm256_add_ps(b##S, bias1);                                                                         \
        }                                                                                                              \
        if (last) f32_relu_clip(&a##S, &b##S, act);                                                                    \
        f32_store16(y + S * ystride, width, a##S, b##S);                                                               \
    }
    F32_ROWS(F32_STORE)
#undef F32_STORE
}

/* A tile of ns samples on the copy with the fewest rows that holds them (8 samples: 6 + 2 rows,
 * not 6 + 6). */
static void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w, uint32_t kc, uint32_t ns,
                     int first, int last, const float *bias, uint32_t width, const ecnn_act_params *act,
                     const char *prefetch, uint32_t prefetch_lines)
{
    if (ns <= 2)
        f32_tile_rows(y, ystride, x, xstride, w, kc, 2, ns, first, last, bias, width, act, prefetch, prefetch_lines);
    else if (ns <= 4)
        f32_tile_rows(y, ystride, x, xstride, w, kc, 4, ns, first, last, bias, width, act, prefetch, prefetch_lines);
    else
        f32_tile_rows(y, ystride, x, xstride, w, kc, F32_TILE, ns, first, last, bias, width, act, prefetch,
                      prefetch_lines);
}

/* Batch 1: F32_ROW panels side by side (four sequential weight streams, which the hardware
 * prefetcher follows, and eight independent accumulator chains); bias, Relu and Clip applied at
 * the store. Prefetching each stream 512 bytes ahead in software made the reference's 20 MB
 * layer 1.3-2x slower on a Zen 5. */
#define F32_ROW 4u
static void f32_row(float *y, const float *x, const float *w, const float *b, uint32_t k, const ecnn_act_params *act)
{
    __m256 a0[F32_ROW], a1[F32_ROW];
    uint32_t i, t;
    for (t = 0; t < F32_ROW; t++) a0[t] = a1[t] = _mm256_setzero_ps();
    for (i = 0; i < k; i++) {
        const __m256 xb = _mm256_broadcast_ss(x + i);
        for (t = 0; t < F32_ROW; t++) {
            const float *wt = w + ((size_t)t * k + i) * 16; /* one 64-byte line per panel and k */
            a0[t] = F32_MAC(a0[t], xb, _mm256_loadu_ps(wt));
            a1[t] = F32_MAC(a1[t], xb, _mm256_loadu_ps(wt + 8));
        }
    }
    for (t = 0; t < F32_ROW; t++) {
        if (b) {
            a0[t] = _mm256_add_ps(a0[t], _mm256_loadu_ps(b + t * 16));
            a1[t] = _mm256_add_ps(a1[t], _mm256_loadu_ps(b + t * 16 + 8));
        }
        f32_relu_clip(&a0[t], &a1[t], act);
        _mm256_storeu_ps(y + t * 16, a0[t]);
        _mm256_storeu_ps(y + t * 16 + 8, a1[t]);
    }
}

void ecnn_fc_f32_panel16_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_tile *tile, const ecnn_act_params *act)
{
    /* The tile's samples [m0, m1) and panels [o0 / 16, panels) (o0: a multiple of 16). */
    const uint32_t panels = (tile->o1 + 15) / 16, ns = tile->m1 - tile->m0;
    /* One tile of samples: stream every panel once, front to back (no K blocks). */
    const uint32_t kblock = ns <= F32_TILE ? k : F32_KBLOCK;
    const uint32_t tiles = (ns + F32_TILE - 1) / F32_TILE;
    uint32_t kb, p, s0, first = tile->o0 / 16;
    (void)n;
    if (k == 0) return; /* not produced by the compiler; keeps the loops below simple */
    if (ns == 1)        /* rows of whole panels (no partial sums); the rest below */
        for (; first + F32_ROW <= tile->o1 / 16; first += F32_ROW)
            f32_row(y + (size_t)tile->m0 * o + first * 16, x + (size_t)tile->m0 * k, w + (size_t)first * 16 * k,
                    b ? b + first * 16 : NULL, k, act);
    for (kb = 0; kb < k; kb += kblock) {
        const uint32_t kc = k - kb < kblock ? k - kb : kblock;
        const int begin = kb == 0, last = kb + kc == k;
        for (p = first; p < panels; p++) {
            const uint32_t o0 = p * 16, width = tile->o1 - o0 < 16 ? tile->o1 - o0 : 16;
            const float *wb = w + ((size_t)p * k + kb) * 16;
            const float *bias = b ? b + o0 : NULL;
            /* The block after this one: the next panel's, or the first panel's next K block
             * (one 64-byte line per k), shared out among this block's tiles. */
            const uint32_t next_kb = p + 1 < panels ? kb : kb + kc;
            const uint32_t next_lines = next_kb < k ? (k - next_kb < kblock ? k - next_kb : kblock) : 0;
            const char *next = (const char *)(w + ((size_t)(p + 1 < panels ? p + 1 : first) * k + next_kb) * 16);
            const uint32_t share = (next_lines + tiles - 1) / tiles;
            uint32_t t;
            for (t = 0, s0 = tile->m0; s0 < tile->m1; t++, s0 += F32_TILE) {
                float *yt = y + (size_t)s0 * o + o0;
                const float *xt = x + (size_t)s0 * k + kb;
                const uint32_t from = t * share < next_lines ? t * share : next_lines;
                const uint32_t count = next_lines - from < share ? next_lines - from : share;
                f32_tile(yt, o, xt, k, wb, kc, tile->m1 - s0 < F32_TILE ? tile->m1 - s0 : F32_TILE, begin, last, bias,
                         width, act, next + (size_t)from * 64, count);
            }
        }
    }
}

/* AVX2 versions of the packed fully connected kernels (simd.h picks them when the
 * compiler targets AVX2: -march=native on an AVX2 CPU, or -mavx2).
 *
 * Float (ECNN_LAYOUT_FC_PANEL16): a tile of up to 6 samples x 16 outputs lives in 12 ymm
 * registers; for every k one weight row (16 floats, 2 loads) meets a broadcast x[s, k]
 * per sample. Each term is one ecnn_mac (kernels.h): a vfmadd where the build has FMA, else
 * a multiply and an add, so each output is summed in the reference order and results are
 * bit-identical to ecnn_fully_connected_f32_ref. For batches above one tile, K is cut into
 * blocks whose weights stay in L1 while every sample block uses them; partial sums wait in
 * y between blocks (a float store and reload is exact, so the order is unchanged). While
 * the tiles of one block run, they prefetch the next block's weights into L2, a slice each:
 * the blocks of consecutive panels lie 4 * 16 * K bytes apart, so the hardware prefetcher
 * cannot see the next one coming (batch 64 of the reference 10000x512 layer: ~10 -> ~8 ms).
 *
 * int8 (ECNN_LAYOUT_FC_PANEL8X4, weight zero points 0): one 32-byte weight group holds
 * 8 outputs x 4 k. Its two halves are sign-extended to int16 and multiplied with
 * _mm256_madd_epi16 against (x - zx) as int16 (|x - zx| <= 255, |w| <= 128: each pair
 * sum fits int32): exact integer products, unlike _mm256_maddubs_epi16 which saturates
 * at int16. Sums wrap in int32 lanes; the validator guarantees the true sum fits int32,
 * so the wrapped result is exact. Requantization is the shared scalar function. */
#include "simd.h"

#ifdef ECNN_X86_AVX2_KERNELS
#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define NOINLINE __attribute__((noinline)) /* called from several places: one copy */

#define F32_TILE 6u       /* samples per float tile: 12 accumulators + 2 weights + 1 broadcast */
#define F32_KBLOCK 256u   /* k per block: 256 x 16 floats = 16 KB of weights */

/* acc + x * w on 8 lanes, rounded as ecnn_mac. */
#ifdef ECNN_FUSED_MAC
#define F32_MAC(acc, x, w) _mm256_fmadd_ps(x, w, acc)
#else
#define F32_MAC(acc, x, w) _mm256_add_ps(acc, _mm256_mul_ps(x, w))
#endif

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

/* One tile: F32_TILE samples x 16 outputs over k in [0, kc) of this block, written out
 * register by register (arrays of accumulators end up on the stack). x points at sample 0,
 * element kb; w at the block's first weight row. A tile of ns < F32_TILE samples reads
 * sample 0 in place of the missing rows and stores only its ns rows. On the way it
 * prefetches the 64-byte lines prefetch[0, prefetch_lines) into L2 (one per k). */
#define F32_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)
static void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w, uint32_t kc,
                     uint32_t ns, int first, int last, const float *bias, uint32_t width, const char *prefetch,
                     uint32_t prefetch_lines)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 bias0 = zero, bias1 = zero;
    uint32_t i;
#define F32_DECL(S)                                                                                 \
    const float *x##S = x + (S < ns ? S : 0) * xstride;                                            \
    __m256 a##S = zero, b##S = zero;
    F32_ROWS(F32_DECL)
#undef F32_DECL
    if (!first) { /* partial sums of the earlier K blocks (a float store and reload is exact) */
#define F32_LOAD(S)                                                                                 \
        if (S < ns) f32_load16(y + S * ystride, width, &a##S, &b##S);
        F32_ROWS(F32_LOAD)
#undef F32_LOAD
    }
    for (i = 0; i < kc; i++) {
        const __m256 w0 = _mm256_loadu_ps(w + (size_t)i * 16), w1 = _mm256_loadu_ps(w + (size_t)i * 16 + 8);
        __m256 xb;
        if (i < prefetch_lines) _mm_prefetch(prefetch + (size_t)i * 64, _MM_HINT_T1);
#define F32_STEP(S)                                                                                 \
        xb = _mm256_broadcast_ss(x##S + i);                                                         \
        a##S = F32_MAC(a##S, xb, w0);                                                               \
        b##S = F32_MAC(b##S, xb, w1);
        F32_ROWS(F32_STEP)
#undef F32_STEP
    }
    if (last && bias) f32_load16(bias, width, &bias0, &bias1);
#define F32_STORE(S)                                                                                \
    if (S < ns) {                                                                                   \
        if (last && bias) {                                                                         \
            a##S = _mm256_add_ps(a##S, bias0);                                                      \
            b##S = _mm256_add_ps(b##S, bias1);                                                      \
        }                                                                                           \
        f32_store16(y + S * ystride, width, a##S, b##S);                                            \
    }
    F32_ROWS(F32_STORE)
#undef F32_STORE
}

/* Batch 1: F32_ROW panels side by side (four weight streams in flight, eight independent
 * accumulator chains), each stream prefetched ECNN_PREFETCH bytes ahead: batch 1 is bound
 * by how fast the weights arrive from memory (see w64_row). */
#define F32_ROW 4u
#define ECNN_PREFETCH 512 /* bytes ahead per stream: on a quiet Zen 3, cold int8 batch 1 0.45 ms (1024: 0.53) */
static void f32_row(float *y, const float *x, const float *w, uint32_t k)
{
    __m256 a0[F32_ROW], a1[F32_ROW];
    uint32_t i, t;
    for (t = 0; t < F32_ROW; t++) a0[t] = a1[t] = _mm256_setzero_ps();
    for (i = 0; i < k; i++) {
        const __m256 xb = _mm256_broadcast_ss(x + i);
        for (t = 0; t < F32_ROW; t++) {
            const float *wt = w + ((size_t)t * k + i) * 16; /* one 64-byte line per panel and k */
            _mm_prefetch((const char *)wt + ECNN_PREFETCH, _MM_HINT_T0);
            a0[t] = F32_MAC(a0[t], xb, _mm256_loadu_ps(wt));
            a1[t] = F32_MAC(a1[t], xb, _mm256_loadu_ps(wt + 8));
        }
    }
    for (t = 0; t < F32_ROW; t++) {
        _mm256_storeu_ps(y + t * 16, a0[t]);
        _mm256_storeu_ps(y + t * 16 + 8, a1[t]);
    }
}

void ecnn_fc_f32_panel16_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    const uint32_t panels = (o + 15) / 16;
    /* One tile of samples: stream every panel once, front to back (no K blocks). */
    const uint32_t kblock = n <= F32_TILE ? k : F32_KBLOCK;
    const uint32_t tiles = (n + F32_TILE - 1) / F32_TILE;
    uint32_t kb, p, s0, first = 0;
    size_t i;
    if (k == 0) return; /* not produced by the compiler; keeps the loops below simple */
    if (n == 1) /* rows of whole panels (bias added, no partial sums); the rest below */
        for (; first + F32_ROW <= o / 16; first += F32_ROW) {
            uint32_t l;
            f32_row(y + (size_t)first * 16, x, w + (size_t)first * 16 * k, k);
            if (b)
                for (l = first * 16; l < (first + F32_ROW) * 16; l++) y[l] = y[l] + b[l];
        }
    for (kb = 0; kb < k; kb += kblock) {
        const uint32_t kc = k - kb < kblock ? k - kb : kblock;
        const int begin = kb == 0, last = kb + kc == k;
        for (p = first; p < panels; p++) {
            const uint32_t o0 = p * 16, width = o - o0 < 16 ? o - o0 : 16;
            const float *wb = w + ((size_t)p * k + kb) * 16;
            const float *bias = b ? b + o0 : NULL;
            /* The block after this one: the next panel's, or the first panel's next K block
             * (one 64-byte line per k), shared out among this block's tiles. */
            const uint32_t next_kb = p + 1 < panels ? kb : kb + kc;
            const uint32_t next_lines = next_kb < k ? (k - next_kb < kblock ? k - next_kb : kblock) : 0;
            const char *next = (const char *)(w + ((size_t)(p + 1 < panels ? p + 1 : first) * k + next_kb) * 16);
            const uint32_t share = (next_lines + tiles - 1) / tiles;
            uint32_t t;
            for (t = 0, s0 = 0; s0 < n; t++, s0 += F32_TILE) {
                float *yt = y + (size_t)s0 * o + o0;
                const float *xt = x + (size_t)s0 * k + kb;
                const uint32_t from = t * share < next_lines ? t * share : next_lines;
                const uint32_t count = next_lines - from < share ? next_lines - from : share;
                f32_tile(yt, o, xt, k, wb, kc, n - s0 < F32_TILE ? n - s0 : F32_TILE, begin, last, bias, width,
                         next + (size_t)from * 64, count);
            }
        }
    }
    if (act->act != 0) /* ECNN_ACT_NONE */
        for (i = 0; i < (size_t)n * o; i++) y[i] = ecnn_apply_act(y[i], act);
}

/* The activations other than none and Relu, in place on the np pixels x `lanes` outputs a
 * tile has just stored (yp: the first pixel's, pixels o floats apart): the reference's
 * scalar loop (rare in CNNs, not hot). A float store and reload is exact, so this is
 * ecnn_apply_act(sum + bias). */
static NOINLINE void conv_act_tile(float *yp, size_t o, uint32_t np, uint32_t lanes, const ecnn_act_params *act)
{
    uint32_t j;
    for (j = 0; j < np; j++) ecnn_activation_f32_ref(yp + j * o, yp + j * o, lanes, act);
}

/* Up to CONV_PIX output pixels x 16 output channels (two), or x `count` <= 8 under `mask`
 * (lanes l < count set; !two), of one group: the pixels' windows start pix_step floats apart
 * in x; taps ky in [0, nky) (x rows x_row apart, weight rows w_row apart), kx in [0, nkx)
 * (x_tap apart; weights contiguous), c in [0, cg): the reference order, one F32_MAC per term.
 * Then the bias, Relu (max(v, +0) returns +0 for NaN and -0, as v > 0 ? v : 0) and the
 * stores, one test each per tile; other activations in place afterwards. The masked lanes
 * read no memory and are not stored. np and two are constants at every call (the function
 * is inlined), so the unused accumulators and branches vanish. */
#define CONV_PIX 6u /* 12 accumulators + 2 weight vectors + 1 broadcast: the 16 ymm registers */
#define CONV_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)
static ALWAYS_INLINE void conv_tile(float *yp, const float *xp, size_t pix_step, size_t x_row, size_t x_tap,
                                    const float *wp, size_t w_row, size_t o, uint32_t nky, uint32_t nkx, uint32_t cg,
                                    const float *b, const ecnn_act_params *act, const uint32_t np, const int two,
                                    __m256i mask, uint32_t count)
{
    const __m256 zero = _mm256_setzero_ps();
    uint32_t ky, kx, c;
#define CONV_DECL(J) __m256 a##J = zero, c##J = zero;
    CONV_ROWS(CONV_DECL)
#undef CONV_DECL
    for (ky = 0; ky < nky; ky++) {
        const float *xt = xp + ky * x_row, *wt = wp + ky * w_row;
        for (kx = 0; kx < nkx; kx++, xt += x_tap)
            for (c = 0; c < cg; c++, wt += o) {
                const __m256 wv = two ? _mm256_loadu_ps(wt) : _mm256_maskload_ps(wt, mask);
                const __m256 wu = two ? _mm256_loadu_ps(wt + 8) : wv;
                __m256 xb;
#define CONV_STEP(J)                                                                                \
                if (J < np) {                                                                       \
                    xb = _mm256_broadcast_ss(xt + J * pix_step + c);                                \
                    a##J = F32_MAC(a##J, xb, wv);                                                   \
                    if (two) c##J = F32_MAC(c##J, xb, wu);                                          \
                }
                CONV_ROWS(CONV_STEP)
#undef CONV_STEP
            }
    }
    if (b) {
        const __m256 b0 = two ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, mask);
        const __m256 b1 = two ? _mm256_loadu_ps(b + 8) : b0;
#define CONV_BIAS(J)                                                                                \
        if (J < np) {                                                                               \
            a##J = _mm256_add_ps(a##J, b0);                                                         \
            if (two) c##J = _mm256_add_ps(c##J, b1);                                                \
        }
        CONV_ROWS(CONV_BIAS)
#undef CONV_BIAS
    }
    if (act->act == 1) { /* ECNN_ACT_RELU */
#define CONV_RELU(J)                                                                                \
        if (J < np) {                                                                               \
            a##J = _mm256_max_ps(a##J, zero);                                                       \
            if (two) c##J = _mm256_max_ps(c##J, zero);                                              \
        }
        CONV_ROWS(CONV_RELU)
#undef CONV_RELU
    }
#define CONV_STORE(J)                                                                               \
    if (J < np) {                                                                                   \
        if (two) {                                                                                  \
            _mm256_storeu_ps(yp + J * o, a##J);                                                     \
            _mm256_storeu_ps(yp + J * o + 8, c##J);                                                 \
        } else if (count == 8) {                                                                    \
            _mm256_storeu_ps(yp + J * o, a##J);                                                     \
        } else {                                                                                    \
            _mm256_maskstore_ps(yp + J * o, mask, a##J); /* slow on AMD: only for a last 1..7 */    \
        }                                                                                           \
    }
    CONV_ROWS(CONV_STORE)
#undef CONV_STORE
    if (act->act > 1) conv_act_tile(yp, o, np, two ? 16 : count, act);
}

/* Conv, w in HWIO, any O / group: terms in the reference order (ky, kx, c), one ecnn_mac
 * each: bit-identical to ecnn_conv2d_f32_ref. Output channels in blocks of 16, the last
 * 1..15 as one or two masked blocks of up to 8. CONV_PIX neighbouring pixels whose windows
 * lie wholly inside the row (all kx taps) go together in one conv_tile; others one by one,
 * skipping the taps in the padding as the reference does. */
void ecnn_conv2d_f32_hwio_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n,
                               const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    const size_t o = p->o;
    const size_t pix_step = (size_t)p->stride_w * p->c; /* input floats from one output pixel to the next */
    const size_t x_row = (size_t)p->dilation_h * p->w * p->c, x_tap = (size_t)p->dilation_w * p->c;
    const size_t w_row = (size_t)p->kw * cg * o;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t s, oy, ox, g, o0;
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            const size_t iy0 = (size_t)oy * p->stride_h - p->pad_top; /* used with ky0: in range */
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow;) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * o;
                const int64_t ix_first = (int64_t)ox * p->stride_w - p->pad_left;
                const int64_t span = (int64_t)(p->kw - 1) * p->dilation_w;
                uint32_t kx0 = 0, kx1 = p->kw, np = CONV_PIX;
                const float *xp;
                if (ix_first < 0 || ix_first + span >= p->w)
                    np = 0; /* a padded window: its taps one by one */
                else if (ox + CONV_PIX > p->ow ||
                         ix_first + (int64_t)(CONV_PIX - 1) * p->stride_w + span >= p->w)
                    np = 1;
                if (np == 0) ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                xp = xs + ((iy0 + (size_t)ky0 * p->dilation_h) * p->w + (size_t)ox * p->stride_w +
                           (size_t)kx0 * p->dilation_w - p->pad_left) * p->c;
                for (g = 0; g < p->group; g++)
                    for (o0 = g * og; o0 < (g + 1) * og;) {
                        const float *xg = xp + (size_t)g * cg;
                        const float *wg = w + ((size_t)ky0 * p->kw + kx0) * cg * o + o0;
                        const float *bg = b ? b + o0 : NULL;
                        const uint32_t nky = ky1 - ky0, nkx = kx1 - kx0, rest = (g + 1) * og - o0;
                        if (rest >= 16) {
                            if (np == CONV_PIX)
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act, CONV_PIX, 1, lane, 16);
                            else
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act, 1, 1, lane, 16);
                            o0 += 16;
                        } else {
                            const uint32_t count = rest < 8 ? rest : 8;
                            const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), lane);
                            if (np == CONV_PIX)
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act, CONV_PIX, 0, mask, count);
                            else
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act, 1, 0, mask, count);
                            o0 += count;
                        }
                    }
                ox += np == CONV_PIX ? CONV_PIX : 1;
            }
        }
    }
}

/* ---- int8 ---------------------------------------------------------------------------- */

#define Q_TILE 4u /* samples per int8 tile: 8 accumulators + 4 inputs + 2 weights */

/* 16 consecutive inputs as int16 (x - zx). */
static ALWAYS_INLINE __m256i load_x16(const void *x, int is_u8, __m256i zx)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)x);
    return _mm256_sub_epi16(is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v), zx);
}

#define Q_ROWS(M) M(0) M(1) M(2) M(3) /* the Q_TILE (and W64_TILE) samples of a tile */

/* Requantizes and stores one sample's 8 (or `width`) int32 sums of outputs o0.. */
static NOINLINE void q_store8(void *y, size_t first, __m256i sums, uint32_t width, uint32_t o0, const int32_t *b,
                     const ecnn_qlinear_params *q)
{
    int32_t t[8];
    _mm256_storeu_si256((__m256i *)t, sums);
    ecnn_q_store_outputs(y, first, t, width, o0, b, q);
}

/* One panel (8 outputs) for Q_TILE samples over all of K, accumulators as named registers.
 * A tile of ns < Q_TILE samples reads sample s0 in place of the missing ones and stores
 * only its ns. */
static NOINLINE void q_tile(void *y, const uint8_t *x, const int8_t *wp, const int32_t *b, uint32_t k, uint32_t o, uint32_t s0,
                   uint32_t ns, uint32_t o0, uint32_t width, const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const __m256i zx = _mm256_set1_epi16((int16_t)q->x_zero_point), zero = _mm256_setzero_si256();
    uint32_t i, j;
#define Q_DECL(S)                                                                                    \
    const uint8_t *x##S = x + (size_t)(s0 + (S < ns ? S : 0)) * k;                                  \
    __m256i lo##S = zero, hi##S = zero, xv##S;
    Q_ROWS(Q_DECL)
#undef Q_DECL
    for (i = 0; i < k; i += 16) {
        const uint32_t ng = k - i >= 16 ? 4 : (k - i + 3) / 4; /* weight groups of 4 k in this step */
        if (ng == 4) {
#define Q_LOADX(S) xv##S = load_x16(x##S + i, is_u8, zx);
            Q_ROWS(Q_LOADX)
#undef Q_LOADX
        } else { /* the last < 16 inputs: pad with zx (x - zx = 0); padded weights are 0 too */
            uint8_t t[16];
#define Q_LOADX(S)                                                                                   \
            memset(t, (uint8_t)q->x_zero_point, sizeof t);                                          \
            memcpy(t, x##S + i, k - i);                                                              \
            xv##S = load_x16(t, is_u8, zx);
            Q_ROWS(Q_LOADX)
#undef Q_LOADX
        }
        for (j = 0; j < ng; j++) { /* lo/hi += weight group j (8 outputs x k i+4j..) times its 4 inputs */
            const int8_t *wg = wp + (size_t)(i / 4 + j) * 32;
            const __m256i wlo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wg));
            const __m256i whi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wg + 16)));
            const __m256i idx = _mm256_set1_epi32((int)(2 * j)), idx1 = _mm256_set1_epi32((int)(2 * j + 1));
            const __m256i pick = _mm256_blend_epi32(idx, idx1, 0xAA); /* dwords 2j, 2j+1 repeated */
            __m256i xq;
#define Q_MUL(S)                                                                                     \
            xq = _mm256_permutevar8x32_epi32(xv##S, pick);                                          \
            lo##S = _mm256_add_epi32(lo##S, _mm256_madd_epi16(wlo, xq));                            \
            hi##S = _mm256_add_epi32(hi##S, _mm256_madd_epi16(whi, xq));
            Q_ROWS(Q_MUL)
#undef Q_MUL
        }
    }
    /* lo lanes: o0 (k0k1), o0 (k2k3), o1 .., .. o3; hi likewise for o4..o7. */
#define Q_STORE(S)                                                                                   \
    if (S < ns)                                                                                      \
        q_store8(y, (size_t)(s0 + S) * o + o0, _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo##S, hi##S), 0xD8), width, o0, b, q);
    Q_ROWS(Q_STORE)
#undef Q_STORE
}

/* acc_lo/acc_hi[P] += products of weight group j of panel P (at wp[P]) with the one sample. */
#define Q_PAIR_GROUP(J)                                                                              \
    do {                                                                                             \
        const __m256i xq_ = _mm256_permute4x64_epi64(xv, (J) * 0x55);                                \
        for (t = 0; t < 2; t++) {                                                                    \
            const int8_t *wg_ = wp[t] + (size_t)(g + (J)) * 32;                                      \
            lo[t] = _mm256_add_epi32(lo[t], _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wg_)), xq_)); \
            hi[t] = _mm256_add_epi32(hi[t], _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wg_ + 16))), xq_)); \
        }                                                                                            \
    } while (0)

/* One sample, two panels (16 outputs) at once: each converted input feeds twice the weights
 * and two weight streams are in flight (batch 1 waits on the weights). */
static NOINLINE void q_pair(void *y, const uint8_t *x, const int8_t *w0, const int8_t *w1, const int32_t *b, uint32_t k,
                   uint32_t o0, const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const __m256i zx = _mm256_set1_epi16((int16_t)q->x_zero_point);
    const uint32_t kfull = k / 16 * 16;
    const int8_t *wp[2];
    __m256i lo[2], hi[2], xv;
    uint32_t i, g, t;
    wp[0] = w0;
    wp[1] = w1;
    lo[0] = hi[0] = lo[1] = hi[1] = _mm256_setzero_si256();
    for (i = 0; i < kfull; i += 16) {
        g = i / 4;
        xv = load_x16(x + i, is_u8, zx);
        Q_PAIR_GROUP(0);
        Q_PAIR_GROUP(1);
        Q_PAIR_GROUP(2);
        Q_PAIR_GROUP(3);
    }
    if (kfull < k) { /* the last < 16 inputs, padded with zx as in q_tile */
        const uint32_t ng = (k - kfull + 3) / 4;
        uint8_t tb[16];
        g = kfull / 4;
        memset(tb, (uint8_t)q->x_zero_point, sizeof tb);
        memcpy(tb, x + kfull, k - kfull);
        xv = load_x16(tb, is_u8, zx);
        Q_PAIR_GROUP(0);
        if (ng > 1) Q_PAIR_GROUP(1);
        if (ng > 2) Q_PAIR_GROUP(2);
        if (ng > 3) Q_PAIR_GROUP(3);
    }
    for (t = 0; t < 2; t++) {
        int32_t sums[8];
        _mm256_storeu_si256((__m256i *)sums, _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[t], hi[t]), 0xD8));
        ecnn_q_store_outputs(y, o0 + t * 8, sums, 8, o0 + t * 8, b, q);
    }
}

/* ---- int8, weights in [-64, 64] (ECNN_LAYOUT_FC_PANEL8X4_W64) ------------------------- */

/* Every |w| <= 64, so _mm256_maddubs_epi16 (u8 x s8 pairs summed to int16) of u = x - min
 * (x + 128 for int8 x, x itself for uint8: a u8) is exact: a pair sum is at most
 * 2 * 255 * 64 = 32640 < 32767. One maddubs + one madd with ones turns a 32-byte weight group
 * (8 outputs x 4 k) into the 8 outputs' int32 sums over those 4 k: half the instructions of
 * the sign-extending path. When zx is the dtype minimum (a Relu's output) u = x - zx. Else
 * (the +128 shift) x - zx = u - c with c = zx - min in [1, 255]: maddubs(u, w) - maddubs(c, w)
 * is the pair sum of (x - zx) w, within +-32640 too, so one int16 subtraction per group keeps
 * it exact (c's products are shared by all samples of a tile). Tile: W64_TILE samples x np
 * panels (np 1 or 2). */
#define W64_TILE 4u

/* 4 consecutive inputs of a sample as u8 (x - zx) broadcast to all 8 dword lanes; `flip` is
 * 0x80 bytes for int8 x (x + 128 = x ^ 0x80), zero for uint8. rest < 4 pads with zeros (the
 * padded weights are 0). */
static ALWAYS_INLINE __m256i w64_x4(const uint8_t *x, uint32_t rest, __m256i flip)
{
    int32_t v = 0;
    memcpy(&v, x, rest);
    return _mm256_xor_si256(_mm256_set1_epi32(v), flip);
}

/* One tile: W64_TILE samples x 2 panels (16 outputs; np = 1: one panel) over all of K,
 * accumulators as named registers (a: first panel, c: second). Missing samples read sample
 * s0 and a missing second panel reads the first; neither is stored. */
static NOINLINE void w64_tile(void *y, const uint8_t *x, const int8_t *w, size_t panel_bytes, const int32_t *b, uint32_t k,
                     uint32_t o, uint32_t s0, uint32_t ns, uint32_t np, uint32_t o0, __m256i flip, __m256i cb,
                     const ecnn_qlinear_params *q)
{
    const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const int8_t *w1 = np > 1 ? w + panel_bytes : w;
    const uint32_t width0 = o - o0 < 8 ? o - o0 : 8, width1 = o - o0 < 16 ? o - o0 - width0 : 8;
    uint32_t i;
#define W64_DECL(S)                                                                                  \
    const uint8_t *x##S = x + (size_t)(s0 + (S < ns ? S : 0)) * k;                                  \
    __m256i a##S = zero, c##S = zero;
    Q_ROWS(W64_DECL)
#undef W64_DECL
    /* Two copies of the loop: W64_CW(wv) = c's pair sums with wv (shifted) or unused, and
     * W64_ADJ(p, cp) = u's pair sums p minus them (shifted) or p itself. */
#define W64_LOOP                                                                                     \
    for (i = 0; i < k; i += 4) {                                                                     \
        const uint32_t rest = k - i < 4 ? k - i : 4; /* the last 1..3 inputs: zero padded, as their weights */ \
        const __m256i wv0 = _mm256_loadu_si256((const __m256i *)(w + (size_t)i * 8));                \
        const __m256i wv1 = _mm256_loadu_si256((const __m256i *)(w1 + (size_t)i * 8));               \
        const __m256i cp0 = W64_CW(wv0), cp1 = W64_CW(wv1);                                        \
        __m256i xv;                                                                                  \
        (void)cp0, (void)cp1; /* unused in the plain copy */                                         \
        Q_ROWS(W64_STEP)                                                                             \
    }
#define W64_STEP(S)                                                                                  \
        xv = rest == 4 ? w64_x4(x##S + i, 4, flip) : w64_x4(x##S + i, rest, flip);                  \
        a##S = _mm256_add_epi32(a##S, _mm256_madd_epi16(W64_ADJ(_mm256_maddubs_epi16(xv, wv0), cp0), ones)); \
        c##S = _mm256_add_epi32(c##S, _mm256_madd_epi16(W64_ADJ(_mm256_maddubs_epi16(xv, wv1), cp1), ones));
    if (_mm256_testz_si256(cb, cb)) {
#define W64_CW(WV) zero
#define W64_ADJ(P, CP) (P)
        W64_LOOP
#undef W64_CW
#undef W64_ADJ
    } else {
#define W64_CW(WV) _mm256_maddubs_epi16(cb, WV)
#define W64_ADJ(P, CP) _mm256_sub_epi16(P, CP)
        W64_LOOP
#undef W64_CW
#undef W64_ADJ
    }
#undef W64_LOOP
#undef W64_STEP
#define W64_STORE(S)                                                                                 \
    if (S < ns) {                                                                                    \
        q_store8(y, (size_t)(s0 + S) * o + o0, a##S, width0, o0, b, q);                              \
        if (np > 1) q_store8(y, (size_t)(s0 + S) * o + o0 + 8, c##S, width1, o0 + 8, b, q);         \
    }
    Q_ROWS(W64_STORE)
#undef W64_STORE
}

/* Batch 1 streams the weights once from memory, and one or two sequential streams cannot
 * keep enough reads in flight: W64_ROW panels (8 streams, 64 outputs) go side by side and
 * each stream is prefetched ECNN_PREFETCH bytes ahead (measured on Zen 3: a cold 5 MB read
 * runs at ~8 GB/s as one stream, ~17 GB/s as 8 prefetched streams). */
#define W64_ROW 8u
static void w64_row(void *y, const uint8_t *x, const int8_t *w, size_t panel_bytes, const int32_t *b, uint32_t k,
                    uint32_t o0, __m256i flip, __m256i cb, const ecnn_qlinear_params *q)
{
    const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const uint32_t k8 = k / 8 * 8;
    __m256i acc[W64_ROW];
    uint32_t t, i;
    for (t = 0; t < W64_ROW; t++) acc[t] = _mm256_setzero_si256();
    /* DOT(xv, wv): the 8 outputs' int32 sums of (x - zx) w over one weight group */
#define W64_DOT_PLAIN(XV, WV) _mm256_madd_epi16(_mm256_maddubs_epi16(XV, WV), ones)
#define W64_DOT_SHIFT(XV, WV) _mm256_madd_epi16(_mm256_sub_epi16(_mm256_maddubs_epi16(XV, WV), _mm256_maddubs_epi16(cb, WV)), ones)
#define W64_ROW_LOOP(DOT)                                                                            \
    for (i = 0; i < k8; i += 8) { /* 64 bytes (one cache line) of each panel */                     \
        const __m256i x0 = w64_x4(x + i, 4, flip), x1 = w64_x4(x + i + 4, 4, flip);                  \
        for (t = 0; t < W64_ROW; t++) {                                                              \
            const int8_t *wt = w + t * panel_bytes + (size_t)i * 8;                                  \
            _mm_prefetch((const char *)wt + ECNN_PREFETCH, _MM_HINT_T0);                             \
            acc[t] = _mm256_add_epi32(acc[t], DOT(x0, _mm256_loadu_si256((const __m256i *)wt)));    \
            acc[t] = _mm256_add_epi32(acc[t], DOT(x1, _mm256_loadu_si256((const __m256i *)(wt + 32)))); \
        }                                                                                            \
    }                                                                                                \
    for (; i < k; i += 4) { /* the last 1..7 inputs, zero padded (so are the weights) */            \
        const __m256i xv = w64_x4(x + i, k - i < 4 ? k - i : 4, flip);                               \
        for (t = 0; t < W64_ROW; t++)                                                                \
            acc[t] = _mm256_add_epi32(acc[t], DOT(xv, _mm256_loadu_si256((const __m256i *)(w + t * panel_bytes + (size_t)i * 8)))); \
    }
    if (_mm256_testz_si256(cb, cb)) {
        W64_ROW_LOOP(W64_DOT_PLAIN)
    } else {
        W64_ROW_LOOP(W64_DOT_SHIFT)
    }
    (void)zero;
#undef W64_ROW_LOOP
    for (t = 0; t < W64_ROW; t++) {
        int32_t sums[8];
        _mm256_storeu_si256((__m256i *)sums, acc[t]);
        ecnn_q_store_outputs(y, o0 + t * 8, sums, 8, o0 + t * 8, b, q);
    }
}

static void fc_q_w64(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
                     const ecnn_qlinear_params *q)
{
    const uint32_t panels = (o + 7) / 8, kp = (k + 3) / 4 * 4;
    const size_t panel_bytes = (size_t)8 * kp;
    const __m256i flip = _mm256_set1_epi8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    /* c = zx - min as u8 bytes (0: x - zx is already u; else the +128 shift, see above) */
    const __m256i cb = _mm256_set1_epi8((char)(uint8_t)(q->x_zero_point - ecnn_qtype_min(q->x_type)));
    uint32_t s0, p, first = 0;
    if (n == 1) /* whole rows of full panels; the rest below */
        for (; first + W64_ROW <= o / 8; first += W64_ROW)
            w64_row(y, (const uint8_t *)x, (const int8_t *)w + first * panel_bytes, panel_bytes, b, k, first * 8, flip, cb, q);
    for (s0 = 0; s0 < n; s0 += W64_TILE) {
        const uint32_t ns = n - s0 < W64_TILE ? n - s0 : W64_TILE;
        for (p = first; p < panels; p += 2) {
            const int8_t *wp = (const int8_t *)w + p * panel_bytes;
            const uint32_t np = panels - p >= 2 ? 2 : 1;
            w64_tile(y, (const uint8_t *)x, wp, panel_bytes, b, k, o, s0, ns, np, p * 8, flip, cb, q);
        }
    }
}

void ecnn_fc_q_panel8x4_avx2(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                             uint32_t o, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (o + 7) / 8, kp = (k + 3) / 4 * 4;
    uint32_t s0, p, first = 0;
    if (q->w_layout == ECNN_LAYOUT_FC_PANEL8X4_W64) {
        fc_q_w64(y, x, w, b, n, k, o, q); /* |w| <= 64: the exact maddubs path, any zx */
        return;
    }
    if (n == 1) /* whole pairs of full panels; the rest below */
        for (; first + 2 <= o / 8; first += 2)
            q_pair(y, (const uint8_t *)x, (const int8_t *)w + (size_t)first * 8 * kp,
                   (const int8_t *)w + (size_t)(first + 1) * 8 * kp, b, k, first * 8, q);
    for (s0 = 0; s0 < n; s0 += Q_TILE) {
        const uint32_t ns = n - s0 < Q_TILE ? n - s0 : Q_TILE;
        for (p = first; p < panels; p++) {
            const int8_t *wp = (const int8_t *)w + (size_t)p * 8 * kp;
            const uint32_t o0 = p * 8, width = o - o0 < 8 ? o - o0 : 8;
            q_tile(y, (const uint8_t *)x, wp, b, k, o, s0, ns, o0, width, q);
        }
    }
}
/* Max pooling of float, int8 or uint8 values (type: ECNN_POOL_F32 or an ecnn_qtype), any C:
 * each 64-, 32-, 16-, 4- or 1-byte chunk of an output pixel is the max of its window's
 * inputs in registers (taps walked by pointer steps), stored after every tap of the chunk was
 * read (so in place works as for the portable kernels). Float: _mm256_max_ps(v, m) is
 * v > m ? v : m, the reference's compare (NaN and -0 / +0 ties keep the running max); the
 * lanes beyond a short chunk are not stored. pool_max* are inlined with a constant type: no
 * type test per tap. */
static ALWAYS_INLINE __m256i pool_max32(__m256i m, __m256i v, int type)
{
    if (type == ECNN_POOL_F32) return _mm256_castps_si256(_mm256_max_ps(_mm256_castsi256_ps(v), _mm256_castsi256_ps(m)));
    return type == ECNN_Q_U8 ? _mm256_max_epu8(m, v) : _mm256_max_epi8(m, v);
}
static ALWAYS_INLINE __m128i pool_max16(__m128i m, __m128i v, int type)
{
    if (type == ECNN_POOL_F32) return _mm_castps_si128(_mm_max_ps(_mm_castsi128_ps(v), _mm_castsi128_ps(m)));
    return type == ECNN_Q_U8 ? _mm_max_epu8(m, v) : _mm_max_epi8(m, v);
}

/* The first `bytes` (16, 4 or 1) bytes at p in an xmm register / stored back. */
static ALWAYS_INLINE __m128i pool_load(const uint8_t *p, uint32_t bytes)
{
    int32_t v;
    if (bytes == 16) return _mm_loadu_si128((const __m128i *)p);
    if (bytes == 1) return _mm_cvtsi32_si128(*p);
    memcpy(&v, p, 4);
    return _mm_cvtsi32_si128(v);
}
static ALWAYS_INLINE void pool_store(uint8_t *p, __m128i m, uint32_t bytes)
{
    int32_t v = _mm_cvtsi128_si32(m);
    if (bytes == 16)
        _mm_storeu_si128((__m128i *)p, m);
    else if (bytes == 1)
        *p = (uint8_t)v;
    else
        memcpy(p, &v, 4);
}

/* Bytes [c, c + bytes) of one output pixel (an xmm register or part of one). */
static ALWAYS_INLINE void pool_chunk(uint8_t *yp, const uint8_t *x0, size_t c, size_t step_y, size_t step_x,
                                     uint32_t nky, uint32_t nkx, int type, uint32_t bytes)
{
    const uint8_t *rp = x0 + c;
    __m128i m = pool_load(rp, bytes);
    uint32_t ky, kx;
    for (ky = 0; ky < nky; ky++, rp += step_y) {
        const uint8_t *tp = rp;
        for (kx = 0; kx < nkx; kx++, tp += step_x) m = pool_max16(m, pool_load(tp, bytes), type);
    }
    pool_store(yp + c, m, bytes);
}

static void pool_tail(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x, uint32_t nky,
                      uint32_t nkx, int type);

/* One output pixel: x0 its window's first tap inside x, nky x nky taps step_y / step_x apart;
 * chunks of 64, 32 and 16 bytes, the rest (row % 16 bytes) in pool_tail. */
static ALWAYS_INLINE void pool_pixel(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x,
                                     uint32_t nky, uint32_t nkx, int type)
{
    uint32_t ky, kx;
    size_t c = 0;
    for (; c + 64 <= row; c += 64) { /* two registers: the float C = 16 of a small CNN in one pass */
        const uint8_t *rp = x0 + c;
        __m256i m0 = _mm256_loadu_si256((const __m256i *)rp), m1 = _mm256_loadu_si256((const __m256i *)(rp + 32));
        for (ky = 0; ky < nky; ky++, rp += step_y) {
            const uint8_t *tp = rp;
            for (kx = 0; kx < nkx; kx++, tp += step_x) {
                m0 = pool_max32(m0, _mm256_loadu_si256((const __m256i *)tp), type);
                m1 = pool_max32(m1, _mm256_loadu_si256((const __m256i *)(tp + 32)), type);
            }
        }
        _mm256_storeu_si256((__m256i *)(yp + c), m0);
        _mm256_storeu_si256((__m256i *)(yp + c + 32), m1);
    }
    if (c + 32 <= row) {
        const uint8_t *rp = x0 + c;
        __m256i m = _mm256_loadu_si256((const __m256i *)rp);
        for (ky = 0; ky < nky; ky++, rp += step_y) {
            const uint8_t *tp = rp;
            for (kx = 0; kx < nkx; kx++, tp += step_x) m = pool_max32(m, _mm256_loadu_si256((const __m256i *)tp), type);
        }
        _mm256_storeu_si256((__m256i *)(yp + c), m);
        c += 32;
    }
    if (c + 16 <= row) {
        pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 16);
        c += 16;
    }
    if (c < row) pool_tail(yp, x0, row, step_y, step_x, nky, nkx, type);
}

/* The last row % 16 bytes of pool_pixel's row, one copy for the three types (a type test
 * per tap; channel counts not a multiple of 16 bytes are rare): 4-byte chunks (the last one
 * ending at the row's end), int8 rows under 4 bytes byte by byte. The last chunk may overlap
 * those before it: recomputing a max is harmless, in place too (the only input an in-place
 * output overwrites is its own first tap, and a window's max folded in again as its first
 * tap leaves the result unchanged, bit for bit under the float compare). */
static NOINLINE void pool_tail(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x,
                               uint32_t nky, uint32_t nkx, int type)
{
    size_t c;
    if (row >= 4) {
        for (c = row / 16 * 16; c + 4 < row; c += 4) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 4);
        pool_chunk(yp, x0, row - 4, step_y, step_x, nky, nkx, type, 4);
    } else if (type != ECNN_POOL_F32) { /* int8, C = 1..3 */
        for (c = 0; c < row; c++) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 1);
    }
}

static ALWAYS_INLINE void maxpool2d_avx2_typed(void *y, const void *x, uint32_t n, const ecnn_pool2d_args *p, int type)
{
    const size_t row = (size_t)p->c * (type == ECNN_POOL_F32 ? 4 : 1);
    const size_t step_y = (size_t)p->dilation_h * p->w * row, step_x = (size_t)p->dilation_w * row;
    const int64_t span_x = (int64_t)(p->kw - 1) * p->dilation_w;
    uint32_t s, oy, ox;
    for (s = 0; s < n; s++) {
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * row;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            const uint8_t *xr; /* first tap row of this output row, at ix = 0 */
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            xr = xs + ((size_t)oy * p->stride_h + (size_t)ky0 * p->dilation_h - p->pad_top) * p->w * row;
            for (ox = 0; ox < p->ow; ox++) {
                uint8_t *yp = (uint8_t *)y + (((size_t)s * p->oh + oy) * p->ow + ox) * row;
                const int64_t ix = (int64_t)ox * p->stride_w - p->pad_left;
                uint32_t kx0 = 0, kx1 = p->kw;
                if (ix < 0 || ix + span_x >= p->w) /* padded window: skip the taps outside */
                    ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                pool_pixel(yp, xr + ((size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) * row, row,
                           step_y, step_x, ky1 - ky0, kx1 - kx0, type);
            }
        }
    }
}

void ecnn_maxpool2d_avx2(void *y, const void *x, uint32_t n, const ecnn_pool2d_args *p, int type)
{
    if (type == ECNN_POOL_F32)
        maxpool2d_avx2_typed(y, x, n, p, ECNN_POOL_F32);
    else if (type == ECNN_Q_U8)
        maxpool2d_avx2_typed(y, x, n, p, ECNN_Q_U8);
    else
        maxpool2d_avx2_typed(y, x, n, p, ECNN_Q_I8);
}

void ecnn_conv_q_dot_avx2(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o0, j;
    for (o0 = 0; o0 < c8; o0 += 16) {
        /* 16 outputs (two accumulators) per pass; a last block of 8 uses one */
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        const int two = c8 - o0 >= 16;
        for (j = 0; j < pairs; j++) {
            int32_t xp;
            __m256i xv;
            memcpy(&xp, xk + 2 * j, sizeof xp); /* (x[2j], x[2j+1]) as one int16 pair */
            xv = _mm256_set1_epi32(xp);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(wc + ((size_t)j * c8 + o0) * 2)), xv));
            if (two)
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(wc + ((size_t)j * c8 + o0 + 8) * 2)), xv));
        }
        _mm256_storeu_si256((__m256i *)(acc + o0), a0);
        if (two) _mm256_storeu_si256((__m256i *)(acc + o0 + 8), a1);
    }
}

void ecnn_q_store_scaled_avx2(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                              const int32_t *bias, const ecnn_qlinear_params *q)
{
    const __m256 lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m256 hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    const __m256i zy = _mm256_set1_epi32(q->y_zero_point);
    uint32_t l = 0;
    for (; l + 8 <= count; l += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(acc + l));
        __m256 v;
        __m128i r16;
        if (bias) a = _mm256_add_epi32(a, _mm256_loadu_si256((const __m256i *)(bias + l)));
        v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), _mm256_loadu_ps(scales + l));
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi); /* max then min, as ecnn_requantize */
        a = _mm256_add_epi32(_mm256_cvtps_epi32(v), zy); /* round half to even (default MXCSR), as lrintf */
        r16 = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1)); /* in range: exact */
        r16 = q->y_type == ECNN_Q_U8 ? _mm_packus_epi16(r16, r16) : _mm_packs_epi16(r16, r16);
        _mm_storel_epi64((__m128i *)((uint8_t *)y + first + l), r16);
    }
    for (; l < count; l++) {
        const int32_t v = ecnn_requantize(bias ? acc[l] + bias[l] : acc[l], scales[l], q);
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)v;
        else
            ((int8_t *)y)[first + l] = (int8_t)v;
    }
}
#else
typedef int ecnn_no_avx2; /* ISO C forbids an empty translation unit */
#endif

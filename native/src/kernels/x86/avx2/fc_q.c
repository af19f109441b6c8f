/* AVX2 fully connected int8 kernel over FC_PANEL8X4 weights (kernels_i8.h).
 *
 * Weight zero points are 0. One 32-byte weight group holds
 * 8 outputs x 4 k. Its two halves are sign-extended to int16 and multiplied with
 * _mm256_madd_epi16 against (x - zx) as int16 (|x - zx| <= 255, |w| <= 128: each pair
 * sum fits int32): exact integer products, unlike _mm256_maddubs_epi16 which saturates
 * at int16. Sums wrap in int32 lanes; the validator guarantees the true sum fits int32,
 * so the wrapped result is exact. Each block of 64 outputs has its biases and scales computed
 * once per call; outputs are requantized 8 at a time (x86/fc_q_store.h). */
#include "kernels/x86/fc_q_store.h"

ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avx2;

#define Q_TILE 4u     /* samples per int8 tile: 8 accumulators + 4 inputs + 2 weights */
#define FC_Q_BLOCK 8u /* panels (64 outputs) whose tiles run for every sample before the next */

/* 16 consecutive inputs as int16 (x - zx). */
static ALWAYS_INLINE __m256i load_x16(const void *x, int is_u8, __m256i zx)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)x);
    return _mm256_sub_epi16(is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v), zx);
}

/* The last n (1..15) inputs of a row as load_x16 gives them, without reading past them (a
 * masked load of the whole 4-byte groups, then the 1..3 bytes left). The lanes past n hold
 * -zx: their weights are the panel's zero padding (the loader checks it), so they add 0. */
static ALWAYS_INLINE __m256i load_x16_tail(const uint8_t *x, uint32_t n, int is_u8, __m256i zx)
{
    const __m128i lanes = _mm_setr_epi32(0, 1, 2, 3), whole = _mm_set1_epi32((int)(n / 4));
    __m128i v = _mm_maskload_epi32((const int *)(const void *)x, _mm_cmpgt_epi32(whole, lanes));
    if (n % 4) {
        const uint32_t d = ecnn_load_upto4(x + n / 4 * 4, n % 4);
        v = _mm_blendv_epi8(v, _mm_set1_epi32((int)d), _mm_cmpeq_epi32(whole, lanes));
    }
    return _mm256_sub_epi16(is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v), zx);
}

#define Q_ROWS(M) M(0) M(1) M(2) M(3) /* the Q_TILE (and W64_TILE) samples of a tile */

/* The requantization constants of a block's outputs (ecnn_fc_q_block_constants): `bias` and
 * `scales` point at those of a tile's first output; `rq` the call's (x86/q_requant.h), which a
 * tile copies into registers before its byte stores (they may alias it). */
typedef struct {
    const int32_t *bias;
    const float *scales;
    const rq256_consts *rq;
} block_constants;

/* One panel (8 outputs) for Q_TILE samples over all of K, accumulators as named registers.
 * A tile of ns < Q_TILE samples reads sample s0 in place of the missing ones and stores
 * only its ns. */
static NOINLINE void q_tile(void *y, const uint8_t *x, const int8_t *wp, block_constants bc, uint32_t k, uint32_t o,
                            uint32_t s0, uint32_t ns, uint32_t o0, uint32_t width, const ecnn_qlinear_params *q)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const __m256i zx = _mm256_set1_epi16((int16_t)q->x_zero_point), zero = _mm256_setzero_si256();
    uint32_t i, j;
#define Q_DECL(S)                                                                                                      \
    const uint8_t *x##S = x + (size_t)(s0 + (S < ns ? S : 0)) * k;                                                     \
    __m256i lo##S = zero, hi##S = zero, xv##S;
    Q_ROWS(Q_DECL)
#undef Q_DECL
    for (i = 0; i < k; i += 16) {
        const uint32_t ng = k - i >= 16 ? 4 : (k - i + 3) / 4; /* weight groups of 4 k in this step */
        if (ng == 4) {
#define Q_LOADX(S) xv##S = load_x16(x##S + i, is_u8, zx);
            Q_ROWS(Q_LOADX)
#undef Q_LOADX
        } else { /* the last < 16 inputs */
#define Q_LOADX(S) xv##S = load_x16_tail(x##S + i, k - i, is_u8, zx);
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
#define Q_MUL(S)                                                                                                       \
    xq = _mm256_permutevar8x32_epi32(xv##S, pick);                                                                     \
    lo##S = _mm256_add_epi32(lo##S, _mm256_madd_epi16(wlo, xq));                                                       \
    hi##S = _mm256_add_epi32(hi##S, _mm256_madd_epi16(whi, xq));
            Q_ROWS(Q_MUL)
#undef Q_MUL
        }
    }
    {
        const rq256_consts rq = *bc.rq;
        /* lo lanes: o0 (k0k1), o0 (k2k3), o1 .., .. o3; hi likewise for o4..o7. */
#define Q_STORE(S)                                                                                                     \
    if (S < ns)                                                                                                        \
        ecnn_fc_q_store8((uint8_t *)y + (size_t)(s0 + S) * o + o0,                                                     \
                         _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo##S, hi##S), 0xD8), bc.bias, bc.scales, width,   \
                         &rq);
        Q_ROWS(Q_STORE)
#undef Q_STORE
    }
}

/* acc_lo/acc_hi[P] += products of weight group j of panel P (at wp[P]) with the one sample. */
#define Q_PAIR_GROUP(J)                                                                                                \
    do {                                                                                                               \
        const __m256i xq_ = _mm256_permute4x64_epi64(xv, (J)*0x55);                                                    \
        for (t = 0; t < 2; t++) {                                                                                      \
            const int8_t *wg_ = wp[t] + (size_t)(g + (J)) * 32;                                                        \
            lo[t] = _mm256_add_epi32(                                                                                  \
                lo[t], _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wg_)), xq_));           \
            hi[t] = _mm256_add_epi32(                                                                                  \
                hi[t], _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wg_ + 16))), xq_));    \
        }                                                                                                              \
    } while (0)

/* One sample, two panels (16 outputs) at once: each converted input feeds twice the weights
 * and two weight streams are in flight (batch 1 waits on the weights). */
static NOINLINE void q_pair(void *y, const uint8_t *x, const int8_t *w0, const int8_t *w1, block_constants bc,
                            uint32_t k, const ecnn_qlinear_params *q)
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
    if (kfull < k) { /* the last < 16 inputs */
        const uint32_t ng = (k - kfull + 3) / 4;
        g = kfull / 4;
        xv = load_x16_tail(x + kfull, k - kfull, is_u8, zx);
        Q_PAIR_GROUP(0);
        if (ng > 1) Q_PAIR_GROUP(1);
        if (ng > 2) Q_PAIR_GROUP(2);
        if (ng > 3) Q_PAIR_GROUP(3);
    }
    {
        const rq256_consts rq = *bc.rq;
        for (t = 0; t < 2; t++)
            ecnn_fc_q_store8((uint8_t *)y + t * 8, _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[t], hi[t]), 0xD8),
                             bc.bias + t * 8, bc.scales + t * 8, 8, &rq);
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
    return _mm256_xor_si256(_mm256_set1_epi32((int)ecnn_load_upto4(x, rest)), flip);
}

/* The codes of a tile's ns samples x np panels from their sums, sample s at y + s * o. Out of
 * line: inlined in w64_tile, its code made GCC 12 keep two of the loop's accumulators in memory
 * (reference int8 FC at batch 8 35% slower, Zen 5). */
static NOINLINE void w64_store(uint8_t *y, const __m256i sums[][2], block_constants bc, uint32_t o, uint32_t ns,
                               uint32_t np, uint32_t width0, uint32_t width1)
{
    const rq256_consts rq = *bc.rq;
    uint32_t s;
    for (s = 0; s < ns; s++, y += o) {
        ecnn_fc_q_store8(y, sums[s][0], bc.bias, bc.scales, width0, &rq);
        if (np > 1) ecnn_fc_q_store8(y + 8, sums[s][1], bc.bias + 8, bc.scales + 8, width1, &rq);
    }
}

/* One tile: W64_TILE samples x 2 panels (16 outputs; np = 1: one panel) over all of K,
 * accumulators as named registers (a: first panel, c: second). Missing samples read sample
 * s0 and a missing second panel reads the first; neither is stored. */
static NOINLINE void w64_tile(void *y, const uint8_t *x, const int8_t *w, size_t panel_bytes, block_constants bc,
                              uint32_t k, uint32_t o, uint32_t s0, uint32_t ns, uint32_t np, uint32_t o0, __m256i flip,
                              __m256i cb)
{
    const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const int8_t *w1 = np > 1 ? w + panel_bytes : w;
    const uint32_t width0 = o - o0 < 8 ? o - o0 : 8, width1 = o - o0 < 16 ? o - o0 - width0 : 8;
    uint32_t i;
#define W64_DECL(S)                                                                                                    \
    const uint8_t *x##S = x + (size_t)(s0 + (S < ns ? S : 0)) * k;                                                     \
    __m256i a##S = zero, c##S = zero;
    Q_ROWS(W64_DECL)
#undef W64_DECL
    /* Two copies of the loop: W64_CW(wv) = c's pair sums with wv (shifted) or unused, and
     * W64_ADJ(p, cp) = u's pair sums p minus them (shifted) or p itself. */
#define W64_LOOP                                                                                                       \
    for (i = 0; i < k; i += 4) {                                                                                       \
        const uint32_t rest = k - i < 4 ? k - i : 4; /* the last 1..3 inputs: zero padded, as their weights */         \
        const __m256i wv0 = _mm256_loadu_si256((const __m256i *)(w + (size_t)i * 8));                                  \
        const __m256i wv1 = _mm256_loadu_si256((const __m256i *)(w1 + (size_t)i * 8));                                 \
        const __m256i cp0 = W64_CW(wv0), cp1 = W64_CW(wv1);                                                            \
        __m256i xv;                                                                                                    \
        (void)cp0, (void)cp1; /* unused in the plain copy */                                                           \
        Q_ROWS(W64_STEP)                                                                                               \
    }
#define W64_STEP(S)                                                                                                    \
    xv = rest == 4 ? w64_x4(x##S + i, 4, flip) : w64_x4(x##S + i, rest, flip);                                         \
    a##S = _mm256_add_epi32(a##S, _mm256_madd_epi16(W64_ADJ(_mm256_maddubs_epi16(xv, wv0), cp0), ones));               \
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
    {
        const __m256i sums[W64_TILE][2] = {{a0, c0}, {a1, c1}, {a2, c2}, {a3, c3}};
        w64_store((uint8_t *)y + (size_t)s0 * o + o0, sums, bc, o, ns, np, width0, width1);
    }
}

/* Batch 1 streams the weights once from memory, and one or two sequential streams cannot
 * keep enough reads in flight: W64_ROW panels (8 streams, 64 outputs) go side by side and
 * each stream is prefetched ECNN_PREFETCH bytes ahead (measured on Zen 3: a cold 5 MB read
 * runs at ~8 GB/s as one stream, ~17 GB/s as 8 prefetched streams). A row is one block: its
 * bias and scales come from the block's arrays, and the block loop steps a row at a time. */
#define W64_ROW FC_Q_BLOCK
static void w64_row(void *y, const uint8_t *x, const int8_t *w, size_t panel_bytes, block_constants bc, uint32_t k,
                    __m256i flip, __m256i cb)
{
    const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const uint32_t k8 = k / 8 * 8;
    __m256i acc[W64_ROW];
    uint32_t t, i;
    for (t = 0; t < W64_ROW; t++) acc[t] = _mm256_setzero_si256();
        /* DOT(xv, wv): the 8 outputs' int32 sums of (x - zx) w over one weight group */
#define W64_DOT_PLAIN(XV, WV) _mm256_madd_epi16(_mm256_maddubs_epi16(XV, WV), ones)
#define W64_DOT_SHIFT(XV, WV)                                                                                          \
    _mm256_madd_epi16(_mm256_sub_epi16(_mm256_maddubs_epi16(XV, WV), _mm256_maddubs_epi16(cb, WV)), ones)
#define W64_ROW_LOOP(DOT)                                                                                              \
    for (i = 0; i < k8; i += 8) { /* 64 bytes (one cache line) of each panel */                                        \
        const __m256i x0 = w64_x4(x + i, 4, flip), x1 = w64_x4(x + i + 4, 4, flip);                                    \
        for (t = 0; t < W64_ROW; t++) {                                                                                \
            const int8_t *wt = w + t * panel_bytes + (size_t)i * 8;                                                    \
            _mm_prefetch((const char *)wt + ECNN_PREFETCH, _MM_HINT_T0);                                               \
            acc[t] = _mm256_add_epi32(acc[t], DOT(x0, _mm256_loadu_si256((const __m256i *)wt)));                       \
            acc[t] = _mm256_add_epi32(acc[t], DOT(x1, _mm256_loadu_si256((const __m256i *)(wt + 32))));                \
        }                                                                                                              \
    }                                                                                                                  \
    for (; i < k; i += 4) { /* the last 1..7 inputs, zero padded (so are the weights) */                               \
        const __m256i xv = w64_x4(x + i, k - i < 4 ? k - i : 4, flip);                                                 \
        for (t = 0; t < W64_ROW; t++)                                                                                  \
            acc[t] = _mm256_add_epi32(                                                                                 \
                acc[t], DOT(xv, _mm256_loadu_si256((const __m256i *)(w + t * panel_bytes + (size_t)i * 8))));          \
    }
    if (_mm256_testz_si256(cb, cb)) {
        W64_ROW_LOOP(W64_DOT_PLAIN)
    } else {
        W64_ROW_LOOP(W64_DOT_SHIFT)
    }
    (void)zero;
#undef W64_ROW_LOOP
    {
        const rq256_consts rq = *bc.rq;
        for (t = 0; t < W64_ROW; t++)
            ecnn_fc_q_store8((uint8_t *)y + t * 8, acc[t], bc.bias + t * 8, bc.scales + t * 8, 8, &rq);
    }
}

static void fc_q_w64(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *tile, uint32_t k,
                     uint32_t o, const ecnn_qlinear_params *q)
{
    /* The tile's panels [o0 / 8, panels): whole ones but the last (o1: a multiple of 64, or O). */
    const uint32_t panels = (tile->o1 + 7) / 8, full = tile->o1 / 8, kp = (k + 3) / 4 * 4;
    const size_t panel_bytes = (size_t)8 * kp;
    const __m256i flip = _mm256_set1_epi8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    /* c = zx - min as u8 bytes (0: x - zx is already u; else the +128 shift, see above) */
    const __m256i cb = _mm256_set1_epi8((char)(uint8_t)(q->x_zero_point - ecnn_qtype_min(q->x_type)));
    const rq256_consts rq = rq256_setup(q);
    int32_t bias[FC_Q_BLOCK * 8];
    float scales[FC_Q_BLOCK * 8];
    uint32_t s0, p, pb;
    for (pb = tile->o0 / 8; pb < panels; pb += FC_Q_BLOCK) { /* a block's weights stay in cache for all samples */
        const uint32_t pe = panels - pb < FC_Q_BLOCK ? panels : pb + FC_Q_BLOCK;
        ecnn_fc_q_block_constants(bias, scales, NULL, b, pb * 8, (pe - pb) * 8, o, q);
        if (tile->m1 - tile->m0 == 1 && pb + W64_ROW <= full) { /* one sample, a whole row of full panels */
            const block_constants bc = {bias, scales, &rq};
            w64_row((uint8_t *)y + (size_t)tile->m0 * o + pb * 8, (const uint8_t *)x + (size_t)tile->m0 * k,
                    (const int8_t *)w + pb * panel_bytes, panel_bytes, bc, k, flip, cb);
            continue;
        }
        for (s0 = tile->m0; s0 < tile->m1; s0 += W64_TILE) {
            const uint32_t ns = tile->m1 - s0 < W64_TILE ? tile->m1 - s0 : W64_TILE;
            for (p = pb; p < pe; p += 2) {
                const block_constants bc = {bias + (p - pb) * 8, scales + (p - pb) * 8, &rq};
                w64_tile(y, (const uint8_t *)x, (const int8_t *)w + p * panel_bytes, panel_bytes, bc, k, o, s0, ns,
                         pe - p >= 2 ? 2 : 1, p * 8, flip, cb);
            }
        }
    }
}

void ecnn_fc_q_panel8x4_avx2(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                             uint32_t o, const ecnn_tile *tile, const ecnn_qlinear_params *q)
{
    /* The tile's panels [o0 / 8, panels): whole ones but the last (o1: a multiple of 64, or O). */
    const uint32_t panels = (tile->o1 + 7) / 8, full = tile->o1 / 8, kp = (k + 3) / 4 * 4;
    const size_t panel_bytes = (size_t)8 * kp;
    const rq256_consts rq = rq256_setup(q);
    int32_t bias[FC_Q_BLOCK * 8];
    float scales[FC_Q_BLOCK * 8];
    uint32_t s0, p, pb;
    (void)n;
    if (q->w_layout == ECNN_LAYOUT_FC_PANEL8X4_W64) {
        fc_q_w64(y, x, w, b, tile, k, o, q); /* |w| <= 64: the exact maddubs path, any zx */
        return;
    }
    for (pb = tile->o0 / 8; pb < panels; pb += FC_Q_BLOCK) { /* a block's weights stay in cache for all samples */
        const uint32_t pe = panels - pb < FC_Q_BLOCK ? panels : pb + FC_Q_BLOCK;
        ecnn_fc_q_block_constants(bias, scales, NULL, b, pb * 8, (pe - pb) * 8, o, q);
        p = pb;
        if (tile->m1 - tile->m0 == 1) /* one sample: pairs of full panels, the rest below */
            for (; p + 2 <= pe && p + 2 <= full; p += 2) {
                const block_constants bc = {bias + (p - pb) * 8, scales + (p - pb) * 8, &rq};
                q_pair((uint8_t *)y + (size_t)tile->m0 * o + p * 8, (const uint8_t *)x + (size_t)tile->m0 * k,
                       (const int8_t *)w + p * panel_bytes, (const int8_t *)w + (p + 1) * panel_bytes, bc, k, q);
            }
        for (s0 = tile->m0; s0 < tile->m1; s0 += Q_TILE) {
            const uint32_t ns = tile->m1 - s0 < Q_TILE ? tile->m1 - s0 : Q_TILE;
            uint32_t pt;
            for (pt = p; pt < pe; pt++) {
                const block_constants bc = {bias + (pt - pb) * 8, scales + (pt - pb) * 8, &rq};
                q_tile(y, (const uint8_t *)x, (const int8_t *)w + pt * panel_bytes, bc, k, o, s0, ns, pt * 8,
                       o - pt * 8 < 8 ? o - pt * 8 : 8, q);
            }
        }
    }
}

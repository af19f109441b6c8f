/* AVX-VNNI fully connected int8 kernel over FC_PANEL8X4 (and _W64) weights (kernels_i8.h),
 * weight zero points 0: the arithmetic of the AVX-512 VNNI kernel (x86/avx512vnni/fc_q.c, whose
 * top comment says why it is exact) on 16 ymm registers with the VEX vpdpbusd of AVX2-class
 * CPUs. One ymm holds a weight group: 8 outputs x 4 k, against the sample's 4 inputs (u bytes)
 * broadcast to every lane. A block of 8 panels (64 outputs) is computed TILE_S samples x TILE_P
 * panels at a time, or for one sample all its panels side by side, prefetched. */
/* GCC's partial redundancy elimination (on at -O3) turns the accumulators into chains of
 * register copies inside the k loop: about a third slower, measured on a Zen 4. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-partial-pre")
#endif
#include "kernels/x86/x86.h"

/* The loops over a tile's samples and panels, unrolled whole: the accumulators become registers. */
#define ECNN_UNROLL _Pragma("GCC unroll 8")

ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avxvnni;

#define BLOCK_P 8u /* panels of a block: 64 outputs */
#define TILE_S 4u  /* samples x panels of a tile: 8 accumulators, 4 inputs, 2 weights, flip */
#define TILE_P 2u

/* What the tiles of one block share. */
typedef struct {
    const uint8_t *x; /* sample 0's inputs */
    const int8_t *w;  /* the block's first panel */
    size_t panel_bytes;
    uint32_t k, o, o0;   /* o0: the block's first output */
    __m256i flip;        /* 0x80 bytes for int8 x (u = x ^ 0x80), 0 for uint8 */
    uint8_t pad;         /* the input byte whose u is 0: padding past K */
    const int32_t *bias; /* BLOCK_P * 8 biases, c sum w taken off */
    const float *scales; /* BLOCK_P * 8 requantization scales */
    const ecnn_qlinear_params *q;
} block_args;

/* Requantizes 8 int32 sums (kernels_i8.h ecnn_requantize on 8 lanes) and stores `width` codes. */
static ALWAYS_INLINE void store8(uint8_t *y, __m256i acc, const int32_t *bias, const float *scales, uint32_t width,
                                 const ecnn_qlinear_params *q)
{
    const __m256 lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m256 hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)bias)));
    __m256i r;
    __m128i r16;
    v = _mm256_mul_ps(v, _mm256_loadu_ps(scales));
    v = _mm256_max_ps(v, lo); /* v > lo ? v : lo, then v < hi ? v : hi: the reference's order */
    v = _mm256_min_ps(v, hi);
    r = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(q->y_zero_point)); /* MXCSR: to even */
    /* r is within the output dtype's range: the saturating packs are exact */
    r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    r16 = q->y_type == ECNN_Q_U8 ? _mm_packus_epi16(r16, r16) : _mm_packs_epi16(r16, r16);
    if (width == 8)
        _mm_storel_epi64((__m128i *)y, r16);
    else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)t, r16);
        memcpy(y, t, width);
    }
}

/* The sample's 4 inputs at x as u bytes in every lane. */
static ALWAYS_INLINE __m256i x4(const uint8_t *x, __m256i flip)
{
    int32_t v;
    memcpy(&v, x, 4);
    return _mm256_xor_si256(_mm256_set1_epi32(v), flip); /* a broadcast load and one xor */
}

/* ns samples from s0 x np panels from panel pi of the block: ns and np are constants at each
 * call, so the accumulators stay in registers. */
static ALWAYS_INLINE void tile(void *y, const block_args *a, uint32_t s0, uint32_t pi, const uint32_t ns,
                               const uint32_t np)
{
    const uint32_t k4 = a->k / 4 * 4;
    const int8_t *w = a->w + pi * a->panel_bytes;
    __m256i acc[TILE_S][BLOCK_P], xv[TILE_S];
    uint32_t s, p, i;
    ECNN_UNROLL
    for (s = 0; s < ns; s++) ECNN_UNROLL
    for (p = 0; p < np; p++) acc[s][p] = _mm256_setzero_si256();
    for (i = 0; i < k4; i += 4) {
        ECNN_UNROLL
        for (s = 0; s < ns; s++) xv[s] = x4(a->x + (size_t)(s0 + s) * a->k + i, a->flip);
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const int8_t *wp = w + p * a->panel_bytes + (size_t)i * 8;
            const __m256i wv = _mm256_loadu_si256((const __m256i *)wp);
            if (ns == 1 && (i & 4) == 0) _mm_prefetch((const char *)wp + ECNN_PREFETCH, _MM_HINT_T0);
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = _mm256_dpbusd_avx_epi32(acc[s][p], xv[s], wv);
        }
    }
    if (k4 < a->k) { /* the last 1..3 k: inputs padded with u = 0 (the padded weights are 0 too) */
        ECNN_UNROLL
        for (s = 0; s < ns; s++) {
            uint8_t t[4];
            memset(t, a->pad, sizeof t);
            memcpy(t, a->x + (size_t)(s0 + s) * a->k + k4, a->k - k4);
            xv[s] = x4(t, a->flip);
        }
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + p * a->panel_bytes + (size_t)k4 * 8));
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = _mm256_dpbusd_avx_epi32(acc[s][p], xv[s], wv);
        }
    }
    ECNN_UNROLL
    for (s = 0; s < ns; s++) ECNN_UNROLL
    for (p = 0; p < np; p++) {
        const uint32_t first = a->o0 + (pi + p) * 8, l = (pi + p) * 8;
        store8((uint8_t *)y + (size_t)(s0 + s) * a->o + first, acc[s][p], a->bias + l, a->scales + l,
               a->o - first < 8 ? a->o - first : 8, a->q);
    }
}

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
static tile_fn *const tiles[TILE_S][BLOCK_P] = {
    {tile_1x1, tile_1x2, tile_1x3, tile_1x4, tile_1x5, tile_1x6, tile_1x7, tile_1x8},
    {tile_2x1, tile_2x2},
    {tile_3x1, tile_3x2},
    {tile_4x1, tile_4x2},
};

/* c sum w of each output of np panels: vpdpbusd of c's bytes over the weights, four
 * independent sums per panel (a single chain would wait on vpdpbusd's latency). */
static void column_terms(int32_t *terms, const int8_t *w, size_t panel_bytes, uint32_t k, uint32_t np, uint8_t c)
{
    const __m256i cv = _mm256_set1_epi8((char)c);
    const uint32_t groups = (k + 3) / 4, g4 = groups / 4 * 4; /* the padded weights are 0 */
    uint32_t p, g;
    for (p = 0; p < np; p++) {
        const int8_t *wp = w + p * panel_bytes;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (g = 0; g < g4; g += 4) {
            const __m256i *wg = (const __m256i *)(wp + (size_t)g * 32);
            _mm_prefetch((const char *)wg + ECNN_PREFETCH, _MM_HINT_T0);
            _mm_prefetch((const char *)wg + ECNN_PREFETCH + 64, _MM_HINT_T0);
            a0 = _mm256_dpbusd_avx_epi32(a0, cv, _mm256_loadu_si256(wg));
            a1 = _mm256_dpbusd_avx_epi32(a1, cv, _mm256_loadu_si256(wg + 1));
            a2 = _mm256_dpbusd_avx_epi32(a2, cv, _mm256_loadu_si256(wg + 2));
            a3 = _mm256_dpbusd_avx_epi32(a3, cv, _mm256_loadu_si256(wg + 3));
        }
        for (; g < groups; g++)
            a0 = _mm256_dpbusd_avx_epi32(a0, cv, _mm256_loadu_si256((const __m256i *)(wp + (size_t)g * 32)));
        _mm256_storeu_si256((__m256i *)(terms + p * 8),
                            _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)));
    }
}

void ecnn_fc_q_panel8x4_avxvnni(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_qlinear_params *q)
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
    a.flip = _mm256_set1_epi8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    a.pad = (uint8_t)ecnn_qtype_min(q->x_type);
    a.bias = bias;
    a.scales = scales;
    a.q = q;
    for (pb = t->o0 / 8; pb < panels; pb += BLOCK_P) {
        const uint32_t np = panels - pb < BLOCK_P ? panels - pb : BLOCK_P;
        a.w = (const int8_t *)w + pb * a.panel_bytes;
        a.o0 = pb * 8;
        if (c != 0) column_terms(terms, a.w, a.panel_bytes, k, np, c);
        ecnn_q_block_constants(bias, scales, c != 0 ? terms : NULL, b, a.o0, np * 8, o, q);
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

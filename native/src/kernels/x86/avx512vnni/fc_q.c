/* AVX-512 VNNI fully connected int8 kernel over FC_PANEL8X4 (and _W64) weights (kernels_i8.h),
 * weight zero points 0.
 *
 * vpdpbusd multiplies unsigned bytes by signed bytes and adds each 4 products to an int32 lane,
 * exactly (no int16 step, so any int8 weight). Inputs enter as unsigned bytes u = x - min
 * (x ^ 0x80 for int8 x, x itself for uint8), so x - zx = u - c with c = zx - min in [0, 255] and
 *     sum (x - zx) w = sum u w - c sum w;
 * c sum w, one vpdpbusd pass of c's bytes over a block's weights, is folded into its bias once
 * for all samples (skipped when c = 0: a Relu's output). Sums wrap in int32 lanes; the
 * validator guarantees the true sum fits int32, so the wrapped result is exact. The
 * requantization runs the reference's float steps (kernels_i8.h) on 8 lanes: the same IEEE
 * operations in the same order, so the same codes.
 *
 * One zmm holds 64 weight bytes of a panel: 8 outputs x 8 k (two groups of 4 k). The input
 * vector holds the sample's k0..3 in its low 8 lanes and k4..7 in its high 8; the halves are
 * added at the end. Outputs go in blocks of 8 panels (64 outputs, the FC tile's granule,
 * ECNN_TILE_O_FC) whose scales and biases are prepared once; a block is computed TILE_S
 * samples x TILE_P panels at a time (the weights loaded once per TILE_S samples), or for one
 * sample all its panels side by side, each weight stream prefetched (batch 1 waits on memory). */
/* GCC's partial redundancy elimination (on at -O3) turns the accumulators into chains of
 * register copies inside the k loop: about a third slower, measured on a Zen 4. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-partial-pre")
#endif
#include "kernels/x86/x86.h"

/* The loops over a tile's samples and panels, unrolled whole: the accumulators become registers. */
#define ECNN_UNROLL _Pragma("GCC unroll 8")

ecnn_fc_q_kernel ecnn_fc_q_panel8x4_avx512vnni;

#define BLOCK_P 8u /* panels of a block: 64 outputs */
#define TILE_S 4u  /* samples x panels of a tile: 16 accumulators, 4 inputs, 4 weights */
#define TILE_P 4u

/* What the tiles of one block share. */
typedef struct {
    const uint8_t *x; /* sample 0's inputs */
    const int8_t *w;  /* the block's first panel */
    size_t panel_bytes;
    uint32_t k, o, o0;   /* o0: the block's first output */
    __m512i flip;        /* 0x80 bytes for int8 x (u = x ^ 0x80), 0 for uint8 */
    uint8_t pad;         /* the input byte whose u is 0: padding past K */
    const int32_t *bias; /* BLOCK_P * 8 biases, c sum w taken off */
    const float *scales; /* BLOCK_P * 8 requantization scales */
    const ecnn_qlinear_params *q;
} block_args;

/* Requantizes 8 int32 sums (kernels_i8.h ecnn_requantize on 8 lanes) and stores `width` codes. */
static ALWAYS_INLINE void store8(void *y, __m256i acc, const int32_t *bias, const float *scales, uint32_t width,
                                 const ecnn_qlinear_params *q)
{
    const __m256 lo = _mm256_set1_ps((float)(q->y_min - q->y_zero_point));
    const __m256 hi = _mm256_set1_ps((float)(q->y_max - q->y_zero_point));
    __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(acc, _mm256_loadu_si256((const __m256i *)bias)));
    __m256i r;
    v = _mm256_mul_ps(v, _mm256_loadu_ps(scales));
    v = _mm256_max_ps(v, lo); /* v > lo ? v : lo, then v < hi ? v : hi: the reference's order */
    v = _mm256_min_ps(v, hi);
    r = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(q->y_zero_point)); /* MXCSR: to even */
    /* r is within the output dtype's range: its low byte is the code */
    _mm_mask_storeu_epi8(y, (__mmask16)((1u << width) - 1u), _mm256_cvtepi32_epi8(r));
}

/* The input vector of 8 k from 8 bytes: u of k0..3 in the low 8 lanes, of k4..7 in the high 8. */
static ALWAYS_INLINE __m512i x8(const uint8_t *x, __m512i flip)
{
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i v = _mm512_castsi128_si512(_mm_loadl_epi64((const __m128i *)x));
    return _mm512_xor_si512(_mm512_permutexvar_epi32(halves, v), flip);
}

/* ns samples from s0 x np panels from panel pi of the block: ns and np are constants at each
 * call, so the accumulators stay in registers. */
static ALWAYS_INLINE void tile(void *y, const block_args *a, uint32_t s0, uint32_t pi, const uint32_t ns,
                               const uint32_t np)
{
    const uint32_t k8 = a->k / 8 * 8;
    const __m512i flip = a->flip;
    const uint8_t *xs[TILE_S];
    const int8_t *wps[BLOCK_P];
    __m512i acc[TILE_S][BLOCK_P], xv[TILE_S];
    uint32_t s, p, i;
    ECNN_UNROLL
    for (s = 0; s < ns; s++) xs[s] = a->x + (size_t)(s0 + s) * a->k;
    ECNN_UNROLL
    for (p = 0; p < np; p++) wps[p] = a->w + (pi + p) * a->panel_bytes;
    ECNN_UNROLL
    for (s = 0; s < ns; s++) ECNN_UNROLL
    for (p = 0; p < np; p++) acc[s][p] = _mm512_setzero_si512();
    for (i = 0; i < k8; i += 8) {
        ECNN_UNROLL
        for (s = 0; s < ns; s++) xv[s] = x8(xs[s] + i, flip);
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const int8_t *wp = wps[p] + (size_t)i * 8;
            const __m512i wv = _mm512_loadu_si512(wp);
            if (ns == 1) _mm_prefetch((const char *)wp + ECNN_PREFETCH, _MM_HINT_T0);
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = _mm512_dpbusd_epi32(acc[s][p], xv[s], wv);
        }
    }
    if (k8 < a->k) { /* the last 1..7 k: inputs padded with u = 0; 32 or 64 weight bytes left */
        const uint32_t rest = a->k - k8;
        const __mmask64 m = rest > 4 ? ~(__mmask64)0 : (__mmask64)0xFFFFFFFFu;
        ECNN_UNROLL
        for (s = 0; s < ns; s++) {
            uint8_t t[8];
            memset(t, a->pad, sizeof t);
            memcpy(t, xs[s] + k8, rest);
            xv[s] = x8(t, flip);
        }
        ECNN_UNROLL
        for (p = 0; p < np; p++) {
            const __m512i wv = _mm512_maskz_loadu_epi8(m, wps[p] + (size_t)k8 * 8);
            ECNN_UNROLL
            for (s = 0; s < ns; s++) acc[s][p] = _mm512_dpbusd_epi32(acc[s][p], xv[s], wv);
        }
    }
    ECNN_UNROLL
    for (s = 0; s < ns; s++) ECNN_UNROLL
    for (p = 0; p < np; p++) {
        const uint32_t first = a->o0 + (pi + p) * 8, l = (pi + p) * 8;
        const __m256i sum =
            _mm256_add_epi32(_mm512_castsi512_si256(acc[s][p]), _mm512_extracti64x4_epi64(acc[s][p], 1));
        store8((uint8_t *)y + (size_t)(s0 + s) * a->o + first, sum, a->bias + l, a->scales + l,
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
TILE_FN(2, 3)
TILE_FN(2, 4)
TILE_FN(3, 1)
TILE_FN(3, 2)
TILE_FN(3, 3)
TILE_FN(3, 4)
TILE_FN(4, 1)
TILE_FN(4, 2)
TILE_FN(4, 3)
TILE_FN(4, 4)
static tile_fn *const tiles[TILE_S][BLOCK_P] = {
    {tile_1x1, tile_1x2, tile_1x3, tile_1x4, tile_1x5, tile_1x6, tile_1x7, tile_1x8},
    {tile_2x1, tile_2x2, tile_2x3, tile_2x4},
    {tile_3x1, tile_3x2, tile_3x3, tile_3x4},
    {tile_4x1, tile_4x2, tile_4x3, tile_4x4},
};

/* c sum w of each output of np panels: vpdpbusd of c's bytes over the weights, four
 * independent sums per panel (a single chain would wait on vpdpbusd's latency). */
static void column_terms(int32_t *terms, const int8_t *w, size_t panel_bytes, uint32_t k, uint32_t np, uint8_t c)
{
    const __m512i cv = _mm512_set1_epi8((char)c);
    const uint32_t k8 = k / 8 * 8, k32 = k / 32 * 32;
    uint32_t p, i;
    for (p = 0; p < np; p++) {
        const int8_t *wp = w + p * panel_bytes;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < k32; i += 32) {
            _mm_prefetch((const char *)wp + (size_t)i * 8 + ECNN_PREFETCH, _MM_HINT_T0);
            a0 = _mm512_dpbusd_epi32(a0, cv, _mm512_loadu_si512(wp + (size_t)i * 8));
            a1 = _mm512_dpbusd_epi32(a1, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 64));
            a2 = _mm512_dpbusd_epi32(a2, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 128));
            a3 = _mm512_dpbusd_epi32(a3, cv, _mm512_loadu_si512(wp + (size_t)i * 8 + 192));
        }
        for (; i < k8; i += 8) a0 = _mm512_dpbusd_epi32(a0, cv, _mm512_loadu_si512(wp + (size_t)i * 8));
        if (k8 < k)
            a1 = _mm512_dpbusd_epi32(
                a1, cv, _mm512_maskz_loadu_epi8(k - k8 > 4 ? ~(__mmask64)0 : 0xFFFFFFFFu, wp + (size_t)k8 * 8));
        a0 = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
        _mm256_storeu_si256((__m256i *)(terms + p * 8),
                            _mm256_add_epi32(_mm512_castsi512_si256(a0), _mm512_extracti64x4_epi64(a0, 1)));
    }
}

void ecnn_fc_q_panel8x4_avx512vnni(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
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
    a.flip = _mm512_set1_epi8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
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

/* AVX-512 VNNI byte microkernel of the int8 conv (ecnn_conv_q_ukernels.conv_u8, kernels_i8.h).
 * vpdpbusd multiplies the pixels' unsigned bytes u (x ^ 0x80 for int8 x, x for uint8) by the
 * packed int8 weights and adds each 4 products to an int32 lane exactly: 64 MACs a zmm
 * instruction, twice vpdpwssd's. Sums wrap in int32 lanes; the validator guarantees the true
 * sum (after the caller's c sum w correction in the bias) fits int32, so the result is exact.
 * One zmm of weights holds 4 k of 16 channels; a tile is up to 4 pixels x 4 such vectors (64
 * channels) or 8 pixels x 2 vectors: 16 accumulators, each weight load shared by the pixels. The requantization runs
 * the reference's float steps (kernels_i8.h) on 16 lanes, in the same order, so the same codes. */
#include "kernels/x86/x86.h"

/* The loops over a tile's pixels and vectors, unrolled whole: the accumulators become registers. */
#define ECNN_UNROLL_ALL _Pragma("GCC unroll 16")

ecnn_conv_q_u8_kernel ecnn_conv_q_u8_avx512vnni;
ecnn_conv_q_pack_u8_kernel ecnn_conv_q_pack_u8_avx512vnni;

#define MAX_V 4u /* weight vectors of a block: 64 channels */

/* The 4 bytes of a pixel at xp as u bytes (x ^ flip) in every lane. */
static ALWAYS_INLINE __m512i pixel_quad(const uint8_t *xp, __m512i flip)
{
    int32_t v;
    memcpy(&v, xp, sizeof v);
    return _mm512_xor_si512(_mm512_set1_epi32(v), flip);
}

/* np pixels x nv vectors of 16 channels; np and nv are constants at each call, so the
 * accumulators stay in registers. */
static ALWAYS_INLINE void tile(void *y, const size_t *firsts, const uint8_t *const *xs, const int8_t *wp, uint32_t k,
                               uint32_t count, const int32_t *bias, const float *scales, const ecnn_qlinear_params *q,
                               const uint32_t np, const uint32_t nv)
{
    const size_t row = (size_t)nv * 64; /* weight bytes per 4 k: the block's c16 = nv * 16 channels */
    const uint32_t k4 = k / 4 * 4;
    const __m512i flip = _mm512_set1_epi8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    __m512i acc[ECNN_CONV_Q_U8_PIXELS][MAX_V], wv[MAX_V];
    uint32_t i, pi, v;
    ECNN_UNROLL_ALL
    for (pi = 0; pi < np; pi++) ECNN_UNROLL_ALL
    for (v = 0; v < nv; v++) acc[pi][v] = _mm512_setzero_si512();
    for (i = 0; i < k4; i += 4) {
        const int8_t *w = wp + (size_t)i / 4 * row;
        ECNN_UNROLL_ALL
        for (v = 0; v < nv; v++) wv[v] = _mm512_loadu_si512(w + v * 64);
        ECNN_UNROLL_ALL
        for (pi = 0; pi < np; pi++) {
            const __m512i xv = pixel_quad(xs[pi] + i, flip);
            ECNN_UNROLL_ALL
            for (v = 0; v < nv; v++) acc[pi][v] = _mm512_dpbusd_epi32(acc[pi][v], xv, wv[v]);
        }
    }
    if (k4 < k) { /* the last 1..3 k: the packed weights past k are 0, so any byte pads */
        const int8_t *w = wp + (size_t)k4 / 4 * row;
        ECNN_UNROLL_ALL
        for (v = 0; v < nv; v++) wv[v] = _mm512_loadu_si512(w + v * 64);
        ECNN_UNROLL_ALL
        for (pi = 0; pi < np; pi++) {
            uint8_t last[4] = {0, 0, 0, 0};
            __m512i xv;
            memcpy(last, xs[pi] + k4, k - k4);
            xv = pixel_quad(last, flip);
            ECNN_UNROLL_ALL
            for (v = 0; v < nv; v++) acc[pi][v] = _mm512_dpbusd_epi32(acc[pi][v], xv, wv[v]);
        }
    }
    {
        const __m512 lo = _mm512_set1_ps((float)(q->y_min - q->y_zero_point));
        const __m512 hi = _mm512_set1_ps((float)(q->y_max - q->y_zero_point));
        const __m512i zy = _mm512_set1_epi32(q->y_zero_point);
        ECNN_UNROLL_ALL
        for (v = 0; v < nv; v++) {
            const __m512i bv = _mm512_loadu_si512(bias + v * 16);
            const __m512 sv = _mm512_loadu_ps(scales + v * 16);
            const uint32_t left = count - v * 16;
            const __mmask16 store = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
            ECNN_UNROLL_ALL
            for (pi = 0; pi < np; pi++) {
                __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(acc[pi][v], bv));
                f = _mm512_mul_ps(f, sv);
                f = _mm512_max_ps(f, lo); /* v > lo ? v : lo, then v < hi ? v : hi: the reference's order */
                f = _mm512_min_ps(f, hi);
                /* the code is within the output dtype's range: its low byte is the output */
                _mm_mask_storeu_epi8((uint8_t *)y + firsts[pi] + v * 16, store,
                                     _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), zy)));
            }
        }
    }
}

typedef void tile_fn(void *y, const size_t *firsts, const uint8_t *const *xs, const int8_t *wp, uint32_t k,
                     uint32_t count, const int32_t *bias, const float *scales, const ecnn_qlinear_params *q);
#define TILE_FN(NP, NV)                                                                                                \
    static NOINLINE void tile_##NP##x##NV(void *y, const size_t *firsts, const uint8_t *const *xs, const int8_t *wp,   \
                                          uint32_t k, uint32_t count, const int32_t *bias, const float *scales,        \
                                          const ecnn_qlinear_params *q)                                                \
    {                                                                                                                  \
        tile(y, firsts, xs, wp, k, count, bias, scales, q, NP, NV);                                                    \
    }
#define TILE_FNS(NP) TILE_FN(NP, 1) TILE_FN(NP, 2) TILE_FN(NP, 3) TILE_FN(NP, 4)
#define TILE_FNS_NARROW(NP) TILE_FN(NP, 1) TILE_FN(NP, 2)
TILE_FNS(1)
TILE_FNS(2)
TILE_FNS(3)
TILE_FNS(4)
TILE_FNS_NARROW(5)
TILE_FNS_NARROW(6)
TILE_FNS_NARROW(7)
TILE_FNS_NARROW(8)
/* Up to 4 pixels x 4 vectors or 8 pixels x 2 vectors: 16 accumulators. A block of 1 or 2
 * vectors needs the 8 pixels' independent chains to cover vpdpbusd's latency. */
#define WIDE_PIXELS 4u
static tile_fn *const tiles[ECNN_CONV_Q_U8_PIXELS][MAX_V] = {
    {tile_1x1, tile_1x2, tile_1x3, tile_1x4}, {tile_2x1, tile_2x2, tile_2x3, tile_2x4},
    {tile_3x1, tile_3x2, tile_3x3, tile_3x4}, {tile_4x1, tile_4x2, tile_4x3, tile_4x4},
    {tile_5x1, tile_5x2, NULL, NULL},         {tile_6x1, tile_6x2, NULL, NULL},
    {tile_7x1, tile_7x2, NULL, NULL},         {tile_8x1, tile_8x2, NULL, NULL},
};

void ecnn_conv_q_u8_avx512vnni(void *y, const size_t *firsts, const uint8_t *const *xs, uint32_t npix, const int8_t *wp,
                               uint32_t k, uint32_t count, const int32_t *bias, const float *scales,
                               const ecnn_qlinear_params *q)
{
    const uint32_t nv = (count + 15) / 16;
    uint32_t i, step;
    for (i = 0; i < npix; i += step) {
        step = npix - i;
        if (nv > 2 && step > WIDE_PIXELS) step = WIDE_PIXELS;
        tiles[step - 1][nv - 1](y, firsts + i, xs + i, wp, k, count, bias, scales, q);
    }
}

/* 16 channels x 4 k at a time: the 4 rows' 16 bytes interleaved by two rounds of unpacks into
 * the [channel][4 k] quads of 4 x 16 bytes; c sum w by vpdpbusd of c's bytes over each quad
 * vector (4 channels' sums). Rows past k and channels past count load as 0. */
void ecnn_conv_q_pack_u8_avx512vnni(int8_t *wp, int32_t *terms, const int8_t *w, uint32_t k, uint32_t o, uint32_t oc,
                                    uint32_t count, uint8_t c)
{
    const uint32_t c16 = (count + 15) / 16 * 16;
    const __m128i cv = _mm_set1_epi8((char)c);
    uint32_t g, i, j;
    for (g = 0; g < c16; g += 16) {
        const uint32_t left = count - g;
        const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
        for (i = 0; i < k; i += 4) {
            __m128i r[4], a, b, cc, d, q0, q1, q2, q3;
            int8_t *dst = wp + (size_t)i * c16 + (size_t)g * 4;
            for (j = 0; j < 4; j++)
                r[j] = i + j < k ? _mm_maskz_loadu_epi8(m, w + (size_t)(i + j) * o + oc + g) : _mm_setzero_si128();
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
            s0 = _mm_dpbusd_epi32(s0, cv, q0);
            s1 = _mm_dpbusd_epi32(s1, cv, q1);
            s2 = _mm_dpbusd_epi32(s2, cv, q2);
            s3 = _mm_dpbusd_epi32(s3, cv, q3);
        }
        _mm_storeu_si128((__m128i *)(terms + g), s0);
        _mm_storeu_si128((__m128i *)(terms + g + 4), s1);
        _mm_storeu_si128((__m128i *)(terms + g + 8), s2);
        _mm_storeu_si128((__m128i *)(terms + g + 12), s3);
    }
}

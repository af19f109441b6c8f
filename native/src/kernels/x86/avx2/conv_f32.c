/* AVX2 float conv over HWIO weights (kernels.h), any O / group: bit-identical to
 * ecnn_conv2d_f32_ref (each term one F32_MAC, in the reference order). */
#define CONV_PIX 6u /* 12 accumulators + 2 weight vectors + 1 broadcast: the 16 ymm registers */
#include "kernels/x86/conv_f32_hwio.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_avx2;

/* The activations other than none and Relu, in place on the np pixels x `lanes` outputs a
 * tile has just stored (yp: the first pixel's, pixels o floats apart): the reference's
 * scalar loop (rare in CNNs, not hot). A float store and reload is exact, so this is
 * ecnn_apply_act(sum + bias). */
static NOINLINE void conv_act_tile(float *yp, size_t o, uint32_t np, uint32_t lanes, const ecnn_act_params *act)
{
    uint32_t j;
    for (j = 0; j < np; j++) ecnn_activation_f32_ref(yp + j * o, yp + j * o, lanes, act);
}

/* Up to CONV_PIX output pixels (y_step floats apart in y) x 16 output channels (two), or x `count` <= 8 under `mask`
 * (lanes l < count set; !two), of one group: the pixels' windows start pix_step floats apart
 * in x; taps ky in [0, nky) (x rows x_row apart, weight rows w_row apart), kx in [0, nkx)
 * (x_tap apart; weights contiguous), c in [0, cg): the reference order, one F32_MAC per term.
 * Then the bias, Relu (max(v, +0) returns +0 for NaN and -0, as v > 0 ? v : 0) or Clip
 * (vmaxps / vminps return their second operand, v, when either is NaN or both are equal, as
 * the reference's comparisons do) and the stores, one test each per tile; other activations in place afterwards. The masked lanes
 * read no memory and are not stored. np and two are constants at every call (the function
 * is inlined), so the unused accumulators and branches vanish. */
#define CONV_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)
static ALWAYS_INLINE void conv_tile(float *yp, const float *xp, size_t pix_step, size_t x_row, size_t x_tap,
                                    const float *wp, size_t w_row, size_t o, size_t y_step, uint32_t nky, uint32_t nkx,
                                    uint32_t cg, const float *b, const ecnn_act_params *act, const uint32_t np,
                                    const int two, __m256i mask, uint32_t count)
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
#define CONV_STEP(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        xb = _mm256_broadcast_ss(xt + J * pix_step + c);                                                               \
        a##J = F32_MAC(a##J, xb, wv);                                                                                  \
        if (two) c##J = F32_MAC(c##J, xb, wu);                                                                         \
    }
                CONV_ROWS(CONV_STEP)
#undef CONV_STEP
            }
    }
    if (b) {
        const __m256 b0 = two ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, mask);
        const __m256 b1 = two ? _mm256_loadu_ps(b + 8) : b0;
#define CONV_BIAS(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm256_add_ps(a##J, b0);                                                                                \
        if (two) c##J = _mm256_add_ps(c##J, b1);                                                                       \
    }
        CONV_ROWS(CONV_BIAS)
#undef CONV_BIAS
    }
    if (act->act == 1) { /* ECNN_ACT_RELU */
#define CONV_RELU(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm256_max_ps(a##J, zero);                                                                              \
        if (two) c##J = _mm256_max_ps(c##J, zero);                                                                     \
    }
        CONV_ROWS(CONV_RELU)
#undef CONV_RELU
    } else if (act->act == ECNN_ACT_CLIP) { /* v < lo ? lo : (v > hi ? hi : v), NaN kept */
        const __m256 lo = _mm256_set1_ps(act->act_p0), hi = _mm256_set1_ps(act->act_p1);
#define CONV_CLIP(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm256_min_ps(hi, _mm256_max_ps(lo, a##J));                                                             \
        if (two) c##J = _mm256_min_ps(hi, _mm256_max_ps(lo, c##J));                                                    \
    }
        CONV_ROWS(CONV_CLIP)
#undef CONV_CLIP
    }
#define CONV_STORE(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        if (two) {                                                                                                     \
            _mm256_storeu_ps(yp + J * y_step, a##J);                                                                   \
            _mm256_storeu_ps(yp + J * y_step + 8, c##J);                                                               \
        } else if (count == 8) {                                                                                       \
            _mm256_storeu_ps(yp + J * y_step, a##J);                                                                   \
        } else {                                                                                                       \
            _mm256_maskstore_ps(yp + J * y_step, mask, a##J); /* slow on AMD: only for a last 1..7 */                  \
        }                                                                                                              \
    }
    CONV_ROWS(CONV_STORE)
#undef CONV_STORE
    if (act->act > 1 && act->act != ECNN_ACT_CLIP) conv_act_tile(yp, y_step, np, two ? 16 : count, act);
}

/* np pixels x `count` channels: blocks of 16, the last 1..15 as one or two masked blocks of up
 * to 8; np a constant in each conv_tile copy. */
static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t o0;
    for (o0 = 0; o0 < count;) {
        const uint32_t rest = count - o0;
        const int two = rest >= 16;
        const uint32_t width = two ? 16 : rest < 8 ? rest : 8;
        const __m256i mask = two ? lane : _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lane);
        float *yo = yp + o0;
        const float *wo = wp + o0, *bo = b ? b + o0 : NULL;
#define CONV_CASE(NP, TWO)                                                                                             \
    conv_tile(yo, xp, g->pix_step, g->x_row, g->x_tap, wo, g->w_row, g->o, g->y_step, nky, nkx, g->cg, bo, g->act, NP, \
              TWO, mask, width)
#define CONV_NP(TWO)                                                                                                   \
    switch (np) {                                                                                                      \
    case 1: CONV_CASE(1, TWO); break;                                                                                  \
    case 2: CONV_CASE(2, TWO); break;                                                                                  \
    case 3: CONV_CASE(3, TWO); break;                                                                                  \
    case 4: CONV_CASE(4, TWO); break;                                                                                  \
    case 5: CONV_CASE(5, TWO); break;                                                                                  \
    default: CONV_CASE(6, TWO); break;                                                                                 \
    }
        if (two) {
            CONV_NP(1)
        } else {
            CONV_NP(0)
        }
#undef CONV_NP
#undef CONV_CASE
        o0 += width;
    }
}

/* Conv, w in HWIO, any O / group: terms in the reference order (ky, kx, c), one ecnn_mac
 * each: bit-identical to ecnn_conv2d_f32_ref. */
void ecnn_conv2d_f32_hwio_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                               const ecnn_conv2d_args *p)
{
    (void)n; /* rows and channels come from the tile */
    conv_hwio_tile(y, x, w, b, t, p);
}

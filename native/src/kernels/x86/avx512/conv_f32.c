/* AVX-512 float conv over HWIO weights (kernels.h), any O / group: the AVX2 kernel's blocks
 * twice as wide and twice as tall. A block is up to CONV_PIX output pixels x 32 output channels
 * (two zmm per pixel; the last 1..31 channels under opmasks, which cost nothing here), each
 * output summed in the reference order (ky, kx, c), one vfmadd per term (every AVX-512 CPU
 * has FMA), then the bias: bit-identical to ecnn_conv2d_f32_ref_fma. */
#define CONV_PIX 12u /* 24 accumulators + 2 weight vectors + 1 broadcast of the 32 zmm registers */
#include "kernels/x86/conv_f32_hwio.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_avx512;

#ifdef ECNN_FUSED_MAC
#define F32_MAC16(acc, x, w) _mm512_fmadd_ps(x, w, acc)
#else
#define F32_MAC16(acc, x, w) _mm512_add_ps(acc, _mm512_mul_ps(x, w))
#endif

/* The activations other than none, Relu and Clip, in place on the np pixels x `lanes` outputs
 * a block has just stored: the reference's scalar loop. A float store and reload is exact. */
static NOINLINE void conv_act_block(float *yp, size_t o, uint32_t np, uint32_t lanes, const ecnn_act_params *act)
{
    uint32_t j;
    for (j = 0; j < np; j++) ecnn_activation_f32_ref(yp + j * o, yp + j * o, lanes, act);
}

/* np pixels x the channels of masks k0 (lanes 0..15) and k1 (16..31; two only). Relu is
 * max(v, +0) (+0 for NaN and -0, as v > 0 ? v : 0); Clip max(lo, v) then min(hi, .), which
 * return v when either operand is NaN or both are equal, as the reference's comparisons do. */
#define CONV_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
static ALWAYS_INLINE void conv_tile(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b,
                                    uint32_t nky, uint32_t nkx, const uint32_t np, const int two, __mmask16 k0,
                                    __mmask16 k1)
{
    const __m512 zero = _mm512_setzero_ps();
    const size_t o = g->o, pix_step = g->pix_step;
    const uint32_t act = g->act->act;
    uint32_t ky, kx, c;
#define CONV_DECL(J) __m512 a##J = zero, c##J = zero;
    CONV_ROWS(CONV_DECL)
#undef CONV_DECL
    for (ky = 0; ky < nky; ky++) {
        const float *xt = xp + ky * g->x_row, *wt = wp + ky * g->w_row;
        for (kx = 0; kx < nkx; kx++, xt += g->x_tap)
            for (c = 0; c < g->cg; c++, wt += o) {
                const __m512 wv = _mm512_maskz_loadu_ps(k0, wt);
                const __m512 wu = two ? _mm512_maskz_loadu_ps(k1, wt + 16) : wv;
                __m512 xb;
#define CONV_STEP(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        xb = _mm512_set1_ps(xt[J * pix_step + c]);                                                                     \
        a##J = F32_MAC16(a##J, xb, wv);                                                                                \
        if (two) c##J = F32_MAC16(c##J, xb, wu);                                                                       \
    }
                CONV_ROWS(CONV_STEP)
#undef CONV_STEP
            }
    }
    if (b) {
        const __m512 b0 = _mm512_maskz_loadu_ps(k0, b);
        const __m512 b1 = two ? _mm512_maskz_loadu_ps(k1, b + 16) : b0;
#define CONV_BIAS(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm512_add_ps(a##J, b0);                                                                                \
        if (two) c##J = _mm512_add_ps(c##J, b1);                                                                       \
    }
        CONV_ROWS(CONV_BIAS)
#undef CONV_BIAS
    }
    if (act == ECNN_ACT_RELU) {
#define CONV_RELU(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm512_max_ps(a##J, zero);                                                                              \
        if (two) c##J = _mm512_max_ps(c##J, zero);                                                                     \
    }
        CONV_ROWS(CONV_RELU)
#undef CONV_RELU
    } else if (act == ECNN_ACT_CLIP) {
        const __m512 lo = _mm512_set1_ps(g->act->act_p0), hi = _mm512_set1_ps(g->act->act_p1);
#define CONV_CLIP(J)                                                                                                   \
    if (J < np) {                                                                                                      \
        a##J = _mm512_min_ps(hi, _mm512_max_ps(lo, a##J));                                                             \
        if (two) c##J = _mm512_min_ps(hi, _mm512_max_ps(lo, c##J));                                                    \
    }
        CONV_ROWS(CONV_CLIP)
#undef CONV_CLIP
    }
#define CONV_STORE(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        _mm512_mask_storeu_ps(yp + J * g->y_step, k0, a##J);                                                           \
        if (two) _mm512_mask_storeu_ps(yp + J * g->y_step + 16, k1, c##J);                                             \
    }
    CONV_ROWS(CONV_STORE)
#undef CONV_STORE
}

/* np pixels x `count` channels: blocks of 32, the last 1..31 under masks (one zmm for <= 16). */
static void conv_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                       uint32_t nkx, uint32_t np, uint32_t count)
{
    uint32_t o0;
    for (o0 = 0; o0 < count;) {
        const uint32_t rest = count - o0, width = rest < 32 ? rest : 32;
        const int two = width > 16;
        const __mmask16 k0 = (__mmask16)(width >= 16 ? 0xFFFFu : (1u << width) - 1u);
        const __mmask16 k1 = (__mmask16)(width >= 32 ? 0xFFFFu : two ? (1u << (width - 16)) - 1u : 0u);
        float *yo = yp + o0;
        const float *wo = wp + o0, *bo = b ? b + o0 : NULL;
#define CONV_CASE(NP, TWO) conv_tile(yo, xp, g, wo, bo, nky, nkx, NP, TWO, k0, k1)
#define CONV_NP(TWO)                                                                                                   \
    switch (np) {                                                                                                      \
    case 1: CONV_CASE(1, TWO); break;                                                                                  \
    case 2: CONV_CASE(2, TWO); break;                                                                                  \
    case 3: CONV_CASE(3, TWO); break;                                                                                  \
    case 4: CONV_CASE(4, TWO); break;                                                                                  \
    case 5: CONV_CASE(5, TWO); break;                                                                                  \
    case 6: CONV_CASE(6, TWO); break;                                                                                  \
    case 7: CONV_CASE(7, TWO); break;                                                                                  \
    case 8: CONV_CASE(8, TWO); break;                                                                                  \
    case 9: CONV_CASE(9, TWO); break;                                                                                  \
    case 10: CONV_CASE(10, TWO); break;                                                                                \
    case 11: CONV_CASE(11, TWO); break;                                                                                \
    default: CONV_CASE(12, TWO); break;                                                                                \
    }
        if (two) {
            CONV_NP(1)
        } else {
            CONV_NP(0)
        }
#undef CONV_NP
#undef CONV_CASE
        if (g->act->act > ECNN_ACT_RELU && g->act->act != ECNN_ACT_CLIP)
            conv_act_block(yo, g->y_step, np, width, g->act);
        o0 += width;
    }
}

void ecnn_conv2d_f32_hwio_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                 const ecnn_tile *t, const ecnn_conv2d_args *p)
{
    (void)n; /* rows and channels come from the tile */
    conv_hwio_tile(y, x, w, b, t, p);
}

/* AVX2 float conv over HWIO weights (kernels.h), any O / group: bit-identical to
 * ecnn_conv2d_f32_ref (each term one F32_MAC, in the reference order). */
#include "kernels/x86/x86.h"

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
    }
#define CONV_STORE(J)                                                                                                  \
    if (J < np) {                                                                                                      \
        if (two) {                                                                                                     \
            _mm256_storeu_ps(yp + J * o, a##J);                                                                        \
            _mm256_storeu_ps(yp + J * o + 8, c##J);                                                                    \
        } else if (count == 8) {                                                                                       \
            _mm256_storeu_ps(yp + J * o, a##J);                                                                        \
        } else {                                                                                                       \
            _mm256_maskstore_ps(yp + J * o, mask, a##J); /* slow on AMD: only for a last 1..7 */                       \
        }                                                                                                              \
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
void ecnn_conv2d_f32_hwio_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                               const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    const size_t o = p->o;
    const size_t pix_step = (size_t)p->stride_w * p->c; /* input floats from one output pixel to the next */
    const size_t x_row = (size_t)p->dilation_h * p->w * p->c, x_tap = (size_t)p->dilation_w * p->c;
    const size_t w_row = (size_t)p->kw * cg * o;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t m, ox, g, o0;
    (void)n; /* rows and channels come from the tile */
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        {
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
                else if (ox + CONV_PIX > p->ow || ix_first + (int64_t)(CONV_PIX - 1) * p->stride_w + span >= p->w)
                    np = 1;
                if (np == 0) ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                xp = xs + ((iy0 + (size_t)ky0 * p->dilation_h) * p->w + (size_t)ox * p->stride_w +
                           (size_t)kx0 * p->dilation_w - p->pad_left) *
                              p->c;
                for (g = 0; g < p->group; g++)
                    for (o0 = g * og > t->o0 ? g * og : t->o0; o0 < (g + 1) * og && o0 < t->o1;) { /* the tile's */
                        const float *xg = xp + (size_t)g * cg;
                        const float *wg = w + ((size_t)ky0 * p->kw + kx0) * cg * o + o0;
                        const float *bg = b ? b + o0 : NULL;
                        const uint32_t end = (g + 1) * og < t->o1 ? (g + 1) * og : t->o1;
                        const uint32_t nky = ky1 - ky0, nkx = kx1 - kx0, rest = end - o0;
                        if (rest >= 16) {
                            if (np == CONV_PIX)
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act,
                                          CONV_PIX, 1, lane, 16);
                            else
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act,
                                          1, 1, lane, 16);
                            o0 += 16;
                        } else {
                            const uint32_t count = rest < 8 ? rest : 8;
                            const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), lane);
                            if (np == CONV_PIX)
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act,
                                          CONV_PIX, 0, mask, count);
                            else
                                conv_tile(yp + o0, xg, pix_step, x_row, x_tap, wg, w_row, o, nky, nkx, cg, bg, &p->act,
                                          1, 0, mask, count);
                            o0 += count;
                        }
                    }
                ox += np == CONV_PIX ? CONV_PIX : 1;
            }
        }
    }
}

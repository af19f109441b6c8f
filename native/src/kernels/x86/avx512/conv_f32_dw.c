/* AVX-512 depthwise float conv (CONV_2D with group == C == O) over HWIO weights: the AVX2
 * kernel with zmm vectors, up to 64 channels (four accumulators) per output pixel, the last
 * 1..15 under an opmask. Each output sums its taps in the reference order ((ky, kx)
 * increasing, taps in the padding skipped), one vfmadd each, then the bias: bit-identical to
 * ecnn_conv2d_f32_ref_fma. */
#include "kernels/x86/x86.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_dw_avx512;

#ifdef ECNN_FUSED_MAC
#define F32_MAC16(acc, x, w) _mm512_fmadd_ps(x, w, acc)
#else
#define F32_MAC16(acc, x, w) _mm512_add_ps(acc, _mm512_mul_ps(x, w))
#endif

/* The activations other than none, Relu and Clip, in place: the reference's scalar loop. */
static NOINLINE void dw_act(float *yp, uint32_t count, const ecnn_act_params *act)
{
    ecnn_activation_f32_ref(yp, yp, count, act);
}

/* `nv` vectors of 16 channels of one output pixel, the last under `last` (all lanes or the
 * block's final 1..15): taps [ky0, ky1) x [kx0, kx1); xs: the sample's input at the block's
 * first channel, w and b too. */
static ALWAYS_INLINE void dw_pixel(float *yp, const float *xs, const float *w, const float *b,
                                   const ecnn_conv2d_args *p, uint32_t oy, uint32_t ox, uint32_t ky0, uint32_t ky1,
                                   uint32_t kx0, uint32_t kx1, const uint32_t nv, __mmask16 last)
{
    const __m512 zero = _mm512_setzero_ps();
    __m512 a[4];
    uint32_t ky, kx, v;
    for (v = 0; v < nv; v++) a[v] = zero;
    for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
            const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
            const float *wp = w + ((size_t)ky * p->kw + kx) * p->o;
            for (v = 0; v < nv; v++) {
                const __mmask16 k = v == nv - 1 ? last : (__mmask16)0xFFFFu;
                a[v] = F32_MAC16(a[v], _mm512_maskz_loadu_ps(k, xp + 16 * v), _mm512_maskz_loadu_ps(k, wp + 16 * v));
            }
        }
    for (v = 0; v < nv; v++) {
        const __mmask16 k = v == nv - 1 ? last : (__mmask16)0xFFFFu;
        if (b) a[v] = _mm512_add_ps(a[v], _mm512_maskz_loadu_ps(k, b + 16 * v));
        if (p->act.act == ECNN_ACT_RELU) {
            a[v] = _mm512_max_ps(a[v], zero);     /* +0 for NaN and -0, as v > 0 ? v : 0 */
        } else if (p->act.act == ECNN_ACT_CLIP) { /* v when NaN or equal, as the reference */
            a[v] = _mm512_min_ps(_mm512_set1_ps(p->act.act_p1), _mm512_max_ps(_mm512_set1_ps(p->act.act_p0), a[v]));
        }
        _mm512_mask_storeu_ps(yp + 16 * v, k, a[v]);
    }
}

void ecnn_conv2d_f32_dw_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                               const ecnn_conv2d_args *p)
{
    uint32_t m, s, oy, ox, ky0, ky1, kx0, kx1, c0;
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (c0 = t->o0; c0 < t->o1;) {
            const uint32_t rest = t->o1 - c0, width = rest < 64 ? rest : 64, nv = (width + 15) / 16;
            const __mmask16 last = (__mmask16)(width % 16 ? (1u << (width % 16)) - 1u : 0xFFFFu);
            const float *bc = b ? b + c0 : NULL;
            switch (nv) {
            case 1: dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 1, last); break;
            case 2: dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 2, last); break;
            case 3: dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 3, last); break;
            default: dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 4, last); break;
            }
            c0 += width;
        }
        if (p->act.act > ECNN_ACT_RELU && p->act.act != ECNN_ACT_CLIP) dw_act(yp + t->o0, t->o1 - t->o0, &p->act);
    }
}

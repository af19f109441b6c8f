/* AVX2 depthwise float conv (CONV_2D with group == C == O) over HWIO weights: channels in the
 * vector lanes, up to 32 of them (four ymm accumulators) per output pixel kept in registers
 * while the taps stream by. Each output sums its taps in the reference order ((ky, kx)
 * increasing, taps in the padding skipped), one F32_MAC each, then the bias: bit-identical to
 * the reference of the level (ecnn_conv2d_f32_ref_fma). */
#include "kernels/x86/x86.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_dw_avx2;

/* The activations other than none, Relu and Clip, in place: the reference's scalar loop. */
static NOINLINE void dw_act(float *yp, uint32_t count, const ecnn_act_params *act)
{
    ecnn_activation_f32_ref(yp, yp, count, act);
}

/* `nv` vectors of 8 channels (the last under `mask` when `masked`) of one output pixel: taps
 * [ky0, ky1) x [kx0, kx1); xs: the sample's input at the block's first channel, w and b too. */
static ALWAYS_INLINE void dw_pixel(float *yp, const float *xs, const float *w, const float *b,
                                   const ecnn_conv2d_args *p, uint32_t oy, uint32_t ox, uint32_t ky0, uint32_t ky1,
                                   uint32_t kx0, uint32_t kx1, const uint32_t nv, const int masked, __m256i mask)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 a[4];
    uint32_t ky, kx, v;
    for (v = 0; v < nv; v++) a[v] = zero;
    for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
            const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
            const float *wp = w + ((size_t)ky * p->kw + kx) * p->o;
            for (v = 0; v < nv; v++) {
                const int part = masked && v == nv - 1;
                const __m256 xv = part ? _mm256_maskload_ps(xp + 8 * v, mask) : _mm256_loadu_ps(xp + 8 * v);
                const __m256 wv = part ? _mm256_maskload_ps(wp + 8 * v, mask) : _mm256_loadu_ps(wp + 8 * v);
                a[v] = F32_MAC(a[v], xv, wv);
            }
        }
    for (v = 0; v < nv; v++) {
        const int part = masked && v == nv - 1;
        if (b) a[v] = _mm256_add_ps(a[v], part ? _mm256_maskload_ps(b + 8 * v, mask) : _mm256_loadu_ps(b + 8 * v));
        if (p->act.act == ECNN_ACT_RELU) {
            a[v] = _mm256_max_ps(a[v], zero);     /* +0 for NaN and -0, as v > 0 ? v : 0 */
        } else if (p->act.act == ECNN_ACT_CLIP) { /* v when NaN or equal, as the reference */
            a[v] = _mm256_min_ps(_mm256_set1_ps(p->act.act_p1), _mm256_max_ps(_mm256_set1_ps(p->act.act_p0), a[v]));
        }
        if (part)
            _mm256_maskstore_ps(yp + 8 * v, mask, a[v]);
        else
            _mm256_storeu_ps(yp + 8 * v, a[v]);
    }
}

void ecnn_conv2d_f32_dw_avx2(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                             const ecnn_conv2d_args *p)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint32_t m, s, oy, ox, ky0, ky1, kx0, kx1, c0;
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->o);
        for (c0 = t->o0; c0 < t->o1;) {
            const uint32_t rest = t->o1 - c0;
            const float *bc = b ? b + c0 : NULL;
            if (rest >= 32) {
                dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 4, 0, lane);
                c0 += 32;
            } else if (rest >= 8) {
                const uint32_t nv = rest / 8;
                if (nv == 3)
                    dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 3, 0, lane);
                else if (nv == 2)
                    dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 2, 0, lane);
                else
                    dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 1, 0, lane);
                c0 += nv * 8;
            } else {
                const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), lane);
                dw_pixel(yp + c0, xs + c0, w + c0, bc, p, oy, ox, ky0, ky1, kx0, kx1, 1, 1, mask);
                c0 += rest;
            }
        }
        if (p->act.act > ECNN_ACT_RELU && p->act.act != ECNN_ACT_CLIP) dw_act(yp + t->o0, t->o1 - t->o0, &p->act);
    }
}

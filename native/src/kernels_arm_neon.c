/* ARM NEON (AArch64) versions of the fast kernels (simd.h picks them when the compiler
 * targets AArch64 with NEON; to be run under qemu / on a Raspberry Pi by the edge targets).
 *
 * Float (ECNN_LAYOUT_FC_PANEL16 and conv HWIO): each output summed in the reference order
 * with one ecnn_mac per term (vfmaq_f32: AArch64 always has FMA), bit-identical to it.
 *
 * int8 (ECNN_LAYOUT_FC_PANEL8X4, weight zero points 0): with the dot product extension
 * (__ARM_FEATURE_DOTPROD) a 16-byte half of a weight group (4 outputs x 4 k) meets the 4
 * inputs in one vdotq_s32, straight into 4 int32 output lanes. sdot multiplies int8 by
 * int8, so x enters as int8 (uint8 x as x - 128) and the zero point is corrected once:
 * sum (x - zx) w = sum x' w - (zx - off) sum w, with sum w from a dot product with ones. All
 * in wrapping int32 lanes: exact whenever the true sum fits int32 (checked by the loader).
 * Without the extension the portable C kernel runs. */
#include "simd.h"

#ifdef ECNN_SIMD_NEON
#include <arm_neon.h>
#include <string.h>

#define F32_TILE 4u

/* acc + x * w on 4 lanes, rounded as ecnn_mac. */
#ifdef ECNN_FUSED_MAC
#define F32_MAC(acc, x, w) vfmaq_f32(acc, x, w)
#else
#define F32_MAC(acc, x, w) vaddq_f32(acc, vmulq_f32(x, w))
#endif

static inline void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w, uint32_t k,
                            uint32_t ns, const float *bias, uint32_t width)
{
    float32x4_t a[F32_TILE][4];
    uint32_t s, i, j;
    for (s = 0; s < F32_TILE; s++)
        for (j = 0; j < 4; j++) a[s][j] = vdupq_n_f32(0.0f);
    for (i = 0; i < k; i++) {
        const float *wr = w + (size_t)i * 16;
        const float32x4_t w0 = vld1q_f32(wr), w1 = vld1q_f32(wr + 4), w2 = vld1q_f32(wr + 8), w3 = vld1q_f32(wr + 12);
        for (s = 0; s < ns; s++) {
            const float32x4_t xb = vdupq_n_f32(x[s * xstride + i]);
            a[s][0] = F32_MAC(a[s][0], xb, w0);
            a[s][1] = F32_MAC(a[s][1], xb, w1);
            a[s][2] = F32_MAC(a[s][2], xb, w2);
            a[s][3] = F32_MAC(a[s][3], xb, w3);
        }
    }
    for (s = 0; s < ns; s++) {
        float t[16];
        for (j = 0; j < 4; j++) {
            float32x4_t v = a[s][j];
            if (bias) {
                float bt[4] = {0, 0, 0, 0};
                const uint32_t lo = j * 4;
                if (lo < width) memcpy(bt, bias + lo, (width - lo < 4 ? width - lo : 4) * sizeof(float));
                v = vaddq_f32(v, vld1q_f32(bt));
            }
            vst1q_f32(t + j * 4, v);
        }
        memcpy(y + s * ystride, t, width * sizeof(float));
    }
}

void ecnn_fc_f32_panel16_neon(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    const uint32_t panels = (o + 15) / 16;
    uint32_t p, s0;
    size_t i;
    for (p = 0; p < panels; p++) {
        const uint32_t o0 = p * 16, width = o - o0 < 16 ? o - o0 : 16;
        for (s0 = 0; s0 < n; s0 += F32_TILE)
            f32_tile(y + (size_t)s0 * o + o0, o, x + (size_t)s0 * k, k, w + (size_t)p * k * 16, k,
                     n - s0 < F32_TILE ? n - s0 : F32_TILE, b ? b + o0 : NULL, width);
    }
    if (act->act != 0) /* ECNN_ACT_NONE */
        for (i = 0; i < (size_t)n * o; i++) y[i] = ecnn_apply_act(y[i], act);
}

void ecnn_conv2d_f32_hwio_neon(float *y, const float *x, const float *w, const float *b, uint32_t n,
                               const ecnn_conv2d_args *p)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group;
    uint32_t s, oy, ox, ky, kx, c, g, o0, l;
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            uint32_t ky0, ky1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox++) {
                float *yp = y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->o;
                uint32_t kx0, kx1;
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (g = 0; g < p->group; g++)
                    for (o0 = g * og; o0 < (g + 1) * og; o0 += 8) {
                        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
                        float out[8];
                        for (ky = ky0; ky < ky1; ky++) {
                            const size_t iy = (size_t)oy * p->stride_h + (size_t)ky * p->dilation_h - p->pad_top;
                            for (kx = kx0; kx < kx1; kx++) {
                                const size_t ix = (size_t)ox * p->stride_w + (size_t)kx * p->dilation_w - p->pad_left;
                                const float *xp = xs + (iy * p->w + ix) * p->c + (size_t)g * cg;
                                const float *wk = w + ((size_t)ky * p->kw + kx) * cg * p->o + o0;
                                for (c = 0; c < cg; c++) {
                                    const float32x4_t xb = vdupq_n_f32(xp[c]);
                                    a0 = F32_MAC(a0, xb, vld1q_f32(wk + (size_t)c * p->o));
                                    a1 = F32_MAC(a1, xb, vld1q_f32(wk + (size_t)c * p->o + 4));
                                }
                            }
                        }
                        if (b) {
                            a0 = vaddq_f32(a0, vld1q_f32(b + o0));
                            a1 = vaddq_f32(a1, vld1q_f32(b + o0 + 4));
                        }
                        vst1q_f32(out, a0);
                        vst1q_f32(out + 4, a1);
                        for (l = 0; l < 8; l++) yp[o0 + l] = ecnn_apply_act(out[l], &p->act);
                    }
            }
        }
    }
}

#ifdef __ARM_FEATURE_DOTPROD
void ecnn_fc_q_panel8x4_neon(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                             uint32_t o, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (o + 7) / 8, groups = (k + 3) / 4;
    /* x enters sdot as int8: int8 x as is, uint8 x shifted by -128 (flip the top bit). */
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const uint32_t zx_shifted = (uint32_t)(q->x_zero_point - (is_u8 ? 128 : 0));
    const int8x16_t ones = vdupq_n_s8(1);
    uint32_t s, p, g, l;
    for (s = 0; s < n; s++) {
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * k;
        for (p = 0; p < panels; p++) {
            const int8_t *wp = (const int8_t *)w + (size_t)p * 8 * groups * 4;
            const uint32_t o0 = p * 8, width = o - o0 < 8 ? o - o0 : 8;
            int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0), wlo = vdupq_n_s32(0), whi = vdupq_n_s32(0);
            int32_t sums[8], wsum[8];
            for (g = 0; g < groups; g++) {
                const int8x16_t w0 = vld1q_s8(wp + (size_t)g * 32), w1 = vld1q_s8(wp + (size_t)g * 32 + 16);
                uint8_t t[16];
                int8x16_t xq;
                const uint32_t have = k - g * 4 < 4 ? k - g * 4 : 4;
                memset(t, 0, sizeof t); /* past K the weights are 0: any x will do */
                memcpy(t, xs + (size_t)g * 4, have);
                for (l = 0; l < 4; l++) t[l] = (uint8_t)(t[l] ^ (is_u8 ? 0x80 : 0));
                xq = vreinterpretq_s8_s32(vdupq_n_s32((int32_t)((uint32_t)t[0] | (uint32_t)t[1] << 8 |
                                                                (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24)));
                lo = vdotq_s32(lo, w0, xq);
                hi = vdotq_s32(hi, w1, xq);
                wlo = vdotq_s32(wlo, w0, ones);
                whi = vdotq_s32(whi, w1, ones);
            }
            vst1q_s32(sums, lo);
            vst1q_s32(sums + 4, hi);
            vst1q_s32(wsum, wlo);
            vst1q_s32(wsum + 4, whi);
            for (l = 0; l < 8; l++) /* wrapping uint32 arithmetic: exact when the result fits int32 */
                sums[l] = (int32_t)((uint32_t)sums[l] - zx_shifted * (uint32_t)wsum[l]);
            ecnn_q_store_outputs(y, (size_t)s * o + o0, sums, width, o0, b, q);
        }
    }
}
#else
void ecnn_fc_q_panel8x4_neon(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                             uint32_t o, const ecnn_qlinear_params *q)
{
    ecnn_fc_q_panel8x4_portable(y, x, w, b, n, k, o, q);
}
#endif
#else
typedef int ecnn_no_neon; /* ISO C forbids an empty translation unit */
#endif

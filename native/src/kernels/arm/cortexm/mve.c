/* int8 kernels for Cortex-M cores with the M-profile Vector Extension (Helium: M55, M85), on
 * 128-bit vectors of 4 int32 accumulators. The sums are the reference's exact int32 ones and
 * the requantization is the shared one (kernels_i8.h, onnxruntime's float rule), so the outputs
 * are the reference kernels' bit for bit. Selected by the op configs' ECNN_ISA_MVE rows. */
#include "kernels/arm/cortexm/cortexm.h"

#if defined(__ARM_FEATURE_MVE)
#include <arm_mve.h>
#include <string.h>

static inline uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* acc[o] = sum_j xk[2j] * wc[(j*c8 + o)*2] + xk[2j+1] * wc[(j*c8 + o)*2 + 1]: one vector holds
 * the weight pairs of 4 channels (w(o,0), w(o,1), w(o+1,0), ...); against the x pair repeated
 * in every lane, VMULLB widens and multiplies the first terms, VMULLT the second ones, each
 * giving 4 int32 products, one lane per channel. */
void ecnn_conv_q_dot_mve(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o, j;
    for (o = 0; o < c8; o += 8) {
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0); /* channels o..o+3, o+4..o+7 */
        const int16_t *w = wc + (size_t)o * 2;
        for (j = 0; j < pairs; j++) {
            const int16x8_t x = vreinterpretq_s16_u32(vdupq_n_u32(load32(xk + 2 * j)));
            const int16x8_t w0 = vld1q_s16(w), w1 = vld1q_s16(w + 8);
            lo = vaddq_s32(lo, vmullbq_int_s16(w0, x));
            hi = vaddq_s32(hi, vmullbq_int_s16(w1, x));
            lo = vaddq_s32(lo, vmulltq_int_s16(w0, x));
            hi = vaddq_s32(hi, vmulltq_int_s16(w1, x));
            w += (size_t)c8 * 2;
        }
        vst1q_s32(acc + o, lo);
        vst1q_s32(acc + o + 4, hi);
    }
}

/* ecnn_q_store_scaled_portable's result, 4 outputs a step: the requantization of kernels_i8.h
 * (ecnn_requantize) lane by lane, the same float operations in the same order (the clamps as
 * compare and select, as the C conditionals), VCVTN rounding half to even as lrintf; the last
 * count % 4 outputs by the scalar code. */
void ecnn_q_store_scaled_mve(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                             const int32_t *bias, const ecnn_qlinear_params *q)
{
    const float32x4_t lo = vdupq_n_f32((float)(q->y_min - q->y_zero_point));
    const float32x4_t hi = vdupq_n_f32((float)(q->y_max - q->y_zero_point));
    const int32x4_t zy = vdupq_n_s32(q->y_zero_point);
    uint32_t l;
    for (l = 0; l + 4 <= count; l += 4) {
        int32x4_t a = vld1q_s32(acc + l);
        float32x4_t v;
        int32x4_t r;
        if (bias) a = vaddq_s32(a, vld1q_s32(bias + l));
        v = vmulq_f32(vcvtq_f32_s32(a), vld1q_f32(scales + l));
        v = vpselq_f32(v, lo, vcmpgtq_f32(v, lo));
        v = vpselq_f32(v, hi, vcmpltq_f32(v, hi));
        r = vaddq_s32(vcvtnq_s32_f32(v), zy);
        if (q->y_type == ECNN_Q_U8)
            vstrbq_u32((uint8_t *)y + first + l, vreinterpretq_u32_s32(r));
        else
            vstrbq_s32((int8_t *)y + first + l, r);
    }
    ecnn_q_store_scaled_tail(y, first, acc, l, count, scales, bias, q);
}

/* The depthwise sums of one output pixel (kernels_i8.h ecnn_conv_q_dw_kernel), 8 channels a
 * pass in two vectors of int32 accumulators: per tap, the codes and the weights are loaded
 * widened to int32 lanes (VLDRB, VLDRH), centred, multiplied and added. */
void ecnn_conv_q_dw_mve(int32_t *acc, const void *x, const size_t *xoff, const uint32_t *tap, uint32_t taps,
                        const int16_t *wc, uint32_t wstride, uint32_t count, const ecnn_qlinear_params *q)
{
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const int32_t zx = q->x_zero_point;
    uint32_t c, i;
    for (c = 0; c + 8 <= count; c += 8) {
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
        for (i = 0; i < taps; i++) {
            const int16_t *w = wc + (size_t)tap[i] * wstride + c;
            int32x4_t x0, x1;
            if (unsigned_codes) {
                const uint8_t *xp = (const uint8_t *)x + xoff[i] + c;
                x0 = vreinterpretq_s32_u32(vldrbq_u32(xp));
                x1 = vreinterpretq_s32_u32(vldrbq_u32(xp + 4));
            } else {
                const int8_t *xp = (const int8_t *)x + xoff[i] + c;
                x0 = vldrbq_s32(xp);
                x1 = vldrbq_s32(xp + 4);
            }
            lo = vaddq_s32(lo, vmulq_s32(vsubq_n_s32(x0, zx), vldrhq_s32(w)));
            hi = vaddq_s32(hi, vmulq_s32(vsubq_n_s32(x1, zx), vldrhq_s32(w + 4)));
        }
        vst1q_s32(acc + c, lo);
        vst1q_s32(acc + c + 4, hi);
    }
    for (; c < count; c++) { /* the last count % 8 channels */
        int32_t a = 0;
        for (i = 0; i < taps; i++) {
            const size_t at = xoff[i] + c;
            a += ((unsigned_codes ? (int32_t)((const uint8_t *)x)[at] : (int32_t)((const int8_t *)x)[at]) - zx) *
                 wc[(size_t)tap[i] * wstride + c];
        }
        acc[c] = a;
    }
}

/* One tap's codes centred as int16 (kernels_i8.h ecnn_conv_q_widen_kernel), 8 a step: VLDRB
 * widening to int16 lanes, a subtraction, a store. */
void ecnn_conv_q_widen_mve(int16_t *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q)
{
    const int16_t zx = (int16_t)q->x_zero_point;
    uint32_t i;
    if (q->x_type == ECNN_Q_U8) {
        const uint8_t *x8 = (const uint8_t *)x;
        for (i = 0; i + 8 <= count; i += 8)
            vst1q_s16(xk + i, vsubq_n_s16(vreinterpretq_s16_u16(vldrbq_u16(x8 + i)), zx));
        for (; i < count; i++) xk[i] = (int16_t)((int32_t)x8[i] - zx);
    } else {
        const int8_t *x8 = (const int8_t *)x;
        for (i = 0; i + 8 <= count; i += 8) vst1q_s16(xk + i, vsubq_n_s16(vldrbq_s16(x8 + i), zx));
        for (; i < count; i++) xk[i] = (int16_t)((int32_t)x8[i] - zx);
    }
}

/* ecnn_fc_q_panel8x4_portable's contract (kernels_i8.h): in a group of 4 inputs, weight t of 4
 * outputs is every fourth byte of the panel, one gathering load widening to int32; each
 * centred input multiplies it into the outputs' accumulators (VMLA by a scalar). */
void ecnn_fc_q_panel8x4_mve(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
                            const ecnn_tile *tile, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (tile->o1 + ECNN_PANEL_I8 - 1) / ECNN_PANEL_I8;
    const uint32_t groups = (k + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8;
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const uint32x4_t every4 = vidupq_n_u32(0, 4); /* 0, 4, 8, 12 */
    const int8_t *w8 = (const int8_t *)w;
    const uint8_t *x8 = (const uint8_t *)x;
    uint32_t p, s, g, t;
    (void)n; /* samples and outputs come from the tile (o0: a multiple of the panel) */
    for (s = tile->m0; s < tile->m1; s++) {
        const uint8_t *xs = x8 + (size_t)s * k;
        for (p = tile->o0 / ECNN_PANEL_I8; p < panels; p++) {
            const int8_t *wp = w8 + (size_t)p * ECNN_PANEL_I8 * groups * ECNN_GROUP_I8;
            const uint32_t o0 = p * ECNN_PANEL_I8;
            const uint32_t width = tile->o1 - o0 < ECNN_PANEL_I8 ? tile->o1 - o0 : ECNN_PANEL_I8;
            int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0); /* outputs o0..o0+3, o0+4..o0+7 */
            int32_t acc[ECNN_PANEL_I8];
            for (g = 0; g < groups; g++) {
                const int8_t *wg = wp + (size_t)g * ECNN_PANEL_I8 * ECNN_GROUP_I8;
                /* past K the padded weights are 0: take x - zx = 0 there too */
                for (t = 0; t < ECNN_GROUP_I8 && g * ECNN_GROUP_I8 + t < k; t++) {
                    const uint8_t code = xs[g * ECNN_GROUP_I8 + t];
                    const int32_t xc = (unsigned_codes ? (int32_t)code : (int32_t)(int8_t)code) - q->x_zero_point;
                    lo = vmlaq_n_s32(lo, vldrbq_gather_offset_s32(wg + t, every4), xc);
                    hi = vmlaq_n_s32(hi, vldrbq_gather_offset_s32(wg + 16 + t, every4), xc);
                }
            }
            vst1q_s32(acc, lo);
            vst1q_s32(acc + 4, hi);
            ecnn_q_store_outputs(y, (size_t)s * o + o0, acc, width, o0, b, q);
        }
    }
}

#endif /* __ARM_FEATURE_MVE */

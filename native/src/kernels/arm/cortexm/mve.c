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

#define PIXELS ECNN_CONV_Q_DIRECT_PIXELS

/* Term t of the 3 pixels (4 bytes apart from xt) as int32. */
static inline int32_t term16(const uint8_t *xt)
{
    int16_t v;
    memcpy(&v, xt, sizeof v);
    return v;
}

/* Row t (the weights at `row`) of 8 channels into the 3 pixels' accumulators (a0 a1 | b0 b1 |
 * c0 c1): the codes loaded widened to int32 lanes (VLDRB.S32; predicated by lo, hi past count)
 * straight from the model, each pixel's term (xt) multiplied in by VMLA (vector by scalar). A
 * macro: GCC 12 keeps the accumulators of an inlined function's array in memory. */
#define DOT_ROW(row, xt, predicated)                                                                                   \
    do {                                                                                                               \
        const int32x4_t w0_ = (predicated) ? vldrbq_z_s32((row), lo) : vldrbq_s32(row);                                \
        const int32x4_t w1_ = (predicated) ? vldrbq_z_s32((row) + 4, hi) : vldrbq_s32((row) + 4);                      \
        const int32_t x0_ = term16(xt), x1_ = term16((xt) + 4), x2_ = term16((xt) + 8);                                \
        a0 = vmlaq_n_s32(a0, w0_, x0_);                                                                                \
        a1 = vmlaq_n_s32(a1, w1_, x0_);                                                                                \
        b0 = vmlaq_n_s32(b0, w0_, x1_);                                                                                \
        b1 = vmlaq_n_s32(b1, w1_, x1_);                                                                                \
        c0 = vmlaq_n_s32(c0, w0_, x2_);                                                                                \
        c1 = vmlaq_n_s32(c1, w1_, x2_);                                                                                \
    } while (0)

/* 8 channels (the first `left` of them if predicated) of the 3 pixels' sums (DOT_ROW), a term
 * pair a step, into acc[p * count]. */
static inline __attribute__((always_inline)) void dot_channels(int32_t *acc, const uint32_t *xw, const int8_t *w,
                                                               uint32_t wstride, uint32_t terms, uint32_t count,
                                                               uint32_t left, int predicated)
{
    const mve_pred16_t lo = vctp32q(left), hi = vctp32q(left > 4 ? left - 4 : 0);
    const uint8_t *xt = (const uint8_t *)xw;
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0;
    uint32_t t;
    for (t = 0; t + 2 <= terms; t += 2, w += 2 * (size_t)wstride, xt += 4 * PIXELS) {
        const int8_t *next = w + wstride;
        DOT_ROW(w, xt, predicated);
        /* the next row's loads after this row's products: 6 accumulators and 2 rows fill the 8
         * vector registers, and GCC 12 would load the next row early and spill an accumulator */
        __asm__("" : "+r"(next) : "w"(c1));
        DOT_ROW(next, xt + 2, predicated);
    }
    if (t < terms) DOT_ROW(w, xt, predicated);
    vstrwq_p_s32(acc, a0, lo);
    vstrwq_p_s32(acc + 4, a1, hi);
    vstrwq_p_s32(acc + count, b0, lo);
    vstrwq_p_s32(acc + count + 4, b1, hi);
    vstrwq_p_s32(acc + 2 * count, c0, lo);
    vstrwq_p_s32(acc + 2 * count + 4, c1, hi);
}

/* kernels_i8.h ecnn_conv_q_dot_direct_kernel for int8 weights, 8 channels of the 3 pixels a pass
 * in 6 vectors of int32 accumulators (dot_channels); the last count % 8 channels predicated. */
void ecnn_conv_q_dot_direct_mve(int32_t *acc, const uint32_t *xw, const void *w, uint32_t wstride, uint32_t terms,
                                uint32_t count, const ecnn_qlinear_params *q)
{
    const int8_t *w8 = (const int8_t *)w;
    uint32_t o;
    (void)q;
    for (o = 0; o + 8 <= count; o += 8) dot_channels(acc + o, xw, w8 + o, wstride, terms, count, 8, 0);
    if (o < count) dot_channels(acc + o, xw, w8 + o, wstride, terms, count, count - o, 1);
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

/* The depthwise sums of one output pixel over the int8 weights in place (kernels_i8.h
 * ecnn_conv_q_dw_direct_kernel), 8 channels a pass in two vectors of int32 accumulators: per
 * tap, the codes and the weights are loaded widened to int32 lanes (VLDRB), the codes
 * centred, multiplied and added. */
void ecnn_conv_q_dw_direct_mve(int32_t *acc, const void *x, const size_t *xoff, const void *w, const size_t *woff,
                               uint32_t taps, uint32_t count, const ecnn_qlinear_params *q)
{
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const int32_t zx = q->x_zero_point;
    const int8_t *w8 = (const int8_t *)w;
    uint32_t c, i;
    for (c = 0; c + 8 <= count; c += 8) {
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
        for (i = 0; i < taps; i++) {
            const int8_t *wt = w8 + woff[i] + c;
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
            lo = vaddq_s32(lo, vmulq_s32(vsubq_n_s32(x0, zx), vldrbq_s32(wt)));
            hi = vaddq_s32(hi, vmulq_s32(vsubq_n_s32(x1, zx), vldrbq_s32(wt + 4)));
        }
        vst1q_s32(acc + c, lo);
        vst1q_s32(acc + c + 4, hi);
    }
    for (; c < count; c++) { /* the last count % 8 channels */
        int32_t a = 0;
        for (i = 0; i < taps; i++) {
            const size_t at = xoff[i] + c;
            a += ((unsigned_codes ? (int32_t)((const uint8_t *)x)[at] : (int32_t)((const int8_t *)x)[at]) - zx) *
                 w8[woff[i] + c];
        }
        acc[c] = a;
    }
}

/* A run of one pixel's codes centred into dot_direct's interleaved terms (kernels_i8.h
 * ecnn_conv_q_widen_kernel), 8 a step: VLDRB widening to int16 lanes, a subtraction, and a
 * scattering store of the 4 pairs, PIXELS words apart. */
void ecnn_conv_q_widen_mve(void *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q)
{
    const int16_t zx = (int16_t)q->x_zero_point;
    const uint32x4_t pair_at = vmulq_n_u32(vidupq_n_u32(0, 1), 4 * PIXELS); /* bytes */
    uint8_t *out = (uint8_t *)xk;
    uint32_t i;
    for (i = 0; i + 8 <= count; i += 8, out += 16 * PIXELS) {
        const int16x8_t v = q->x_type == ECNN_Q_U8
                                ? vsubq_n_s16(vreinterpretq_s16_u16(vldrbq_u16((const uint8_t *)x + i)), zx)
                                : vsubq_n_s16(vldrbq_s16((const int8_t *)x + i), zx);
        vstrwq_scatter_offset_s32((int32_t *)(void *)out, pair_at, vreinterpretq_s32_s16(v));
    }
    for (; i < count; i++) {
        const uint8_t code = ((const uint8_t *)x)[i];
        const int16_t v = (int16_t)((q->x_type == ECNN_Q_U8 ? (int32_t)code : (int32_t)(int8_t)code) - zx);
        memcpy(out + (i % 8 / 2) * 4 * PIXELS + (i % 2) * 2, &v, sizeof v);
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

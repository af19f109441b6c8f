/* int8 kernels for Cortex-M cores with the DSP extension (Armv7E-M: M4, M7; Armv8-M Mainline
 * with DSP: M33, M55): SMLAD, two 16 x 16-bit products added to a 32-bit accumulator in one
 * instruction, on operands widened to int16 pairs by SXTB16 / UXTB16 (the scheme of CMSIS-NN's
 * arm_nn_mat_mult_kernel_s8_s16). The sums are the reference's exact int32 ones and the
 * requantization is the shared one (kernels_i8.h, onnxruntime's float rule), so the outputs are
 * the reference kernels' bit for bit. Selected by the op configs' ECNN_ISA_DSP rows. */
#include "kernels/arm/cortexm/cortexm.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#include <string.h>

/* One 32-bit word from any address: Armv7E-M / v8-M LDR allows unaligned addresses, and the
 * copy keeps the C aliasing rules (the compiler emits one LDR). */
static inline uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* acc[o] = sum_j xk[2j] * wc[(j*c8 + o)*2] + xk[2j+1] * wc[(j*c8 + o)*2 + 1]: each term pair of
 * x and each channel's weight pair are one word, so a pair of MACs is one SMLAD. Eight channels
 * a pass keep eight accumulators in registers and load each x pair once (22 instructions for
 * 16 MACs with GCC 12 -O2). */
void ecnn_conv_q_dot_dsp(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t o, j;
    for (o = 0; o < c8; o += 8) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        const int16_t *w = wc + (size_t)o * 2;
        const int16_t *xp = xk;
        for (j = 0; j < pairs; j++) {
            const int16x2_t x = (int16x2_t)load32(xp);
            a0 = __smlad(x, (int16x2_t)load32(w), a0);
            a1 = __smlad(x, (int16x2_t)load32(w + 2), a1);
            a2 = __smlad(x, (int16x2_t)load32(w + 4), a2);
            a3 = __smlad(x, (int16x2_t)load32(w + 6), a3);
            a4 = __smlad(x, (int16x2_t)load32(w + 8), a4);
            a5 = __smlad(x, (int16x2_t)load32(w + 10), a5);
            a6 = __smlad(x, (int16x2_t)load32(w + 12), a6);
            a7 = __smlad(x, (int16x2_t)load32(w + 14), a7);
            xp += 2;
            w += (size_t)c8 * 2;
        }
        acc[o] = a0;
        acc[o + 1] = a1;
        acc[o + 2] = a2;
        acc[o + 3] = a3;
        acc[o + 4] = a4;
        acc[o + 5] = a5;
        acc[o + 6] = a6;
        acc[o + 7] = a7;
    }
}

/* x rotated right by 8 bits (SXTB16's rotated form takes it in the same instruction). */
static inline uint32_t ror8(uint32_t x)
{
    return x >> 8 | x << 24;
}

/* lrintf(v) for |v| < 2^31 in the default rounding mode (round half to even): one VCVTR with an
 * FPU, which converts in the FPSCR's mode, instead of a call to the C library's lrintf. */
static inline int32_t round_to_int(float v)
{
#if defined(__ARM_FP) && (__ARM_FP & 4)
    float r;
    int32_t i;
    __asm__("vcvtr.s32.f32 %0, %1" : "=t"(r) : "t"(v));
    memcpy(&i, &r, sizeof i);
    return i;
#else
    return (int32_t)lrintf(v);
#endif
}

/* ecnn_q_store_scaled_portable's result: the requantization of kernels_i8.h (ecnn_requantize),
 * the same float operations in the same order, with the rounding of round_to_int. */
void ecnn_q_store_scaled_dsp(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                             const int32_t *bias, const ecnn_qlinear_params *q)
{
    const float lo = (float)(q->y_min - q->y_zero_point), hi = (float)(q->y_max - q->y_zero_point);
    const int32_t zy = q->y_zero_point;
    uint32_t l;
    for (l = 0; l < count; l++) {
        float v = (float)(bias ? acc[l] + bias[l] : acc[l]);
        int32_t r;
        v = v * scales[l];
        v = v > lo ? v : lo;
        v = v < hi ? v : hi;
        r = round_to_int(v) + zy;
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)r;
        else
            ((int8_t *)y)[first + l] = (int8_t)r;
    }
}

/* Four int8 codes as centred int16 pairs: *even = (x0 - zx, x2 - zx), *odd = (x1 - zx, x3 - zx).
 * |x - zx| <= 255 fits int16, so SSUB16's lanes are exact. */
static inline void centred_pairs(uint32_t x4, int unsigned_codes, uint32_t zx2, uint32_t *even, uint32_t *odd)
{
    if (unsigned_codes) {
        *even = (uint32_t)__ssub16((int16x2_t)__uxtb16(x4), (int16x2_t)zx2);
        *odd = (uint32_t)__ssub16((int16x2_t)__uxtb16(ror8(x4)), (int16x2_t)zx2);
    } else {
        *even = (uint32_t)__ssub16(__sxtb16(x4), (int16x2_t)zx2);
        *odd = (uint32_t)__ssub16(__sxtb16(ror8(x4)), (int16x2_t)zx2);
    }
}

/* (lo & 0xFFFF) | hi << 16 and (hi & 0xFFFF0000) | lo >> 16: PKHBT and PKHTB (GCC 12's
 * arm_acle.h has no intrinsic for them). */
static inline uint32_t pack_bottoms(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}
static inline uint32_t pack_tops(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* widen_codes with unsigned_codes constant (inlined twice): one widening per loop. */
static inline __attribute__((always_inline)) uint32_t widen_codes(int16_t *xk, const uint8_t *x8, uint32_t count,
                                                                  uint32_t zx2, int unsigned_codes)
{
    uint32_t i;
    for (i = 0; i + 4 <= count; i += 4) {
        uint32_t xe, xo, lo, hi; /* (x0, x2), (x1, x3) -> (x0, x1), (x2, x3) */
        centred_pairs(load32(x8 + i), unsigned_codes, zx2, &xe, &xo);
        lo = pack_bottoms(xe, xo);
        hi = pack_tops(xe, xo);
        memcpy(xk + i, &lo, sizeof lo);
        memcpy(xk + i + 2, &hi, sizeof hi);
    }
    return i;
}

/* One tap's codes centred as int16 (kernels_i8.h ecnn_conv_q_widen_kernel), 4 a step: one word
 * of codes, widened into the even and odd pairs, packed back in order. */
void ecnn_conv_q_widen_dsp(int16_t *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q)
{
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const uint32_t zx2 = ((uint32_t)q->x_zero_point & 0xFFFFu) * 0x10001u;
    const uint8_t *x8 = (const uint8_t *)x;
    uint32_t i = unsigned_codes ? widen_codes(xk, x8, count, zx2, 1) : widen_codes(xk, x8, count, zx2, 0);
    for (; i < count; i++)
        xk[i] = (int16_t)((unsigned_codes ? (int32_t)x8[i] : (int32_t)(int8_t)x8[i]) - q->x_zero_point);
}

/* One tap's products added to acc[0..count) (count a multiple of 4): the 4 input codes of 4
 * channels are one word, widened and centred into the even and odd channel pairs; their 4
 * weights two words; SMLABB / SMLABT / SMLATB / SMLATT multiply the matching 16-bit halves.
 * Inlined with unsigned_codes constant: one widening per loop. */
static inline __attribute__((always_inline)) void dw_tap(int32_t *acc, const uint8_t *x, const int16_t *w,
                                                         uint32_t count, uint32_t zx2, int unsigned_codes)
{
    uint32_t c;
    for (c = 0; c < count; c += 4) {
        const uint32_t w01 = load32(w + c), w23 = load32(w + c + 2);
        uint32_t xe, xo; /* (x0, x2), (x1, x3), centred */
        centred_pairs(load32(x + c), unsigned_codes, zx2, &xe, &xo);
        acc[c] = __smlabb((int32_t)xe, (int32_t)w01, acc[c]);
        acc[c + 1] = __smlabt((int32_t)xo, (int32_t)w01, acc[c + 1]);
        acc[c + 2] = __smlatb((int32_t)xe, (int32_t)w23, acc[c + 2]);
        acc[c + 3] = __smlatt((int32_t)xo, (int32_t)w23, acc[c + 3]);
    }
}

/* The depthwise sums of one output pixel (kernels_i8.h ecnn_conv_q_dw_kernel): tap by tap over
 * the channels (dw_tap), the last count % 4 channels in scalar code. */
void ecnn_conv_q_dw_dsp(int32_t *acc, const void *x, const size_t *xoff, const uint32_t *tap, uint32_t taps,
                        const int16_t *wc, uint32_t wstride, uint32_t count, const ecnn_qlinear_params *q)
{
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const uint32_t zx2 = ((uint32_t)q->x_zero_point & 0xFFFFu) * 0x10001u, count4 = count / 4 * 4;
    const uint8_t *x8 = (const uint8_t *)x;
    uint32_t c, i;
    for (c = 0; c < count; c++) acc[c] = 0;
    for (i = 0; i < taps; i++) {
        const int16_t *w = wc + (size_t)tap[i] * wstride;
        if (unsigned_codes)
            dw_tap(acc, x8 + xoff[i], w, count4, zx2, 1);
        else
            dw_tap(acc, x8 + xoff[i], w, count4, zx2, 0);
        for (c = count4; c < count; c++) {
            const uint8_t code = x8[xoff[i] + c];
            acc[c] += ((unsigned_codes ? (int32_t)code : (int32_t)(int8_t)code) - q->x_zero_point) * w[c];
        }
    }
}

/* ecnn_fc_q_panel8x4_portable's contract (kernels_i8.h): per group of 4 inputs, each output's
 * 4 weights are one word; SXTB16 splits it into the even and odd pairs that meet the input's. */
void ecnn_fc_q_panel8x4_dsp(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k, uint32_t o,
                            const ecnn_tile *tile, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (tile->o1 + ECNN_PANEL_I8 - 1) / ECNN_PANEL_I8;
    const uint32_t groups = (k + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8, full = k / ECNN_GROUP_I8;
    const int unsigned_codes = q->x_type == ECNN_Q_U8;
    const uint32_t zx2 = ((uint32_t)q->x_zero_point & 0xFFFFu) * 0x10001u;
    const int8_t *w8 = (const int8_t *)w;
    const uint8_t *x8 = (const uint8_t *)x;
    uint32_t p, s, g, l, t;
    (void)n; /* samples and outputs come from the tile (o0: a multiple of the panel) */
    for (s = tile->m0; s < tile->m1; s++) {
        for (p = tile->o0 / ECNN_PANEL_I8; p < panels; p++) {
            const int8_t *wp = w8 + (size_t)p * ECNN_PANEL_I8 * groups * ECNN_GROUP_I8;
            const uint32_t o0 = p * ECNN_PANEL_I8;
            const uint32_t width = tile->o1 - o0 < ECNN_PANEL_I8 ? tile->o1 - o0 : ECNN_PANEL_I8;
            {
                const uint8_t *xs = x8 + (size_t)s * k;
                int32_t acc[ECNN_PANEL_I8] = {0, 0, 0, 0, 0, 0, 0, 0};
                for (g = 0; g < groups; g++) {
                    const int8_t *wg = wp + (size_t)g * ECNN_PANEL_I8 * ECNN_GROUP_I8;
                    uint32_t x4, xe, xo;
                    if (g < full) {
                        x4 = load32(xs + (size_t)g * ECNN_GROUP_I8);
                        centred_pairs(x4, unsigned_codes, zx2, &xe, &xo);
                    } else { /* past K the padded weights are 0: take x - zx = 0 there too */
                        int16_t c[ECNN_GROUP_I8] = {0, 0, 0, 0};
                        for (t = 0; g * ECNN_GROUP_I8 + t < k; t++) {
                            const uint8_t code = xs[g * ECNN_GROUP_I8 + t];
                            c[t] =
                                (int16_t)((unsigned_codes ? (int32_t)code : (int32_t)(int8_t)code) - q->x_zero_point);
                        }
                        xe = ((uint32_t)(uint16_t)c[2] << 16) | (uint16_t)c[0];
                        xo = ((uint32_t)(uint16_t)c[3] << 16) | (uint16_t)c[1];
                    }
                    for (l = 0; l < ECNN_PANEL_I8; l++) {
                        const uint32_t w4 = load32(wg + l * 4);
                        acc[l] = __smlad((int16x2_t)xe, __sxtb16(w4), acc[l]);
                        acc[l] = __smlad((int16x2_t)xo, __sxtb16(ror8(w4)), acc[l]);
                    }
                }
                ecnn_q_store_outputs(y, (size_t)s * o + o0, acc, width, o0, b, q);
            }
        }
    }
}

#endif /* __ARM_FEATURE_DSP */

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

#define PIXELS ECNN_CONV_Q_DIRECT_PIXELS

/* A run of one pixel's codes centred into dot_direct's interleaved terms (kernels_i8.h
 * ecnn_conv_q_widen_kernel), 4 a step: one word of codes, widened into the even and odd pairs,
 * packed back into the pairs (x0, x1) and (x2, x3), PIXELS words apart. Inlined with
 * unsigned_codes constant. */
static inline __attribute__((always_inline)) void widen_codes(uint8_t *xk, const uint8_t *x8, uint32_t count,
                                                              const ecnn_qlinear_params *q, int unsigned_codes)
{
    const uint32_t zx2 = ((uint32_t)q->x_zero_point & 0xFFFFu) * 0x10001u;
    uint32_t i;
    for (i = 0; i + 4 <= count; i += 4, xk += 8 * PIXELS) {
        uint32_t xe, xo, lo, hi; /* (x0, x2), (x1, x3) -> (x0, x1), (x2, x3) */
        centred_pairs(load32(x8 + i), unsigned_codes, zx2, &xe, &xo);
        lo = pack_bottoms(xe, xo);
        hi = pack_tops(xe, xo);
        memcpy(xk, &lo, sizeof lo);
        memcpy(xk + 4 * PIXELS, &hi, sizeof hi);
    }
    for (; i < count; i++) {
        const int16_t v = (int16_t)((unsigned_codes ? (int32_t)x8[i] : (int32_t)(int8_t)x8[i]) - q->x_zero_point);
        memcpy(xk + (i % 4 / 2) * 4 * PIXELS + (i % 2) * 2, &v, sizeof v);
    }
}

void ecnn_conv_q_widen_dsp(void *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q)
{
    if (q->x_type == ECNN_Q_U8)
        widen_codes((uint8_t *)xk, (const uint8_t *)x, count, q, 1);
    else
        widen_codes((uint8_t *)xk, (const uint8_t *)x, count, q, 0);
}

/* One term pair of 2 channels (l = 0, 1) of the 3 pixels p, into a(2p + l): from the weight
 * pointer w (row t of the 2 channels' int8 codes at w, row t + 1 at w + stride; w moves 2 rows)
 * and the interleaved x pairs at xp (moves one pair). LDRH of the two rows' 2 codes, PKHBT
 * into (w0 w1 | w0' w1'), whose SXTB16 and SXTB16 ROR 8 are the channels' pairs (w(t),
 * w(t + 1)); one SMLAD per channel and pixel: 14 instructions for 12 MACs. In assembly: 6
 * accumulators, 4 temporaries and 4 pointers and bounds take the 14 registers, which GCC 12's
 * allocation of the same C spills. */
#define DOT_PAIR                                                                                                       \
    "ldrh %[w1], [%[w], %[stride]]\n\t"                                                                                \
    "ldrh %[w0], [%[w]]\n\t"                                                                                           \
    "add %[w], %[w], %[stride], lsl #1\n\t"                                                                            \
    "pkhbt %[w0], %[w0], %[w1], lsl #16\n\t"                                                                           \
    "sxtb16 %[w1], %[w0], ror #8\n\t"                                                                                  \
    "sxtb16 %[w0], %[w0]\n\t"                                                                                          \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t"                                                                               \
    "smlad %[a0], %[x0], %[w0], %[a0]\n\t"                                                                             \
    "smlad %[a1], %[x0], %[w1], %[a1]\n\t"                                                                             \
    "smlad %[a2], %[x1], %[w0], %[a2]\n\t"                                                                             \
    "smlad %[a3], %[x1], %[w1], %[a3]\n\t"                                                                             \
    "ldr %[x0], [%[xp]], #4\n\t"                                                                                       \
    "smlad %[a4], %[x0], %[w0], %[a4]\n\t"                                                                             \
    "smlad %[a5], %[x0], %[w1], %[a5]\n\t"
#define DOT_PAIR_OUTPUTS                                                                                               \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5), [w] "+r"(wp),            \
        [xp] "+r"(xp), [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1)

/* kernels_i8.h ecnn_conv_q_dot_direct_kernel for int8 weights: 2 channels of the 3 pixels a pass
 * (DOT_PAIR, two pairs a loop iteration where there are); no weight is copied. An odd last term
 * reads its row twice (stride 0): the x pair's second term is 0. */
void ecnn_conv_q_dot_direct_dsp(int32_t *acc, const uint32_t *xw, const void *w, uint32_t wstride, uint32_t terms,
                                uint32_t count, const ecnn_qlinear_params *q)
{
    const int8_t *w8 = (const int8_t *)w;
    const uint32_t pairs = terms / 2;
    uint32_t o, j, p;
    (void)q;
    for (o = 0; o + 2 <= count; o += 2) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0;
        const int8_t *wp = w8 + o;
        const uint32_t *xp = xw, *end = xw + PIXELS * (pairs & ~1u);
        uint32_t w0, w1, x0, x1;
        if (pairs >= 2)
            __asm__("1:\n\t" DOT_PAIR DOT_PAIR "cmp %[xp], %[end]\n\t"
                    "bne 1b"
                    : DOT_PAIR_OUTPUTS
                    : [stride] "r"(wstride), [end] "r"(end)
                    : "cc", "memory");
        if (pairs % 2) __asm__(DOT_PAIR:DOT_PAIR_OUTPUTS : [stride] "r"(wstride) : "memory");
        if (terms % 2) __asm__(DOT_PAIR:DOT_PAIR_OUTPUTS : [stride] "r"(0u) : "memory");
        acc[o] = a0, acc[o + 1] = a1;
        acc[count + o] = a2, acc[count + o + 1] = a3;
        acc[2 * count + o] = a4, acc[2 * count + o + 1] = a5;
    }
    for (; o < count; o++) /* an odd count's last channel */
        for (p = 0; p < PIXELS; p++) {
            int32_t sum = 0;
            for (j = 0; j < terms; j++) {
                int16_t xv;
                memcpy(&xv, (const uint8_t *)xw + (size_t)(j / 2) * 4 * PIXELS + p * 4 + (j % 2) * 2, sizeof xv);
                sum += xv * w8[(size_t)j * wstride + o];
            }
            acc[p * count + o] = sum;
        }
}

/* The depthwise sums of one output pixel over the int8 weights in place (kernels_i8.h
 * ecnn_conv_q_dw_direct_kernel), 4 channels a pass with their accumulators in registers: per tap, the
 * word of 4 codes widened and centred into the even and odd pairs (x0, x2), (x1, x3), the word
 * of 4 weights widened alike by SXTB16, and SMLABB / SMLATT multiply the matching halves.
 * Inlined with unsigned_codes constant. */
static inline __attribute__((always_inline)) void dw_channels(int32_t *acc, const uint8_t *x8, const size_t *xoff,
                                                              const int8_t *w8, const size_t *woff, uint32_t taps,
                                                              uint32_t count, uint32_t zx2, int unsigned_codes)
{
    uint32_t c, i;
    for (c = 0; c + 4 <= count; c += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < taps; i++) {
            const uint32_t w4 = load32(w8 + woff[i] + c);
            const int16x2_t we = __sxtb16(w4), wo = __sxtb16(ror8(w4));
            uint32_t xe, xo;
            centred_pairs(load32(x8 + xoff[i] + c), unsigned_codes, zx2, &xe, &xo);
            a0 = __smlabb((int32_t)xe, we, a0);
            a1 = __smlabb((int32_t)xo, wo, a1);
            a2 = __smlatt((int32_t)xe, we, a2);
            a3 = __smlatt((int32_t)xo, wo, a3);
        }
        acc[c] = a0;
        acc[c + 1] = a1;
        acc[c + 2] = a2;
        acc[c + 3] = a3;
    }
    for (; c < count; c++) { /* the last count % 4 channels */
        int32_t a = 0;
        for (i = 0; i < taps; i++) {
            const uint8_t code = x8[xoff[i] + c];
            a += ((unsigned_codes ? (int32_t)code : (int32_t)(int8_t)code) - (int32_t)(int16_t)zx2) * w8[woff[i] + c];
        }
        acc[c] = a;
    }
}

void ecnn_conv_q_dw_direct_dsp(int32_t *acc, const void *x, const size_t *xoff, const void *w, const size_t *woff,
                               uint32_t taps, uint32_t count, const ecnn_qlinear_params *q)
{
    const uint32_t zx2 = ((uint32_t)q->x_zero_point & 0xFFFFu) * 0x10001u;
    if (q->x_type == ECNN_Q_U8)
        dw_channels(acc, (const uint8_t *)x, xoff, (const int8_t *)w, woff, taps, count, zx2, 1);
    else
        dw_channels(acc, (const uint8_t *)x, xoff, (const int8_t *)w, woff, taps, count, zx2, 0);
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

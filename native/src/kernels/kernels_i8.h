/* Quantized (int8 / uint8) kernel interface: plain functions over raw pointers and small
 * parameter structs, like kernels.h. kernels/ref/i8.c holds the reference versions; they
 * are the oracle for faster int8 kernels.
 *
 * Arithmetic: onnxruntime's CPU kernels (MLAS MlasRequantizeOutput, qlinearconv.cc,
 * quant_gemm.cc), reproduced bit for bit:
 *
 *     acc = sum (x - zx) * (w - zw[o]) + bias[o]      exact int32
 *     s   = (x_scale * w_scale[o]) / y_scale          float32, in this order
 *     v   = (float)acc * s                            float32 multiply (no FMA)
 *     v   = clamp(v, y_min - zy, y_max - zy)
 *     y   = round_half_to_even(v) + zy                lrintf, default rounding mode
 *
 * y_min/y_max are the output dtype's range, with y_min raised to zy by a fused Relu
 * (Relu on a quantized value is max(q, zy): exactly what onnxruntime's Relu folding
 * into the output quantization computes).
 *
 * Every float step is assigned to a float variable: under C99 that rounds to binary32
 * even where the FPU keeps excess precision. Build without -ffast-math and with
 * -ffp-contract=off (native/Makefile).
 *
 * Dimension letters as in kernels.h. Layout NHWC.
 */
#ifndef ECNN_KERNELS_I8_H
#define ECNN_KERNELS_I8_H

#include <math.h>
#include <stdint.h>

#include "kernels.h"

/* Element type of a quantized buffer. */
typedef enum { ECNN_Q_I8 = 0, ECNN_Q_U8 = 1 } ecnn_qtype;

static inline int32_t ecnn_qtype_min(ecnn_qtype t)
{
    return t == ECNN_Q_U8 ? 0 : -128;
}
static inline int32_t ecnn_qtype_max(ecnn_qtype t)
{
    return t == ECNN_Q_U8 ? 255 : 127;
}

/* Quantization of the three tensors of a CONV_2D / FULLY_CONNECTED. */
typedef struct {
    ecnn_qtype x_type, w_type, y_type;
    float x_scale;
    int32_t x_zero_point;
    const float *w_scales;        /* w_count values */
    const int32_t *w_zero_points; /* w_count values */
    uint32_t w_count;             /* 1 = per tensor, O = per output channel */
    float y_scale;
    int32_t y_zero_point;
    int32_t y_min, y_max; /* output range in quantized units (dtype range, raised by Relu) */
    uint32_t w_layout;    /* weight layout (kernels.h ECNN_LAYOUT_*; 0 = plain) */
} ecnn_qlinear_params;

/* The requantization above for one accumulator; s from ecnn_requant_scale. */
static inline int32_t ecnn_requantize(int32_t acc, float s, const ecnn_qlinear_params *q)
{
    const float lo = (float)(q->y_min - q->y_zero_point);
    const float hi = (float)(q->y_max - q->y_zero_point);
    float v = (float)acc;
    v = v * s;
    v = v > lo ? v : lo; /* max then min, as MLAS (_mm_max_ps / _mm_min_ps) */
    v = v < hi ? v : hi;
    return (int32_t)lrintf(v) + q->y_zero_point;
}

/* s = (x_scale * w_scale[o]) / y_scale, rounded to float32 after each operation. */
static inline float ecnn_requant_scale(const ecnn_qlinear_params *q, uint32_t o)
{
    float s = q->x_scale * q->w_scales[q->w_count == 1 ? 0 : o];
    s = s / q->y_scale;
    return s;
}

/* y[N,OH,OW,O] = requantize(conv(x[N,H,W,C] - zx, w[O,KH,KW,C/group] - zw) + b[O]); b may be
 * NULL. Positions in the padding contribute 0 (a real zero: x == zx). x, y: int8 or uint8
 * per q->x_type / q->y_type; w per q->w_type. Activation fields of p are ignored (the
 * fused Relu is in q->y_min). y must not overlap x. */
void ecnn_conv2d_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, const ecnn_tile *t,
                       const ecnn_conv2d_args *p, const ecnn_qlinear_params *q);

/* y[N,O] = requantize(x[N,K] - zx . (w[O,K] - zw)^T + b[O]); b may be NULL. y must not overlap x. */
void ecnn_fully_connected_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_qlinear_params *q);

/* Max pooling of int8 (type ECNN_Q_I8) or uint8 values; same contract as ecnn_maxpool2d_f32_ref.
 * Input and output share their quantization, so the max of the codes is the max of the values. */
void ecnn_maxpool2d_q_ref(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                          ecnn_qtype type);

/* y[i] = saturate(round_half_to_even(x[i] / scale) + zero_point), `count` elements: onnxruntime's
 * QuantizeLinear (a true division, not a multiply by 1/scale; clamped before rounding as MLAS).
 * NaN gives the dtype minimum, as onnxruntime's SSE and NEON kernels. */
void ecnn_quantize_ref(void *y, const float *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type);

/* y[i] = (float)(x[i] - zero_point) * scale, `count` elements: onnxruntime's DequantizeLinear. */
void ecnn_dequantize_ref(float *y, const void *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type);

/* ---- ops on quantized tensors: onnxruntime's com.microsoft QLinear* kernels, as they
 * compute on x86-64 with AVX2 + FMA (MLAS), bit for bit. Each function says which rule it
 * follows; docs/file-format.md "Quantized ops" has the formulas. fmaf() is the exact fused
 * multiply-add of C99 (hardware or libm): where MLAS fuses, these kernels call it explicitly,
 * so the result does not depend on the compiler's contraction (-ffp-contract=off). */

/* Per-tensor quantization of one activation tensor. */
typedef struct {
    ecnn_qtype type;
    float scale;
    int32_t zero_point;
} ecnn_qtensor;

/* QLinearAdd (MLAS qladd_avx2.cpp), n samples of per_sample elements. Element i of sample s
 * meets b[s * b_sample + i % b_period]: a full tensor has b_sample = b_period = per_sample; a
 * constant per channel of the innermost axis [C] or a scalar [1] has b_sample 0, b_period C or
 * 1; a runtime B broadcast per sample ([1,...,1,C]) has b_sample = b_period = C (onnxruntime's
 * kernel for a scalar B per span computes the same formula):
 *     ra = sa / sy, rb = sb / sy                               float32 divisions
 *     fixed = (float)zy - fmaf(ra, (float)za, rb * (float)zb)
 *     v = fmaf((float)a, ra, fmaf((float)b, rb, fixed))
 *     y = sat8(sat16(cvt(v)))   cvt: round half to even, INT32_MIN outside the int32 range
 * a, b and y have one dtype (qa->type). y may equal a or b (in place). */
void ecnn_add_q_ref(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy);

/* QLinearMul (MLAS qlmul.cpp, SSE2 code: no fused multiply-add), operands as ecnn_add_q_ref:
 *     r = (sa * sb) / sy                                      float32, in this order
 *     v = (float)((a - za) * (b - zb)) * r + (float)zy        two float32 roundings
 *     y = sat8(sat16(cvt(v)))                                 as ecnn_add_q_ref
 * y may equal a or b (in place). */
void ecnn_mul_q_ref(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy);

/* QLinearAveragePool / QLinearGlobalAveragePool (contrib qlinear_pool.cc, MLAS qlgavgpool.cpp)
 * on NHWC x[N,H,W,C] -> y[N,OH,OW,C] (p: kernel, strides, pads incl. pad_bottom/right,
 * count_include_pad; dilation 1). Two rules, chosen as onnxruntime does:
 * - kernel = H x W and every pad 0 (global pooling): acc = sum(x) - zx * H*W (int32),
 *   v = (float)acc * (sx / (sy * (float)(H*W))), clamped to [qmin - zy, qmax - zy], y = rne(v) + zy;
 * - otherwise: d = sx * (float)(x - zx); the window's d summed in float in (ky, kx) order over
 *   the positions inside x; divided by count = KH*KW (count_include_pad) or the number of
 *   those positions; v = (float)(sum / count / sy + (float)zy); y = sat(rne(v)). With
 *   uint8_rounding (int8 codes only) this step runs on the uint8 codes onnxruntime uses for QDQ
 *   int8 models on x86 (zy + 128, then - 128 after rounding): the float addition of zy makes the
 *   domain matter at near-ties. A QOperator int8 QLinearAveragePool runs on the int8 codes.
 * y must not overlap x. */
void ecnn_avgpool2d_q_ref(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                          const ecnn_qtensor *qx, const ecnn_qtensor *qy, int uint8_rounding);
/* onnxruntime's QLinearAveragePool window along one axis for output o: [start, min(start + K, in))
 * clipped at 0, start = o * stride - pad (no dilation). */
static inline void ecnn_qpool_window(uint32_t o, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in, long *first,
                                     long *end)
{
    const long s0 = (long)o * stride - (long)pad;
    *end = s0 + (long)k < (long)in ? s0 + (long)k : (long)in;
    *first = s0 > 0 ? s0 : 0;
}
/* The divisor of a QLinearAveragePool window [hs, he) x [ws, we): KH*KW with count_include_pad,
 * else its positions inside x. */
static inline float ecnn_qpool_count(const ecnn_pool2d_args *p, long hs, long he, long ws, long we)
{
    return p->count_include_pad ? (float)(p->kh * p->kw) : (float)((he - hs) * (we - ws));
}

/* ACTIVATION on quantized values through a 256-entry table built per call, as onnxruntime's
 * QLinearLookupBase: table[c] = QuantizeLinear_y(f(sx * (float)(c - zx))), f the activation's
 * float formula (kernels/act.h: Sigmoid as MLAS's logistic kernel, as onnxruntime computes it).
 * The same codes as DequantizeLinear -> the float activation -> QuantizeLinear, once per code
 * instead of per element. y may equal x (in place). */
void ecnn_activation_q_ref(void *y, const void *x, size_t count, const ecnn_act_params *act, const ecnn_qtensor *qx,
                           const ecnn_qtensor *qy);

/* y[i] = QuantizeLinear_y(DequantizeLinear_x(x[i])), `count` elements: QLinearConcat's
 * requantization of one input (a copy when both quantizations are equal). y must not overlap x. */
void ecnn_requantize_q_ref(void *y, const void *x, size_t count, const ecnn_qtensor *qx, const ecnn_qtensor *qy);

/* CONCAT of quantized tensors with their own quantizations (QLinearConcat): for each of `rows`
 * rows the blocks of the `count` inputs follow each other, input i giving block[i] elements a
 * row, each requantized from qx[i] to qy. y never overlaps an input. */
void ecnn_concat_q_ref(void *y, const void *const *xs, const size_t *block, const ecnn_qtensor *qx, uint32_t count,
                       size_t rows, const ecnn_qtensor *qy);

/* ---- faster int8 kernels: the reference's contract and result, bit for bit ---------------- */

/* Stores requantized int32 sums acc[0..count) as outputs y[first..first+count) (int8 or uint8 per
 * q->y_type), adding the bias of outputs o0..: shared by every int8 FC kernel. */
static inline void ecnn_q_store_outputs(void *y, size_t first, const int32_t *acc, uint32_t count, uint32_t o0,
                                        const int32_t *b, const ecnn_qlinear_params *q)
{
    uint32_t l;
    for (l = 0; l < count; l++) {
        int32_t a = acc[l];
        int32_t v;
        if (b) a += b[o0 + l];
        v = ecnn_requantize(a, ecnn_requant_scale(q, o0 + l), q);
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)v;
        else
            ((int8_t *)y)[first + l] = (int8_t)v;
    }
}

/* The per-output constants of `count` outputs from o0 of an int8 FC kernel whose int32 sums
 * carry an offset terms[l] to take off (NULL: none): bias[l] = b[o] - terms[l] and the
 * requantization scale. In uint32 arithmetic: wrapped int32 sums are exact when the true sum
 * fits int32, which the validator guarantees. Outputs past O take output O - 1's constants
 * (computed, never stored). */
static inline void ecnn_q_block_constants(int32_t *bias, float *scales, const int32_t *terms, const int32_t *b,
                                          uint32_t o0, uint32_t count, uint32_t o, const ecnn_qlinear_params *q)
{
    uint32_t l;
    for (l = 0; l < count; l++) {
        const uint32_t oi = o0 + l < o ? o0 + l : o - 1;
        bias[l] = (int32_t)((b ? (uint32_t)b[oi] : 0u) - (terms ? (uint32_t)terms[l] : 0u));
        scales[l] = ecnn_requant_scale(q, oi);
    }
}

/* Outputs [from, count) of ecnn_conv_q_ukernels.store with scalar code: the portable store, and
 * the SIMD stores' last outputs. */
static inline void ecnn_q_store_scaled_tail(void *y, size_t first, const int32_t *acc, uint32_t from, uint32_t count,
                                            const float *scales, const int32_t *bias, const ecnn_qlinear_params *q)
{
    uint32_t l;
    for (l = from; l < count; l++) {
        const int32_t v = ecnn_requantize(bias ? acc[l] + bias[l] : acc[l], scales[l], q);
        if (q->y_type == ECNN_Q_U8)
            ((uint8_t *)y)[first + l] = (uint8_t)v;
        else
            ((int8_t *)y)[first + l] = (int8_t)v;
    }
}

/* ecnn_fully_connected_q_ref for w int8 in ECNN_LAYOUT_FC_PANEL8X4 (or _W64) with every weight
 * zero point 0 (the compiler packs only such weights; the loader checks it); x and y int8 or
 * uint8. */
typedef void ecnn_fc_q_kernel(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_tile *t, const ecnn_qlinear_params *q);
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_portable;

/* The microkernels of ecnn_conv2d_q_hwio, one set per ISA:
 * dot:   acc[o] = sum_j xk[2j] * wc[(j*c8 + o)*2] + xk[2j+1] * wc[(j*c8 + o)*2 + 1] for o < c8 (c8 a
 *        multiple of 8): int16 term pairs (x - zx, w - zw), the layout of _mm256_madd_epi16;
 * store: requantized acc[0..count) + bias[0..count) (bias may be NULL) as outputs
 *        y[first..first+count), scales[l] the requantization scale of output l. */
typedef void ecnn_conv_q_dot_kernel(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8);
typedef void ecnn_q_store_scaled_kernel(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                                        const int32_t *bias, const ecnn_qlinear_params *q);
/* dw:    the depthwise conv (group == C == O) of npix output pixels that follow each other in y,
 *        over the k->count channels from the tile's first, requantized and stored: for p < npix,
 *        c < count,
 *            y[p * k->y_step + c] = requantize(sum_{t < taps} (x(p, t, c) - zx) * (w(t, c) - zw(c))
 *                                              + bias(c), scale(c))
 *        with x(p, t, c) = k->xt[p * k->xt_step + t][p * k->x_step + c] (per q->x_type): a list
 *        of each pixel's taps (xt_step = taps, x_step = 0) or, for a run of a row whose windows
 *        lie inside x, the first pixel's taps and the step between pixels (xt_step = 0);
 *        w(t, c) = k->w[t * k->w_step + c] (per q->w_type); zw, the weight scale and bias(c) at c
 *        of k->w_zero, k->w_scales (index 0 for all when !k->w_per_channel) and k->bias (0 when
 *        NULL); scale(c) as ecnn_requant_scale; y per q->y_type. A tap in the padding points at a
 *        row of zx codes (x - zx = 0), so every pixel sums every tap of its window. w_int8_zero:
 *        1 when the weights are int8 and every zero point of the tensor 0
 *        (ecnn_q_symmetric_int8_weights); w_int8_small: 1 when besides every weight of the
 *        call's channels is in [-64, 64] (reduce-range weights): two uint8 x weight products
 *        then add up within int16 (vpmaddubsw, exact). */
typedef struct {
    const uint8_t *const *xt; /* tap pointers, at the tile's first channel */
    size_t xt_step, x_step;   /* per pixel: entries of xt, bytes of x */
    size_t y_step;            /* bytes from one output pixel to the next (O) */
    const uint8_t *w;         /* the codes of tap 0 at the tile's first channel */
    size_t w_step;            /* bytes from one tap's weights to the next (O) */
    const int32_t *w_zero, *bias;
    const float *w_scales;
    uint32_t w_per_channel, taps, count, w_int8_zero, w_int8_small;
} ecnn_conv_q_dw_block;
typedef void ecnn_conv_q_dw_kernel(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q);
/* widen (microcontroller path, below): a run of one pixel's codes (a tap's channels, or a row of
 *        its window), starting at an even term, centred into the terms of dot_direct: the int16
 *        x[i] - zx at byte (i / 2) * ECNN_CONV_Q_DIRECT_PIXELS * 4 + (i % 2) * 2 of xk, for
 *        i < count, x int8 or uint8 codes per q->x_type; NULL: the portable one. */
typedef void ecnn_conv_q_widen_kernel(void *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q);
/* dotn:  dot for npix (1..ECNN_CONV_Q_PIXELS) output pixels at once, sharing each weight load:
 *        acc[i] and xk[i] of pixel i; NULL: dot pixel by pixel. */
#define ECNN_CONV_Q_PIXELS 4u
typedef void ecnn_conv_q_dotn_kernel(int32_t *const *acc, const int16_t *const *xk, uint32_t npix, const int16_t *wc,
                                     uint32_t pairs, uint32_t c8);
/* pack:  dot's wc for `count` (1..64) output channels from oc of HWIO weights w (terms x o codes,
 *        int8 or uint8 per q->w_type): wc[(j*c8 + l)*2 + t%2] = w[t][oc + l] - zw[oc + l] for
 *        t = 2j or 2j + 1 < terms, l < count; 0 for the others (l < c8, c8 = count rounded up
 *        to 8; an odd terms' last pair's second term); NULL: the portable loop. */
/* centre: xk[i] = x[i] - zx as int16 for i < n, x int8 or uint8 codes per q->x_type (a run of a
 *        pixel's terms); NULL: the portable loop. */
typedef void ecnn_conv_q_centre_kernel(int16_t *xk, const uint8_t *x, uint32_t n, const ecnn_qlinear_params *q);
typedef void ecnn_conv_q_pack_kernel(int16_t *wc, const void *w, uint32_t terms, uint32_t o, uint32_t oc,
                                     uint32_t count, const ecnn_qlinear_params *q);
/* The microcontroller path (builds without ECNN_CONV_Q_HOSTED: src/kernels/portable/conv_q_direct.c)
 * reads the weights where they are (int8 HWIO codes in flash), without a centred copy; the
 * caller corrects a weight zero point zw != 0 (sum (x - zx) w - zw sum (x - zx), exact in int32).
 * dot_direct: acc[p * count + l] = sum_t x(p, t) * w[t * wstride + l] for the pixels
 *        p < ECNN_CONV_Q_DIRECT_PIXELS, l < count, t < terms; x(p, t) the centred int16 terms of the
 *        pixels, interleaved: word P * j + p of xw (P the pixel count) holds the pair (x(p, 2j),
 *        x(p, 2j + 1)), the first in its low half (an odd term count's last pair ends with a 0);
 *        w int8, or uint8 if q->w_type says so (the portable kernel only: an ISA's kernel is
 *        called for int8 weights).
 * dw_direct: the depthwise sums of one output pixel over the taps i inside x: acc[c] =
 *        sum_i (x[xoff[i] + c] - zx) * w[woff[i] + c] for c < count, x per q->x_type, w int8
 *        (uint8 too for the portable kernel, per q->w_type). */
#define ECNN_CONV_Q_DIRECT_PIXELS 3u
typedef void ecnn_conv_q_dot_direct_kernel(int32_t *acc, const uint32_t *xw, const void *w, uint32_t wstride,
                                           uint32_t terms, uint32_t count, const ecnn_qlinear_params *q);
typedef void ecnn_conv_q_dw_direct_kernel(int32_t *acc, const void *x, const size_t *xoff, const void *w,
                                          const size_t *woff, uint32_t taps, uint32_t count,
                                          const ecnn_qlinear_params *q);
/* conv_u8 (hosted; convs whose weights are int8 with every zero point 0): the sums and the
 *        requantized outputs of npix (1..ECNN_CONV_Q_U8_PIXELS) output pixels x blk->count
 *        (1..64) output channels, through unsigned x signed byte dot products (vpdpbusd):
 *            acc[i][l] = sum_{t < k} u(x(i, t)) * wp[((t / 4) * c16 + l) * 4 + t % 4]
 *        c16 = count rounded up to 16, u(b) = b ^ 0x80 for int8 x (q->x_type), b for uint8;
 *        y[firsts[i] + l] = the requantization of acc[i][l] + bias[l] with scales[l]. Pixel
 *        i's k bytes are blk->rows runs of k / rows: x(i, t) = xs[i][(t / run) * xstrides[i]
 *        + t % run] (run = k / rows, a multiple of 4 when rows > 1), read nowhere else; wp,
 *        bias and scales hold c16 channels. The caller packs wp (pack_u8) and takes c sum w
 *        off bias (x - zx = u - c, c = zx - the dtype minimum); NULL: the int16 path. */
typedef struct {
    const int8_t *wp;
    uint32_t k, count, rows;
    const int32_t *bias;
    const float *scales;
    const ecnn_qlinear_params *q;
} ecnn_conv_q_u8_block;
#define ECNN_CONV_Q_U8_PIXELS 8u
typedef void ecnn_conv_q_u8_kernel(void *y, const size_t *firsts, const uint8_t *const *xs, const size_t *xstrides,
                                   uint32_t npix, const ecnn_conv_q_u8_block *blk);
/* pw_u8: conv_u8 for a dense pointwise run (1x1, stride 1, no padding, group 1, k = C, blk->rows
 *        1): npix pixels whose k bytes are consecutive at x (pixel i's
 *        at x + i * k) and whose outputs are consecutive rows of o channels at y (pixel i's
 *        channel l at y + i * o + l). No pointer lists: few channels a pixel (C = 8 or 16,
 *        O = 16 or 32) spend most of conv_u8's time on them. */
typedef void ecnn_conv_q_pw_u8_kernel(uint8_t *y, const uint8_t *x, size_t npix, uint32_t o,
                                      const ecnn_conv_q_u8_block *blk);
/* pack_u8: conv_u8's weights of `count` channels from oc of HWIO int8 weights (k terms of o
 *        channels) into wp ([k / 4][c16][4] bytes, 0 past k and past count), and terms[l] =
 *        c * sum_t w[t][oc + l] for l < c16 (int32, wrapping). A level sets conv_u8, pw_u8 and
 *        pack_u8, or none of them. */
typedef void ecnn_conv_q_pack_u8_kernel(int8_t *wp, int32_t *terms, const int8_t *w, uint32_t k, uint32_t o,
                                        uint32_t oc, uint32_t count, uint8_t c);
/* small (hosted; convs of few terms a pixel: image CNNs' first layers, C = 1..3): the whole
 *        ecnn_conv2d_q_hwio of tile t, for the convs ecnn_conv2d_q_small_fits accepts (group 1,
 *        dilation_w 1, kw * C not a multiple of 4 or, at levels without conv_u8, few outputs,
 *        int8 weights with every zero point 0, kh * ceil(kw * C / 4) <= the quads below);
 *        NULL: the generic paths. */
#define ECNN_CONV_Q_SMALL_QUADS 12u
typedef void ecnn_conv_q_small_kernel(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *t,
                                      const ecnn_conv2d_args *p, const ecnn_qlinear_params *q);
typedef struct {
    ecnn_conv_q_dot_kernel *dot;
    ecnn_q_store_scaled_kernel *store;
    ecnn_conv_q_dw_kernel *dw;
    ecnn_conv_q_widen_kernel *widen;
    ecnn_conv_q_dotn_kernel *dotn;
    ecnn_conv_q_dot_direct_kernel *dot_direct;
    ecnn_conv_q_dw_direct_kernel *dw_direct;
    ecnn_conv_q_u8_kernel *conv_u8;
    ecnn_conv_q_pw_u8_kernel *pw_u8;
    ecnn_conv_q_pack_u8_kernel *pack_u8;
    ecnn_conv_q_small_kernel *small;
    ecnn_conv_q_pack_kernel *pack;
    ecnn_conv_q_centre_kernel *centre;
} ecnn_conv_q_ukernels;
ecnn_conv_q_dot_kernel ecnn_conv_q_dot_portable;
ecnn_q_store_scaled_kernel ecnn_q_store_scaled_portable;
ecnn_conv_q_dot_direct_kernel ecnn_conv_q_dot_direct_portable;
ecnn_conv_q_dw_direct_kernel ecnn_conv_q_dw_direct_portable;
ecnn_conv_q_widen_kernel ecnn_conv_q_widen_portable;
ecnn_conv_q_dw_kernel ecnn_conv_q_dw_portable;

/* Hosted builds (x86, Linux aarch64: megabytes of stack) keep a block of centred int16 weights
 * on the stack (src/kernels/portable/conv_q.c); the others read the weights in place
 * (conv_q_direct.c), with a few pixels' terms as their only scratch. */
#if defined(ECNN_WITH_X86) || (defined(ECNN_WITH_ARM64) && defined(__linux__))
#define ECNN_CONV_Q_HOSTED 1
#endif

/* ecnn_conv2d_q_ref for w in ECNN_LAYOUT_CONV_HWIO (int8 or uint8 weights, any zero points),
 * with an ISA's microkernels, for the convolutions ecnn_conv2d_q_hwio_fits accepts (its stack
 * buffers hold a few pixels' terms and, hosted, the packed weights of a block of channels). */
int ecnn_conv2d_q_hwio_fits(const ecnn_conv2d_args *p);
int ecnn_conv2d_q_small_fits(const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk);
/* Whether the weights are int8 with every zero point 0 (portable/conv_q.c): the byte paths'
 * weights, which vpdpbusd takes as they are. */
int ecnn_q_symmetric_int8_weights(const ecnn_qlinear_params *q);
/* The depthwise part of ecnn_conv2d_q_hwio (src/kernels/portable/conv_q_dw.c): 1 when p is a
 * depthwise conv it takes (group == C == O, a window of at most ECNN_DW_Q_TAPS taps); the
 * tile's outputs through uk->dw (NULL: ecnn_conv_q_dw_portable). */
#define ECNN_DW_Q_TAPS 49u /* the largest window (7x7) */
int ecnn_conv2d_q_is_depthwise(const ecnn_conv2d_args *p);
void ecnn_conv2d_q_depthwise(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *t,
                             const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk);
void ecnn_conv2d_q_hwio(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, const ecnn_tile *t,
                        const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk);

/* ecnn_avgpool2d_q_ref's contract (src/kernels/portable/avgpool_q.c, x86/avgpool_q.h). */
typedef void ecnn_avgpool2d_q_kernel(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                                     const ecnn_qtensor *qx, const ecnn_qtensor *qy, int uint8_rounding);
ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_portable;

#endif /* ECNN_KERNELS_I8_H */

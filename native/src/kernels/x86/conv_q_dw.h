/* What the x86 depthwise int8 conv microkernels (kernels_i8.h ecnn_conv_q_dw_kernel:
 * conv_q_dw256.h, conv_q_dw512.h) share, on the includer's vector width:
 *
 * dw_group, the channels [c, c + n) of a chunk of pixels: the weights of every tap centred once
 * (w - zw, widened to int32 with the high half 0) and kept in registers over the chunk's pixels;
 * each tap's codes widened to int32 and multiplied by them with DW_MAC (code x weight + 0 x 0:
 * exact), the zx terms folded into the bias (b - zx * sum_t (w - zw), wrapping int32 like the
 * sums: the true sum fits int32, so the result is exact); two accumulators (even and odd taps)
 * halve the chain of dependent multiply-adds; the requantization x86/q_requant.h's. dw_tail
 * runs a last partial group with the window's tap count.
 *
 * A function over the channels [c0, count) of the call, which calls the file's
 *
 *   static void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
 *                      uint32_t taps, int is_u8, const ecnn_qlinear_params *q);
 *
 * (every channel group from c0) with the tap count of 3x3 and 5x5 windows and the input type as
 * constants, so that the tap loops unroll with the weights in registers. The VNNI levels run
 * blocks of channels through conv_q_dw_quad.h first and the rest through it.
 *
 * The includer defines DW_BITS (256 or 512), DW_MASK (the type of a group's lane mask),
 * DW_MASK_OF(n) (the mask of lanes 0..n-1), DW_CODES(p, m, n, is_u8) (the n codes at p as int32
 * lanes), DW_LOAD_EPI32(p, m) and DW_LOAD_PS(p, m) (the lanes of m from p, 0 in the others) and
 * DW_MAC(acc, x, w), then includes this file. */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW_H
#define ECNN_KERNELS_X86_CONV_Q_DW_H

#define RQ_BITS DW_BITS
#include "kernels/x86/q_requant.h"

#if DW_BITS == 512
#define DW_OP(op) _mm512_##op
#define DW_SI(op) _mm512_##op##_si512
#else
#define DW_OP(op) _mm256_##op
#define DW_SI(op) _mm256_##op##_si256
#endif
#define DW_RQ(name) ECNN_RQ(DW_BITS, name)

/* The channels [c, c + n) (the lanes of m) of the chunk's npix pixels, over `taps` taps. */
static ALWAYS_INLINE void dw_group(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, DW_MASK m,
                                   const uint32_t n, const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q)
{
    const DW_RQ(consts) rq = DW_RQ(setup)(q);
    const DW_RQ(vi) low_half = DW_OP(set1_epi32)(0xffff);
    const DW_RQ(vi) zw = k->w_per_channel ? DW_LOAD_EPI32(k->w_zero + c, m) : DW_OP(set1_epi32)(k->w_zero[0]);
    const DW_RQ(vf) ws = k->w_per_channel ? DW_LOAD_PS(k->w_scales + c, m) : DW_OP(set1_ps)(k->w_scales[0]);
    const DW_RQ(vf) scale = DW_OP(div_ps)(DW_OP(mul_ps)(DW_OP(set1_ps)(q->x_scale), ws), DW_OP(set1_ps)(q->y_scale));
    DW_RQ(vi) w[ECNN_DW_Q_TAPS], sum = DW_SI(setzero)(), bias;
    uint32_t t, p;
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
    for (t = 0; t < taps; t++) {
        const DW_RQ(vi) v = DW_OP(sub_epi32)(DW_CODES(k->w + t * k->w_step + c, m, n, q->w_type == ECNN_Q_U8), zw);
        sum = DW_OP(add_epi32)(sum, v);
        w[t] = DW_SI(and)(v, low_half);
    }
    bias = k->bias ? DW_LOAD_EPI32(k->bias + c, m) : DW_SI(setzero)();
    bias = DW_OP(sub_epi32)(bias, DW_OP(mullo_epi32)(DW_OP(set1_epi32)(q->x_zero_point), sum));
    for (p = 0; p < npix; p++) {
        const uint8_t *const *xt = k->xt + p * k->xt_step;
        const size_t at = p * k->x_step + c;
        DW_RQ(vi) even = bias, odd = DW_SI(setzero)();
#pragma GCC unroll 25 /* constant tap counts: whole, the weights in registers */
        for (t = 0; t + 1 < taps; t += 2) {
            even = DW_MAC(even, DW_CODES(xt[t] + at, m, n, is_u8), w[t]);
            odd = DW_MAC(odd, DW_CODES(xt[t + 1] + at, m, n, is_u8), w[t + 1]);
        }
        if (t < taps) even = DW_MAC(even, DW_CODES(xt[t] + at, m, n, is_u8), w[t]);
        DW_RQ(store)(y + p * k->y_step + c, DW_RQ(codes)(DW_OP(add_epi32)(even, odd), scale, &rq), n, &rq);
    }
}

static NOINLINE void dw_tail(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c, uint32_t n,
                             const ecnn_qlinear_params *q)
{
    const DW_MASK m = DW_MASK_OF(n);
    if (q->x_type == ECNN_Q_U8)
        dw_group(y, k, npix, c, m, n, k->taps, 1, q);
    else
        dw_group(y, k, npix, c, m, n, k->taps, 0, q);
}

#define ECNN_CONV_Q_DW_CHANNELS(name)                                                                                  \
    static NOINLINE void name(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,                      \
                              const ecnn_qlinear_params *q)                                                            \
    {                                                                                                                  \
        const int is_u8 = q->x_type == ECNN_Q_U8;                                                                      \
        if (k->taps == 9)                                                                                              \
            is_u8 ? dw_all(y, k, npix, c0, 9, 1, q) : dw_all(y, k, npix, c0, 9, 0, q);                                 \
        else if (k->taps == 25)                                                                                        \
            is_u8 ? dw_all(y, k, npix, c0, 25, 1, q) : dw_all(y, k, npix, c0, 25, 0, q);                               \
        else                                                                                                           \
            is_u8 ? dw_all(y, k, npix, c0, k->taps, 1, q) : dw_all(y, k, npix, c0, k->taps, 0, q);                     \
    }

#endif /* ECNN_KERNELS_X86_CONV_Q_DW_H */

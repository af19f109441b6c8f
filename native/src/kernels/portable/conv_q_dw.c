/* The int8 / uint8 depthwise conv over HWIO weights (group == C == O, MobileNet's 3x3 and 5x5
 * blocks), hosted builds (the others: conv_q_direct.c). Channels are the vector lanes: a block
 * of up to ECNN_DW_Q_BLOCK channels keeps its centred weights, its bias with the input zero
 * point folded in, and its requantization scales, and each row of the tile goes to the ISA's
 * microkernel (ecnn_conv_q_ukernels.dw) in runs of pixels that share their taps: the pixels
 * whose window lies inside the row in one run, the ones reaching into the left or right padding
 * one by one. Taps in the padding read a row of zx codes (x - zx = 0), so every pixel sums every
 * tap of the window the same way: exact int32 sums and the shared requantization give the
 * reference's result bit for bit, whatever the tile. */
#include <string.h>

#include "kernels/kernels_i8.h"

#if defined(ECNN_CONV_Q_HOSTED)
/* Bytes of zx codes the taps in the padding read: a run of a row clipped at the top or bottom
 * reads them as far as its last pixel. */
#define DW_ZROW 4096u

int ecnn_conv2d_q_is_depthwise(const ecnn_conv2d_args *p)
{
    return p->group == p->c && p->o == p->c && p->kh * p->kw <= ECNN_DW_Q_TAPS;
}

/* The code at x[i] of an int8 or uint8 buffer. */
static inline int32_t code_at(const void *x, size_t i, ecnn_qtype t)
{
    return t == ECNN_Q_U8 ? (int32_t)((const uint8_t *)x)[i] : (int32_t)((const int8_t *)x)[i];
}

/* The low half of a block weight, signed. */
static inline int32_t weight_of(int32_t w)
{
    return (int16_t)(uint16_t)((uint32_t)w & 0xffffu);
}

void ecnn_conv_q_dw_portable(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    uint32_t p, t, c;
    for (p = 0; p < npix; p++)
        for (c = 0; c < k->count; c++) {
            uint32_t acc = (uint32_t)k->bias[c]; /* wraps as the SIMD kernels' sums do */
            int32_t v;
            for (t = 0; t < k->taps; t++)
                acc += (uint32_t)(code_at(k->xt[t], (size_t)p * k->x_step + c, q->x_type) *
                                  weight_of(k->w[t * ECNN_DW_Q_BLOCK + c]));
            v = ecnn_requantize((int32_t)acc, k->scales[c], q);
            if (q->y_type == ECNN_Q_U8)
                ((uint8_t *)y)[p * k->y_step + c] = (uint8_t)v;
            else
                ((int8_t *)y)[p * k->y_step + c] = (int8_t)v;
        }
}

/* The block of `count` channels from c0: weights w - zw (0 past count), bias b - zx * sum(w - zw)
 * and scales (0 and 1 past count, so the kernels may read whole vectors). */
static void pack_block(int32_t *wt, int32_t *bias, float *scales, const void *w, const int32_t *b, uint32_t c0,
                       uint32_t count, const ecnn_conv2d_args *p, const ecnn_qlinear_params *q)
{
    const uint32_t taps = p->kh * p->kw;
    uint32_t t, c;
    memset(wt, 0, (size_t)taps * ECNN_DW_Q_BLOCK * sizeof wt[0]);
    for (c = 0; c < ECNN_DW_Q_BLOCK; c++) {
        const int32_t zw = c < count ? q->w_zero_points[q->w_count == 1 ? 0 : c0 + c] : 0;
        uint32_t sum = 0;
        for (t = 0; t < taps && c < count; t++) {
            const int32_t v = code_at(w, (size_t)t * p->o + c0 + c, q->w_type) - zw; /* HWIO, one channel a group */
            wt[t * ECNN_DW_Q_BLOCK + c] = (int32_t)(uint16_t)(int16_t)v;
            sum += (uint32_t)v;
        }
        bias[c] = c < count ? (int32_t)((b ? (uint32_t)b[c0 + c] : 0u) - (uint32_t)q->x_zero_point * sum) : 0;
        scales[c] = c < count ? ecnn_requant_scale(q, c0 + c) : 1.0f;
    }
}

/* The output columns [*full0, *full1) whose window lies inside the input row. */
static void interior_columns(const ecnn_conv2d_args *p, uint32_t *full0, uint32_t *full1)
{
    uint32_t kx0, kx1, ox = 0, end = p->ow;
    while (ox < p->ow && ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1) &&
           kx1 - kx0 < p->kw)
        ox++;
    while (end > ox && ecnn_tap_range(end - 1, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1) &&
           kx1 - kx0 < p->kw)
        end--;
    *full0 = ox;
    *full1 = end;
}

void ecnn_conv2d_q_depthwise(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *tile,
                             const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    ecnn_conv_q_dw_kernel *dw = uk->dw ? uk->dw : ecnn_conv_q_dw_portable;
    int32_t wt[ECNN_DW_Q_TAPS * ECNN_DW_Q_BLOCK], bias[ECNN_DW_Q_BLOCK];
    float scales[ECNN_DW_Q_BLOCK];
    uint8_t zrow[DW_ZROW];
    uint32_t full0, full1, c0, m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, npix;
    ecnn_conv_q_dw_block k;
    memset(zrow, (int)(uint8_t)q->x_zero_point, sizeof zrow);
    interior_columns(p, &full0, &full1);
    k.x_step = (size_t)p->stride_w * p->c;
    k.y_step = p->o;
    k.w = wt;
    k.bias = bias;
    k.scales = scales;
    k.taps = p->kh * p->kw;
    for (c0 = tile->o0; c0 < tile->o1; c0 += ECNN_DW_Q_BLOCK) {
        /* the longest run whose taps in the padding stay inside zrow */
        const uint32_t count = tile->o1 - c0 < ECNN_DW_Q_BLOCK ? tile->o1 - c0 : ECNN_DW_Q_BLOCK;
        const size_t clipped_run = (DW_ZROW - count) / k.x_step + 1;
        k.count = count;
        pack_block(wt, bias, scales, w, b, c0, count, p, q);
        for (m = tile->m0; m < tile->m1; m++) {
            const uint8_t *xs;
            uint8_t *yrow;
            s = m / p->oh;
            oy = m % p->oh;
            xs = (const uint8_t *)x + (size_t)s * p->h * p->w * p->c + c0;
            yrow = (uint8_t *)y + ECNN_PIXEL_AT(p, s, oy, 0, p->o) + c0;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            for (ox = 0; ox < p->ow; ox += npix) {
                npix = 1;
                if (ox >= full0 && ox < full1) {
                    npix = full1 - ox;
                    if (ky1 - ky0 < p->kh && npix > clipped_run) npix = (uint32_t)clipped_run;
                }
                ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                for (ky = 0; ky < p->kh; ky++)
                    for (kx = 0; kx < p->kw; kx++)
                        k.xt[ky * p->kw + kx] =
                            ky >= ky0 && ky < ky1 && kx >= kx0 && kx < kx1 ? xs + ECNN_TAP_AT(p, oy, ox, ky, kx) : zrow;
                dw(yrow + (size_t)ox * p->o, &k, npix, q);
            }
        }
    }
}
#endif /* ECNN_CONV_Q_HOSTED */

/* The int8 / uint8 depthwise conv over HWIO weights (group == C == O, MobileNet's 3x3 and 5x5
 * blocks), hosted builds (the others: conv_q_direct.c). Channels are the vector lanes: the
 * driver here hands the ISA's microkernel (ecnn_conv_q_ukernels.dw) each row's run of pixels
 * whose windows lie inside x (one list of taps and a step), and lists the other pixels (the
 * padded border, consecutive in y across rows) with each pixel's taps; the microkernel centres
 * its weights once per vector of channels and keeps them in registers over the call's pixels.
 * Taps in the padding point at a row of zx codes (x - zx = 0), so every pixel sums every tap of
 * its window the same way: exact int32 sums and the shared requantization give the reference's
 * result bit for bit, whatever the tile. */
#include <string.h>

#include "kernels/kernels_i8.h"

#if defined(ECNN_CONV_Q_HOSTED)
/* Tap pointers of the pixels listed for one microkernel call (pixels x taps), channels per
 * slice of the tile, and the bytes of zx codes the taps in the padding read (a slice, and a
 * run's pixels after the first). */
#define DW_TABLE 2048u
#define DW_SLICE 1024u
#define DW_ZROW 4096u
/* Fewer pixels whose windows lie inside x than this in a row are listed with the others: a call
 * centres its weights again (measured on a Zen 5: 3x3x256 and 6x6x128 layers faster listed). */
#define DW_RUN_MIN 8u

int ecnn_conv2d_q_is_depthwise(const ecnn_conv2d_args *p)
{
    return p->group == p->c && p->o == p->c && p->kh * p->kw <= ECNN_DW_Q_TAPS;
}

/* The code at x[i] of an int8 or uint8 buffer. */
static inline int32_t code_at(const void *x, size_t i, ecnn_qtype t)
{
    return t == ECNN_Q_U8 ? (int32_t)((const uint8_t *)x)[i] : (int32_t)((const int8_t *)x)[i];
}

void ecnn_conv_q_dw_portable(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    uint32_t p, t, c;
    for (p = 0; p < npix; p++)
        for (c = 0; c < k->count; c++) {
            const uint32_t e = k->w_per_channel ? c : 0;
            int32_t acc = k->bias ? k->bias[c] : 0, v;
            float s = q->x_scale * k->w_scales[e]; /* as ecnn_requant_scale */
            s = s / q->y_scale;
            for (t = 0; t < k->taps; t++)
                acc += (code_at(k->xt[p * k->xt_step + t], p * k->x_step + c, q->x_type) - q->x_zero_point) *
                       (code_at(k->w, (size_t)t * k->w_step + c, q->w_type) - k->w_zero[e]);
            v = ecnn_requantize(acc, s, q);
            if (q->y_type == ECNN_Q_U8)
                ((uint8_t *)y)[p * k->y_step + c] = (uint8_t)v;
            else
                ((int8_t *)y)[p * k->y_step + c] = (int8_t)v;
        }
}

/* The tap pointers of output pixel (oy, ox) into xt[0..taps): xs its sample's input at the
 * slice's first channel, off[t] tap t's offset from the window's first tap, [ky0, ky1) the rows
 * of the window inside x, zrow the padding's; inside: the whole window is inside x. */
static inline void pixel_taps(const uint8_t **xt, const uint8_t *xs, const size_t *off, const uint8_t *zrow,
                              uint32_t oy, uint32_t ox, uint32_t ky0, uint32_t ky1, int inside,
                              const ecnn_conv2d_args *p)
{
    const int64_t iy = (int64_t)oy * p->stride_h - p->pad_top, ix = (int64_t)ox * p->stride_w - p->pad_left;
    const int64_t origin = (iy * p->w + ix) * p->c; /* the window's first tap: outside x at the border */
    uint32_t ky, kx, t;
    if (inside) {
        for (t = 0; t < p->kh * p->kw; t++) xt[t] = xs + (size_t)origin + off[t];
        return;
    }
    for (ky = 0, t = 0; ky < p->kh; ky++)
        for (kx = 0; kx < p->kw; kx++, t++) {
            const int64_t at_x = ix + (int64_t)kx * p->dilation_w;
            xt[t] = ky >= ky0 && ky < ky1 && at_x >= 0 && at_x < p->w ? xs + (size_t)(origin + (int64_t)off[t]) : zrow;
        }
}

/* Whether the taps x count int8 weights at w (w_step apart a tap) are all in [-64, 64]. */
static int weights_within_64(const uint8_t *w, size_t w_step, uint32_t taps, uint32_t count)
{
    uint32_t t, c;
    int ok = 1;
    for (t = 0; t < taps; t++)
        for (c = 0; c < count; c++) ok &= (uint8_t)(w[t * w_step + c] + 64) <= 128;
    return ok;
}

/* The microkernel over npix pixels from y's output `first`: a list of each pixel's taps
 * (x_step 0), or a run whose pixels are x_step bytes apart (the first pixel's taps). */
static void run_pixels(ecnn_conv_q_dw_kernel *dw, void *y, size_t first, ecnn_conv_q_dw_block *k, uint32_t npix,
                       size_t x_step, const ecnn_qlinear_params *q)
{
    k->xt_step = x_step ? 0 : k->taps;
    k->x_step = x_step;
    dw((uint8_t *)y + first, k, npix, q);
}

void ecnn_conv2d_q_depthwise(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *tile,
                             const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    ecnn_conv_q_dw_kernel *dw = uk->dw ? uk->dw : ecnn_conv_q_dw_portable;
    const uint32_t taps = p->kh * p->kw, chunk = DW_TABLE / taps;
    const size_t run_step = (size_t)p->stride_w * p->c;
    /* the longest run of a row clipped at the top or bottom: its taps in the padding advance
     * through zrow */
    const size_t clipped_run = (DW_ZROW - DW_SLICE) / run_step + 1;
    const uint8_t *xt[DW_TABLE];
    size_t off[ECNN_DW_Q_TAPS];
    uint8_t zrow[DW_ZROW];
    uint32_t full0, full1, s0, m, ox, ky0, ky1, t, npix, len;
    ecnn_conv_q_dw_block k;
    memset(zrow, (int)(uint8_t)q->x_zero_point, sizeof zrow);
    ecnn_full_columns(p, &full0, &full1);
    for (t = 0; t < taps; t++)
        off[t] = ((size_t)(t / p->kw) * p->dilation_h * p->w + (size_t)(t % p->kw) * p->dilation_w) * p->c;
    k.xt = xt;
    k.y_step = p->o;
    k.w_step = p->o;
    k.w_per_channel = q->w_count != 1;
    k.taps = taps;
    k.w_int8_zero = ecnn_q_symmetric_int8_weights(q);
    for (s0 = tile->o0; s0 < tile->o1; s0 += DW_SLICE) {
        size_t first = 0; /* the listed pixels' first output */
        k.count = tile->o1 - s0 < DW_SLICE ? tile->o1 - s0 : DW_SLICE;
        k.w = (const uint8_t *)w + s0; /* HWIO, one channel a group */
        k.w_zero = q->w_zero_points + (k.w_per_channel ? s0 : 0);
        k.w_scales = q->w_scales + (k.w_per_channel ? s0 : 0);
        k.bias = b ? b + s0 : NULL;
        k.w_int8_small = k.w_int8_zero && weights_within_64(k.w, k.w_step, taps, k.count);
        npix = 0;
        for (m = tile->m0; m < tile->m1; m++) {
            const uint32_t s = m / p->oh, oy = m % p->oh;
            const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * p->c + s0;
            int rows_inside;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            rows_inside = ky1 - ky0 == p->kh;
            for (ox = 0; ox < p->ow; ox++) {
                const size_t at = ((size_t)m * p->ow + ox) * p->o + s0;
                if (ox == full0 && full1 - full0 >= DW_RUN_MIN) { /* the windows inside x across the row: runs */
                    if (npix) run_pixels(dw, y, first, &k, npix, 0, q);
                    npix = 0;
                    for (; ox < full1; ox += len) {
                        len = rows_inside || full1 - ox <= clipped_run ? full1 - ox : (uint32_t)clipped_run;
                        pixel_taps(xt, xs, off, zrow, oy, ox, ky0, ky1, rows_inside, p);
                        run_pixels(dw, y, ((size_t)m * p->ow + ox) * p->o + s0, &k, len, run_step, q);
                    }
                    ox--; /* the loop's ox++ */
                    continue;
                }
                if (npix == 0) first = at;
                pixel_taps(xt + (size_t)npix * taps, xs, off, zrow, oy, ox, ky0, ky1,
                           rows_inside && ox >= full0 && ox < full1, p);
                if (++npix == chunk) {
                    run_pixels(dw, y, first, &k, npix, 0, q);
                    npix = 0;
                }
            }
        }
        if (npix) run_pixels(dw, y, first, &k, npix, 0, q);
    }
}
#endif /* ECNN_CONV_Q_HOSTED */

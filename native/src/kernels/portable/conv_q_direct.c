/* int8 / uint8 conv over HWIO weights (kernels_i8.h) for the builds without ECNN_CONV_Q_HOSTED
 * (microcontrollers, firmware packages, PORTABLE=1): the weights are read where they are, int8
 * codes in the model (flash), never copied; the only scratch is the centred int16 terms of
 * ECNN_CONV_Q_DIRECT_PIXELS output pixels, a C99 array sized from the op (at most
 * DIRECT_X_TERMS terms a pixel: 6 KiB), so the stack a model needs follows its largest
 * convolution, not a worst case (docs/cortex-m.md says why not the arena). The dot products
 * and the depthwise sums go through an ISA's microkernels (dot_direct, dw_direct, widen; NULL:
 * the portable ones below). Exact int32 sums and the shared requantization: the reference's
 * result, bit for bit. */
#include <string.h>

#include "kernels/kernels_i8.h"

/* x[i] - zx as int32 for an int8 or uint8 buffer (zx 0: the code itself). */
static inline int32_t centred_code(const void *x, size_t i, ecnn_qtype t, int32_t zx)
{
    return (t == ECNN_Q_U8 ? (int32_t)((const uint8_t *)x)[i] : (int32_t)((const int8_t *)x)[i]) - zx;
}

#define PIXELS ECNN_CONV_Q_DIRECT_PIXELS

/* Byte offset of term t of pixel p in dot_direct's interleaved terms (kernels_i8.h). */
static inline size_t term_at(uint32_t p, uint32_t t)
{
    return (size_t)(t / 2) * PIXELS * 4 + p * 4 + (t % 2) * 2;
}
static inline int32_t get_term(const uint32_t *xw, uint32_t p, uint32_t t)
{
    int16_t v;
    memcpy(&v, (const uint8_t *)xw + term_at(p, t), sizeof v);
    return v;
}

void ecnn_conv_q_dot_direct_portable(int32_t *acc, const uint32_t *xw, const void *w, uint32_t wstride, uint32_t terms,
                                     uint32_t count, const ecnn_qlinear_params *q)
{
    uint32_t t, l, p;
    for (l = 0; l < PIXELS * count; l++) acc[l] = 0;
    for (t = 0; t < terms; t++)
        for (l = 0; l < count; l++) {
            const int32_t wv = centred_code(w, (size_t)t * wstride + l, q->w_type, 0);
            for (p = 0; p < PIXELS; p++) acc[p * count + l] += get_term(xw, p, t) * wv;
        }
}

void ecnn_conv_q_dw_direct_portable(int32_t *acc, const void *x, const size_t *xoff, const void *w, const size_t *woff,
                                    uint32_t taps, uint32_t count, const ecnn_qlinear_params *q)
{
    uint32_t i, c;
    for (c = 0; c < count; c++) acc[c] = 0;
    for (i = 0; i < taps; i++)
        for (c = 0; c < count; c++)
            acc[c] +=
                centred_code(x, xoff[i] + c, q->x_type, q->x_zero_point) * centred_code(w, woff[i] + c, q->w_type, 0);
}

void ecnn_conv_q_widen_portable(void *xk, const void *x, uint32_t count, const ecnn_qlinear_params *q)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        const int16_t v = (int16_t)centred_code(x, i, q->x_type, q->x_zero_point);
        memcpy((uint8_t *)xk + term_at(0, i), &v, sizeof v);
    }
}

#if !defined(ECNN_CONV_Q_HOSTED)
#define DIRECT_BLOCK 32u     /* output channels a block: their scales and the pixels' sums */
#define DIRECT_X_TERMS 1024u /* terms a pixel at most (taps x channels per group) */
#define SMALL_WINDOW 64u     /* windows of at most this many terms, < 8 channels a tap: by a table */
#define DW_BLOCK 64u         /* depthwise channels a block: their scales and sums */
#define DW_TAPS 49u          /* depthwise windows up to 7x7 */

static inline void put_term(uint32_t *xw, uint32_t p, uint32_t t, int32_t v)
{
    const int16_t v16 = (int16_t)v;
    memcpy((uint8_t *)xw + term_at(p, t), &v16, sizeof v16);
}

static int is_depthwise(const ecnn_conv2d_args *p)
{
    return p->group == p->c && p->o == p->c && p->kh * p->kw <= DW_TAPS;
}

static int32_t weight_zero_point(const ecnn_qlinear_params *q, uint32_t o)
{
    return q->w_zero_points[q->w_count == 1 ? 0 : o];
}

static int any_weight_zero_point(const ecnn_qlinear_params *q)
{
    uint32_t i;
    for (i = 0; i < q->w_count; i++)
        if (q->w_zero_points[i] != 0) return 1;
    return 0;
}

/* acc[l] -= zw(o0 + l) * xsum for l < count: the weight zero point's share, sum (x - zx) (w - zw)
 * = sum (x - zx) w - zw sum (x - zx), in uint32 (exact modulo 2^32; the result fits int32). */
static void subtract_weight_zero(int32_t *acc, uint32_t count, uint32_t o0, int32_t xsum, const ecnn_qlinear_params *q)
{
    uint32_t l;
    for (l = 0; l < count; l++)
        acc[l] = (int32_t)((uint32_t)acc[l] - (uint32_t)weight_zero_point(q, o0 + l) * (uint32_t)xsum);
}

/* Its own stack frame: inlined into ecnn_conv2d_q_hwio (called once), its arrays would add to
 * the dense path's stack. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
conv2d_q_depthwise(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *tile,
                   const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    ecnn_conv_q_dw_direct_kernel *dw_direct =
        uk->dw_direct && q->w_type == ECNN_Q_I8 ? uk->dw_direct : ecnn_conv_q_dw_direct_portable;
    const int zw_any = any_weight_zero_point(q);
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c0, c, i;
    int32_t acc[DW_BLOCK];
    float scales[DW_BLOCK];
    size_t xoff[DW_TAPS], woff[DW_TAPS]; /* of the taps inside x */
    for (c0 = tile->o0; c0 < tile->o1; c0 += DW_BLOCK) {
        const uint32_t count = tile->o1 - c0 < DW_BLOCK ? tile->o1 - c0 : DW_BLOCK;
        for (c = 0; c < count; c++) scales[c] = ecnn_requant_scale(q, c0 + c);
        ECNN_FOR_EACH_PIXEL(p, tile, m, s, oy, ox, ky0, ky1, kx0, kx1)
        {
            const size_t xs = (size_t)s * p->h * p->w * p->c;
            uint32_t taps = 0;
            for (ky = ky0; ky < ky1; ky++) /* taps in the padding contribute 0 (x == zx) */
                for (kx = kx0; kx < kx1; kx++, taps++) {
                    xoff[taps] = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + c0;
                    woff[taps] = ((size_t)ky * p->kw + kx) * p->o + c0;
                }
            dw_direct(acc, x, xoff, w, woff, taps, count, q);
            if (zw_any)
                for (c = 0; c < count; c++) {
                    int32_t xsum = 0;
                    for (i = 0; i < taps; i++) xsum += centred_code(x, xoff[i] + c, q->x_type, q->x_zero_point);
                    subtract_weight_zero(acc + c, 1, c0 + c, xsum, q);
                }
            uk->store(y, ECNN_PIXEL_AT(p, s, oy, ox, p->o) + c0, acc, count, scales, b ? b + c0 : NULL, q);
        }
    }
}

int ecnn_conv2d_q_hwio_fits(const ecnn_conv2d_args *p)
{
    return is_depthwise(p) || (uint64_t)p->kh * p->kw * (p->c / p->group) <= DIRECT_X_TERMS;
}

/* One conv call's constants and its pending pixels, and the block of output channels
 * [oc, oc + count) whose sums are being made. */
typedef struct {
    void *y;
    const void *w;
    const int32_t *b;
    const ecnn_conv2d_args *p;
    const ecnn_qlinear_params *q;
    const ecnn_conv_q_ukernels *uk;
    ecnn_conv_q_dot_direct_kernel *dot;
    ecnn_conv_q_widen_kernel *widen;
    const uint32_t *xoff; /* each term's input offset in a window (windows of few terms); or NULL */
    uint32_t *xw;         /* the pending pixels' terms */
    int32_t *acc;         /* [PIXELS][count] */
    float *scales;        /* of the block's channels */
    uint32_t lo, hi;      /* the tile's channels of the group */
    uint32_t oc, count;
    int zw_any;            /* a weight zero point is not 0: xsum holds each pixel's sum (x - zx) */
    int32_t xsum[PIXELS];  /* of each pending pixel */
    size_t firsts[PIXELS]; /* where each pending pixel's outputs of channel lo go */
} conv_block;

/* x - zx of n codes into the terms t, t + 1, ... of the pixel whose term 0 is at xb: the ISA's
 * widening where t starts a pair, else term by term. */
static inline void centre_terms(const conv_block *k, uint8_t *xb, uint32_t t, const uint8_t *src, uint32_t n)
{
    const int32_t zx = k->q->x_zero_point;
    uint8_t *d = xb + term_at(0, t);
    uint32_t c;
    int16_t v;
    if (t % 2 == 0 && n >= 8) { /* fewer codes are not worth a call */
        k->widen(d, src, n, k->q);
        return;
    }
    if (k->q->x_type == ECNN_Q_U8)
        for (c = 0; c < n; d += (t + c) % 2 ? 4 * PIXELS - 2 : 2, c++) {
            v = (int16_t)((int32_t)src[c] - zx);
            memcpy(d, &v, sizeof v);
        }
    else
        for (c = 0; c < n; d += (t + c) % 2 ? 4 * PIXELS - 2 : 2, c++) {
            v = (int16_t)((int32_t)(int8_t)src[c] - zx);
            memcpy(d, &v, sizeof v);
        }
}

/* x - zx of a whole window's terms (codes at window + xoff[t]) into the pixel whose term 0 is at
 * xb, a pair a step: for windows of few channels a tap, where a call per row would cost more
 * than the terms. */
static void centre_window(const conv_block *k, uint8_t *xb, const uint8_t *window, uint32_t terms)
{
    const uint32_t *xoff = k->xoff;
    /* code ^ flip - (zx + flip): the code as uint8 (flip 0) or int8 (flip 0x80), centred */
    const uint32_t flip = k->q->x_type == ECNN_Q_U8 ? 0u : 0x80u;
    const int32_t zf = k->q->x_zero_point + (int32_t)flip;
    uint32_t t;
    for (t = 0; t + 1 < terms; t += 2, xb += 4 * PIXELS) {
        const int32_t v0 = (int32_t)(window[xoff[t]] ^ flip) - zf, v1 = (int32_t)(window[xoff[t + 1]] ^ flip) - zf;
        const uint32_t pair = ((uint32_t)v0 & 0xFFFFu) | (uint32_t)v1 << 16;
        memcpy(xb, &pair, sizeof pair);
    }
    if (t < terms) { /* an odd count's last term; its pair's second stays 0 */
        const int16_t v = (int16_t)((int32_t)(window[xoff[t]] ^ flip) - zf);
        memcpy(xb, &v, sizeof v);
    }
}

/* Pixel pix's centred terms (output pixel oy, ox; taps [ky0, ky1) x [kx0, kx1) inside x; xs:
 * its sample's input at the group's first channel); the taps in the padding are 0 (x == zx).
 * Without groups or dilation along W, a row of the window is one run of codes. */
static void gather_pixel(conv_block *k, uint32_t pix, const uint8_t *xs, uint32_t oy, uint32_t ox, uint32_t ky0,
                         uint32_t ky1, uint32_t kx0, uint32_t kx1)
{
    const ecnn_conv2d_args *p = k->p;
    const uint32_t cg = p->c / p->group, terms = p->kh * p->kw * cg;
    const size_t row_step = (size_t)p->dilation_h * p->w * p->c, tap_step = (size_t)p->dilation_w * p->c;
    const int rows_contiguous = p->group == 1 && p->dilation_w == 1;
    uint8_t *xb = (uint8_t *)k->xw + term_at(pix, 0);
    const uint8_t *row = xs + ECNN_TAP_AT(p, oy, ox, ky0, kx0);
    uint32_t ky, kx, t;
    int32_t sum = 0;
    const int whole = ky1 - ky0 == p->kh && kx1 - kx0 == p->kw;
    if (whole && k->xoff) {
        centre_window(k, xb, row, terms);
    } else {
        if (!whole)
            for (t = 0; t < terms; t++) put_term(k->xw, pix, t, 0);
        for (ky = ky0; ky < ky1; ky++, row += row_step) {
            const uint8_t *src = row;
            t = (ky * p->kw + kx0) * cg;
            if (rows_contiguous)
                centre_terms(k, xb, t, src, (kx1 - kx0) * cg);
            else
                for (kx = kx0; kx < kx1; kx++, t += cg, src += tap_step) centre_terms(k, xb, t, src, cg);
        }
    }
    if (k->zw_any)
        for (t = 0; t < terms; t++) sum += get_term(k->xw, pix, t);
    k->xsum[pix] = sum;
}

/* The sums of the pending pixels' outputs, block by block of DIRECT_BLOCK channels, requantized
 * (the other pixels' sums are computed, not stored). The scales are the block's: made again
 * only when the tile has more than one block. */
static void flush(conv_block *k, uint32_t pending)
{
    const ecnn_conv2d_args *p = k->p;
    uint32_t i, l;
    if (pending == 0) return;
    for (k->oc = k->lo; k->oc < k->hi; k->oc += DIRECT_BLOCK) {
        if (k->count == 0 || k->hi - k->lo > DIRECT_BLOCK) {
            k->count = k->hi - k->oc < DIRECT_BLOCK ? k->hi - k->oc : DIRECT_BLOCK;
            for (l = 0; l < k->count; l++) k->scales[l] = ecnn_requant_scale(k->q, k->oc + l);
        }
        k->dot(k->acc, k->xw, (const uint8_t *)k->w + k->oc, p->o, p->kh * p->kw * (p->c / p->group), k->count, k->q);
        for (i = 0; i < pending; i++) {
            int32_t *acc = k->acc + i * k->count;
            if (k->zw_any) subtract_weight_zero(acc, k->count, k->oc, k->xsum[i], k->q);
            k->uk->store(k->y, k->firsts[i] + (k->oc - k->lo), acc, k->count, k->scales, k->b ? k->b + k->oc : NULL,
                         k->q);
        }
    }
}

void ecnn_conv2d_q_hwio(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, const ecnn_tile *tile,
                        const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group, terms = p->kh * p->kw * cg, pairs = (terms + 1) / 2;
    uint32_t m, s, oy, ox, ky0, ky1, kx0, kx1, g, t, pending = 0;
    uint32_t xoff[SMALL_WINDOW];
    uint32_t xw[PIXELS * pairs]; /* the pixels' terms: 4 B a term pair, 6 KiB at most */
    int32_t acc[PIXELS * DIRECT_BLOCK];
    float scales[DIRECT_BLOCK];
    conv_block k;
    (void)n; /* rows and channels come from the tile */
    if (is_depthwise(p)) {
        conv2d_q_depthwise(y, x, w, b, tile, p, q, uk);
        return;
    }
    k.y = y, k.w = w, k.b = b, k.p = p, k.q = q, k.uk = uk, k.xw = xw, k.acc = acc, k.scales = scales;
    k.dot = uk->dot_direct && q->w_type == ECNN_Q_I8 ? uk->dot_direct : ecnn_conv_q_dot_direct_portable;
    k.widen = uk->widen ? uk->widen : ecnn_conv_q_widen_portable;
    k.zw_any = any_weight_zero_point(q);
    k.xoff = NULL;
    if (terms <= SMALL_WINDOW && cg < 8) {
        for (t = 0; t < terms; t++) /* term t = (ky * KW + kx) * Cg + c */
            xoff[t] = ((t / cg / p->kw) * p->dilation_h * p->w + (t / cg % p->kw) * p->dilation_w) * p->c + t % cg;
        k.xoff = xoff;
    }
    memset(xw, 0, sizeof xw); /* an odd term count's last pair ends with a 0 */
    for (g = 0; g < p->group; g++) {
        /* the tile's channels of this group */
        k.lo = g * og > tile->o0 ? g * og : tile->o0;
        k.hi = (g + 1) * og < tile->o1 ? (g + 1) * og : tile->o1;
        k.count = 0; /* the scales are not made yet */
        if (k.lo >= k.hi) continue;
        ECNN_FOR_EACH_PIXEL(p, tile, m, s, oy, ox, ky0, ky1, kx0, kx1)
        {
            gather_pixel(&k, pending, (const uint8_t *)x + (size_t)s * p->h * p->w * p->c + (size_t)g * cg, oy, ox, ky0,
                         ky1, kx0, kx1);
            k.firsts[pending++] = ECNN_PIXEL_AT(p, s, oy, ox, p->o) + k.lo;
            if (pending == PIXELS) flush(&k, pending);
            pending %= PIXELS;
        }
        flush(&k, pending); /* the tile's last pixels */
        pending = 0;
    }
}
#endif /* !ECNN_CONV_Q_HOSTED */

/* int8 / uint8 conv over HWIO weights (kernels_i8.h), hosted builds (ECNN_CONV_Q_HOSTED; the
 * others: conv_q_direct.c): the loops in plain C99, the inner dot product and the requantizing
 * store through an ISA's microkernels (ecnn_conv_q_ukernels), so one loop nest serves every
 * ISA. Exact int32 sums and the shared requantization: the result is the reference's bit for
 * bit. */
#include <string.h>

#include "kernels/kernels_i8.h"

/* acc[o] = sum_j xk[2j] * wc[(j*c8 + o)*2] + xk[2j+1] * wc[(j*c8 + o)*2 + 1] for o < c8: the
 * int16 pair layout of _mm256_madd_epi16 (|x - zx|, |w - zw| <= 255: every pair sum fits int32;
 * the validator bounds the whole sum). */
void ecnn_conv_q_dot_portable(int32_t *acc, const int16_t *xk, const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t j, o;
    for (o = 0; o < c8; o++) acc[o] = 0;
    for (j = 0; j < pairs; j++) {
        const int32_t x0 = xk[2 * j], x1 = xk[2 * j + 1];
        const int16_t *wr = wc + (size_t)j * c8 * 2;
        for (o = 0; o < c8; o++) acc[o] += x0 * (int32_t)wr[2 * o] + x1 * (int32_t)wr[2 * o + 1];
    }
}

void ecnn_q_store_scaled_portable(void *y, size_t first, const int32_t *acc, uint32_t count, const float *scales,
                                  const int32_t *bias, const ecnn_qlinear_params *q)
{
    ecnn_q_store_scaled_tail(y, first, acc, 0, count, scales, bias, q);
}

#if defined(ECNN_CONV_Q_HOSTED)
/* Output channels per block, and the most weights (term pairs x channels x 2, the block
 * padded to 8 channels) whose centred int16 copy (w - zw) is kept on the stack; larger
 * kernels take the reference kernel (ecnn_conv2d_q_hwio_fits). A 3x3 window over 64 channels
 * keeps whole 64-channel blocks (80 KB), so each pixel's terms are gathered once per 64
 * outputs, not once per 8; and ECNN_CONV_Q_PIXELS pixels go to each dotn call. */
#define CONV_O_BLOCK 64u
#define CONV_W_STACK 40960u
#define CONV_PIXELS ECNN_CONV_Q_PIXELS
#define CONV_X_STACK 1024u /* terms per output pixel (taps x channels per group) */

/* x[i] - zx as int32 for an int8 or uint8 buffer. */
static inline int32_t centred(const void *x, size_t i, ecnn_qtype t, int32_t zx)
{
    return (t == ECNN_Q_U8 ? (int32_t)((const uint8_t *)x)[i] : (int32_t)((const int8_t *)x)[i]) - zx;
}

/* dst[c] = src[c] - zx for n contiguous int8 or uint8 values: plain loops the compiler vectorises. */
static void centre_run(int16_t *dst, const uint8_t *src, uint32_t n, ecnn_qtype t, int32_t zx)
{
    uint32_t c;
    if (t == ECNN_Q_U8)
        for (c = 0; c < n; c++) dst[c] = (int16_t)((int32_t)src[c] - zx);
    else
        for (c = 0; c < n; c++) dst[c] = (int16_t)((int32_t)(int8_t)src[c] - zx);
}

/* ecnn_conv_q_ukernels.pack in plain C. */
static void pack_portable(int16_t *wc, const void *w, uint32_t terms, uint32_t o, uint32_t oc, uint32_t count,
                          const ecnn_qlinear_params *q)
{
    const uint32_t c8 = (count + 7) / 8 * 8, pairs = (terms + 1) / 2;
    uint32_t t, l;
    memset(wc, 0, (size_t)pairs * 2 * c8 * sizeof wc[0]);
    for (t = 0; t < terms; t++)
        for (l = 0; l < count; l++) {
            const size_t at = (size_t)t * o + oc + l; /* HWIO: term t = (ky*KW + kx)*Cg + c */
            const int32_t zw = q->w_zero_points[q->w_count == 1 ? 0 : oc + l];
            wc[((size_t)(t / 2) * c8 + l) * 2 + t % 2] = (int16_t)centred(w, at, q->w_type, zw);
        }
}

/* Output channels per block: up to CONV_O_BLOCK, fewer (a multiple of 8) when a block's packed
 * weights would not fit CONV_W_STACK (3x3 convs over 16+ channels per group); 0 when not even
 * 8 fit. */
static uint32_t block_size(const ecnn_conv2d_args *p, uint32_t pairs)
{
    const uint32_t og = p->o / p->group;
    const uint32_t fit = pairs ? CONV_W_STACK / (pairs * 2) / 8 * 8 : CONV_O_BLOCK;
    const uint32_t capped = og < CONV_O_BLOCK ? og : CONV_O_BLOCK;
    return capped < fit ? capped : fit;
}

/* The dot products of npix pixels: the ISA's multi-pixel microkernel, else one pixel a call. */
static void dot_pixels(const ecnn_conv_q_ukernels *uk, int32_t *const *acc, const int16_t *const *xk, uint32_t npix,
                       const int16_t *wc, uint32_t pairs, uint32_t c8)
{
    uint32_t i;
    if (uk->dotn && npix > 1)
        uk->dotn(acc, xk, npix, wc, pairs, c8);
    else
        for (i = 0; i < npix; i++) uk->dot(acc[i], xk[i], wc, pairs, c8);
}

/* ---- the byte path (ecnn_conv_q_ukernels.conv_u8): int8 weights with zero points 0 ---------
 * The weights of a block of up to CONV_O_BLOCK channels are packed once per call into the
 * [k / 4][c16][4] bytes of vpdpbusd, their c sum w taken off the block's bias. Each pixel's
 * window enters as its raw codes, read in place where it lies inside x (a pointwise conv's input
 * row; a k x k window's kh rows when each is whole 4-k groups), else gathered, its taps in the
 * padding the code of zx (u = c, which the correction cancels). */
#define U8_PIXELS ECNN_CONV_Q_U8_PIXELS
#define U8_W_STACK (CONV_X_STACK * CONV_O_BLOCK) /* packed bytes of a block: k <= CONV_X_STACK */

int ecnn_q_symmetric_int8_weights(const ecnn_qlinear_params *q)
{
    uint32_t i;
    if (q->w_type != ECNN_Q_I8) return 0;
    for (i = 0; i < q->w_count; i++)
        if (q->w_zero_points[i] != 0) return 0;
    return 1;
}

static int takes_u8_path(const ecnn_conv_q_ukernels *uk, const ecnn_qlinear_params *q)
{
    return uk->conv_u8 != NULL && uk->pw_u8 != NULL && uk->pack_u8 != NULL && ecnn_q_symmetric_int8_weights(q);
}

/* Window rows that are not whole 4-byte groups (kw * C % 4): the byte path would gather every
 * window. Where rows are whole groups it reads them in place and shares each broadcast over up
 * to 64 channels, faster than the small kernel's 16 (DS-CNN's 10x4x1 -> 64 first layer, Zen 5:
 * 96 vs 48 GMAC/s; 1x1 C = 24 -> 40: 149 vs 123). Levels without it compare the int16 path,
 * whose per-pixel centring and stores cost most where a pixel has few outputs: up to
 * SMALL_WHOLE_ROWS_O of them the small kernel takes whole-group rows too (AVX2, Zen 5, 1x1
 * 48x48 8 -> 16: 24.0 -> 8.5 us, 24x24 16 -> 32: 9.3 -> 6.6; 12x12 32 -> 64 was 13% slower). */
#define SMALL_WHOLE_ROWS_O 32u

int ecnn_conv2d_q_small_fits(const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    return uk->small != NULL && p->group == 1 && p->dilation_w == 1 &&
           (p->kw * p->c % 4 != 0 || (uk->conv_u8 == NULL && p->o <= SMALL_WHOLE_ROWS_O)) &&
           (uint64_t)p->kh * (((uint64_t)p->kw * p->c + 3) / 4) <= ECNN_CONV_Q_SMALL_QUADS &&
           ecnn_q_symmetric_int8_weights(q);
}

static void conv2d_q_u8(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *tile,
                        const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group, k = p->kh * p->kw * cg;
    const int in_place = p->kh == 1 && p->kw == 1 && p->group == 1; /* a pixel's window: its input row */
    const int row_runs = p->dilation_w == 1 && p->group == 1;       /* a window row: kw * C contiguous codes */
    /* a whole window read in place as its kh rows (the kernel's runs of whole 4-k groups) */
    const int by_rows = row_runs && p->kh > 1 && p->kw * p->c % 4 == 0;
    const int dense = in_place && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
                      p->oh == p->h && p->ow == p->w; /* no padding either */
    const uint8_t zcode = (uint8_t)q->x_zero_point;   /* the code of zx, int8 or uint8 */
    const uint8_t c = (uint8_t)(q->x_zero_point - ecnn_qtype_min(q->x_type));
    const size_t in_place_stride = (size_t)p->dilation_h * p->w * p->c, gathered_stride = (size_t)p->kw * cg;
    const uint8_t *xb = (const uint8_t *)x;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, g, oc;
    int8_t wp[U8_W_STACK];
    int32_t terms[CONV_O_BLOCK], bias[CONV_O_BLOCK];
    float scales[CONV_O_BLOCK];
    uint8_t windows[U8_PIXELS][CONV_X_STACK];
    const uint8_t *xs[U8_PIXELS];
    size_t firsts[U8_PIXELS], xstrides[U8_PIXELS] = {0};
    uint32_t pending = 0;
    ecnn_conv_q_u8_block blk;
    blk.wp = wp;
    blk.k = k;
    blk.rows = by_rows ? p->kh : 1;
    blk.bias = bias;
    blk.scales = scales;
    blk.q = q;
    for (g = 0; g < p->group; g++) {
        const uint32_t lo = g * og > tile->o0 ? g * og : tile->o0,
                       hi = (g + 1) * og < tile->o1 ? (g + 1) * og : tile->o1;
        for (oc = lo; oc < hi; oc += CONV_O_BLOCK) {
            const uint32_t count = hi - oc < CONV_O_BLOCK ? hi - oc : CONV_O_BLOCK, c16 = (count + 15) / 16 * 16;
            blk.count = count;
            uk->pack_u8(wp, terms, (const int8_t *)w, k, p->o, oc, count, c);
            ecnn_q_block_constants(bias, scales, c != 0 ? terms : NULL, b, oc, c16, p->o, q);
            if (dense) /* pixel i of the tile reads input row i and writes output row i */
                uk->pw_u8((uint8_t *)y + (size_t)tile->m0 * p->ow * p->o + oc, xb + (size_t)tile->m0 * p->ow * p->c,
                          (size_t)(tile->m1 - tile->m0) * p->ow, p->o, &blk);
            else
                ECNN_FOR_EACH_PIXEL(p, tile, m, s, oy, ox, ky0, ky1, kx0, kx1)
                {
                    const size_t xs0 = (size_t)s * p->h * p->w * p->c + (size_t)g * cg;
                    uint8_t *win = windows[pending];
                    const int whole = ky1 - ky0 == p->kh && kx1 - kx0 == p->kw;
                    if (whole && (in_place || by_rows)) {
                        xs[pending] = xb + xs0 + ECNN_TAP_AT(p, oy, ox, 0, 0);
                        xstrides[pending] = in_place_stride;
                    } else {
                        if (!whole) memset(win, zcode, k);
                        for (ky = ky0; ky < ky1; ky++)
                            if (row_runs)
                                memcpy(win + ((size_t)ky * p->kw + kx0) * cg,
                                       xb + xs0 + ECNN_TAP_AT(p, oy, ox, ky, kx0), (size_t)(kx1 - kx0) * cg);
                            else
                                for (kx = kx0; kx < kx1; kx++)
                                    memcpy(win + ((size_t)ky * p->kw + kx) * cg,
                                           xb + xs0 + ECNN_TAP_AT(p, oy, ox, ky, kx), cg);
                        xs[pending] = win;
                        xstrides[pending] = gathered_stride;
                    }
                    firsts[pending++] = ECNN_PIXEL_AT(p, s, oy, ox, p->o) + oc;
                    if (pending == U8_PIXELS) {
                        uk->conv_u8(y, firsts, xs, xstrides, pending, &blk);
                        pending = 0;
                    }
                }
            if (pending) { /* the tile's last pixels */
                uk->conv_u8(y, firsts, xs, xstrides, pending, &blk);
                pending = 0;
            }
        }
    }
}

int ecnn_conv2d_q_hwio_fits(const ecnn_conv2d_args *p)
{
    const uint64_t terms = (uint64_t)p->kh * p->kw * (p->c / p->group), pairs = (terms + 1) / 2;
    uint32_t block;
    if (ecnn_conv2d_q_is_depthwise(p)) return 1;
    if (pairs * 2 > CONV_X_STACK) return 0;
    block = block_size(p, (uint32_t)pairs);
    return block != 0 && pairs * 2 * ((block + 7) / 8 * 8) <= CONV_W_STACK;
}

void ecnn_conv2d_q_hwio(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, const ecnn_tile *tile,
                        const ecnn_conv2d_args *p, const ecnn_qlinear_params *q, const ecnn_conv_q_ukernels *uk)
{
    const uint32_t cg = p->c / p->group, og = p->o / p->group, taps = p->kh * p->kw;
    const uint32_t terms = taps * cg, pairs = (terms + 1) / 2; /* term t = tap * cg + c */
    const uint32_t block = block_size(p, pairs);
    /* the codes of a window row lie together (kw taps of all C channels) in a group-1 conv
     * without horizontal dilation, else each tap's channels */
    const uint32_t run = p->group == 1 && p->dilation_w == 1 ? p->kw * cg : cg;
    const int32_t zx = q->x_zero_point;
    uint32_t m, s, oy, ox, ky, kx, ky0, ky1, kx0, kx1, c, g, oc, o, t;
    int32_t acc[CONV_PIXELS][CONV_O_BLOCK];
    float scales[CONV_O_BLOCK];             /* requantization scale of each output channel of the block */
    int16_t wc[CONV_W_STACK];               /* [pair][o (block padded to 8)][2] of one block: w - zw, 0 padded */
    int16_t xks[CONV_PIXELS][CONV_X_STACK]; /* x - zx of a few output pixels' terms, 0 in the padding */
    size_t xoff[CONV_X_STACK];              /* term t's input offset from the window's first element */
    int32_t *accs[CONV_PIXELS];
    const int16_t *xkp[CONV_PIXELS];
    size_t firsts[CONV_PIXELS]; /* where each pending pixel's outputs go */
    uint32_t pending = 0, i;
    (void)n; /* rows and channels come from the tile */
    for (i = 0; i < CONV_PIXELS; i++) {
        accs[i] = acc[i];
        xkp[i] = xks[i];
    }
    if (ecnn_conv2d_q_is_depthwise(p)) {
        ecnn_conv2d_q_depthwise(y, x, w, b, tile, p, q, uk);
        return;
    }
    if (ecnn_conv2d_q_small_fits(p, q, uk)) {
        uk->small(y, x, w, b, tile, p, q);
        return;
    }
    if (takes_u8_path(uk, q)) {
        conv2d_q_u8(y, x, w, b, tile, p, q, uk);
        return;
    }
    for (ky = 0; ky < p->kh; ky++)
        for (kx = 0; kx < p->kw; kx++)
            for (c = 0; c < cg; c++)
                xoff[((size_t)ky * p->kw + kx) * cg + c] =
                    ((size_t)ky * p->dilation_h * p->w + (size_t)kx * p->dilation_w) * p->c + c;
    for (g = 0; g < p->group; g++) {
        /* the tile's channels of this group, in blocks from its first (oc: a block's first) */
        const uint32_t lo = g * og > tile->o0 ? g * og : tile->o0,
                       hi = (g + 1) * og < tile->o1 ? (g + 1) * og : tile->o1;
        for (oc = lo; oc < hi; oc += block) {
            const uint32_t count = hi - oc < block ? hi - oc : block, c8 = (count + 7) / 8 * 8;
            for (o = 0; o < count; o++) scales[o] = ecnn_requant_scale(q, oc + o);
            if (uk->pack)
                uk->pack(wc, w, terms, p->o, oc, count, q);
            else
                pack_portable(wc, w, terms, p->o, oc, count, q);
            for (i = 0; i < CONV_PIXELS; i++) memset(xks[i], 0, (size_t)pairs * 2 * sizeof xks[i][0]);
            ECNN_FOR_EACH_PIXEL(p, tile, m, s, oy, ox, ky0, ky1, kx0, kx1)
            {
                const size_t xs = (size_t)s * p->h * p->w * p->c + (size_t)g * cg;
                int16_t *xk = xks[pending];
                /* taps in the padding contribute 0 (x == zx); an odd last pair's second term
                 * (index `terms`) is never written and stays 0 */
                if (ky1 - ky0 == p->kh && kx1 - kx0 == p->kw) { /* the whole window is inside x */
                    const size_t xp = xs + ECNN_TAP_AT(p, oy, ox, 0, 0);
                    if (run >= 8 && uk->centre) /* contiguous runs: a window row, or a tap's channels */
                        for (t = 0; t < terms; t += run) uk->centre(xk + t, (const uint8_t *)x + xp + xoff[t], run, q);
                    else if (cg >= 8)
                        for (t = 0; t < terms; t += cg)
                            centre_run(xk + t, (const uint8_t *)x + xp + xoff[t], cg, q->x_type, zx);
                    else if (q->x_type == ECNN_Q_U8)
                        for (t = 0; t < terms; t++) xk[t] = (int16_t)(((const uint8_t *)x)[xp + xoff[t]] - zx);
                    else
                        for (t = 0; t < terms; t++) xk[t] = (int16_t)(((const int8_t *)x)[xp + xoff[t]] - zx);
                } else { /* clipped: the taps outside x stay 0 */
                    memset(xk, 0, (size_t)terms * sizeof xk[0]);
                    for (ky = ky0; ky < ky1; ky++)
                        if (uk->centre && run > cg) /* the row's taps inside x: one run */
                            uk->centre(xk + ((size_t)ky * p->kw + kx0) * cg,
                                       (const uint8_t *)x + xs + ECNN_TAP_AT(p, oy, ox, ky, kx0), (kx1 - kx0) * cg, q);
                        else
                            for (kx = kx0; kx < kx1; kx++) {
                                const size_t xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
                                int16_t *xt = xk + ((size_t)ky * p->kw + kx) * cg;
                                if (uk->centre)
                                    uk->centre(xt, (const uint8_t *)x + xp, cg, q);
                                else
                                    centre_run(xt, (const uint8_t *)x + xp, cg, q->x_type, zx);
                            }
                }
                firsts[pending++] = ECNN_PIXEL_AT(p, s, oy, ox, p->o) + oc;
                if (pending == CONV_PIXELS) {
                    dot_pixels(uk, accs, xkp, pending, wc, pairs, c8);
                    for (i = 0; i < pending; i++) uk->store(y, firsts[i], acc[i], count, scales, b ? b + oc : NULL, q);
                    pending = 0;
                }
            }
            if (pending) { /* the tile's last pixels */
                dot_pixels(uk, accs, xkp, pending, wc, pairs, c8);
                for (i = 0; i < pending; i++) uk->store(y, firsts[i], acc[i], count, scales, b ? b + oc : NULL, q);
                pending = 0;
            }
        }
    }
}
#endif /* ECNN_CONV_Q_HOSTED */

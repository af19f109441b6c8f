/* The x86 int8 convs of few terms a pixel (ecnn_conv_q_ukernels.small, kernels_i8.h: the first
 * layers of image CNNs, C = 1..3), shared by the AVX2, AVX-512, AVX-VNNI and AVX-512 VNNI levels.
 *
 * The generic kernels multiply deep K into packed panels; a 3x3 window over one channel has 9
 * terms, so they spend their time on gathering and loop overhead. Here output channels sit in
 * vector lanes, 16 a block, and the block's packed weights are read once per call: each pixel's
 * window enters as quads of its unsigned bytes u (x ^ 0x80 for int8 x, x for uint8), a window
 * row of kw * C bytes as ceil(kw * C / 4) quads (the bytes past the row meet weight 0), each quad
 * broadcast to every lane and multiplied into the block's 16 sums against the quad's packed
 * weights: vpdpbusd (SQ_PAIRS 0), or the quad spread into two int16 pairs for vpmaddwd
 * (SQ_PAIRS 1: |u w| pairs fit int16 products summed in int32, where vpmaddubsw would saturate).
 * As the generic byte path (conv_q_u8_vnni.h), x - zx = u - c (c = zx - the dtype minimum), so
 * c sum w comes off the bias and taps in the padding enter as the code of zx (u = c). Sums are
 * exact in int32 (the validator bounds them); the requantization is x86/q_requant.h's: the
 * reference's codes, bit for bit.
 *
 * Windows wholly inside x are read in place, runs of a row's pixels a call; a window's last
 * row may read up to 3 bytes past its kw * C (weight 0), which stays inside the sample or the
 * pixel is gathered. The other windows are gathered with their padding filled, a few a call.
 *
 * The includer defines SQ_KERNEL (the kernel's name), SQ_BITS (256 or 512), SQ_PAIRS, and for
 * SQ_PAIRS 0 SQ_DPBUSD (the level's vpdpbusd intrinsic), then includes this file. */
#ifndef ECNN_KERNELS_X86_CONV_Q_SMALL_H
#define ECNN_KERNELS_X86_CONV_Q_SMALL_H

#define RQ_BITS SQ_BITS
#include "kernels/x86/q_requant.h"

#define SQ_RQ(name) ECNN_RQ(SQ_BITS, name)
#define SQ_LANES 16u /* output channels a block */
#define SQ_PIXELS 8u /* pixels a tile: independent sums that cover the multiply-add latency */
#define SQ_QUADS ECNN_CONV_Q_SMALL_QUADS
#define SQ_UNROLL _Pragma("GCC unroll 16")

/* Packed bytes of one quad's weights for the block: [16][4] int8, or [2 pairs][16][2] int16. */
#define SQ_QUAD_BYTES (SQ_PAIRS ? SQ_LANES * 4u * 2u : SQ_LANES * 4u)

#if SQ_BITS == 512
typedef __m512i sq_acc; /* the block's 16 int32 sums */
typedef struct {
    __m512i flip, spread01, spread23, bias;
    __m512 scales;
    rq512_consts rq;
} sq_vecs;
#define SQ_SET1_EPI32(v) _mm512_set1_epi32(v)
#define SQ_SET1_EPI8(v) _mm512_set1_epi8(v)
#define SQ_XOR(a, b) _mm512_xor_si512(a, b)
#define SQ_SHUFFLE_EPI8(a, b) _mm512_shuffle_epi8(a, b)
#elif SQ_BITS == 256
typedef struct {
    __m256i lo, hi; /* channels 0..7, 8..15 */
} sq_acc;
typedef struct {
    __m256i flip, spread01, spread23, bias0, bias1;
    __m256 scales0, scales1;
    rq256_consts rq;
} sq_vecs;
#define SQ_SET1_EPI32(v) _mm256_set1_epi32(v)
#define SQ_SET1_EPI8(v) _mm256_set1_epi8(v)
#define SQ_XOR(a, b) _mm256_xor_si256(a, b)
#define SQ_SHUFFLE_EPI8(a, b) _mm256_shuffle_epi8(a, b)
#else
#error "SQ_BITS is 256 or 512"
#endif

static ALWAYS_INLINE void sq_setup(sq_vecs *v, const int32_t *bias, const float *scales, const ecnn_qlinear_params *q)
{
    v->flip = SQ_SET1_EPI8(q->x_type == ECNN_Q_U8 ? 0 : (char)0x80);
    /* bytes (b0, b1) and (b2, b3) of each 4-byte lane zero-extended into int16 pairs */
    v->spread01 = SQ_SET1_EPI32((int32_t)0x80018000);
    v->spread23 = SQ_SET1_EPI32((int32_t)0x80038002);
    v->rq = SQ_RQ(setup)(q);
#if SQ_BITS == 512
    v->bias = _mm512_loadu_si512(bias);
    v->scales = rq512_scales(scales);
#else
    v->bias0 = _mm256_loadu_si256((const __m256i *)bias);
    v->bias1 = _mm256_loadu_si256((const __m256i *)(bias + 8));
    v->scales0 = rq256_scales(scales);
    v->scales1 = rq256_scales(scales + 8);
#endif
}

static ALWAYS_INLINE sq_acc sq_zero(void)
{
#if SQ_BITS == 512
    return _mm512_setzero_si512();
#else
    sq_acc a;
    a.lo = a.hi = _mm256_setzero_si256();
    return a;
#endif
}

/* a + the products of the quad at xq (its 4 bytes in every lane, as u) and the quad's weights. */
static ALWAYS_INLINE sq_acc sq_madd(sq_acc a, const uint8_t *xq, const uint8_t *wq, const sq_vecs *v)
{
    int32_t bytes;
    memcpy(&bytes, xq, sizeof bytes);
    {
#if SQ_BITS == 512
        const __m512i u = SQ_XOR(SQ_SET1_EPI32(bytes), v->flip);
#if SQ_PAIRS
        a = _mm512_add_epi32(a, _mm512_madd_epi16(SQ_SHUFFLE_EPI8(u, v->spread01), _mm512_loadu_si512(wq)));
        a = _mm512_add_epi32(a, _mm512_madd_epi16(SQ_SHUFFLE_EPI8(u, v->spread23), _mm512_loadu_si512(wq + 64)));
#else
        a = SQ_DPBUSD(a, u, _mm512_loadu_si512(wq));
#endif
#else
        const __m256i u = SQ_XOR(SQ_SET1_EPI32(bytes), v->flip);
#if SQ_PAIRS
        const __m256i u01 = SQ_SHUFFLE_EPI8(u, v->spread01), u23 = SQ_SHUFFLE_EPI8(u, v->spread23);
        a.lo = _mm256_add_epi32(a.lo, _mm256_madd_epi16(u01, _mm256_loadu_si256((const __m256i *)wq)));
        a.hi = _mm256_add_epi32(a.hi, _mm256_madd_epi16(u01, _mm256_loadu_si256((const __m256i *)(wq + 32))));
        a.lo = _mm256_add_epi32(a.lo, _mm256_madd_epi16(u23, _mm256_loadu_si256((const __m256i *)(wq + 64))));
        a.hi = _mm256_add_epi32(a.hi, _mm256_madd_epi16(u23, _mm256_loadu_si256((const __m256i *)(wq + 96))));
#else
        a.lo = SQ_DPBUSD(a.lo, u, _mm256_loadu_si256((const __m256i *)wq));
        a.hi = SQ_DPBUSD(a.hi, u, _mm256_loadu_si256((const __m256i *)(wq + 32)));
#endif
#endif
    }
    return a;
}

/* The block's first `width` (1..16) requantized codes at y. */
static ALWAYS_INLINE void sq_store(uint8_t *y, sq_acc a, const sq_vecs *v, uint32_t width)
{
#if SQ_BITS == 512
    rq512_store(y, rq512_codes(_mm512_add_epi32(a, v->bias), v->scales, &v->rq), width, &v->rq);
#else
    rq256_store2(y, rq256_codes(_mm256_add_epi32(a.lo, v->bias0), v->scales0, &v->rq),
                 rq256_codes(_mm256_add_epi32(a.hi, v->bias1), v->scales1, &v->rq), width, &v->rq);
#endif
}

/* What a call's pixels share: the block's packed weights and vectors, the quads' offsets from a
 * window's first byte, the steps between pixels. */
typedef struct {
    const uint8_t *wp;
    const size_t *qoff;
    uint32_t quads, width;
    size_t pix_step, y_step;
    const sq_vecs *v;
} sq_run_args;

/* np pixels (a constant at each call: the sums stay in registers), windows from x, outputs
 * from y. */
static ALWAYS_INLINE void sq_tile(uint8_t *y, const uint8_t *x, const sq_run_args *r, const uint32_t np)
{
    sq_acc a[SQ_PIXELS];
    uint32_t i, j;
    SQ_UNROLL
    for (i = 0; i < np; i++) a[i] = sq_zero();
    for (j = 0; j < r->quads; j++) {
        const uint8_t *xq = x + r->qoff[j], *wq = r->wp + (size_t)j * SQ_QUAD_BYTES;
        SQ_UNROLL
        for (i = 0; i < np; i++) a[i] = sq_madd(a[i], xq + i * r->pix_step, wq, r->v);
    }
    SQ_UNROLL
    for (i = 0; i < np; i++) sq_store(y + i * r->y_step, a[i], r->v, r->width);
}

#define SQ_TILE_CASE(NP)                                                                                               \
    case NP: sq_tile(y, x, r, NP); break;

/* npix pixels: tiles of SQ_PIXELS, then one of the rest. */
static NOINLINE void sq_run(uint8_t *y, const uint8_t *x, uint32_t npix, const sq_run_args *r)
{
    for (; npix >= SQ_PIXELS; npix -= SQ_PIXELS, x += SQ_PIXELS * r->pix_step, y += SQ_PIXELS * r->y_step)
        sq_tile(y, x, r, SQ_PIXELS);
    switch (npix) {
        SQ_TILE_CASE(1)
        SQ_TILE_CASE(2)
        SQ_TILE_CASE(3)
        SQ_TILE_CASE(4)
        SQ_TILE_CASE(5)
        SQ_TILE_CASE(6)
        SQ_TILE_CASE(7)
    default: break;
    }
}
#undef SQ_TILE_CASE

/* The weights of `width` channels from oc (HWIO int8) in the quads' layout (0 past a window row
 * and past width), and terms[l] = c sum w of channel l (int32, wrapping; 0 past width). */
static void sq_pack(uint8_t *wp, int32_t *terms, const int8_t *w, const ecnn_conv2d_args *p, uint32_t row_quads,
                    uint32_t oc, uint32_t width, uint8_t c)
{
    const uint32_t row_bytes = p->kw * p->c;
    uint32_t ky, r, l;
    memset(wp, 0, (size_t)p->kh * row_quads * SQ_QUAD_BYTES);
    for (l = 0; l < SQ_LANES; l++) terms[l] = 0;
    for (ky = 0; ky < p->kh; ky++)
        for (r = 0; r < row_bytes; r++) {
            const uint32_t quad = ky * row_quads + r / 4, b = r % 4; /* term r of the row: kx * C + channel */
            const int8_t *wr = w + ((size_t)ky * row_bytes + r) * p->o + oc;
            uint8_t *dst = wp + (size_t)quad * SQ_QUAD_BYTES;
            for (l = 0; l < width; l++) {
#if SQ_PAIRS
                const int16_t v16 = wr[l];
                memcpy(dst + (((b / 2) * SQ_LANES + l) * 2 + b % 2) * 2, &v16, sizeof v16);
#else
                dst[l * 4 + b] = (uint8_t)wr[l];
#endif
                terms[l] = (int32_t)((uint32_t)terms[l] + (uint32_t)c * (uint32_t)(int32_t)wr[l]);
            }
        }
}

/* The windows of pixels [ox0, ox1) of output row oy (sample xs) gathered, the padding the code of
 * zx, SQ_PIXELS a call. */
static void sq_gathered(uint8_t *yr, const uint8_t *xs, uint32_t oy, uint32_t ox0, uint32_t ox1,
                        const ecnn_conv2d_args *p, uint32_t row_quads, uint8_t zcode, sq_run_args *r)
{
    uint8_t win[SQ_PIXELS][SQ_QUADS * 4];
    const size_t row = (size_t)row_quads * 4;
    uint32_t ox, ky0, ky1, kx0, kx1, ky, i;
    r->pix_step = sizeof win[0];
    ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
    for (ox = ox0; ox < ox1; ox += i) {
        for (i = 0; i < SQ_PIXELS && ox + i < ox1; i++) {
            memset(win[i], zcode, r->quads * 4);
            ecnn_tap_range(ox + i, p->stride_w, p->pad_left, 1, p->kw, p->w, &kx0, &kx1);
            if (kx0 < kx1)
                for (ky = ky0; ky < ky1; ky++)
                    memcpy(win[i] + ky * row + (size_t)kx0 * p->c, xs + ECNN_TAP_AT(p, oy, ox + i, ky, kx0),
                           (size_t)(kx1 - kx0) * p->c);
        }
        sq_run(yr + (size_t)ox * p->o, win[0], i, r);
    }
}

ecnn_conv_q_small_kernel SQ_KERNEL;
void SQ_KERNEL(void *y, const void *x, const void *w, const int32_t *b, const ecnn_tile *t, const ecnn_conv2d_args *p,
               const ecnn_qlinear_params *q)
{
    const uint32_t row_quads = (p->kw * p->c + 3) / 4, quads = p->kh * row_quads;
    const size_t x_row = (size_t)p->dilation_h * p->w * p->c, sample = (size_t)p->h * p->w * p->c;
    const uint8_t zcode = (uint8_t)q->x_zero_point; /* the code of zx, int8 or uint8 */
    const uint8_t c = (uint8_t)(q->x_zero_point - ecnn_qtype_min(q->x_type));
    uint8_t wp[SQ_QUADS * SQ_QUAD_BYTES];
    int32_t terms[SQ_LANES], bias[SQ_LANES];
    float scales[SQ_LANES];
    size_t in_place[SQ_QUADS], gathered[SQ_QUADS];
    sq_vecs v;
    sq_run_args r;
    uint32_t j, oc, m, full0, full1;
    for (j = 0; j < quads; j++) {
        in_place[j] = (j / row_quads) * x_row + (j % row_quads) * 4;
        gathered[j] = (size_t)j * 4;
    }
    ecnn_full_columns(p, &full0, &full1);
    r.wp = wp;
    r.quads = quads;
    r.y_step = p->o;
    r.v = &v;
    for (oc = t->o0; oc < t->o1; oc += SQ_LANES) {
        r.width = t->o1 - oc < SQ_LANES ? t->o1 - oc : SQ_LANES;
        sq_pack(wp, terms, (const int8_t *)w, p, row_quads, oc, r.width, c);
        ecnn_q_block_constants(bias, scales, terms, b, oc, SQ_LANES, p->o, q);
        sq_setup(&v, bias, scales, q);
        for (m = t->m0; m < t->m1; m++) {
            const uint32_t s = m / p->oh, oy = m % p->oh;
            const uint8_t *xs = (const uint8_t *)x + s * sample;
            uint8_t *yr = (uint8_t *)y + ECNN_PIXEL_AT(p, s, oy, 0, p->o) + oc;
            const int64_t iy = (int64_t)oy * p->stride_h - p->pad_top;
            const int64_t iy_last = iy + (int64_t)(p->kh - 1) * p->dilation_h;
            uint32_t lo = full0, hi = full1;
            if (iy < 0 || iy_last >= p->h)
                lo = hi = p->ow;          /* rows in the padding: every window gathered */
            else if (iy_last == p->h - 1) /* the last row's quads must end inside the sample */
                while (hi > lo &&
                       ((size_t)(hi - 1) * p->stride_w - p->pad_left) * p->c + row_quads * 4 > (size_t)p->w * p->c)
                    hi--;
            r.qoff = gathered;
            if (lo > 0) sq_gathered(yr, xs, oy, 0, lo, p, row_quads, zcode, &r);
            if (hi < p->ow) sq_gathered(yr, xs, oy, hi, p->ow, p, row_quads, zcode, &r);
            if (lo < hi) {
                r.qoff = in_place;
                r.pix_step = (size_t)p->stride_w * p->c;
                sq_run(yr + (size_t)lo * p->o, xs + ECNN_TAP_AT(p, oy, lo, 0, 0), hi - lo, &r);
            }
        }
    }
}

#endif /* ECNN_KERNELS_X86_CONV_Q_SMALL_H */

/* AVX-512 float convs of few terms a pixel (ecnn_conv2d_kernels.small: KH * KW * C <=
 * ECNN_CONV_F32_SMALL_TERMS, group 1; image CNNs' first layers). The general kernel
 * (x86/conv_f32_hwio.h) walks ky, kx and c in nested loops per block of pixels; with one input
 * channel that is nine one-term loops. Here a pixel's terms are one flat list of offsets from its
 * window's first element, and 16 output channels are a block (the last 1..15 under an opmask),
 * its packed weights [term][16] read once per call: a tile of SF_PIXELS pixels of a row
 * broadcasts each term's input per pixel against the term's weights, one VF_MAC per term in the
 * reference order (ky, kx, c), then the bias and the activation, as the general kernel:
 * bit-identical to the level's reference. A pixel whose window reaches into the padding skips
 * those taps (as the reference does), alone. An AVX2 copy (8 channels a block) was slower than
 * the general AVX2 kernel (16 channels a block) on the reference model's conv. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

typedef __mmask16 sf_mask;

static ALWAYS_INLINE sf_mask sf_lanes(uint32_t width)
{
    return (__mmask16)(width >= 16 ? 0xFFFFu : (1u << width) - 1u);
}

static ALWAYS_INLINE __m512 sf_load(const float *p, sf_mask m)
{
    return _mm512_maskz_loadu_ps(m, p);
}

static ALWAYS_INLINE void sf_store(float *p, sf_mask m, __m512 v)
{
    _mm512_mask_storeu_ps(p, m, v);
}

#define SF_LANES VF_LANES
#define SF_PIXELS 12u /* independent sums a tile: enough to cover the multiply-add latency */
#define SF_TERMS ECNN_CONV_F32_SMALL_TERMS

/* What the pixels of a block share. */
typedef struct {
    const float *wp; /* [term][SF_LANES] */
    const size_t *off;
    uint32_t terms, width;
    size_t pix_step, y_step;
    VF bias;
    int has_bias;
    sf_mask m;
    const ecnn_act_params *act;
} sf_block;

/* Bias and activation (Relu, Clip: conv_f32_hwio.h's operations; the others by the reference
 * over the stored outputs), then the `width` lanes stored. */
static ALWAYS_INLINE void sf_finish(float *y, VF a, const sf_block *k)
{
    if (k->has_bias) a = VF_ADD(a, k->bias);
    if (k->act->act == ECNN_ACT_RELU)
        a = VF_MAX(a, VF_ZERO());
    else if (k->act->act == ECNN_ACT_CLIP)
        a = VF_MIN(VF_SET1(k->act->act_p1), VF_MAX(VF_SET1(k->act->act_p0), a));
    sf_store(y, k->m, a);
    if (k->act->act > ECNN_ACT_RELU && k->act->act != ECNN_ACT_CLIP) ecnn_activation_f32_ref(y, y, k->width, k->act);
}

/* np pixels (a constant at each call: the sums stay in registers) of windows x, x + pix_step, ... */
static ALWAYS_INLINE void sf_tile(float *y, const float *x, const sf_block *k, const uint32_t np)
{
    VF a[SF_PIXELS];
    uint32_t i, j;
    _Pragma("GCC unroll 16") for (i = 0; i < np; i++) a[i] = VF_ZERO();
    for (j = 0; j < k->terms; j++) {
        const VF wv = VF_LOADU(k->wp + (size_t)j * SF_LANES);
        const float *xj = x + k->off[j];
        _Pragma("GCC unroll 16") for (i = 0; i < np; i++) a[i] = VF_MAC(a[i], VF_BCAST(xj + i * k->pix_step), wv);
    }
    _Pragma("GCC unroll 16") for (i = 0; i < np; i++) sf_finish(y + i * k->y_step, a[i], k);
}

#define SF_TILE_CASE(NP)                                                                                               \
    case NP: sf_tile(y, x, k, NP); break;

/* npix pixels of a row, windows wholly inside x. */
static NOINLINE void sf_run(float *y, const float *x, uint32_t npix, const sf_block *k)
{
    for (; npix >= SF_PIXELS; npix -= SF_PIXELS, x += SF_PIXELS * k->pix_step, y += SF_PIXELS * k->y_step)
        sf_tile(y, x, k, SF_PIXELS);
    switch (npix) {
        SF_TILE_CASE(1)
        SF_TILE_CASE(2)
        SF_TILE_CASE(3)
        SF_TILE_CASE(4)
        SF_TILE_CASE(5)
        SF_TILE_CASE(6)
        SF_TILE_CASE(7)
        SF_TILE_CASE(8)
        SF_TILE_CASE(9)
        SF_TILE_CASE(10)
        SF_TILE_CASE(11)
    default: break;
    }
}
#undef SF_TILE_CASE

/* One pixel whose window reaches into the padding: taps [ky0, ky1) x [kx0, kx1) (xs: the sample). */
static NOINLINE void sf_clipped(float *y, const float *xs, uint32_t oy, uint32_t ox, const ecnn_conv2d_args *p,
                                const sf_block *k)
{
    const uint32_t cg = p->c;
    uint32_t ky0, ky1, kx0, kx1, ky, kx, c;
    VF a = VF_ZERO();
    ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
    ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
    for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
            const float *xt = xs + ECNN_TAP_AT(p, oy, ox, ky, kx);
            const float *wt = k->wp + ((size_t)ky * p->kw + kx) * cg * SF_LANES;
            for (c = 0; c < cg; c++) a = VF_MAC(a, VF_BCAST(xt + c), VF_LOADU(wt + (size_t)c * SF_LANES));
        }
    sf_finish(y, a, k);
}

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_small_avx512;
void ecnn_conv2d_f32_small_avx512(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                  const ecnn_tile *t, const ecnn_conv2d_args *p)
{
    const uint32_t terms = p->kh * p->kw * p->c;
    const size_t sample = (size_t)p->h * p->w * p->c;
    float wp[SF_TERMS * SF_LANES];
    size_t off[SF_TERMS];
    sf_block k;
    uint32_t ky, kx, c, j, l, oc, m, ox, full0, full1;
    (void)n; /* rows and channels come from the tile */
    for (ky = 0; ky < p->kh; ky++)
        for (kx = 0; kx < p->kw; kx++)
            for (c = 0; c < p->c; c++)
                off[(ky * p->kw + kx) * p->c + c] =
                    ((size_t)ky * p->dilation_h * p->w + (size_t)kx * p->dilation_w) * p->c + c;
    ecnn_full_columns(p, &full0, &full1);
    k.wp = wp;
    k.off = off;
    k.terms = terms;
    k.pix_step = (size_t)p->stride_w * p->c;
    k.y_step = p->o;
    k.has_bias = b != NULL;
    k.act = &p->act;
    for (oc = t->o0; oc < t->o1; oc += SF_LANES) {
        k.width = t->o1 - oc < SF_LANES ? t->o1 - oc : SF_LANES;
        k.m = sf_lanes(k.width);
        for (j = 0; j < terms; j++) /* HWIO: term j's O weights follow each other */
            for (l = 0; l < SF_LANES; l++) wp[j * SF_LANES + l] = l < k.width ? w[(size_t)j * p->o + oc + l] : 0.0f;
        k.bias = b ? sf_load(b + oc, k.m) : VF_ZERO();
        for (m = t->m0; m < t->m1; m++) {
            const uint32_t s = m / p->oh, oy = m % p->oh;
            const float *xs = x + s * sample;
            float *yr = y + ECNN_PIXEL_AT(p, s, oy, 0, p->o) + oc;
            uint32_t ky0, ky1, lo = full0, hi = full1;
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            if (ky0 != 0 || ky1 != p->kh) lo = hi = p->ow; /* a row in the padding: every pixel clipped */
            for (ox = 0; ox < lo; ox++) sf_clipped(yr + (size_t)ox * p->o, xs, oy, ox, p, &k);
            if (lo < hi) sf_run(yr + (size_t)lo * p->o, xs + ECNN_TAP_AT(p, oy, lo, 0, 0), hi - lo, &k);
            for (ox = hi > lo ? hi : lo; ox < p->ow; ox++) sf_clipped(yr + (size_t)ox * p->o, xs, oy, ox, p, &k);
        }
    }
}

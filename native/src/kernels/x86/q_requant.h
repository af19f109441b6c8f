/* The requantization of the x86 int8 kernels on one vector of int32 sums: kernels_i8.h's
 * ecnn_requantize, bit for bit. The same IEEE float operations in the same order: the sum (its
 * bias added in int32 by the caller) converted to float, times the scale, max against
 * lo = y_min - zy then min against hi = y_max - zy (vmaxps, vminps: `v > lo ? v : lo`, then
 * `v < hi ? v : hi`, NaN to lo), rounded half to even (vcvtps2dq in the default MXCSR mode, as
 * lrintf), plus zy. The codes are then within the output dtype's range, so every narrowing here
 * (saturating packs, vpmovdb, the int16 add of zy) is exact.
 *
 * The includer defines RQ_BITS (256 or 512: 512 needs AVX-512F and BW) and includes this file;
 * each width is defined once per file however often it is included. The names carry the width
 * (ECNN_RQ(bits, name) for a width given as a macro): for N = 256 (8 lanes) and 512 (16),
 *
 *   rqN_consts              a kernel call's constants: lo, hi, zy in int32 and int16 lanes, u8;
 *   rqN_setup(q)            made once per call or block: a byte store may alias q, so the compiler
 *                           would read q and build them again after every store otherwise;
 *   rqN_round(sum, s, c)    the sums scaled, clamped and rounded, before zy: within [lo, hi];
 *   rqN_codes(sum, s, c)    the output codes in int32 lanes (rqN_round + zy);
 *   rqN_store(y, codes, width, c)   the first `width` (1..lanes) codes at y;
 *   rqN_pack4(r0, r1, r2, r3, c)    4 vectors of rqN_round's values as one vector of codes, in
 *                                   the packs' order: dword j of 128-bit lane L holds rj's lanes
 *                                   4L .. 4L + 3;
 *
 * and rqN_vi / rqN_vf (the int32 and float vectors), rqN_scales(p) (a vector of scales from p),
 * rq256_store2 (16 codes of two 8-lane vectors). Without AVX-512 the stores use no byte masks. */
#ifndef ECNN_KERNELS_X86_Q_REQUANT_H
#define ECNN_KERNELS_X86_Q_REQUANT_H

#include "kernels/x86/x86.h"

#define ECNN_RQ_CAT(bits, name) rq##bits##_##name
#define ECNN_RQ(bits, name) ECNN_RQ_CAT(bits, name)

/* The first `width` (1..16) bytes of `bytes` at y. */
static ALWAYS_INLINE void rq_store_bytes(uint8_t *y, __m128i bytes, uint32_t width)
{
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    _mm_mask_storeu_epi8(y, (__mmask16)((1u << width) - 1u), bytes);
#else
    if (width == 16)
        _mm_storeu_si128((__m128i *)y, bytes);
    else if (width == 8)
        _mm_storel_epi64((__m128i *)y, bytes);
    else {
        uint8_t all[16];
        _mm_storeu_si128((__m128i *)all, bytes);
        memcpy(y, all, width);
    }
#endif
}

#endif /* ECNN_KERNELS_X86_Q_REQUANT_H */

#if RQ_BITS == 256
#ifndef ECNN_KERNELS_X86_Q_REQUANT_256
#define ECNN_KERNELS_X86_Q_REQUANT_256
#define RQ_WIDTH_BODY
#define RQ_V __m256i
#define RQ_VF __m256
#define RQ_OP(op) _mm256_##op
#endif
#elif RQ_BITS == 512
#ifndef ECNN_KERNELS_X86_Q_REQUANT_512
#define ECNN_KERNELS_X86_Q_REQUANT_512
#define RQ_WIDTH_BODY
#define RQ_V __m512i
#define RQ_VF __m512
#define RQ_OP(op) _mm512_##op
#endif
#else
#error "RQ_BITS is 256 or 512"
#endif

#ifdef RQ_WIDTH_BODY
#define RQ_NAME(name) ECNN_RQ(RQ_BITS, name)

typedef RQ_V RQ_NAME(vi);
typedef RQ_VF RQ_NAME(vf);

typedef struct {
    RQ_VF lo, hi;  /* y_min - zy, y_max - zy */
    RQ_V zy, zy16; /* zy in int32 lanes, in int16 lanes */
    int u8;        /* uint8 codes, else int8 */
} RQ_NAME(consts);

static ALWAYS_INLINE RQ_NAME(consts) RQ_NAME(setup)(const ecnn_qlinear_params *q)
{
    RQ_NAME(consts) c;
    c.lo = RQ_OP(set1_ps)((float)(q->y_min - q->y_zero_point));
    c.hi = RQ_OP(set1_ps)((float)(q->y_max - q->y_zero_point));
    c.zy = RQ_OP(set1_epi32)(q->y_zero_point);
    c.zy16 = RQ_OP(set1_epi16)((short)q->y_zero_point);
    c.u8 = q->y_type == ECNN_Q_U8;
    return c;
}

static ALWAYS_INLINE RQ_VF RQ_NAME(scales)(const float *p)
{
    return RQ_OP(loadu_ps)(p);
}

static ALWAYS_INLINE RQ_V RQ_NAME(round)(RQ_V sum, RQ_VF scales, const RQ_NAME(consts) * c)
{
    RQ_VF v = RQ_OP(mul_ps)(RQ_OP(cvtepi32_ps)(sum), scales);
    v = RQ_OP(max_ps)(v, c->lo); /* max then min: the reference's order */
    v = RQ_OP(min_ps)(v, c->hi);
    return RQ_OP(cvtps_epi32)(v);
}

static ALWAYS_INLINE RQ_V RQ_NAME(codes)(RQ_V sum, RQ_VF scales, const RQ_NAME(consts) * c)
{
    return RQ_OP(add_epi32)(RQ_NAME(round)(sum, scales, c), c->zy);
}

static ALWAYS_INLINE RQ_V RQ_NAME(pack4)(RQ_V r0, RQ_V r1, RQ_V r2, RQ_V r3, const RQ_NAME(consts) * c)
{
    /* rounded values and codes fit int16: zy is added there */
    const RQ_V a = RQ_OP(add_epi16)(RQ_OP(packs_epi32)(r0, r1), c->zy16);
    const RQ_V b = RQ_OP(add_epi16)(RQ_OP(packs_epi32)(r2, r3), c->zy16);
    return c->u8 ? RQ_OP(packus_epi16)(a, b) : RQ_OP(packs_epi16)(a, b);
}

#if RQ_BITS == 512
static ALWAYS_INLINE void rq512_store(uint8_t *y, __m512i codes, uint32_t width, const rq512_consts *c)
{
    (void)c;
    rq_store_bytes(y, _mm512_cvtepi32_epi8(codes), width); /* the low byte of a code is the output */
}
#else
/* The first `width` (1..16) codes of codes0's 8 lanes then codes1's. */
static ALWAYS_INLINE void rq256_store2(uint8_t *y, __m256i codes0, __m256i codes1, uint32_t width,
                                       const rq256_consts *c)
{
    const __m128i h0 = _mm_packs_epi32(_mm256_castsi256_si128(codes0), _mm256_extracti128_si256(codes0, 1));
    const __m128i h1 = _mm_packs_epi32(_mm256_castsi256_si128(codes1), _mm256_extracti128_si256(codes1, 1));
    rq_store_bytes(y, c->u8 ? _mm_packus_epi16(h0, h1) : _mm_packs_epi16(h0, h1), width);
}

static ALWAYS_INLINE void rq256_store(uint8_t *y, __m256i codes, uint32_t width, const rq256_consts *c)
{
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    (void)c;
    rq_store_bytes(y, _mm256_cvtepi32_epi8(codes), width);
#else
    rq256_store2(y, codes, codes, width, c);
#endif
}
#endif

#undef RQ_NAME
#undef RQ_V
#undef RQ_VF
#undef RQ_OP
#undef RQ_WIDTH_BODY
#endif /* RQ_WIDTH_BODY */
#undef RQ_BITS

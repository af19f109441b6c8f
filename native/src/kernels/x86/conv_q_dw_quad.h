/* The VNNI depthwise int8 conv over blocks of DWQ_BYTES channels (32: ymm, AVX-VNNI; 64: zmm,
 * AVX-512 VNNI) for int8 weights whose zero points are all 0, four taps a multiply: the codes of
 * taps t..t+3 are interleaved into a dword per channel (two byte and two word unpacks per vector
 * of quads, in-lane) as bytes u = x ^ 0x80 for int8 x, x for uint8, and one vpdpbusd (u8 x s8,
 * four products a lane, no saturation) adds them against the weights, interleaved the same way
 * once per call. sum_t (x - zx) w = sum_t u w - cx sum_t w, cx = zx (+ 128 for int8 x): the
 * second term is folded into the bias (wrapping int32: the true sum fits, so the result is
 * exact), the sum of the weights taken by the same multiply with every u 1. The last quad's taps
 * past the window have weight 0 and read nothing. The unpacks leave channel 16L + 4k + j of each
 * 128-bit lane L in dword j of the k-th vector of quads: the bias and scales are permuted so once
 * per call, and the packs back to bytes (int32 -> int16 -> int8, in-lane) restore the channel
 * order. The requantization and the packs are x86/q_requant.h's (rqN_round, rqN_pack4). Runs
 * of stride 1 over fewer channels go as flat rows of bytes (dwq_run_flat). The includer defines
 * DWQ_BYTES and DWQ_DOT8(acc, u, w) (undefined at the end: the file can be included once per
 * width); the file gives, N the width,
 *
 *   static uint32_t dwq_blocksN(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix,
 *                               uint32_t c, const ecnn_qlinear_params *q);
 *
 * the channels from c it takes (3x3 and 5x5 windows, k->w_int8_zero), returning the first one
 * left. */
#define DWQ_CAT2(a, b) a##b
#define DWQ_CAT(a, b) DWQ_CAT2(a, b)
#define DWQ_NAME(name) DWQ_CAT(name, DWQ_BYTES)

#if DWQ_BYTES == 64
#define DWQ_V __m512i
#define DWQ_VF __m512
#define DWQ_OP(op) _mm512_##op
#define DWQ_SI(op) _mm512_##op##_si512
#define DWQ_CASTPS _mm512_castsi512_ps
#define DWQ_RQ(name) ECNN_RQ(512, name)
#define RQ_BITS 512
#elif DWQ_BYTES == 32
#define DWQ_V __m256i
#define DWQ_VF __m256
#define DWQ_OP(op) _mm256_##op
#define DWQ_SI(op) _mm256_##op##_si256
#define DWQ_CASTPS _mm256_castsi256_ps
#define DWQ_RQ(name) ECNN_RQ(256, name)
#define RQ_BITS 256
#else
#error "DWQ_BYTES is 32 or 64"
#endif
#include "kernels/x86/q_requant.h"
/* quads of the largest window it takes (5x5) */
#define DWQ_QUADS 7

/* Four vectors of bytes (taps) as four vectors of quads: t[s] byte 16L + 4k + j at byte s of
 * dword j of lane L of out[k]. */
static ALWAYS_INLINE void DWQ_NAME(dwq_quads)(DWQ_V out[4], const DWQ_V t[4])
{
    const DWQ_V ab_lo = DWQ_OP(unpacklo_epi8)(t[0], t[1]), ab_hi = DWQ_OP(unpackhi_epi8)(t[0], t[1]);
    const DWQ_V cd_lo = DWQ_OP(unpacklo_epi8)(t[2], t[3]), cd_hi = DWQ_OP(unpackhi_epi8)(t[2], t[3]);
    out[0] = DWQ_OP(unpacklo_epi16)(ab_lo, cd_lo);
    out[1] = DWQ_OP(unpackhi_epi16)(ab_lo, cd_lo);
    out[2] = DWQ_OP(unpacklo_epi16)(ab_hi, cd_hi);
    out[3] = DWQ_OP(unpackhi_epi16)(ab_hi, cd_hi);
}

/* DWQ_BYTES 4-byte values at a, or (period 8, 16 or 32: a flat run) the first `period` of them
 * over and over, in the quads' channel order: out[k] lane L = values 16L + 4k .. 16L + 4k + 3. */
static ALWAYS_INLINE void DWQ_NAME(dwq_lanes32)(DWQ_V out[4], const void *a, uint32_t period)
{
    const uint8_t *p = (const uint8_t *)a;
    const size_t wrap = period ? 4 * (size_t)period : 4 * DWQ_BYTES; /* bytes before the values repeat */
    DWQ_V v0, v1, v2, v3;
#if DWQ_BYTES == 64
    if (period == 8) {
        v0 = v1 = v2 = v3 = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
    } else {
        v0 = _mm512_loadu_si512(p);
        v1 = _mm512_loadu_si512(p + DWQ_BYTES % wrap);
        v2 = _mm512_loadu_si512(p + 2 * DWQ_BYTES % wrap);
        v3 = _mm512_loadu_si512(p + 3 * DWQ_BYTES % wrap);
    }
#define DWQ_LANE_K(k)                                                                                                  \
    _mm512_shuffle_i32x4(_mm512_shuffle_i32x4(v0, v1, (k)*0x55), _mm512_shuffle_i32x4(v2, v3, (k)*0x55), 0x88)
    out[0] = DWQ_LANE_K(0);
    out[1] = DWQ_LANE_K(1);
    out[2] = DWQ_LANE_K(2);
    out[3] = DWQ_LANE_K(3);
#undef DWQ_LANE_K
#else
    v0 = _mm256_loadu_si256((const __m256i *)p);
    v1 = _mm256_loadu_si256((const __m256i *)(p + DWQ_BYTES % wrap));
    v2 = _mm256_loadu_si256((const __m256i *)(p + 2 * DWQ_BYTES % wrap));
    v3 = _mm256_loadu_si256((const __m256i *)(p + 3 * DWQ_BYTES % wrap));
    out[0] = _mm256_permute2x128_si256(v0, v2, 0x20);
    out[1] = _mm256_permute2x128_si256(v0, v2, 0x31);
    out[2] = _mm256_permute2x128_si256(v1, v3, 0x20);
    out[3] = _mm256_permute2x128_si256(v1, v3, 0x31);
#endif
}

/* DWQ_BYTES bytes at p, or (period 8, 16 or 32) the first `period` of them over and over. */
static ALWAYS_INLINE DWQ_V DWQ_NAME(dwq_bytes)(const uint8_t *p, uint32_t period)
{
    long long first;
    if (period == 8) {
        memcpy(&first, p, 8);
#if DWQ_BYTES == 64
        return _mm512_set1_epi64(first);
#else
        return _mm256_set1_epi64x(first);
#endif
    }
#if DWQ_BYTES == 64
    if (period == 16) return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p));
    if (period == 32) return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
#else
    if (period == 16) return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
#endif
    return DWQ_SI(loadu)((const DWQ_V *)p);
}

/* Per-channel 4-byte values at a from channel c (period as dwq_lanes32), or a[0] for all when
 * !per_channel. */
static ALWAYS_INLINE void DWQ_NAME(dwq_channels)(DWQ_V out[4], const void *a, uint32_t c, uint32_t per_channel,
                                                 uint32_t period)
{
    if (per_channel) {
        DWQ_NAME(dwq_lanes32)(out, (const uint8_t *)a + 4 * (size_t)c, period);
    } else {
        int32_t first;
        memcpy(&first, a, 4);
        out[0] = out[1] = out[2] = out[3] = DWQ_OP(set1_epi32)(first);
    }
}

/* The block's channels over `taps` taps (9 or 25: 3x3 and 5x5 windows), codes int8 or uint8;
 * period 0, or (a flat run, dwq_run_flat) the channel count: the `npix` vectors DWQ_BYTES apart
 * in x and y, the last at `last`. */
static ALWAYS_INLINE void DWQ_NAME(dwq_block)(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                              const uint32_t taps, const int is_u8, const ecnn_qlinear_params *q,
                                              uint32_t period, size_t last)
{
    const size_t x_step = period ? DWQ_BYTES : k->x_step, y_step = period ? DWQ_BYTES : k->y_step;
    const uint32_t quads = (taps + 3) / 4;
    const DWQ_V zero = DWQ_SI(setzero)(), flip = is_u8 ? zero : DWQ_OP(set1_epi8)((char)0x80);
    const DWQ_V cx = DWQ_OP(set1_epi32)(q->x_zero_point + (is_u8 ? 0 : 128));
    const DWQ_RQ(consts) rq = DWQ_RQ(setup)(q);
    DWQ_V wq[DWQ_QUADS][4], bias[4], sum[4], t4[4], qv[4];
    DWQ_VF scale[4];
    uint32_t qd, s, j, p;
    DWQ_NAME(dwq_channels)(bias, k->w_scales, c, k->w_per_channel, period); /* the weight scales, as int32 bits */
    for (j = 0; j < 4; j++) {
        scale[j] = DWQ_OP(mul_ps)(DWQ_OP(set1_ps)(q->x_scale), DWQ_CASTPS(bias[j]));
        scale[j] = DWQ_OP(div_ps)(scale[j], DWQ_OP(set1_ps)(q->y_scale)); /* as ecnn_requant_scale */
        sum[j] = zero;
    }
#pragma GCC unroll 7
    for (qd = 0; qd < quads; qd++) {
#pragma GCC unroll 4
        for (s = 0; s < 4; s++)
            t4[s] = 4 * qd + s < taps ? DWQ_NAME(dwq_bytes)(k->w + (4 * qd + s) * k->w_step + c, period) : zero;
        DWQ_NAME(dwq_quads)(wq[qd], t4);
#pragma GCC unroll 4
        for (j = 0; j < 4; j++) sum[j] = DWQ_DOT8(sum[j], DWQ_OP(set1_epi8)(1), wq[qd][j]);
    }
    if (k->bias)
        DWQ_NAME(dwq_lanes32)(bias, k->bias + c, period);
    else
        bias[0] = bias[1] = bias[2] = bias[3] = zero;
    for (j = 0; j < 4; j++) bias[j] = DWQ_OP(sub_epi32)(bias[j], DWQ_OP(mullo_epi32)(cx, sum[j]));
    for (p = 0; p < npix; p++) {
        const uint8_t *const *xt = k->xt + p * k->xt_step;
        const size_t at = (p + 1 < npix || !period ? p * x_step : last) + c;
        DWQ_V acc[4], r[4];
        for (j = 0; j < 4; j++) acc[j] = bias[j];
#pragma GCC unroll 7 /* constant tap counts: whole, the weights in registers */
        for (qd = 0; qd < quads; qd++) {
#pragma GCC unroll 4
            for (s = 0; s < 4; s++)
                t4[s] =
                    4 * qd + s < taps ? DWQ_SI(xor)(DWQ_SI(loadu)((const DWQ_V *)(xt[4 * qd + s] + at)), flip) : zero;
            DWQ_NAME(dwq_quads)(qv, t4);
#pragma GCC unroll 4
            for (j = 0; j < 4; j++) acc[j] = DWQ_DOT8(acc[j], qv[j], wq[qd][j]);
        }
#pragma GCC unroll 4
        for (j = 0; j < 4; j++) r[j] = DWQ_RQ(round)(acc[j], scale[j], &rq);
        DWQ_SI(storeu)
        ((DWQ_V *)(y + (p + 1 < npix || !period ? p * y_step : last) + c), DWQ_RQ(pack4)(r[0], r[1], r[2], r[3], &rq));
    }
}

/* 3x3 and 5x5 windows with int8 weights whose zero points are all 0. */
static inline int DWQ_NAME(dwq_fits)(const ecnn_conv_q_dw_block *k)
{
    return k->w_int8_zero && (k->taps == 9 || k->taps == 25);
}

static ALWAYS_INLINE void DWQ_NAME(dwq_windows)(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                                const ecnn_qlinear_params *q, uint32_t period, size_t last)
{
    const int is_u8 = q->x_type == ECNN_Q_U8;
    if (k->taps == 9)
        is_u8 ? DWQ_NAME(dwq_block)(y, k, npix, c, 9, 1, q, period, last)
              : DWQ_NAME(dwq_block)(y, k, npix, c, 9, 0, q, period, last);
    else
        is_u8 ? DWQ_NAME(dwq_block)(y, k, npix, c, 25, 1, q, period, last)
              : DWQ_NAME(dwq_block)(y, k, npix, c, 25, 0, q, period, last);
}

static NOINLINE void DWQ_NAME(dwq_run)(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                       const ecnn_qlinear_params *q)
{
    DWQ_NAME(dwq_windows)(y, k, npix, c, q, 0, 0);
}

/* A run of stride 1 over all of 8, 16 or 32 channels (fewer than the vector's bytes, at least a
 * vector of bytes): its pixels x channels are one row of bytes in x (each tap) and y, taken a
 * vector at a time, the last ending at the run's end (outputs written again, the same), against
 * the weights, scales and bias of the channels over and over: every lane used. */
static inline int DWQ_NAME(dwq_flat_fits)(const ecnn_conv_q_dw_block *k, uint32_t npix)
{
    return DWQ_NAME(dwq_fits)(k) && k->xt_step == 0 && k->x_step == k->count && k->y_step == k->count &&
           (k->count == 8 || k->count == 16 || k->count == 32) && k->count < DWQ_BYTES &&
           (size_t)npix * k->count >= DWQ_BYTES;
}

static NOINLINE void DWQ_NAME(dwq_run_flat)(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix,
                                            const ecnn_qlinear_params *q)
{
    const size_t bytes = (size_t)npix * k->count;
    DWQ_NAME(dwq_windows)(y, k, (uint32_t)((bytes + DWQ_BYTES - 1) / DWQ_BYTES), 0, q, k->count, bytes - DWQ_BYTES);
}

/* The channels from c of the call this width takes: a flat run whole (c 0), else blocks of N
 * while they fit; the first channel left (k->count when none). */
static uint32_t DWQ_NAME(dwq_blocks)(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c,
                                     const ecnn_qlinear_params *q)
{
    if (c == 0 && DWQ_NAME(dwq_flat_fits)(k, npix)) {
        DWQ_NAME(dwq_run_flat)(y, k, npix, q);
        return k->count;
    }
    if (DWQ_NAME(dwq_fits)(k))
        for (; c + DWQ_BYTES <= k->count; c += DWQ_BYTES) DWQ_NAME(dwq_run)(y, k, npix, c, q);
    return c;
}

#undef DWQ_V
#undef DWQ_VF
#undef DWQ_OP
#undef DWQ_SI
#undef DWQ_CASTPS
#undef DWQ_RQ
#undef DWQ_QUADS
#undef DWQ_NAME
#undef DWQ_CAT
#undef DWQ_CAT2
#undef DWQ_BYTES
#undef DWQ_DOT8

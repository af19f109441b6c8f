/* int8 / uint8 average pooling (kernels_i8.h ecnn_avgpool2d_q_ref's contract and result, bit for
 * bit): the reference's two rules with each output's steps in the reference's order, the sums
 * kept in blocks of AVG_Q_BLOCK channels so that the channel loops have a fixed trip count the
 * compiler vectorises (even at -O2's cheap cost model); the channels past the last whole block
 * take the same steps one at a time. The x86 kernels (x86/avgpool_q.h) hand it the channels past
 * their last whole vector. */
#include "kernels/kernels_i8.h"

#define AVG_Q_BLOCK 16u /* channels summed side by side: one AVX-512 vector of floats */

/* lrintf(w) in the default rounding mode (half to even) for |w| <= 2^22: w + 1.5 * 2^23 lies
 * where floats are integers, so the addition rounds; the subtraction is exact. Unlike lrintf it
 * vectorises. */
static inline int32_t round_small(float w)
{
    return (int32_t)((w + 12582912.0f) - 12582912.0f);
}

/* The reference's cvtps_epi32 then a clamp to [lo, hi] (small integers): the values the
 * conversion refuses (NaN, >= 2^31, < -2^31) give INT32_MIN there, so lo here. */
static inline int32_t round_clamp(float v, float lo, float hi)
{
    float w = v < 2147483648.0f ? v : lo;
    w = w > lo ? w : lo;
    w = w < hi ? w : hi;
    return round_small(w);
}

/* BODY for c over a block of `width` channels: a fixed trip count for a whole block. */
#define FOR_CHANNELS(c, width, BODY)                                                                                   \
    do {                                                                                                               \
        if ((width) == AVG_Q_BLOCK)                                                                                    \
            for (c = 0; c < AVG_Q_BLOCK; c++) BODY else for (c = 0; c < (width); c++) BODY                             \
    } while (0)

/* Stores codes (each in the dtype's range: the int8 byte is its two's complement). */
static inline void store_codes(uint8_t *yp, const int32_t *q, uint32_t count)
{
    uint32_t c;
    if (count == AVG_Q_BLOCK)
        for (c = 0; c < AVG_Q_BLOCK; c++) yp[c] = (uint8_t)q[c];
    else
        for (c = 0; c < count; c++) yp[c] = (uint8_t)q[c];
}

/* MlasQLinearGlobalAveragePool: the exact int32 sum of each channel's H*W codes minus zx * H*W,
 * one float multiply, the clamp, rne, + zy; every one of row m's OW outputs gets it. */
static void global_rule(uint8_t *y, const uint8_t *x, const ecnn_tile *t, const ecnn_pool2d_args *p,
                        const ecnn_qtensor *qx, const ecnn_qtensor *qy)
{
    const int u8 = qx->type == ECNN_Q_U8;
    const uint32_t size = p->h * p->w;
    const float sd = qy->scale * (float)size;
    const float scale = qx->scale / sd;
    const float lo = (float)(ecnn_qtype_min(qx->type) - qy->zero_point);
    const float hi = (float)(ecnn_qtype_max(qx->type) - qy->zero_point);
    int32_t acc[AVG_Q_BLOCK], q[AVG_Q_BLOCK];
    uint32_t m, c0, c, i;
    for (m = t->m0; m < t->m1; m++) {
        const uint8_t *xs = x + (size_t)(m / p->oh) * size * p->c;
        for (c0 = t->o0; c0 < t->o1; c0 += AVG_Q_BLOCK) {
            const uint32_t width = t->o1 - c0 < AVG_Q_BLOCK ? t->o1 - c0 : AVG_Q_BLOCK;
            for (c = 0; c < AVG_Q_BLOCK; c++) acc[c] = 0;
            for (i = 0; i < size; i++) {
                const uint8_t *xu = xs + (size_t)i * p->c + c0;
                const int8_t *xi = (const int8_t *)xu;
                if (u8)
                    FOR_CHANNELS(c, width, { acc[c] += xu[c]; });
                else
                    FOR_CHANNELS(c, width, { acc[c] += xi[c]; });
            }
            for (c = 0; c < AVG_Q_BLOCK; c++) {
                float v = (float)(acc[c] - qx->zero_point * (int32_t)size);
                v = v * scale;
                v = v > lo ? v : lo;
                v = v < hi ? v : hi;
                q[c] = round_small(v) + qy->zero_point;
            }
            for (i = 0; i < p->ow; i++) store_codes(y + ((size_t)m * p->ow + i) * p->c + c0, q, width);
        }
    }
}

void ecnn_avgpool2d_q_portable(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                               const ecnn_qtensor *qx, const ecnn_qtensor *qy, int uint8_rounding)
{
    const int u8 = qx->type == ECNN_Q_U8;
    const int32_t shift = !u8 && uint8_rounding ? 128 : 0; /* the rounding domain (kernels_i8.h) */
    const float lo = (float)(ecnn_qtype_min(qx->type) + shift), hi = (float)(ecnn_qtype_max(qx->type) + shift);
    const float zy = (float)(qy->zero_point + shift), sx = qx->scale, sy = qy->scale;
    const int32_t zx = qx->zero_point;
    float acc[AVG_Q_BLOCK];
    int32_t q[AVG_Q_BLOCK]; /* a partial block's other lanes: computed, never stored */
    uint32_t m, ox, c0, c;
    (void)n; /* rows and channels come from the tile */
    if (p->kh == p->h && p->kw == p->w && (p->pad_top | p->pad_left | p->pad_bottom | p->pad_right) == 0) {
        global_rule((uint8_t *)y, (const uint8_t *)x, t, p, qx, qy);
        return;
    }
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * p->c;
        long hs, he, ws, we;
        ecnn_qpool_window(oy, p->stride_h, p->pad_top, p->kh, p->h, &hs, &he);
        for (ox = 0; ox < p->ow; ox++) {
            uint8_t *yp = (uint8_t *)y + (((size_t)s * p->oh + oy) * p->ow + ox) * p->c;
            float count;
            ecnn_qpool_window(ox, p->stride_w, p->pad_left, p->kw, p->w, &ws, &we);
            count = ecnn_qpool_count(p, hs, he, ws, we);
            for (c0 = t->o0; c0 < t->o1; c0 += AVG_Q_BLOCK) {
                const uint32_t width = t->o1 - c0 < AVG_Q_BLOCK ? t->o1 - c0 : AVG_Q_BLOCK;
                long iy, ix;
                for (c = 0; c < AVG_Q_BLOCK; c++) acc[c] = 0.0f;
                for (iy = hs; iy < he; iy++)
                    for (ix = ws; ix < we; ix++) {
                        const uint8_t *xu = xs + ((size_t)iy * p->w + (size_t)ix) * p->c + c0;
                        const int8_t *xi = (const int8_t *)xu;
                        if (u8)
                            FOR_CHANNELS(c, width, {
                                const float dq = sx * (float)((int32_t)xu[c] - zx);
                                acc[c] = acc[c] + dq;
                            });
                        else
                            FOR_CHANNELS(c, width, {
                                const float dq = sx * (float)((int32_t)xi[c] - zx);
                                acc[c] = acc[c] + dq;
                            });
                    }
                for (c = 0; c < AVG_Q_BLOCK; c++) {
                    float v = acc[c] / count;
                    v = v / sy;
                    v = v + zy;
                    q[c] = round_clamp(v, lo, hi) - shift;
                }
                store_codes(yp + c0, q, width);
            }
        }
    }
}

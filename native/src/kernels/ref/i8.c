/* Reference int8 / uint8 kernels: the straightforward loops with onnxruntime's integer
 * arithmetic (kernels_i8.h). They are the oracle for faster kernels; keep them simple.
 * Accumulators are int32: the validator (model.c) refuses models whose worst-case sum
 * could overflow, so the C arithmetic here never does. */
#include <stddef.h>
#include <string.h>

#include "kernels/kernels_i8.h"

/* Element i of a quantized buffer as int32. */
static inline int32_t qload(const void *p, size_t i, ecnn_qtype t)
{
    return t == ECNN_Q_U8 ? (int32_t)((const uint8_t *)p)[i] : (int32_t)((const int8_t *)p)[i];
}

static inline void qstore(void *p, size_t i, int32_t v, ecnn_qtype t)
{
    if (t == ECNN_Q_U8)
        ((uint8_t *)p)[i] = (uint8_t)v;
    else
        ((int8_t *)p)[i] = (int8_t)v;
}

/* sum_{i<len} (x[i] - zx) * (w[i * ws] - zw); the type switch sits outside the loops. */
#define DOT_LOOP(XT, WT)                                                                                               \
    do {                                                                                                               \
        const XT *xp_ = (const XT *)x;                                                                                 \
        const WT *wp_ = (const WT *)w;                                                                                 \
        for (i = 0; i < len; i++) acc += ((int32_t)xp_[i] - zx) * ((int32_t)wp_[(size_t)i * ws] - zw);                 \
    } while (0)

static int32_t dot_q(const void *x, ecnn_qtype xt, int32_t zx, const void *w, ecnn_qtype wt, int32_t zw, uint32_t len,
                     size_t ws)
{
    int32_t acc = 0;
    uint32_t i;
    if (xt == ECNN_Q_U8) {
        if (wt == ECNN_Q_U8)
            DOT_LOOP(uint8_t, uint8_t);
        else
            DOT_LOOP(uint8_t, int8_t);
    } else {
        if (wt == ECNN_Q_U8)
            DOT_LOOP(int8_t, uint8_t);
        else
            DOT_LOOP(int8_t, int8_t);
    }
    return acc;
}

static const void *qoffset(const void *p, size_t i)
{
    return (const uint8_t *)p + i;
} /* 1-byte elements */

void ecnn_conv2d_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, const ecnn_tile *t,
                       const ecnn_conv2d_args *p, const ecnn_qlinear_params *q)
{
    const uint32_t cg = p->c / p->group; /* input channels per group */
    const uint32_t og = p->o / p->group; /* output channels per group */
    uint32_t m, s, oy, ox, o, ky, kx;
    int64_t iy, ix;
    (void)n; /* rows and channels come from the tile */
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    {
        for (o = t->o0; o < t->o1; o++) {
            const int32_t zw = q->w_zero_points[q->w_count == 1 ? 0 : o];
            int32_t acc = b ? b[o] : 0;
            for (ky = 0; ky < p->kh; ky++)
                for (kx = 0; kx < p->kw; kx++) {
                    const size_t xs = (size_t)s * p->h * p->w * p->c + (size_t)(o / og) * cg;
                    if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) ||
                        !ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                        continue; /* padding: x == zx contributes 0 */
                    acc += dot_q(qoffset(x, xs + ((size_t)iy * p->w + (size_t)ix) * p->c), q->x_type, q->x_zero_point,
                                 qoffset(w, ecnn_conv_w_base(p, o, ky, kx)), q->w_type, zw, cg, ecnn_conv_w_cstep(p));
                }
            qstore(y, ECNN_PIXEL_AT(p, s, oy, ox, p->o) + o, ecnn_requantize(acc, ecnn_requant_scale(q, o), q),
                   q->y_type);
        }
    }
}

void ecnn_fully_connected_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_qlinear_params *q)
{
    uint32_t s, j;
    (void)n; /* samples and outputs come from the tile */
    for (j = t->o0; j < t->o1; j++) {
        const float scale = ecnn_requant_scale(q, j);
        const int32_t zw = q->w_zero_points[q->w_count == 1 ? 0 : j];
        for (s = t->m0; s < t->m1; s++) {
            int32_t acc = 0;
            if (q->w_layout == ECNN_LAYOUT_PLAIN) {
                acc = dot_q(qoffset(x, (size_t)s * k), q->x_type, q->x_zero_point, qoffset(w, (size_t)j * k), q->w_type,
                            zw, k, 1);
            } else { /* packed weights (kernels.h): one element at a time */
                uint32_t i;
                for (i = 0; i < k; i++)
                    acc += (qload(x, (size_t)s * k + i, q->x_type) - q->x_zero_point) *
                           (qload(w, ecnn_fc_w_index(q->w_layout, j, i, k), q->w_type) - zw);
            }
            if (b) acc += b[j];
            qstore(y, (size_t)s * o + j, ecnn_requantize(acc, scale, q), q->y_type);
        }
    }
}

void ecnn_maxpool2d_q_ref(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                          ecnn_qtype type)
{
    uint32_t m, s, oy, ox, ky, kx, c;
    int64_t iy, ix;
    (void)n;
    ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)
    {
        for (c = t->o0; c < t->o1; c++) {
            int32_t best = ecnn_qtype_min(type);
            for (ky = 0; ky < p->kh; ky++)
                for (kx = 0; kx < p->kw; kx++) {
                    int32_t v;
                    if (!ecnn_ref_tap(oy, ky, p->stride_h, p->pad_top, p->dilation_h, p->h, &iy) ||
                        !ecnn_ref_tap(ox, kx, p->stride_w, p->pad_left, p->dilation_w, p->w, &ix))
                        continue;
                    v = qload(x, ((size_t)s * p->h * p->w + (size_t)iy * p->w + (size_t)ix) * p->c + c, type);
                    best = v > best ? v : best;
                }
            /* every window holds an input position (validated), so best is a real input */
            qstore(y, ECNN_PIXEL_AT(p, s, oy, ox, p->c) + c, best, type);
        }
    }
}

/* QuantizeLinear of one value (MLAS MlasQuantizeLinear): a true division, clamped, then rne. */
static inline int32_t quantize_one(float x, float scale, int32_t zero_point, ecnn_qtype type)
{
    const float lo = (float)(ecnn_qtype_min(type) - zero_point);
    const float hi = (float)(ecnn_qtype_max(type) - zero_point);
    float v = x / scale;
    v = v > lo ? v : lo; /* NaN -> lo, as _mm_max_ps */
    v = v < hi ? v : hi;
    return (int32_t)lrintf(v) + zero_point;
}

void ecnn_quantize_ref(void *y, const float *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    uint32_t i;
    for (i = 0; i < count; i++) qstore(y, i, quantize_one(x[i], scale, zero_point, type), type);
}

void ecnn_dequantize_ref(float *y, const void *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        const float d = (float)(qload(x, i, type) - zero_point);
        y[i] = d * scale;
    }
}

/* ---- ops on quantized tensors (kernels_i8.h has the rules) ------------------------------ */

/* _mm256_cvtps_epi32: round half to even; NaN and values outside int32 give INT32_MIN. */
static int32_t cvtps_epi32(float v)
{
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
    return (int32_t)lrintf(v);
}

static int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Index into b of element i (sample i / per_sample) for ecnn_add_q_ref / ecnn_mul_q_ref. */
static size_t b_index(size_t i, size_t per_sample, size_t b_sample, size_t b_period)
{
    return (i / per_sample) * b_sample + (i % per_sample) % b_period;
}

void ecnn_add_q_ref(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    const size_t count = (size_t)n * per_sample;
    const ecnn_qtype t = qa->type;
    const float ra = qa->scale / qy->scale;
    const float rb = qb->scale / qy->scale;
    const float zb_part = rb * (float)qb->zero_point;
    const float fixed = (float)qy->zero_point - fmaf(ra, (float)qa->zero_point, zb_part);
    size_t i;
    for (i = 0; i < count; i++) {
        const float vb = fmaf((float)qload(b, b_index(i, per_sample, b_sample, b_period), t), rb, fixed);
        const float v = fmaf((float)qload(a, i, t), ra, vb);
        /* _mm256_packs_epi32 saturates to int16, then packs/packus to the 8-bit type */
        const int32_t r = clamp_i32(cvtps_epi32(v), -32768, 32767);
        qstore(y, i, clamp_i32(r, ecnn_qtype_min(t), ecnn_qtype_max(t)), t);
    }
}

void ecnn_mul_q_ref(void *y, const void *a, const void *b, uint32_t n, size_t per_sample, size_t b_sample,
                    size_t b_period, const ecnn_qtensor *qa, const ecnn_qtensor *qb, const ecnn_qtensor *qy)
{
    const size_t count = (size_t)n * per_sample;
    const ecnn_qtype t = qa->type;
    const float sab = qa->scale * qb->scale;
    const float ratio = sab / qy->scale;
    size_t i;
    for (i = 0; i < count; i++) {
        const int32_t prod = (qload(a, i, t) - qa->zero_point) *
                             (qload(b, b_index(i, per_sample, b_sample, b_period), t) - qb->zero_point);
        float v = (float)prod * ratio;
        v = v + (float)qy->zero_point;
        qstore(y, i, clamp_i32(clamp_i32(cvtps_epi32(v), -32768, 32767), ecnn_qtype_min(t), ecnn_qtype_max(t)), t);
    }
}

void ecnn_avgpool2d_q_ref(void *y, const void *x, uint32_t n, const ecnn_tile *tile, const ecnn_pool2d_args *p,
                          const ecnn_qtensor *qx, const ecnn_qtensor *qy, int uint8_rounding)
{
    const ecnn_qtype t = qx->type;
    const int32_t ymin = ecnn_qtype_min(t), ymax = ecnn_qtype_max(t);
    /* uint8_rounding: int8 codes rounded as onnxruntime runs QDQ int8 models on x86, as uint8
     * codes with zero points + 128 (QDQS8ToU8Transformer). The zero point is added in float
     * before the rounding here, so the domain matters (at near-ties); the global rule is integer. */
    const int32_t u8_shift = t == ECNN_Q_I8 && uint8_rounding ? 128 : 0;
    const int global = p->kh == p->h && p->kw == p->w && p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 &&
                       p->pad_right == 0;
    uint32_t m, oy, ox, c;
    (void)n;      /* rows and channels come from the tile */
    if (global) { /* MlasQLinearGlobalAveragePool: integer sum, one float requantization */
        const uint32_t size = p->h * p->w;
        const float sd = qy->scale * (float)size;
        const float scale = qx->scale / sd;
        const float lo = (float)(ymin - qy->zero_point), hi = (float)(ymax - qy->zero_point);
        for (m = tile->m0; m < tile->m1; m++) {
            const size_t xs = (size_t)(m / p->oh) * size * p->c;
            for (c = tile->o0; c < tile->o1; c++) {
                int32_t acc = -qx->zero_point * (int32_t)size;
                uint32_t i;
                float v;
                for (i = 0; i < size; i++) acc += qload(x, xs + (size_t)i * p->c + c, t);
                v = (float)acc;
                v = v * scale;
                v = v > lo ? v : lo;
                v = v < hi ? v : hi;
                /* y is [N, OH, OW, C]: OH * OW output pixels, all the same global mean (row m's here) */
                for (i = 0; i < p->ow; i++)
                    qstore(y, ((size_t)m * p->ow + i) * p->c + c, (int32_t)lrintf(v) + qy->zero_point, t);
            }
        }
        return;
    }
    for (m = tile->m0; m < tile->m1; m++) {
        const size_t xs = (size_t)(m / p->oh) * p->h * p->w * p->c;
        const size_t ys = (size_t)(m / p->oh) * p->oh * p->ow * p->c;
        oy = m % p->oh;
        {
            long hs, he, ws, we;
            ecnn_qpool_window(oy, p->stride_h, p->pad_top, p->kh, p->h, &hs, &he);
            for (ox = 0; ox < p->ow; ox++) {
                float count;
                ecnn_qpool_window(ox, p->stride_w, p->pad_left, p->kw, p->w, &ws, &we);
                count = ecnn_qpool_count(p, hs, he, ws, we);
                for (c = tile->o0; c < tile->o1; c++) {
                    float acc = 0.0f, v;
                    long iy, ix;
                    for (iy = hs; iy < he; iy++) {
                        for (ix = ws; ix < we; ix++) {
                            const float d =
                                qx->scale *
                                (float)(qload(x, xs + ((size_t)iy * p->w + (size_t)ix) * p->c + c, t) - qx->zero_point);
                            acc = acc + d;
                        }
                    }
                    acc = acc / count;
                    v = acc / qy->scale;
                    v = v + (float)(qy->zero_point + u8_shift);
                    /* clamp in the rounding domain, then shift back (cvt may give INT32_MIN) */
                    qstore(y, ys + ((size_t)oy * p->ow + ox) * p->c + c,
                           clamp_i32(cvtps_epi32(v), ymin + u8_shift, ymax + u8_shift) - u8_shift, t);
                }
            }
        }
    }
}

void ecnn_activation_q_ref(void *y, const void *x, size_t count, const ecnn_act_params *act, const ecnn_qtensor *qx,
                           const ecnn_qtensor *qy)
{
    int32_t table[256];
    const ecnn_qtype t = qx->type;
    const int32_t lo = ecnn_qtype_min(t);
    int32_t c;
    size_t i;
    for (c = lo; c < lo + 256; c++) {
        const float v = qx->scale * (float)(c - qx->zero_point);
        table[c - lo] = quantize_one(ecnn_apply_act(v, act), qy->scale, qy->zero_point, qy->type);
    }
    for (i = 0; i < count; i++) qstore(y, i, table[qload(x, i, t) - lo], qy->type);
}

void ecnn_requantize_q_ref(void *y, const void *x, size_t count, const ecnn_qtensor *qx, const ecnn_qtensor *qy)
{
    size_t i;
    if (qx->type == qy->type && qx->scale == qy->scale && qx->zero_point == qy->zero_point) {
        memcpy(y, x, count); /* QLinearConcat copies an input that has the output's quantization */
        return;
    }
    for (i = 0; i < count; i++) {
        const float d = qx->scale * (float)(qload(x, i, qx->type) - qx->zero_point);
        qstore(y, i, quantize_one(d, qy->scale, qy->zero_point, qy->type), qy->type);
    }
}

void ecnn_concat_q_ref(void *y, const void *const *xs, const size_t *block, const ecnn_qtensor *qx, uint32_t count,
                       size_t rows, const ecnn_qtensor *qy)
{
    uint8_t *out = (uint8_t *)y;
    size_t r;
    uint32_t i;
    for (r = 0; r < rows; r++) {
        for (i = 0; i < count; i++) {
            ecnn_requantize_q_ref(out, (const uint8_t *)xs[i] + r * block[i], block[i], &qx[i], qy);
            out += block[i];
        }
    }
}

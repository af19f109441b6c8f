/* Reference int8 / uint8 kernels: the straightforward loops with onnxruntime's integer
 * arithmetic (kernels_i8.h). They are the oracle for faster kernels; keep them simple.
 * Accumulators are int32: the validator (model.c) refuses models whose worst-case sum
 * could overflow, so the C arithmetic here never does. */
#include <stddef.h>

#include "kernels_i8.h"

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
#define DOT_LOOP(XT, WT)                                                                        \
    do {                                                                                        \
        const XT *xp_ = (const XT *)x;                                                          \
        const WT *wp_ = (const WT *)w;                                                          \
        for (i = 0; i < len; i++) acc += ((int32_t)xp_[i] - zx) * ((int32_t)wp_[(size_t)i * ws] - zw); \
    } while (0)

static int32_t dot_q(const void *x, ecnn_qtype xt, int32_t zx, const void *w, ecnn_qtype wt, int32_t zw, uint32_t len,
                     size_t ws)
{
    int32_t acc = 0;
    uint32_t i;
    if (xt == ECNN_Q_U8) {
        if (wt == ECNN_Q_U8) DOT_LOOP(uint8_t, uint8_t);
        else DOT_LOOP(uint8_t, int8_t);
    } else {
        if (wt == ECNN_Q_U8) DOT_LOOP(int8_t, uint8_t);
        else DOT_LOOP(int8_t, int8_t);
    }
    return acc;
}

static const void *qoffset(const void *p, size_t i) { return (const uint8_t *)p + i; } /* 1-byte elements */

void ecnn_conv2d_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n,
                       const ecnn_conv2d_params *p, const ecnn_qlinear_params *q)
{
    const uint32_t cg = p->c / p->group; /* input channels per group */
    const uint32_t og = p->o / p->group; /* output channels per group */
    uint32_t s, oy, ox, o, ky, kx;
    for (s = 0; s < n; s++) {
        const size_t xs = (size_t)s * p->h * p->w * p->c;
        const size_t ys = (size_t)s * p->oh * p->ow * p->o;
        for (oy = 0; oy < p->oh; oy++) {
            for (ox = 0; ox < p->ow; ox++) {
                const size_t yp = ys + ((size_t)oy * p->ow + ox) * p->o;
                for (o = 0; o < p->o; o++) {
                    const uint32_t g = o / og;
                    const int32_t zw = q->w_zero_points[q->w_count == 1 ? 0 : o];
                    int32_t acc = b ? b[o] : 0;
                    for (ky = 0; ky < p->kh; ky++) {
                        const long iy = (long)oy * p->stride_h - (long)p->pad_top + (long)ky * p->dilation_h;
                        if (iy < 0 || iy >= (long)p->h) continue; /* padding: x == zx contributes 0 */
                        for (kx = 0; kx < p->kw; kx++) {
                            const long ix = (long)ox * p->stride_w - (long)p->pad_left + (long)kx * p->dilation_w;
                            if (ix < 0 || ix >= (long)p->w) continue;
                            acc += dot_q(qoffset(x, xs + ((size_t)iy * p->w + (size_t)ix) * p->c + (size_t)g * cg), q->x_type,
                                         q->x_zero_point, qoffset(w, ecnn_conv_w_base(p, o, ky, kx)), q->w_type, zw, cg,
                                         ecnn_conv_w_cstep(p));
                        }
                    }
                    qstore(y, yp + o, ecnn_requantize(acc, ecnn_requant_scale(q, o), q), q->y_type);
                }
            }
        }
    }
}

void ecnn_fully_connected_q_ref(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_qlinear_params *q)
{
    uint32_t s, j;
    for (j = 0; j < o; j++) {
        const float scale = ecnn_requant_scale(q, j);
        const int32_t zw = q->w_zero_points[q->w_count == 1 ? 0 : j];
        for (s = 0; s < n; s++) {
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

void ecnn_maxpool2d_q_ref(void *y, const void *x, uint32_t n, const ecnn_pool2d_params *p, ecnn_qtype type)
{
    uint32_t s, oy, ox, ky, kx, c;
    for (s = 0; s < n; s++) {
        const size_t xs = (size_t)s * p->h * p->w * p->c;
        const size_t ys = (size_t)s * p->oh * p->ow * p->c;
        for (oy = 0; oy < p->oh; oy++) {
            for (ox = 0; ox < p->ow; ox++) {
                const size_t yp = ys + ((size_t)oy * p->ow + ox) * p->c;
                for (c = 0; c < p->c; c++) {
                    int32_t best = ecnn_qtype_min(type);
                    for (ky = 0; ky < p->kh; ky++) {
                        const long iy = (long)oy * p->stride_h - (long)p->pad_top + (long)ky * p->dilation_h;
                        if (iy < 0 || iy >= (long)p->h) continue;
                        for (kx = 0; kx < p->kw; kx++) {
                            const long ix = (long)ox * p->stride_w - (long)p->pad_left + (long)kx * p->dilation_w;
                            int32_t v;
                            if (ix < 0 || ix >= (long)p->w) continue;
                            v = qload(x, xs + ((size_t)iy * p->w + (size_t)ix) * p->c + c, type);
                            best = v > best ? v : best;
                        }
                    }
                    /* every window holds an input position (validated), so best is a real input */
                    qstore(y, yp + c, best, type);
                }
            }
        }
    }
}

void ecnn_quantize_ref(void *y, const float *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    const float lo = (float)(ecnn_qtype_min(type) - zero_point);
    const float hi = (float)(ecnn_qtype_max(type) - zero_point);
    uint32_t i;
    for (i = 0; i < count; i++) {
        float v = x[i] / scale;
        v = v > lo ? v : lo; /* NaN -> lo, as _mm_max_ps */
        v = v < hi ? v : hi;
        qstore(y, i, (int32_t)lrintf(v) + zero_point, type);
    }
}

void ecnn_dequantize_ref(float *y, const void *x, uint32_t count, float scale, int32_t zero_point, ecnn_qtype type)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        const float d = (float)(qload(x, i, type) - zero_point);
        y[i] = d * scale;
    }
}

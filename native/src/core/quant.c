/* Quantization parameters of tensors and checks of int8 ops (see quant.h). */
#include "core/quant.h"

int ecnn_qtype_of(uint32_t dtype, ecnn_qtype *type)
{
    if (dtype == ECNN_DTYPE_I8)
        *type = ECNN_Q_I8;
    else if (dtype == ECNN_DTYPE_U8)
        *type = ECNN_Q_U8;
    else
        return 0;
    return 1;
}

float ecnn_q_scale(const ecnn_model *m, const ecnn_tensor_rec *t, uint32_t c)
{
    return ecnn_rdf32(m->data + t->scale_offset + 4u * c);
}

int32_t ecnn_q_zero_point(const ecnn_model *m, const ecnn_tensor_rec *t, uint32_t c)
{
    return (int32_t)ecnn_rd32(m->data + t->zero_point_offset + 4u * c);
}

/* Scales finite and > 0, zero points inside the dtype's range, for every channel. */
static const char *check_q_values(const ecnn_model *m, const ecnn_tensor_rec *t, ecnn_qtype type)
{
    uint32_t c;
    for (c = 0; c < t->quant_count; c++) {
        const float s = ecnn_q_scale(m, t, c);
        const int32_t z = ecnn_q_zero_point(m, t, c);
        if (!(s > 0.0f) || s - s != 0.0f) return "quantization scale is not a finite number > 0";
        if (z < ecnn_qtype_min(type) || z > ecnn_qtype_max(type)) return "zero point outside the dtype's range";
    }
    return NULL;
}

const char *ecnn_check_q_activation(const ecnn_model *m, const ecnn_tensor_rec *t)
{
    ecnn_qtype type;
    if (!ecnn_qtype_of(t->dtype, &type)) return "int8 op tensor is not i8 or u8";
    if (t->quant_count != 1) return "int8 activation is not quantized per tensor (quant_count != 1)";
    return check_q_values(m, t, type);
}

/* Largest |q - zero_point| over the dtype's values and the tensor's zero points. */
static int64_t max_centered(const ecnn_model *m, const ecnn_tensor_rec *t, ecnn_qtype type)
{
    int64_t best = 0;
    uint32_t c;
    for (c = 0; c < t->quant_count; c++) {
        const int64_t z = ecnn_q_zero_point(m, t, c);
        const int64_t lo = z - ecnn_qtype_min(type), hi = ecnn_qtype_max(type) - z;
        if (lo > best) best = lo;
        if (hi > best) best = hi;
    }
    return best;
}

const char *ecnn_check_qlinear(const ecnn_model *m, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                               const ecnn_tensor_rec *b, const ecnn_tensor_rec *y, const uint32_t idx[4], uint64_t k,
                               uint32_t act, ecnn_status *status, uint32_t *bad_tensor)
{
    const char *msg;
    ecnn_qtype xt = ECNN_Q_I8, wt = ECNN_Q_I8;
    int64_t bias_max = 0;
    uint32_t i;
    *status = ECNN_E_CORRUPT;
    *bad_tensor = idx[0];
    if ((msg = ecnn_check_q_activation(m, x)) != NULL) return msg;
    *bad_tensor = idx[3];
    if ((msg = ecnn_check_q_activation(m, y)) != NULL) return msg;
    *bad_tensor = idx[1];
    if (!ecnn_qtype_of(w->dtype, &wt)) return "int8 op weight is not i8 or u8";
    if (w->quant_count != 1 && (w->quant_axis != 0 || w->quant_count != w->dims[0]))
        return "int8 op weight is not quantized per tensor or per output channel (axis 0)";
    if ((msg = check_q_values(m, w, wt)) != NULL) return msg;
    if (b->kind != 0) {
        *bad_tensor = idx[2];
        if (b->dtype != ECNN_DTYPE_I32) return "int8 op bias is not i32";
        for (i = 0; i < b->dims[0]; i++) {
            const int64_t v = (int32_t)ecnn_rd32(m->data + b->offset + 4u * i);
            const int64_t a = v < 0 ? -v : v;
            if (a > bias_max) bias_max = a;
        }
    }
    *bad_tensor = 0xFFFFFFFFu;
    if (act != ECNN_ACT_NONE && act != ECNN_ACT_RELU) {
        *status = ECNN_E_UNSUPPORTED;
        return "int8 op with a fused activation other than Relu";
    }
    (void)ecnn_qtype_of(x->dtype, &xt);
    /* |acc| <= k * max|x - zx| * max|w - zw| + max|b| must fit int32 (k <= 2^32, factors <= 255). */
    if ((uint64_t)max_centered(m, x, xt) * (uint64_t)max_centered(m, w, wt) * k + (uint64_t)bias_max > 0x7FFFFFFFull) {
        *status = ECNN_E_UNSUPPORTED;
        return "int8 op: the int32 accumulator could overflow (reduction too long)";
    }
    return NULL;
}

void ecnn_qlinear_params_from(const ecnn_model *m, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                              const ecnn_tensor_rec *y, uint32_t act, ecnn_qlinear_params *q)
{
    (void)ecnn_qtype_of(x->dtype, &q->x_type);
    (void)ecnn_qtype_of(w->dtype, &q->w_type);
    (void)ecnn_qtype_of(y->dtype, &q->y_type);
    q->x_scale = ecnn_q_scale(m, x, 0);
    q->x_zero_point = ecnn_q_zero_point(m, x, 0);
    /* Scales and zero points are 4-byte aligned in the 4-aligned model buffer on a
     * little-endian host (both checked at init): read them in place. */
    q->w_scales = (const float *)(const void *)(m->data + w->scale_offset);
    q->w_zero_points = (const int32_t *)(const void *)(m->data + w->zero_point_offset);
    q->w_count = w->quant_count;
    q->w_layout = w->layout;
    q->y_scale = ecnn_q_scale(m, y, 0);
    q->y_zero_point = ecnn_q_zero_point(m, y, 0);
    q->y_min = ecnn_qtype_min(q->y_type);
    q->y_max = ecnn_qtype_max(q->y_type);
    if (act == ECNN_ACT_RELU && q->y_zero_point > q->y_min) q->y_min = q->y_zero_point; /* Relu: q >= zy */
}

const char *ecnn_check_q_group(const ecnn_model *m, const ecnn_tensor_rec *ts, uint32_t count, uint32_t *bad)
{
    const char *msg;
    uint32_t i;
    for (i = 0; i < count; i++) {
        *bad = i;
        if ((msg = ecnn_check_q_activation(m, &ts[i])) != NULL) return msg;
        if (ts[i].dtype != ts[0].dtype) return "int8 op mixes i8 and u8 tensors";
    }
    return NULL;
}

void ecnn_qtensor_from(const ecnn_model *m, const ecnn_tensor_rec *t, ecnn_qtensor *q)
{
    (void)ecnn_qtype_of(t->dtype, &q->type);
    q->scale = ecnn_q_scale(m, t, 0);
    q->zero_point = ecnn_q_zero_point(m, t, 0);
}

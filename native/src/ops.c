/* Decoding of op parameters into kernel parameter structs (see ops.h). */
#include "ops.h"

uint32_t ecnn_op_param_count(uint32_t op_type)
{
    switch (op_type) {
    case ECNN_OP_CONV_2D: return 12;
    case ECNN_OP_MAX_POOL_2D: return 10;
    case ECNN_OP_FULLY_CONNECTED: return 3;
    case ECNN_OP_SOFTMAX: return 0;
    case ECNN_OP_RESHAPE: return 0;
    case ECNN_OP_ACTIVATION: return 3;
    case ECNN_OP_CHANNEL_ARITH: return 2;
    case ECNN_OP_QUANTIZE: return 0;
    case ECNN_OP_DEQUANTIZE: return 0;
    case ECNN_OP_AVG_POOL_2D: return 11;
    case ECNN_OP_ADD:
    case ECNN_OP_MUL: return 3;
    case ECNN_OP_CONCAT: return 1;
    case ECNN_OP_PAD: return 11;
    case ECNN_OP_TRANSPOSE: return 5;
    default: return 0xFFFFFFFFu;
    }
}

static float as_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void ecnn_act_from(const uint32_t *params, ecnn_act_params *a)
{
    a->act = params[0];
    a->p0 = as_f32(params[1]);
    a->p1 = as_f32(params[2]);
}

void ecnn_conv2d_params_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                             const ecnn_tensor_rec *y, ecnn_conv2d_params *p)
{
    const uint32_t *q = op->params;
    p->h = x->dims[0];
    p->w = x->dims[1];
    p->c = x->dims[2];
    p->oh = y->dims[0];
    p->ow = y->dims[1];
    p->o = y->dims[2];
    p->kh = w->dims[1];
    p->kw = w->dims[2];
    p->stride_h = q[0];
    p->stride_w = q[1];
    p->pad_top = q[2];
    p->pad_left = q[3];
    /* q[4], q[5]: bottom/right padding, implied by OH/OW (checked by the validator) */
    p->dilation_h = q[6];
    p->dilation_w = q[7];
    p->group = q[8];
    ecnn_act_from(q + 9, &p->act);
    p->w_layout = w->layout;
}

void ecnn_pool2d_params_from(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y,
                             ecnn_pool2d_params *p)
{
    const uint32_t *q = op->params;
    p->h = x->dims[0];
    p->w = x->dims[1];
    p->c = x->dims[2];
    p->oh = y->dims[0];
    p->ow = y->dims[1];
    p->kh = q[0];
    p->kw = q[1];
    p->stride_h = q[2];
    p->stride_w = q[3];
    p->pad_top = q[4];
    p->pad_left = q[5];
    /* q[6], q[7]: bottom/right padding (OH/OW imply them; AVG_POOL_2D counts with them) */
    p->dilation_h = q[8];
    p->dilation_w = q[9];
    p->pad_bottom = q[6];
    p->pad_right = q[7];
    p->count_include_pad = op->op_type == ECNN_OP_AVG_POOL_2D ? q[10] & 1u : 0; /* bit 1: int8 rounding domain */
}

uint64_t ecnn_numel(const ecnn_tensor_rec *t)
{
    uint64_t n = 1;
    uint32_t i;
    for (i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

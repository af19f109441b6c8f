/* Load-time checks that several ops share (core/op.h): an op's tensors, layouts, dtypes and
 * fused activation. Each failure records which check failed, on which op and tensor. */
#include "core/op.h"
#include "core/quant.h"
#include "kernels/act.h"

/* A data input (read at run time): INPUT, or an ACTIVATION/OUTPUT written by an earlier op. */
ecnn_status ecnn_check_data_input(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t >= c->m->num_tensors) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "op input index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind == ECNN_KIND_INPUT) return ECNN_OK;
    if (rec->kind != ECNN_KIND_ACTIVATION && rec->kind != ECNN_KIND_OUTPUT)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "op data input is not INPUT, ACTIVATION or OUTPUT");
    if (ecnn_writer_of(c->m, t, c->index) == ECNN_NO_INDEX)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "op reads a tensor no earlier op writes");
    return ECNN_OK;
}

/* A weight input: a CONSTANT, or absent when `optional`. */
ecnn_status ecnn_check_const_input(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec, int optional)
{
    if (t == ECNN_NO_TENSOR && optional) {
        rec->kind = 0;
        return ECNN_OK;
    }
    if (t >= c->m->num_tensors) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "op weight index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind != ECNN_KIND_CONSTANT) return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "op weight input is not a CONSTANT");
    return ECNN_OK;
}

/* A constant input's weight layout must be one of `allowed` (bit i = layout i; absent inputs pass). */
ecnn_status ecnn_check_layout(const ecnn_op_ctx *c, uint32_t t, const ecnn_tensor_rec *rec, uint32_t allowed)
{
    if (rec->kind == 0 || (allowed >> rec->layout & 1u)) return ECNN_OK;
    return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "weight layout not valid for this op input");
}

/* An output: ACTIVATION or OUTPUT, written by no earlier op. */
ecnn_status ecnn_check_output(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t >= c->m->num_tensors) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "op output index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind != ECNN_KIND_ACTIVATION && rec->kind != ECNN_KIND_OUTPUT)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "op output is not ACTIVATION or OUTPUT");
    if (ecnn_writer_of(c->m, t, c->index) != ECNN_NO_INDEX)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, t, "tensor written by two ops");
    return ECNN_OK;
}

int ecnn_same_shape(const ecnn_tensor_rec *a, const ecnn_tensor_rec *b)
{
    uint32_t i;
    if (a->rank != b->rank) return 0;
    for (i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

ecnn_status ecnn_check_act(const ecnn_op_ctx *c, const ecnn_act_params *a)
{
    int unknown;
    const char *problem = ecnn_act_problem(a, &unknown);
    if (problem == NULL) return ECNN_OK;
    return ecnn_op_fail(c, unknown ? ECNN_E_UNSUPPORTED : ECNN_E_CORRUPT, ECNN_NO_INDEX, problem);
}

/* The float kernels in this build need every tensor f32 and unquantized. */
ecnn_status ecnn_need_f32(const ecnn_op_ctx *c, const ecnn_tensor_rec *t, uint32_t index)
{
    if (t->kind == 0) return ECNN_OK; /* absent optional input */
    if (t->dtype != ECNN_DTYPE_F32)
        return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, index,
                            "op with this dtype is not implemented in this build (float32 only)");
    return ECNN_OK;
}

ecnn_status ecnn_need_f32_all(const ecnn_op_ctx *c)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec t;
    uint32_t i;
    for (i = 0; i < op->num_inputs + op->num_outputs; i++) {
        const uint32_t index = i < op->num_inputs ? op->inputs[i] : op->outputs[i - op->num_inputs];
        if (index == ECNN_NO_TENSOR) continue; /* absent optional input */
        ecnn_read_tensor(c->m, index, &t);
        TRY(ecnn_need_f32(c, &t, index));
    }
    return ECNN_OK;
}

/* The int8 forms of ADD, MUL, AVG_POOL_2D, ACTIVATION and CONCAT: every data tensor a quantized
 * activation (per tensor), all of one dtype (quant.c). idx: the tensors' indices, for the error. */
ecnn_status ecnn_need_q_group(const ecnn_op_ctx *c, const ecnn_tensor_rec *ts, const uint32_t *idx, uint32_t count)
{
    uint32_t bad = 0;
    const char *msg = ecnn_check_q_group(c->m, ts, count, &bad);
    return msg ? ecnn_op_fail(c, ECNN_E_UNSUPPORTED, idx[bad], msg) : ECNN_OK;
}

uint64_t ecnn_out_extent(uint32_t in, uint32_t pad_a, uint32_t pad_b, uint32_t k, uint32_t dil, uint32_t stride,
                         int ceil_mode)
{
    const uint64_t span = (uint64_t)dil * (k - 1) + 1;
    const uint64_t total = (uint64_t)in + pad_a + pad_b;
    if (total < span) return 0;
    return (total - span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
}

/* CONV_2D / FULLY_CONNECTED: every tensor f32 (float kernel), or x and y quantized
 * activations, w i8/u8 and b i32 (int8 kernel; quant.c checks them). k: dot product length. */
ecnn_status ecnn_check_linear_dtypes(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                     const ecnn_tensor_rec *b, const ecnn_tensor_rec *y, uint64_t k, uint32_t act)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t idx[4] = {op->inputs[0], op->inputs[1], op->inputs[2], op->outputs[0]};
    ecnn_status st;
    uint32_t bad;
    const char *msg;
    if (x->dtype == ECNN_DTYPE_F32) {
        TRY(ecnn_need_f32(c, w, idx[1]));
        TRY(ecnn_need_f32(c, b, idx[2]));
        return ecnn_need_f32(c, y, idx[3]);
    }
    msg = ecnn_check_qlinear(c->m, x, w, b, y, idx, k, act, &st, &bad);
    return msg ? ecnn_op_fail(c, st, bad == 0xFFFFFFFFu ? ECNN_NO_INDEX : bad, msg) : ECNN_OK;
}

/* Data movement ops: the output has the input's dtype; quantized tensors also share its
 * scale and zero point (the codes are copied). */
ecnn_status ecnn_check_moved(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, uint32_t xi, const ecnn_tensor_rec *y)
{
    const char *msg;
    if (x->dtype == ECNN_DTYPE_F32 || y->dtype == ECNN_DTYPE_F32 || x->dtype == ECNN_DTYPE_I32 ||
        y->dtype == ECNN_DTYPE_I32) { /* unquantized values: moved as they are */
        if (x->dtype != y->dtype) return ecnn_op_fail(c, ECNN_E_CORRUPT, xi, "input and output dtypes differ");
        return ECNN_OK;
    }
    if ((msg = ecnn_check_q_activation(c->m, x)) != NULL) return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, xi, msg);
    if ((msg = ecnn_check_q_activation(c->m, y)) != NULL)
        return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, c->op->outputs[0], msg);
    if (x->dtype != y->dtype || ecnn_q_scale(c->m, x, 0) != ecnn_q_scale(c->m, y, 0) ||
        ecnn_q_zero_point(c->m, x, 0) != ecnn_q_zero_point(c->m, y, 0))
        return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, xi,
                            "input and output differ in dtype or quantization (no requantizing kernel in this build)");
    return ECNN_OK;
}

ecnn_status ecnn_check_one_to_one(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *y, const char *counts)
{
    const ecnn_op_rec *op = c->op;
    if (op->num_inputs != 1 || op->num_outputs != 1) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, counts);
    TRY(ecnn_check_data_input(c, op->inputs[0], x));
    return ecnn_check_output(c, op->outputs[0], y);
}

ecnn_status ecnn_check_unary(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *y)
{
    TRY(ecnn_check_one_to_one(c, x, y, "op needs 1 input and 1 output"));
    if (x->dtype != y->dtype) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output dtypes differ");
    return ECNN_OK;
}

ecnn_status ecnn_check_linear_tensors(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *w, ecnn_tensor_rec *b,
                                      ecnn_tensor_rec *y, const char *counts)
{
    const ecnn_op_rec *op = c->op;
    /* CONV_2D may have a 4th input, its residual (ops/conv_2d.c checks it) */
    const uint32_t most = op->op_type == ECNN_OP_CONV_2D ? 4 : 3;
    if (op->num_inputs < 3 || op->num_inputs > most || op->num_outputs != 1)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, counts);
    TRY(ecnn_check_data_input(c, op->inputs[0], x));
    TRY(ecnn_check_const_input(c, op->inputs[1], w, 0));
    TRY(ecnn_check_const_input(c, op->inputs[2], b, 1));
    return ecnn_check_output(c, op->outputs[0], y);
}

/* stride * (in - 1) + output_pad + dil * (k - 1) + 1 - pads (CONV_TRANSPOSE_2D), or 0 when that
 * is not positive. */
static uint64_t transposed_extent(uint32_t in, uint32_t stride, uint32_t out_pad, uint32_t k, uint32_t dil,
                                  uint32_t pad_a, uint32_t pad_b)
{
    const uint64_t full = (uint64_t)stride * (in - 1) + out_pad + (uint64_t)dil * (k - 1) + 1;
    return full > (uint64_t)pad_a + pad_b ? full - pad_a - pad_b : 0;
}

/* The failed check `what`, prefixed with the name of the convolution that failed it. */
#define CONV_MSG(c, what)                                                                                              \
    ((c)->op->op_type == ECNN_OP_CONV_2D           ? "CONV_2D " what                                                   \
     : (c)->op->op_type == ECNN_OP_CONV_2D_SLICED  ? "CONV_2D_SLICED " what                                            \
     : (c)->op->op_type == ECNN_OP_CONV_INTEGER_2D ? "CONV_INTEGER_2D " what                                           \
                                                   : "CONV_TRANSPOSE_2D " what)

ecnn_status ecnn_check_conv_window(const ecnn_op_ctx *c, const ecnn_conv_window *q, const ecnn_tensor_rec *x,
                                   const ecnn_tensor_rec *w, const ecnn_tensor_rec *y)
{
    uint32_t ch, o;
    uint64_t oh, ow;
    if (x->rank != 3 || y->rank != 3 || w->rank != 4)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            CONV_MSG(c, "needs X [H,W,C], W [O,KH,KW,C/group], Y [OH,OW,O]"));
    if ((q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom | q->pad_right | q->dilation_h |
         q->dilation_w | q->output_pad_h | q->output_pad_w) > 65535u)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, CONV_MSG(c, "stride/pad/dilation > 65535"));
    if (q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 || q->dilation_w == 0 || q->group == 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, CONV_MSG(c, "stride, dilation and group must be >= 1"));
    ch = x->dims[2];
    o = y->dims[2];
    if (ch % q->group != 0 || o % q->group != 0 || (uint64_t)w->dims[3] * q->group != ch || w->dims[0] != o)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, c->op->inputs[1],
                            CONV_MSG(c, "weight shape does not match channels and group"));
    if (c->op->op_type == ECNN_OP_CONV_TRANSPOSE_2D) {
        oh = transposed_extent(x->dims[0], q->stride_h, q->output_pad_h, w->dims[1], q->dilation_h, q->pad_top,
                               q->pad_bottom);
        ow = transposed_extent(x->dims[1], q->stride_w, q->output_pad_w, w->dims[2], q->dilation_w, q->pad_left,
                               q->pad_right);
    } else {
        oh = ecnn_out_extent(x->dims[0], q->pad_top, q->pad_bottom, w->dims[1], q->dilation_h, q->stride_h, 0);
        ow = ecnn_out_extent(x->dims[1], q->pad_left, q->pad_right, w->dims[2], q->dilation_w, q->stride_w, 0);
    }
    if (oh != y->dims[0] || ow != y->dims[1])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, c->op->outputs[0],
                            CONV_MSG(c, "output height/width do not match the parameters"));
    return ECNN_OK;
}
#undef CONV_MSG

ecnn_status ecnn_check_f32_with_const(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *k, ecnn_tensor_rec *y,
                                      const char *counts)
{
    const ecnn_op_rec *op = c->op;
    if (op->num_inputs != 2 || op->num_outputs != 1) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, counts);
    TRY(ecnn_check_data_input(c, op->inputs[0], x));
    TRY(ecnn_check_const_input(c, op->inputs[1], k, 0));
    TRY(ecnn_check_output(c, op->outputs[0], y));
    TRY(ecnn_need_f32_all(c));
    return ecnn_check_layout(c, op->inputs[1], k, 1u << ECNN_LAYOUT_PLAIN);
}

/* The failed check `what`, prefixed with the name of the fully connected op that failed it. */
#define FC_MSG(c, what)                                                                                                \
    ((c)->op->op_type == ECNN_OP_FULLY_CONNECTED ? "FULLY_CONNECTED " what : "FULLY_CONNECTED_G4 " what)

ecnn_status ecnn_check_fc_shapes(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                 const ecnn_tensor_rec *b, const ecnn_tensor_rec *y)
{
    const ecnn_op_rec *op = c->op;
    if (w->rank != 2 || ecnn_numel(x) != w->dims[1])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                            FC_MSG(c, "weight is not [O, K] with K = input elements"));
    if (y->rank != 1 || y->dims[0] != w->dims[0])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], FC_MSG(c, "output is not [O]"));
    if (b->kind != 0 && (b->rank != 1 || b->dims[0] != w->dims[0]))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], FC_MSG(c, "bias is not [O]"));
    return ECNN_OK;
}
#undef FC_MSG

/* Runtime glue: checks the run arguments, resolves tensor pointers in the caller's
 * buffers and dispatches each op to its kernel. The model was fully validated by
 * ecnn_model_init, so nothing here re-checks shapes (TFLite Micro style: validation in
 * the glue, kernels over raw pointers). */
#include "internal.h"
#include "kernels.h"
#include "ops.h"
#include "kernels_i8.h"
#include "quant.h"

typedef struct {
    const ecnn_model *m;
    uint32_t batch;
    const uint8_t *input;
    uint8_t *output;
    uint8_t *arena;
    int reference; /* ECNN_RUN_REFERENCE: reference kernels only (the oracle) */
} run_ctx;

/* Where tensor t lives for this run. Arena tensors scale with the batch (FORMAT.md). */
static void *tensor_ptr(const run_ctx *r, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t == ECNN_NO_TENSOR) return NULL;
    ecnn_read_tensor(r->m, t, rec);
    switch (rec->kind) {
    case ECNN_KIND_INPUT: return (void *)r->input; /* read only: kernels take const pointers */
    case ECNN_KIND_OUTPUT: return r->output;
    case ECNN_KIND_CONSTANT: return (void *)(r->m->data + rec->offset);
    default: return r->arena + r->m->arena_fixed + (size_t)rec->offset * r->batch;
    }
}

/* Ops with an int8 / uint8 tensor (except RESHAPE, which copies bytes of any dtype). */
static void run_op_q(const run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y;
    const uint32_t n = r->batch;
    const void *xp = tensor_ptr(r, op->inputs[0], &x);
    void *yp = tensor_ptr(r, op->outputs[0], &y);
    ecnn_qtype t = ECNN_Q_I8;
    switch (op->op_type) {
    case ECNN_OP_CONV_2D:
    case ECNN_OP_FULLY_CONNECTED: {
        const void *wp = tensor_ptr(r, op->inputs[1], &w);
        const int32_t *bp = (const int32_t *)tensor_ptr(r, op->inputs[2], &b);
        ecnn_qlinear_params q;
        if (op->op_type == ECNN_OP_CONV_2D) {
            ecnn_conv2d_args p;
            ecnn_conv2d_args_from(op, &x, &w, &y, &p);
            ecnn_qlinear_params_from(r->m, &x, &w, &y, p.act.act, &q);
            if (p.w_layout == ECNN_LAYOUT_CONV_HWIO && !r->reference)
                ecnn_conv2d_q_hwio(yp, xp, wp, bp, n, &p, &q);
            else
                ecnn_conv2d_q_ref(yp, xp, wp, bp, n, &p, &q);
        } else {
            ecnn_qlinear_params_from(r->m, &x, &w, &y, op->params.fully_connected.act, &q);
            if ((w.layout == ECNN_LAYOUT_FC_PANEL8X4 || w.layout == ECNN_LAYOUT_FC_PANEL8X4_W64) && !r->reference)
                ecnn_fc_q_panel8x4(yp, xp, wp, bp, n, w.dims[1], w.dims[0], &q);
            else
                ecnn_fully_connected_q_ref(yp, xp, wp, bp, n, w.dims[1], w.dims[0], &q);
        }
        break;
    }
    case ECNN_OP_MAX_POOL_2D: {
        ecnn_pool2d_args p;
        ecnn_pool2d_args_from(op, &x, &y, &p);
        (void)ecnn_qtype_of(x.dtype, &t);
        if (r->reference)
            ecnn_maxpool2d_q_ref(yp, xp, n, &p, t);
        else
            ecnn_maxpool2d_q(yp, xp, n, &p, t);
        break;
    }
    case ECNN_OP_ADD:
    case ECNN_OP_MUL: {
        ecnn_qtensor qa, qb, qy;
        const void *bp = tensor_ptr(r, op->inputs[1], &b);
        ecnn_qtensor_from(r->m, &x, &qa);
        ecnn_qtensor_from(r->m, &b, &qb);
        ecnn_qtensor_from(r->m, &y, &qy);
        /* B: A's shape, a runtime [1,...,1,C] per sample, or a constant [C] / [1] (no sample stride) */
        const size_t per_sample = (size_t)ecnn_numel(&x), b_numel = (size_t)ecnn_numel(&b);
        const size_t b_sample = b.kind == ECNN_KIND_CONSTANT ? 0 : b_numel;
        if (op->op_type == ECNN_OP_ADD)
            ecnn_add_q_ref(yp, xp, bp, n, per_sample, b_sample, b_numel, &qa, &qb, &qy);
        else
            ecnn_mul_q_ref(yp, xp, bp, n, per_sample, b_sample, b_numel, &qa, &qb, &qy);
        break;
    }
    case ECNN_OP_AVG_POOL_2D: {
        ecnn_pool2d_args p;
        ecnn_qtensor qx, qy;
        ecnn_pool2d_args_from(op, &x, &y, &p);
        ecnn_qtensor_from(r->m, &x, &qx);
        ecnn_qtensor_from(r->m, &y, &qy);
        ecnn_avgpool2d_q_ref(yp, xp, n, &p, &qx, &qy, (op->params.avg_pool_2d.count_include_pad & 2u) != 0);
        break;
    }
    case ECNN_OP_ACTIVATION: {
        const ecnn_act_params a = op->params.activation;
        ecnn_qtensor qx, qy;
        ecnn_qtensor_from(r->m, &x, &qx);
        ecnn_qtensor_from(r->m, &y, &qy);
        ecnn_activation_q_ref(yp, xp, (size_t)ecnn_numel(&x) * n, &a, &qx, &qy);
        break;
    }
    case ECNN_OP_QUANTIZE:
        (void)ecnn_qtype_of(y.dtype, &t);
        ecnn_quantize_ref(yp, (const float *)xp, (uint32_t)ecnn_numel(&x) * n, ecnn_q_scale(r->m, &y, 0),
                          ecnn_q_zero_point(r->m, &y, 0), t);
        break;
    default: /* ECNN_OP_DEQUANTIZE (the validator admits no other int8 op) */
        (void)ecnn_qtype_of(x.dtype, &t);
        ecnn_dequantize_ref((float *)yp, xp, (uint32_t)ecnn_numel(&x) * n, ecnn_q_scale(r->m, &x, 0),
                            ecnn_q_zero_point(r->m, &x, 0), t);
        break;
    }
}

/* TRANSPOSE, PAD, CONCAT: element copies of any dtype (kernels_move.c). */
static void run_op_move(const run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const void *xp = tensor_ptr(r, op->inputs[0], &x);
    void *yp = tensor_ptr(r, op->outputs[0], &y);
    const uint32_t esize = ecnn_dtype_size(x.dtype);
    if (op->op_type == ECNN_OP_TRANSPOSE) {
        ecnn_transpose_ref(yp, xp, r->batch, esize, x.rank, x.dims, op->params.transpose.perm);
    } else if (op->op_type == ECNN_OP_PAD) {
        ecnn_pad_ref(yp, xp, r->batch, esize, x.rank, x.dims, op->params.pad.before, op->params.pad.after,
                     op->params.pad.value.u32);
    } else { /* ECNN_OP_CONCAT */
        const void *xs[ECNN_MAX_OP_TENSORS];
        size_t block[ECNN_MAX_OP_TENSORS], rows = r->batch;
        uint32_t i, d;
        for (d = 0; d < op->params.concat.axis; d++) rows *= y.dims[d];
        ecnn_qtensor qx[ECNN_MAX_OP_TENSORS], qy;
        for (i = 0; i < op->num_inputs; i++) {
            ecnn_tensor_rec xi;
            xs[i] = tensor_ptr(r, op->inputs[i], &xi);
            block[i] = (size_t)esize;
            for (d = op->params.concat.axis; d < xi.rank; d++) block[i] *= xi.dims[d];
            if (y.dtype != ECNN_DTYPE_F32) ecnn_qtensor_from(r->m, &xi, &qx[i]);
        }
        if (y.dtype != ECNN_DTYPE_F32) { /* int8: requantizing concat (QLinearConcat) */
            ecnn_qtensor_from(r->m, &y, &qy);
            ecnn_concat_q_ref(yp, xs, block, qx, op->num_inputs, rows, &qy);
        } else {
            ecnn_concat_ref(yp, xs, block, op->num_inputs, rows);
        }
    }
}

static void run_op(const run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y;
    const uint32_t n = r->batch;
    const float *xp = (const float *)tensor_ptr(r, op->inputs[0], &x);
    float *yp = (float *)tensor_ptr(r, op->outputs[0], &y);
    if (op->op_type == ECNN_OP_TRANSPOSE || op->op_type == ECNN_OP_PAD || op->op_type == ECNN_OP_CONCAT) {
        run_op_move(r, op);
        return;
    }
    if (op->op_type != ECNN_OP_RESHAPE && (x.dtype != ECNN_DTYPE_F32 || y.dtype != ECNN_DTYPE_F32)) {
        run_op_q(r, op);
        return;
    }
    switch (op->op_type) {
    case ECNN_OP_CONV_2D: {
        ecnn_conv2d_args p;
        const float *wp = (const float *)tensor_ptr(r, op->inputs[1], &w);
        const float *bp = (const float *)tensor_ptr(r, op->inputs[2], &b);
        ecnn_conv2d_args_from(op, &x, &w, &y, &p);
        if (p.w_layout == ECNN_LAYOUT_CONV_HWIO && !r->reference && p.group == p.c && p.o == p.c)
            ecnn_conv2d_f32_depthwise(yp, xp, wp, bp, n, &p); /* MobileNet's depthwise 3x3 */
        else if (p.w_layout == ECNN_LAYOUT_CONV_HWIO && !r->reference)
            ecnn_conv2d_f32_hwio(yp, xp, wp, bp, n, &p);
        else
            ecnn_conv2d_f32_ref(yp, xp, wp, bp, n, &p);
        break;
    }
    case ECNN_OP_MAX_POOL_2D: {
        ecnn_pool2d_args p;
        ecnn_pool2d_args_from(op, &x, &y, &p);
        if (r->reference)
            ecnn_maxpool2d_f32_ref(yp, xp, n, &p);
        else
            ecnn_maxpool2d_f32(yp, xp, n, &p);
        break;
    }
    case ECNN_OP_FULLY_CONNECTED: {
        const ecnn_act_params a = op->params.fully_connected;
        const float *wp = (const float *)tensor_ptr(r, op->inputs[1], &w);
        const float *bp = (const float *)tensor_ptr(r, op->inputs[2], &b);
        if (w.layout == ECNN_LAYOUT_FC_PANEL16 && !r->reference)
            ecnn_fc_f32_panel16(yp, xp, wp, bp, n, w.dims[1], w.dims[0], &a);
        else /* reference order for every layout; plain weights have no faster kernel (kernels_f32.c) */
            ecnn_fully_connected_f32_ref(yp, xp, wp, bp, n, w.dims[1], w.dims[0], &a, w.layout);
        break;
    }
    case ECNN_OP_AVG_POOL_2D: {
        ecnn_pool2d_args p;
        ecnn_pool2d_args_from(op, &x, &y, &p);
        ecnn_avgpool2d_f32_ref(yp, xp, n, &p);
        break;
    }
    case ECNN_OP_ADD:
    case ECNN_OP_MUL: {
        const ecnn_act_params a = op->params.add; /* ADD and MUL: one struct type */
        const float *bp = (const float *)tensor_ptr(r, op->inputs[1], &b);
        ecnn_binary_f32_ref(yp, xp, bp, n, (size_t)ecnn_numel(&x), (size_t)ecnn_numel(&b),
                            op->op_type == ECNN_OP_MUL ? ECNN_ARITH_MUL : ECNN_ARITH_ADD, &a);
        break;
    }
    case ECNN_OP_SOFTMAX: {
        const uint32_t c = x.dims[x.rank - 1];
        ecnn_softmax_f32_ref(yp, xp, (size_t)(ecnn_numel(&x) / c) * n, c);
        break;
    }
    case ECNN_OP_ACTIVATION: {
        const ecnn_act_params a = op->params.activation;
        ecnn_activation_f32_ref(yp, xp, (size_t)ecnn_numel(&x) * n, &a);
        break;
    }
    case ECNN_OP_CHANNEL_ARITH: {
        const float *kp = (const float *)tensor_ptr(r, op->inputs[1], &w);
        const uint32_t c = x.dims[x.rank - 1];
        ecnn_channel_arith_f32_ref(yp, xp, kp, w.dims[0], (size_t)(ecnn_numel(&x) / c) * n, c,
                                   op->params.channel_arith.func, op->params.channel_arith.const_first);
        break;
    }
    default: /* ECNN_OP_RESHAPE: free when planned in place, else a copy */
        if ((const void *)yp != (const void *)xp) memcpy(yp, xp, (size_t)x.size * n);
        break;
    }
}

ecnn_status ecnn_arena_size(const ecnn_model *m, uint32_t batch, size_t *bytes)
{
    if (m == NULL || bytes == NULL || m->buf == NULL || batch == 0) return ECNN_E_ARG;
    if (m->arena_per_sample != 0 && batch > (SIZE_MAX - m->arena_fixed) / m->arena_per_sample) return ECNN_E_OVERFLOW;
    *bytes = (size_t)m->arena_fixed + (size_t)batch * m->arena_per_sample;
    return ECNN_OK;
}

/* N * per-sample bytes of tensor t, or 0 on overflow. */
static size_t batch_bytes(const ecnn_model *m, uint32_t t, uint32_t batch)
{
    ecnn_tensor_rec rec;
    ecnn_read_tensor(m, t, &rec);
    if (batch > SIZE_MAX / rec.size) return 0;
    return (size_t)rec.size * batch;
}

ecnn_status ecnn_run(const ecnn_model *m, uint32_t batch, const void *input, size_t input_bytes, void *output,
                     size_t output_bytes, void *arena, size_t arena_bytes)
{
    if (m == NULL || m->buf == NULL) return ECNN_E_ARG;
    return ecnn_run_ops(m, batch, 0, m->num_ops, 0, input, input_bytes, output, output_bytes, arena, arena_bytes);
}

ecnn_status ecnn_run_ops(const ecnn_model *m, uint32_t batch, uint32_t first_op, uint32_t end_op, uint32_t flags,
                         const void *input, size_t input_bytes, void *output, size_t output_bytes, void *arena,
                         size_t arena_bytes)
{
    run_ctx r;
    size_t need, in_need, out_need;
    uint32_t i, pos;
    ecnn_status st;
    if (m == NULL || m->buf == NULL || input == NULL || output == NULL || batch == 0) return ECNN_E_ARG;
    if (first_op > end_op || end_op > m->num_ops || (flags & ~(uint32_t)ECNN_RUN_REFERENCE) != 0) return ECNN_E_ARG;
    st = ecnn_arena_size(m, batch, &need);
    if (st != ECNN_OK) return st;
    in_need = batch_bytes(m, m->input, batch);
    out_need = batch_bytes(m, m->output, batch);
    if (in_need == 0 || out_need == 0) return ECNN_E_OVERFLOW;
    if (input_bytes != in_need || output_bytes != out_need) return ECNN_E_SIZE;
    if (need > 0 && arena == NULL) return ECNN_E_ARG;
    if (arena_bytes < need) return ECNN_E_ARENA;
    if (need > 0 && (uintptr_t)arena % ECNN_ARENA_ALIGN != 0) return ECNN_E_ALIGN; /* no arena needed: any pointer */
    /* f32 (and i32) inputs/outputs are read through typed pointers. */
    if ((uintptr_t)input % 4 != 0 || (uintptr_t)output % 4 != 0) return ECNN_E_ALIGN;
    r.m = m;
    r.batch = batch;
    r.input = (const uint8_t *)input;
    r.output = (uint8_t *)output;
    r.arena = (uint8_t *)arena;
    r.reference = (flags & ECNN_RUN_REFERENCE) != 0;
    for (i = 0, pos = 0; i < end_op; i++) {
        ecnn_op_rec op;
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        if (i >= first_op) run_op(&r, &op);
    }
    return ECNN_OK;
}

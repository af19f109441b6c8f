/* CONCAT: the inputs joined along `axis` of the per-sample dims (docs/file-format.md); any dtype, int8
 * inputs requantized to the output's quantization (onnxruntime's QLinearConcat). A float input may
 * be a CONSTANT: one sample's worth, the same in every sample. */
#include "core/op.h"
#include "core/quant.h"
#include "kernels/concat_rows.h"
#include "ops/configs.h"

ecnn_status ecnn_check_concat(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t axis = op->params.concat.axis;
    ecnn_tensor_rec x, y;
    uint64_t sum = 0;
    uint32_t i, d;
    if (op->num_inputs < 2 || op->num_inputs > ECNN_MAX_OP_TENSORS - 1 || op->num_outputs != 1)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONCAT needs 2..7 inputs and 1 output");
    TRY(ecnn_check_output(c, op->outputs[0], &y));
    if (axis >= y.rank)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONCAT axis is not below the output rank");
    for (i = 0; i < op->num_inputs; i++) {
        int is_constant = 0;
        if (op->inputs[i] < c->m->num_tensors) {
            ecnn_read_tensor(c->m, op->inputs[i], &x);
            is_constant = x.kind == ECNN_KIND_CONSTANT;
        }
        if (is_constant) {
            TRY(ecnn_check_const_input(c, op->inputs[i], &x, 0));
            TRY(ecnn_check_layout(c, op->inputs[i], &x, 1u << ECNN_LAYOUT_PLAIN));
            TRY(ecnn_need_f32(c, &x, op->inputs[i]));
            TRY(ecnn_need_f32(c, &y, op->outputs[0]));
        } else {
            TRY(ecnn_check_data_input(c, op->inputs[i], &x));
        }
        if (!is_constant && x.dtype != ECNN_DTYPE_F32 && y.dtype != ECNN_DTYPE_F32) {
            /* int8: each input requantized to Y's quantization (QLinearConcat; a copy when equal) */
            const ecnn_tensor_rec ts[2] = {x, y};
            const uint32_t idx[2] = {op->inputs[i], op->outputs[0]};
            TRY(ecnn_need_q_group(c, ts, idx, 2));
        } else if (!is_constant) {
            TRY(ecnn_check_moved(c, &x, op->inputs[i], &y));
        }
        if (x.rank != y.rank)
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[i], "CONCAT input rank differs from the output's");
        for (d = 0; d < x.rank; d++)
            if (d != axis && x.dims[d] != y.dims[d])
                return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[i],
                                    "CONCAT input dims differ from the output's off the axis");
        sum += x.dims[axis];
    }
    if (sum != y.dims[axis])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "CONCAT output axis length is not the inputs' sum");
    *macs = 0;
    return ECNN_OK;
}

/* Ranges of rows (a row: each input's block, one after the other). */
typedef struct {
    uint8_t *y;
    const void *const *xs;
    const size_t *block;           /* bytes of each input a row (int8: also elements) */
    const ecnn_qtensor *qx, *qy;   /* qy NULL: a plain copy */
    const unsigned char *constant; /* constant[i]: input i is a CONSTANT, its rows repeating every sample */
    uint32_t count;
    size_t row_bytes, sample_rows;      /* rows a sample */
    int fast;                           /* the row kernels (concat_rows.h), else the references */
    ecnn_dequantize_kernel *dequantize; /* the level's, for the inputs to requantize */
    ecnn_quantize_kernel *quantize;
} concat_job;

/* The reference kernels: a row at a time when a constant's row restarts every sample. */
static void concat_rows_ref(const concat_job *j, size_t first, size_t rows)
{
    const void *xs[ECNN_MAX_OP_TENSORS];
    uint32_t i;
    int any_constant = 0;
    for (i = 0; i < j->count; i++) any_constant |= j->constant[i];
    if (any_constant) {
        size_t row;
        for (row = first; row < first + rows; row++) {
            for (i = 0; i < j->count; i++)
                xs[i] = (const uint8_t *)j->xs[i] + (j->constant[i] ? row % j->sample_rows : row) * j->block[i];
            ecnn_concat_ref(j->y + row * j->row_bytes, xs, j->block, j->count, 1);
        }
        return;
    }
    for (i = 0; i < j->count; i++) xs[i] = (const uint8_t *)j->xs[i] + first * j->block[i];
    if (j->qy)
        ecnn_concat_q_ref(j->y + first * j->row_bytes, xs, j->block, j->qx, j->count, rows, j->qy);
    else
        ecnn_concat_ref(j->y + first * j->row_bytes, xs, j->block, j->count, rows);
}

static void concat_rows(const void *ctx, size_t first, size_t rows)
{
    const concat_job *j = (const concat_job *)ctx;
    size_t at = 0; /* input i's column in a row of y */
    uint32_t i;
    if (!j->fast) {
        concat_rows_ref(j, first, rows);
        return;
    }
    for (i = 0; i < j->count; at += j->block[i], i++) {
        const uint8_t *x = (const uint8_t *)j->xs[i];
        uint8_t *y = j->y + at;
        size_t row = first, end;
        if (j->qy) {
            ecnn_requantize_rows(y + row * j->row_bytes, j->row_bytes, x + row * j->block[i], j->block[i], rows,
                                 &j->qx[i], j->qy, j->dequantize, j->quantize);
            continue;
        }
        for (; row < first + rows; row = end) { /* a constant: one run per sample */
            end = j->constant[i] ? (row / j->sample_rows + 1) * j->sample_rows : first + rows;
            end = end < first + rows ? end : first + rows;
            ecnn_copy_rows(y + row * j->row_bytes, j->row_bytes,
                           x + (j->constant[i] ? row % j->sample_rows : row) * j->block[i], j->block[i], end - row);
        }
    }
}

const char *ecnn_eval_concat(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    const uint32_t axis = op->params.concat.axis;
    const void *xs[ECNN_MAX_OP_TENSORS];
    size_t block[ECNN_MAX_OP_TENSORS], rows = r->batch, sample_rows = 1;
    unsigned char constant[ECNN_MAX_OP_TENSORS];
    ecnn_qtensor qx[ECNN_MAX_OP_TENSORS], qy;
    ecnn_tensor_rec y;
    void *yp = ecnn_tensor_ptr(r, op->outputs[0], &y);
    const uint32_t esize = ecnn_dtype_size(y.dtype);
    uint32_t i, d;
    for (d = 0; d < axis; d++) sample_rows *= y.dims[d];
    rows *= sample_rows;
    for (i = 0; i < op->num_inputs; i++) {
        ecnn_tensor_rec xi;
        xs[i] = ecnn_tensor_ptr(r, op->inputs[i], &xi);
        constant[i] = xi.kind == ECNN_KIND_CONSTANT;
        block[i] = esize; /* bytes (int8: also elements) */
        for (d = axis; d < xi.rank; d++) block[i] *= xi.dims[d];
        if (y.dtype != ECNN_DTYPE_F32) ecnn_qtensor_from(r->m, &xi, &qx[i]);
    }
    if (y.dtype != ECNN_DTYPE_F32) ecnn_qtensor_from(r->m, &y, &qy);
    if (r->run) {
        concat_job j;
        size_t row_bytes = 0;
        j.y = (uint8_t *)yp;
        j.xs = xs;
        j.block = block;
        j.qx = qx;
        j.qy = y.dtype != ECNN_DTYPE_F32 ? &qy : NULL;
        j.count = op->num_inputs;
        j.constant = constant;
        j.sample_rows = sample_rows;
        for (i = 0; i < op->num_inputs; i++) row_bytes += block[i];
        j.row_bytes = row_bytes;
        j.fast = !r->reference;
        j.dequantize = ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, r->m->isa)->fn;
        j.quantize = ECNN_KERNEL(ecnn_q_elementwise_config, quantize, r->m->isa)->fn;
        ecnn_run_span(r, concat_rows, &j, rows, 1, (uint64_t)rows * row_bytes * ECNN_WORK_MOVE, 0);
    }
    if (!r->reference) return y.dtype != ECNN_DTYPE_F32 ? "concat_q_rows" : "concat_rows";
    return y.dtype != ECNN_DTYPE_F32 ? "concat_q_ref" : "concat_ref"; /* int8: requantizing (QLinearConcat) */
}

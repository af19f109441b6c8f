/* PAD: constant padding, before[i] / after[i] elements along each axis, any dtype (docs/file-format.md). */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_pad(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_pad_params *q = &op->params.pad;
    ecnn_tensor_rec x, y;
    uint32_t i;
    TRY(ecnn_check_one_to_one(c, &x, &y, "PAD needs 1 input and 1 output"));
    TRY(ecnn_check_moved(c, &x, op->inputs[0], &y));
    if (x.rank != y.rank) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "PAD input and output ranks differ");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (q->before[i] != 0 || q->after[i] != 0)
                return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "PAD pads beyond the rank are not 0");
        } else if ((uint64_t)x.dims[i] + q->before[i] + q->after[i] != y.dims[i]) {
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "PAD output dims are not input dims + pads");
        }
    }
    if (x.dtype != ECNN_DTYPE_F32) {
        const int32_t v = q->value.i32;
        if (x.dtype == ECNN_DTYPE_I8 ? (v < -128 || v > 127) : (v < 0 || v > 255))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "PAD value is not a code of the tensor's dtype");
    }
    *macs = 0;
    return ECNN_OK;
}

/* Ranges of samples. */
static void pad_samples(const void *ctx, size_t first, size_t samples)
{
    const ecnn_unary_job *j = (const ecnn_unary_job *)ctx;
    const ecnn_pad_params *q = &j->op->params.pad;
    ecnn_pad_ref(j->yp + first * j->y.size, j->xp + first * j->x.size, (uint32_t)samples, ecnn_dtype_size(j->x.dtype),
                 j->x.rank, j->x.dims, q->before, q->after, q->value.u32);
}

const char *ecnn_eval_pad(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_unary_job j;
    ecnn_unary_job_of(r, op, &j);
    if (r->run) ecnn_run_span(r, pad_samples, &j, r->batch, 1, (uint64_t)j.y.size * r->batch * ECNN_WORK_MOVE, 0);
    return "pad_ref";
}

/* SOFTMAX: exp(x - max) / sum exp(x - max) along the last axis, float (docs/file-format.md). */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_softmax(const ecnn_op_ctx *c, uint64_t *macs)
{
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    TRY(ecnn_need_f32(c, &x, c->op->inputs[0]));
    if (!ecnn_same_shape(&x, &y))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    if (x.rank == 0) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "SOFTMAX needs rank >= 1");
    *macs = 0;
    return ECNN_OK;
}

/* Ranges of rows of C, the last axis (in place: each range reads only its own rows). */
static void softmax_rows(const void *ctx, size_t first, size_t rows)
{
    const ecnn_unary_job *j = (const ecnn_unary_job *)ctx;
    const uint32_t c = j->x.dims[j->x.rank - 1];
    ecnn_softmax_f32_ref((float *)j->yp + first * c, (const float *)j->xp + first * c, rows, c);
}

const char *ecnn_eval_softmax(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_unary_job j;
    ecnn_unary_job_of(r, op, &j);
    if (r->run) {
        const uint32_t c = j.x.dims[j.x.rank - 1];
        const size_t rows = (size_t)(ecnn_numel(&j.x) / c) * r->batch;
        ecnn_run_span(r, softmax_rows, &j, rows, 1, (uint64_t)rows * c * ECNN_WORK_LIBM, 0);
    }
    return "softmax_f32_ref";
}

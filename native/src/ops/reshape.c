/* RESHAPE: the same bytes under another shape, any dtype (docs/file-format.md). Free when the plan puts
 * the output on the input's bytes, else a copy. */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_reshape(const ecnn_op_ctx *c, uint64_t *macs)
{
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    if (x.size != y.size) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "RESHAPE changes the element count");
    *macs = 0;
    return ECNN_OK;
}

/* The kernel: a copy of byte ranges, unless y already is x. */
static void copy_bytes(const void *ctx, size_t first, size_t bytes)
{
    const ecnn_unary_job *j = (const ecnn_unary_job *)ctx;
    memcpy(j->yp + first, j->xp + first, bytes);
}

const char *ecnn_eval_reshape(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_unary_job j;
    ecnn_unary_job_of(r, op, &j);
    if (r->run && j.yp != j.xp) {
        const size_t bytes = (size_t)j.x.size * r->batch;
        ecnn_run_span(r, copy_bytes, &j, bytes, 64, bytes * ECNN_WORK_MOVE / 4, 0); /* memcpy: 4 bytes a move */
    }
    return "reshape_copy";
}

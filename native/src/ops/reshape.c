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
typedef struct {
    ecnn_span span;
    const uint8_t *x;
    uint8_t *y;
} copy_job;

static void copy_task(void *ctx, size_t index)
{
    const copy_job *j = (const copy_job *)ctx;
    size_t first;
    const size_t bytes = ecnn_span_piece(&j->span, index, &first);
    memcpy(j->y + first, j->x + first, bytes);
}

const char *ecnn_eval_reshape(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    copy_job j;
    j.x = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = (uint8_t *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    if (r->run && j.y != j.x) {
        const size_t bytes = (size_t)x.size * r->batch;
        ecnn_run_tasks(
            r, copy_task, &j,
            ecnn_span_plan(&j.span, r, bytes, 64, bytes * ECNN_WORK_MOVE / 4, 0)); /* memcpy: 4 bytes a move */
    }
    return "reshape_copy";
}

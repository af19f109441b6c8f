/* RESHAPE: the same bytes under another shape, any dtype (FORMAT.md). Free when the plan puts
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

/* The kernel: a copy of `bytes` bytes, unless y already is x. */
static void ecnn_reshape_copy(void *y, const void *x, size_t bytes)
{
    if (y != x) memcpy(y, x, bytes);
}

const char *ecnn_eval_reshape(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const void *xp = ecnn_tensor_ptr(r, op->inputs[0], &x);
    void *yp = ecnn_tensor_ptr(r, op->outputs[0], &y);
    return ECNN_CALL(r, ecnn_reshape_copy, (yp, xp, (size_t)x.size * r->batch));
}

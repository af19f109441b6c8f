/* SOFTMAX: exp(x - max) / sum exp(x - max) along the last axis, float (FORMAT.md). */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_softmax(const ecnn_op_ctx *c, uint64_t *macs)
{
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    TRY(ecnn_need_f32(c, &x, c->op->inputs[0]));
    if (!ecnn_same_shape(&x, &y)) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    if (x.rank == 0) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "SOFTMAX needs rank >= 1");
    *macs = 0;
    return ECNN_OK;
}

const char *ecnn_eval_softmax(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const float *xp = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    float *yp = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    const uint32_t c = x.dims[x.rank - 1];
    return ECNN_CALL(r, ecnn_softmax_f32_ref, (yp, xp, (size_t)(ecnn_numel(&x) / c) * r->batch, c));
}

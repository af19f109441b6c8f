/* ACTIVATION: y = act(x) element by element (FORMAT.md): float, or int8 through a 256-entry
 * table of the activation's float formula, as onnxruntime's QLinear lookup. */
#include "core/op.h"
#include "kernels/kernels.h"
#include "core/quant.h"

ecnn_status ecnn_check_activation(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_act_params *a = &op->params.activation;
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    if (x.dtype != ECNN_DTYPE_F32) {
        /* int8: a lookup table of QuantizeLinear(f(DequantizeLinear(code))) (kernels_i8.h) */
        const ecnn_tensor_rec ts[2] = {x, y};
        const uint32_t idx[2] = {op->inputs[0], op->outputs[0]};
        TRY(ecnn_need_q_group(c, ts, idx, 2));
    } else {
        TRY(ecnn_need_f32(c, &x, op->inputs[0]));
    }
    if (!ecnn_same_shape(&x, &y)) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    TRY(ecnn_check_act(c, a));
    *macs = 0;
    return ECNN_OK;
}

const char *ecnn_eval_activation(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    const ecnn_act_params *a = &op->params.activation;
    ecnn_tensor_rec x, y;
    const void *xp = ecnn_tensor_ptr(r, op->inputs[0], &x);
    void *yp = ecnn_tensor_ptr(r, op->outputs[0], &y);
    const size_t count = (size_t)ecnn_numel(&x) * r->batch;
    if (x.dtype != ECNN_DTYPE_F32) {
        ecnn_qtensor qx, qy;
        ecnn_qtensor_from(r->m, &x, &qx);
        ecnn_qtensor_from(r->m, &y, &qy);
        return ECNN_CALL(r, ecnn_activation_q_ref, (yp, xp, count, a, &qx, &qy));
    }
    return ECNN_CALL(r, ecnn_activation_f32_ref, (yp, xp, count, a));
}

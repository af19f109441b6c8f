/* QUANTIZE (f32 -> i8/u8) and DEQUANTIZE (i8/u8 -> f32), per tensor, as onnxruntime's
 * QuantizeLinear / DequantizeLinear (FORMAT.md). */
#include "core/op.h"
#include "core/quant.h"

/* Same shape; the quantized side (y for QUANTIZE, x for DEQUANTIZE) quantized per tensor. */
static ecnn_status check_convert(const ecnn_op_ctx *c, int quantize, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, y;
    const char *msg;
    TRY(ecnn_check_one_to_one(c, &x, &y, "QUANTIZE/DEQUANTIZE needs 1 input and 1 output"));
    if (!ecnn_same_shape(&x, &y)) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    TRY(ecnn_need_f32(c, quantize ? &x : &y, quantize ? op->inputs[0] : op->outputs[0]));
    msg = ecnn_check_q_activation(c->m, quantize ? &y : &x);
    if (msg) return ecnn_op_fail(c, ECNN_E_CORRUPT, quantize ? op->outputs[0] : op->inputs[0], msg);
    *macs = 0;
    return ECNN_OK;
}

ecnn_status ecnn_check_quantize(const ecnn_op_ctx *c, uint64_t *macs) { return check_convert(c, 1, macs); }
ecnn_status ecnn_check_dequantize(const ecnn_op_ctx *c, uint64_t *macs) { return check_convert(c, 0, macs); }

const char *ecnn_eval_quantize(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const float *xp = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    void *yp = ecnn_tensor_ptr(r, op->outputs[0], &y);
    ecnn_qtype t = ECNN_Q_I8;
    (void)ecnn_qtype_of(y.dtype, &t);
    return ECNN_CALL(r, ecnn_quantize_ref, (yp, xp, (uint32_t)ecnn_numel(&x) * r->batch, ecnn_q_scale(r->m, &y, 0),
                                            ecnn_q_zero_point(r->m, &y, 0), t));
}

const char *ecnn_eval_dequantize(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const void *xp = ecnn_tensor_ptr(r, op->inputs[0], &x);
    float *yp = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    ecnn_qtype t = ECNN_Q_I8;
    (void)ecnn_qtype_of(x.dtype, &t);
    return ECNN_CALL(r, ecnn_dequantize_ref, (yp, xp, (uint32_t)ecnn_numel(&x) * r->batch, ecnn_q_scale(r->m, &x, 0),
                                              ecnn_q_zero_point(r->m, &x, 0), t));
}

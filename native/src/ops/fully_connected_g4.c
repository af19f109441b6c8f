/* FULLY_CONNECTED_G4: a float FULLY_CONNECTED summed in onnxruntime's batch-1 SGEMM order
 * (docs/file-format.md): the float layers of int8 graphs that onnxruntime does not fuse. Plain
 * weights, reference kernel only: the order is the point, not the speed. */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_fully_connected_g4(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, w, b, y;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &b, &y,
                                  "FULLY_CONNECTED_G4 needs 3 inputs (X, W, B or none) and 1 output"));
    TRY(ecnn_need_f32_all(c));
    TRY(ecnn_check_fc_shapes(c, &x, &w, &b, &y));
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_act(c, &op->params.fully_connected_g4));
    *macs = (uint64_t)w.dims[0] * w.dims[1];
    return ECNN_OK;
}

/* FULLY_CONNECTED's eval runs it: its job, its tiles, this op's kernel. */
const char *ecnn_eval_fully_connected_g4(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    return ecnn_eval_fully_connected(r, op);
}

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
    TRY(ecnn_need_f32(c, &x, op->inputs[0]));
    TRY(ecnn_need_f32(c, &w, op->inputs[1]));
    TRY(ecnn_need_f32(c, &b, op->inputs[2]));
    TRY(ecnn_need_f32(c, &y, op->outputs[0]));
    if (w.rank != 2 || ecnn_numel(&x) != w.dims[1])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                            "FULLY_CONNECTED_G4 weight is not [O, K] with K = input elements");
    if (y.rank != 1 || y.dims[0] != w.dims[0])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "FULLY_CONNECTED_G4 output is not [O]");
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != w.dims[0]))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "FULLY_CONNECTED_G4 bias is not [O]");
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_act(c, &op->params.fully_connected_g4));
    *macs = (uint64_t)w.dims[0] * w.dims[1];
    return ECNN_OK;
}

typedef struct {
    ecnn_grid grid;
    float *y;
    const float *x, *w, *b;
    uint32_t n, k, o;
    const ecnn_act_params *act;
} fc_g4_job;

static void fc_g4_task(void *ctx, size_t index)
{
    const fc_g4_job *j = (const fc_g4_job *)ctx;
    ecnn_tile t;
    ecnn_grid_tile(&j->grid, index, &t);
    ecnn_fully_connected_g4_f32_ref(j->y, j->x, j->w, j->b, j->n, j->k, j->o, &t, j->act);
}

const char *ecnn_eval_fully_connected_g4(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y;
    fc_g4_job j;
    j.x = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = (const float *)ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.b = (const float *)ecnn_tensor_ptr(r, op->inputs[2], &b);
    j.y = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.n = r->batch;
    j.k = w.dims[1];
    j.o = w.dims[0];
    j.act = &op->params.fully_connected_g4;
    if (r->run)
        ecnn_run_tasks(r, fc_g4_task, &j,
                       ecnn_grid_plan(&j.grid, r, j.n, j.o, ECNN_TILE_O_FC, (uint64_t)j.n * j.o * j.k, 0, 1));
    return "fully_connected_g4_f32_ref";
}

/* PRELU: y = x < 0 ? slope * x : x, float, the slope a constant repeated along the last
 * slope_count elements of each sample (docs/file-format.md). */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_prelu(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, s, y;
    TRY(ecnn_check_f32_with_const(c, &x, &s, &y, "PRELU needs 2 inputs (X, SLOPE) and 1 output"));
    if (!ecnn_same_shape(&x, &y))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "PRELU input and output shapes differ");
    if (s.rank != 1 || s.dims[0] == 0 || ecnn_numel(&x) % s.dims[0] != 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                            "PRELU slope is not [K] with K dividing X's element count");
    *macs = ecnn_numel(&x);
    return ECNN_OK;
}

/* Ranges of rows of slope_count elements. */
typedef struct {
    const float *x, *s;
    float *y;
    uint32_t k;
} prelu_job;

static void prelu_rows(const void *ctx, size_t first, size_t rows)
{
    const prelu_job *j = (const prelu_job *)ctx;
    ecnn_prelu_f32_ref(j->y + first * j->k, j->x + first * j->k, j->s, j->k, rows);
}

const char *ecnn_eval_prelu(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, s, y;
    prelu_job j;
    j.x = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.s = (const float *)ecnn_tensor_ptr(r, op->inputs[1], &s);
    j.y = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.k = s.dims[0];
    if (r->run) {
        const size_t rows = (size_t)(ecnn_numel(&x) / j.k) * r->batch;
        ecnn_run_span(r, prelu_rows, &j, rows, 1, (uint64_t)rows * j.k * ECNN_WORK_ARITH, 0);
    }
    return "prelu_f32_ref";
}

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

/* Ranges of rows of C (in place: each range reads only its own rows). */
typedef struct {
    ecnn_span span;
    const float *x;
    float *y;
    uint32_t c;
} softmax_job;

static void softmax_task(void *ctx, size_t index)
{
    const softmax_job *j = (const softmax_job *)ctx;
    size_t first;
    const size_t rows = ecnn_span_piece(&j->span, index, &first);
    ecnn_softmax_f32_ref(j->y + first * j->c, j->x + first * j->c, rows, j->c);
}

const char *ecnn_eval_softmax(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    softmax_job j;
    j.x = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.c = x.dims[x.rank - 1];
    if (r->run) {
        const size_t rows = (size_t)(ecnn_numel(&x) / j.c) * r->batch;
        ecnn_run_tasks(r, softmax_task, &j,
                       ecnn_span_plan(&j.span, r, rows, 1, (uint64_t)rows * j.c * ECNN_WORK_LIBM, 0));
    }
    return "softmax_f32_ref";
}

/* TRANSPOSE: y = x.transpose(perm) per sample, any dtype (docs/file-format.md). */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_transpose(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t *perm = op->params.transpose.perm;
    ecnn_tensor_rec x, y;
    uint32_t i, seen = 0;
    TRY(ecnn_check_one_to_one(c, &x, &y, "TRANSPOSE needs 1 input and 1 output"));
    TRY(ecnn_check_moved(c, &x, op->inputs[0], &y));
    if (x.rank != y.rank)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "TRANSPOSE input and output ranks differ");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (perm[i] != 0)
                return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                                    "TRANSPOSE perm entries beyond the rank are not 0");
            continue;
        }
        if (perm[i] >= x.rank || (seen >> perm[i] & 1u))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "TRANSPOSE perm is not a permutation of the axes");
        seen |= 1u << perm[i];
        if (y.dims[i] != x.dims[perm[i]])
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0],
                                "TRANSPOSE output dims are not the permuted input dims");
    }
    *macs = 0;
    return ECNN_OK;
}

/* Ranges of samples (x and y have the same bytes a sample). */
static void transpose_samples(const void *ctx, size_t first, size_t samples)
{
    const ecnn_unary_job *j = (const ecnn_unary_job *)ctx;
    const size_t bytes = j->x.size;
    ecnn_transpose_ref(j->yp + first * bytes, j->xp + first * bytes, (uint32_t)samples, ecnn_dtype_size(j->x.dtype),
                       j->x.rank, j->x.dims, j->op->params.transpose.perm);
}

const char *ecnn_eval_transpose(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_unary_job j;
    ecnn_unary_job_of(r, op, &j);
    if (r->run) ecnn_run_span(r, transpose_samples, &j, r->batch, 1, (uint64_t)j.x.size * r->batch * ECNN_WORK_MOVE, 0);
    return "transpose_ref";
}

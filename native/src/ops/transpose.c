/* TRANSPOSE: y = x.transpose(perm) per sample, any dtype (FORMAT.md). */
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
    if (x.rank != y.rank) return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "TRANSPOSE input and output ranks differ");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (perm[i] != 0)
                return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "TRANSPOSE perm entries beyond the rank are not 0");
            continue;
        }
        if (perm[i] >= x.rank || (seen >> perm[i] & 1u))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "TRANSPOSE perm is not a permutation of the axes");
        seen |= 1u << perm[i];
        if (y.dims[i] != x.dims[perm[i]])
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "TRANSPOSE output dims are not the permuted input dims");
    }
    *macs = 0;
    return ECNN_OK;
}

const char *ecnn_eval_transpose(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    const void *xp = ecnn_tensor_ptr(r, op->inputs[0], &x);
    void *yp = ecnn_tensor_ptr(r, op->outputs[0], &y);
    return ECNN_CALL(r, ecnn_transpose_ref,
                     (yp, xp, r->batch, ecnn_dtype_size(x.dtype), x.rank, x.dims, op->params.transpose.perm));
}

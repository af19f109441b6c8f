/* CHANNEL_ARITH: y[..., c] = x[..., c] op k[c] (or k[c] op x[..., c]), k a float constant per
 * channel of the last axis or a scalar (docs/file-format.md); one IEEE operation per element, or
 * for MUL_ADD (a batch norm no convolution absorbs) x * k[c] + b[c], two, and a Relu after them
 * for MUL_ADD_RELU: one pass over the tensor instead of two or three. */
#include "core/op.h"
#include "kernels/kernels.h"
#include "ops/configs.h"

/* ---- kernels per ISA level (core/isa.h) ---------------------------------------------------- */
#if defined(ECNN_WITH_X86)
ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx2, ecnn_channel_arith_f32_avx512;
#endif

const ecnn_channel_arith_kernels ecnn_channel_arith_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = {.f32 = ECNN_IMPL(ecnn_channel_arith_f32_portable)},
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = {.f32 = ECNN_IMPL(ecnn_channel_arith_f32_avx2)},
    [ECNN_ISA_AVX512] = {.f32 = ECNN_IMPL(ecnn_channel_arith_f32_avx512)},
#endif
};

ecnn_status ecnn_check_channel_arith(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_channel_arith_params *q = &op->params.channel_arith;
    const int mul_add = q->func == ECNN_ARITH_MUL_ADD || q->func == ECNN_ARITH_MUL_ADD_RELU;
    ecnn_tensor_rec x, k, b, y;
    if (q->func < ECNN_ARITH_ADD || q->func > ECNN_ARITH_MUL_ADD_RELU || q->const_first > 1)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CHANNEL_ARITH func not 1..6 or const_first not 0/1");
    if (mul_add) { /* X, K, B: the checks of ecnn_check_f32_with_const, and B's */
        if (op->num_inputs != 3 || op->num_outputs != 1 || q->const_first != 0)
            return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                                "CHANNEL_ARITH mul_add needs 3 inputs (X, K, B), 1 output and const_first 0");
        TRY(ecnn_check_data_input(c, op->inputs[0], &x));
        TRY(ecnn_check_const_input(c, op->inputs[1], &k, 0));
        TRY(ecnn_check_const_input(c, op->inputs[2], &b, 0));
        TRY(ecnn_check_output(c, op->outputs[0], &y));
        TRY(ecnn_need_f32_all(c));
        TRY(ecnn_check_layout(c, op->inputs[1], &k, 1u << ECNN_LAYOUT_PLAIN));
        TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
        if (!ecnn_same_shape(&k, &b))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CHANNEL_ARITH B is not of K's shape");
    } else {
        TRY(ecnn_check_f32_with_const(c, &x, &k, &y, "CHANNEL_ARITH needs 2 inputs (X, K) and 1 output"));
    }
    if (!ecnn_same_shape(&x, &y) || x.rank == 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CHANNEL_ARITH input and output shapes differ");
    if (k.rank != 1 || (k.dims[0] != 1 && k.dims[0] != x.dims[x.rank - 1]))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "CHANNEL_ARITH constant is not [C] or [1]");
    *macs = ecnn_numel(&x);
    return ECNN_OK;
}

/* Ranges of rows of C (in place: each range reads only its own rows). */
typedef struct {
    const ecnn_channel_arith_params *q;
    const float *x, *k, *b; /* b: MUL_ADD's B, else NULL */
    float *y;
    uint32_t k_count, c;
    ecnn_channel_arith_f32_kernel *kernel;
} arith_job;

static void arith_rows(const void *ctx, size_t first, size_t rows)
{
    const arith_job *j = (const arith_job *)ctx;
    j->kernel(j->y + first * j->c, j->x + first * j->c, j->k, j->b, j->k_count, rows, j->c, j->q->func,
              j->q->const_first);
}

const char *ecnn_eval_channel_arith(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    const ecnn_channel_arith_f32_impl *fast =
        r->reference ? NULL : ECNN_KERNEL(ecnn_channel_arith_config, f32, r->m->isa);
    ecnn_tensor_rec x, k, b, y;
    arith_job j;
    j.q = &op->params.channel_arith;
    j.x = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.k = (const float *)ecnn_tensor_ptr(r, op->inputs[1], &k);
    j.b = op->num_inputs == 3 ? (const float *)ecnn_tensor_ptr(r, op->inputs[2], &b) : NULL;
    j.y = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.c = x.dims[x.rank - 1];
    j.k_count = k.dims[0];
    j.kernel = fast ? fast->fn : ecnn_channel_arith_f32_ref;
    if (r->run) {
        const size_t rows = (size_t)(ecnn_numel(&x) / j.c) * r->batch;
        ecnn_run_span(r, arith_rows, &j, rows, 1, (uint64_t)rows * j.c * ECNN_WORK_ARITH, 0);
    }
    return fast ? fast->name : "channel_arith_f32_ref";
}

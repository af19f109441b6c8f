/* Runtime glue: checks the run arguments, resolves tensor pointers in the caller's buffers
 * and hands each op to its eval (src/ops). The model was fully validated by ecnn_model_init,
 * so nothing here re-checks shapes (TFLite Micro style: validation at load, kernels over raw
 * pointers). */
#include "core/op.h"

void *ecnn_tensor_ptr(const ecnn_run_ctx *r, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t == ECNN_NO_TENSOR) {
        rec->kind = 0;
        return NULL;
    }
    ecnn_read_tensor(r->m, t, rec);
    if (!r->run) return NULL;
    switch (rec->kind) {
    case ECNN_KIND_INPUT: return (void *)r->input; /* read only: kernels take const pointers */
    case ECNN_KIND_OUTPUT: return r->output;
    case ECNN_KIND_CONSTANT: return (void *)(r->m->data + rec->offset);
    default: return r->arena + r->m->arena_fixed + (size_t)rec->offset * r->batch;
    }
}

void ecnn_unary_job_of(const ecnn_run_ctx *r, const ecnn_op_rec *op, ecnn_unary_job *j)
{
    j->op = op;
    j->xp = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[0], &j->x);
    j->yp = (uint8_t *)ecnn_tensor_ptr(r, op->outputs[0], &j->y);
}

ecnn_status ecnn_arena_size(const ecnn_model *m, uint32_t batch, size_t *bytes)
{
    if (m == NULL || bytes == NULL || m->buf == NULL || batch == 0) return ECNN_E_ARG;
    if (m->arena_per_sample != 0 && batch > (SIZE_MAX - m->arena_fixed) / m->arena_per_sample) return ECNN_E_OVERFLOW;
    *bytes = (size_t)m->arena_fixed + (size_t)batch * m->arena_per_sample;
    return ECNN_OK;
}

/* N * per-sample bytes of tensor t, or 0 on overflow. */
static size_t batch_bytes(const ecnn_model *m, uint32_t t, uint32_t batch)
{
    ecnn_tensor_rec rec;
    ecnn_read_tensor(m, t, &rec);
    if (batch > SIZE_MAX / rec.size) return 0;
    return (size_t)rec.size * batch;
}

/* Whether the n floats at x are all finite: no value has every exponent bit set. One pass,
 * no branch a value decides, so compilers vectorise it. */
static int all_finite(const float *x, size_t n)
{
    uint32_t any_special = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        any_special |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return !any_special;
}

ecnn_status ecnn_run(const ecnn_model *m, uint32_t batch, const void *input, size_t input_bytes, void *output,
                     size_t output_bytes, void *arena, size_t arena_bytes)
{
    if (m == NULL || m->buf == NULL) return ECNN_E_ARG;
    return ecnn_run_ops_parallel(m, batch, 0, m->num_ops, 0, input, input_bytes, output, output_bytes, arena,
                                 arena_bytes, NULL);
}

ecnn_status ecnn_run_parallel(const ecnn_model *m, uint32_t batch, const void *input, size_t input_bytes, void *output,
                              size_t output_bytes, void *arena, size_t arena_bytes, const ecnn_parallel *parallel)
{
    if (m == NULL || m->buf == NULL) return ECNN_E_ARG;
    return ecnn_run_ops_parallel(m, batch, 0, m->num_ops, 0, input, input_bytes, output, output_bytes, arena,
                                 arena_bytes, parallel);
}

ecnn_status ecnn_run_ops(const ecnn_model *m, uint32_t batch, uint32_t first_op, uint32_t end_op, uint32_t flags,
                         const void *input, size_t input_bytes, void *output, size_t output_bytes, void *arena,
                         size_t arena_bytes)
{
    return ecnn_run_ops_parallel(m, batch, first_op, end_op, flags, input, input_bytes, output, output_bytes, arena,
                                 arena_bytes, NULL);
}

ecnn_status ecnn_run_ops_parallel(const ecnn_model *m, uint32_t batch, uint32_t first_op, uint32_t end_op,
                                  uint32_t flags, const void *input, size_t input_bytes, void *output,
                                  size_t output_bytes, void *arena, size_t arena_bytes, const ecnn_parallel *parallel)
{
    ecnn_run_ctx r;
    size_t need, in_need, out_need;
    uint32_t i, pos;
    ecnn_status st;
    if (m == NULL || m->buf == NULL || input == NULL || output == NULL || batch == 0) return ECNN_E_ARG;
    if (first_op > end_op || end_op > m->num_ops ||
        (flags & ~(uint32_t)(ECNN_RUN_REFERENCE | ECNN_RUN_FINITE_INPUT)) != 0)
        return ECNN_E_ARG;
    if (parallel != NULL && (parallel->threads == 0 || (parallel->threads > 1 && parallel->parallel_for == NULL)))
        return ECNN_E_ARG;
    if (m->batch != 0 && batch != m->batch) return ECNN_E_BATCH;
    st = ecnn_arena_size(m, batch, &need);
    if (st != ECNN_OK) return st;
    in_need = batch_bytes(m, m->input, batch);
    out_need = batch_bytes(m, m->output, batch);
    if (in_need == 0 || out_need == 0) return ECNN_E_OVERFLOW;
    if (input_bytes != in_need || output_bytes != out_need) return ECNN_E_SIZE;
    if (need > 0 && arena == NULL) return ECNN_E_ARG;
    if (arena_bytes < need) return ECNN_E_ARENA;
    if (need > 0 && (uintptr_t)arena % ECNN_ARENA_ALIGN != 0) return ECNN_E_ALIGN; /* no arena needed: any pointer */
    /* f32 (and i32) inputs/outputs are read through typed pointers. */
    if ((uintptr_t)input % 4 != 0 || (uintptr_t)output % 4 != 0) return ECNN_E_ALIGN;
    if (flags & ECNN_RUN_FINITE_INPUT) {
        ecnn_tensor_rec in;
        ecnn_read_tensor(m, m->input, &in);
        if (in.dtype == ECNN_DTYPE_F32 && !all_finite((const float *)input, input_bytes / 4)) return ECNN_E_NONFINITE;
    }
    r.m = m;
    r.batch = batch;
    r.input = (const uint8_t *)input;
    r.output = (uint8_t *)output;
    r.arena = (uint8_t *)arena;
    r.reference = (flags & ECNN_RUN_REFERENCE) != 0;
    r.run = 1;
    r.par = parallel != NULL && parallel->threads > 1 ? parallel : NULL;
    for (i = 0, pos = 0; i < end_op; i++) {
        ecnn_op_rec op;
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        if (i >= first_op) (void)ecnn_op_def_of(op.op_type)->eval(&r, &op);
    }
    return ECNN_OK;
}

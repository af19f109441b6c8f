/* ADD and MUL (docs/file-format.md): y = act(a + b) / act(a * b) element by element, b of a's shape or one
 * value per sample and channel; float, or int8 (onnxruntime's QLinearAdd / QLinearMul, no fused
 * activation; b may then be a constant [C] or [1]). */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h" /* the kernels: ecnn_f32_elementwise_config (ops/activation.c), ecnn_q_elementwise_config (ops/quantize.c) */

/* B [1, ..., 1, C] (or all 1) of A's rank, C = A's innermost dim: one value per sample and
 * channel, broadcast over the other axes (squeeze-and-excitation gates). */
static int broadcasts_per_channel(const ecnn_tensor_rec *b, const ecnn_tensor_rec *a)
{
    uint32_t i;
    if (b->rank != a->rank || a->rank == 0) return 0;
    for (i = 0; i + 1 < b->rank; i++)
        if (b->dims[i] != 1) return 0;
    return b->dims[b->rank - 1] == 1 || b->dims[b->rank - 1] == a->dims[a->rank - 1];
}

/* Both ops: one parameter struct type, one check. */
static ecnn_status check_add_mul(const ecnn_op_ctx *c, const ecnn_act_params *act, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec a, b, y;
    if (op->num_inputs != 2 || op->num_outputs != 1)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "ADD/MUL needs 2 inputs (A, B) and 1 output");
    TRY(ecnn_check_data_input(c, op->inputs[0], &a));
    if (op->inputs[1] < c->m->num_tensors) ecnn_read_tensor(c->m, op->inputs[1], &b);
    if (op->inputs[1] < c->m->num_tensors && b.kind == ECNN_KIND_CONSTANT && b.dtype != ECNN_DTYPE_F32) {
        /* int8 only: B a quantized constant per channel of the innermost axis ([C]) or a scalar ([1]) */
        TRY(ecnn_check_const_input(c, op->inputs[1], &b, 0));
        TRY(ecnn_check_layout(c, op->inputs[1], &b, 1u << ECNN_LAYOUT_PLAIN));
        TRY(ecnn_check_output(c, op->outputs[0], &y));
        if (a.rank == 0 || b.rank != 1 || (b.dims[0] != 1 && b.dims[0] != a.dims[a.rank - 1]) ||
            !ecnn_same_shape(&a, &y))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                                "int8 ADD/MUL constant is not [C] or [1], or Y's shape is not A's");
    } else {
        TRY(ecnn_check_data_input(c, op->inputs[1], &b));
        TRY(ecnn_check_output(c, op->outputs[0], &y));
        if (!ecnn_same_shape(&a, &y) || (!ecnn_same_shape(&a, &b) && !broadcasts_per_channel(&b, &a)))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                                "ADD/MUL output is not A's shape, or B is neither A's shape nor [1,...,1,C]");
    }
    if (a.dtype != ECNN_DTYPE_F32 || b.dtype != ECNN_DTYPE_F32 || y.dtype != ECNN_DTYPE_F32) {
        /* int8: QLinearAdd / QLinearMul (kernels_i8.h), without a fused activation */
        const ecnn_tensor_rec ts[3] = {a, b, y};
        const uint32_t idx[3] = {op->inputs[0], op->inputs[1], op->outputs[0]};
        TRY(ecnn_need_q_group(c, ts, idx, 3));
        if (act->act != ECNN_ACT_NONE)
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, ECNN_NO_INDEX, "int8 ADD/MUL with a fused activation");
    }
    TRY(ecnn_check_act(c, act));
    *macs = ecnn_numel(&y);
    return ECNN_OK;
}

ecnn_status ecnn_check_add(const ecnn_op_ctx *c, uint64_t *macs)
{
    return check_add_mul(c, &c->op->params.add, macs);
}
ecnn_status ecnn_check_mul(const ecnn_op_ctx *c, uint64_t *macs)
{
    return check_add_mul(c, &c->op->params.mul, macs);
}

/* One ADD / MUL, ready to run in ranges: of elements when B has A's shape (B then lines up with
 * A element for element), else of rows of `period` elements (B's repeat), within a sample. */
typedef struct {
    int mul, quantized, elementwise;
    size_t per_sample, period, b_sample; /* elements of A per sample, of B's repeat, of B per sample (0: constant) */
    const ecnn_act_params *act;
    ecnn_binary_f32_kernel *f32_kernel; /* float: the level's, or the reference */
    ecnn_binary_q_kernel *q_kernel;     /* int8: ADD's or MUL's */
    const uint8_t *a, *b;
    uint8_t *y;
    uint32_t esize;
    ecnn_qtensor qa, qb, qy;
} binary_job;

/* count elements at element offset `at` of A and Y, with B at element offset b_at, B repeating every `period`. */
static void binary_run(const binary_job *j, size_t at, size_t b_at, size_t count, size_t period)
{
    const size_t e = j->esize;
    if (!j->quantized)
        j->f32_kernel((float *)(j->y + at * e), (const float *)(j->a + at * e), (const float *)(j->b + b_at * e), 1,
                      count, period, j->mul ? ECNN_ARITH_MUL : ECNN_ARITH_ADD, j->act);
    else
        j->q_kernel(j->y + at, j->a + at, j->b + b_at, 1, count, 0, period, &j->qa, &j->qb, &j->qy);
}

static void binary_units(const void *ctx, size_t first, size_t count)
{
    const binary_job *j = (const binary_job *)ctx;
    size_t u, end;
    if (j->elementwise) {
        binary_run(j, first, first, count, count);
        return;
    }
    for (u = first, end = first + count; u < end;) { /* rows u..: sample by sample */
        const size_t rows = j->per_sample / j->period, s = u / rows, in = u % rows;
        const size_t take = rows - in < end - u ? rows - in : end - u;
        binary_run(j, s * j->per_sample + in * j->period, s * j->b_sample, take * j->period, j->period);
        u += take;
    }
}

static const char *eval_add_mul(const ecnn_run_ctx *r, const ecnn_op_rec *op, int mul, const ecnn_act_params *act)
{
    ecnn_tensor_rec a, b, y;
    const ecnn_binary_q_impl *q_impl = mul ? ECNN_KERNEL(ecnn_q_elementwise_config, mul, r->m->isa)
                                           : ECNN_KERNEL(ecnn_q_elementwise_config, add, r->m->isa);
    const ecnn_binary_f32_impl *f32_impl = ECNN_KERNEL(ecnn_f32_elementwise_config, binary, r->m->isa);
    binary_job j;
    size_t b_numel;
    j.a = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[0], &a);
    j.b = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[1], &b);
    j.y = (uint8_t *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.mul = mul;
    j.act = act;
    j.per_sample = (size_t)ecnn_numel(&a);
    b_numel = (size_t)ecnn_numel(&b);
    j.quantized = a.dtype != ECNN_DTYPE_F32;
    j.esize = ecnn_dtype_size(a.dtype);
    /* B: A's shape, a runtime [1,...,1,C] per sample, or (int8) a constant [C] / [1] (no sample stride) */
    j.b_sample = b.kind == ECNN_KIND_CONSTANT ? 0 : b_numel;
    j.period = b_numel;
    j.elementwise = b_numel == j.per_sample && j.b_sample != 0;
    j.f32_kernel = r->reference ? ecnn_binary_f32_ref : f32_impl->fn;
    j.q_kernel = r->reference ? (mul ? ecnn_mul_q_ref : ecnn_add_q_ref) : q_impl->fn;
    if (j.quantized) {
        ecnn_qtensor_from(r->m, &a, &j.qa);
        ecnn_qtensor_from(r->m, &b, &j.qb);
        ecnn_qtensor_from(r->m, &y, &j.qy);
    }
    if (r->run) {
        const size_t units = j.elementwise ? j.per_sample * r->batch : j.per_sample / j.period * r->batch;
        const uint64_t work = (uint64_t)j.per_sample * r->batch * (j.quantized ? ECNN_WORK_QARITH : ECNN_WORK_ARITH);
        ecnn_run_span(r, binary_units, &j, units, j.elementwise ? 64 : 1, work, 0);
    }
    if (j.quantized) return r->reference ? (mul ? "mul_q_ref" : "add_q_ref") : q_impl->name;
    return r->reference ? "binary_f32_ref" : f32_impl->name;
}

const char *ecnn_eval_add(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    return eval_add_mul(r, op, 0, &op->params.add);
}

const char *ecnn_eval_mul(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    return eval_add_mul(r, op, 1, &op->params.mul);
}

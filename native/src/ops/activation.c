/* ACTIVATION: y = act(x) element by element (docs/file-format.md): float, or int8 through a 256-entry
 * table of the activation's float formula, as onnxruntime's QLinear lookup. */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h"

/* The float element-wise kernels per ISA level (core/isa.h), ADD / MUL's too. */
#define F32_ELEMENTWISE_ROW(isa)                                                                                       \
    {                                                                                                                  \
        ECNN_IMPL(ecnn_activation_f32_##isa), ECNN_IMPL(ecnn_binary_f32_##isa)                                         \
    }
const ecnn_f32_elementwise_kernels ecnn_f32_elementwise_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = F32_ELEMENTWISE_ROW(portable),
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = F32_ELEMENTWISE_ROW(avx2),
    [ECNN_ISA_AVX512] = F32_ELEMENTWISE_ROW(avx512),
#elif defined(ECNN_WITH_ARM64)
    [ECNN_ISA_NEON] = F32_ELEMENTWISE_ROW(neon),
#endif
};

ecnn_status ecnn_check_activation(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_act_params *a = &op->params.activation;
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    if (x.dtype != ECNN_DTYPE_F32) {
        /* int8: a lookup table of QuantizeLinear(f(DequantizeLinear(code))) (kernels_i8.h) */
        const ecnn_tensor_rec ts[2] = {x, y};
        const uint32_t idx[2] = {op->inputs[0], op->outputs[0]};
        TRY(ecnn_need_q_group(c, ts, idx, 2));
    } else {
        TRY(ecnn_need_f32(c, &x, op->inputs[0]));
    }
    if (!ecnn_same_shape(&x, &y))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    TRY(ecnn_check_act(c, a));
    *macs = 0;
    return ECNN_OK;
}

/* ops/configs.h: the int8 table through the level's kernels. */
void ecnn_activation_q_table(void *y, const void *x, size_t count, const ecnn_act_params *act, const ecnn_qtensor *qx,
                             const ecnn_qtensor *qy, const ecnn_isa_info *isa)
{
    const uint8_t to_index = qx->type == ECNN_Q_U8 ? 0u : 0x80u; /* a code's byte -> its index, code - qmin */
    uint8_t codes[256], table[256];
    float v[256];
    const uint8_t *xb = (const uint8_t *)x;
    uint8_t *yb = (uint8_t *)y;
    size_t i;
    for (i = 0; i < 256; i++) codes[i] = (uint8_t)(i ^ to_index);
    ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, isa)->fn(v, codes, 256, qx->scale, qx->zero_point, qx->type);
    ECNN_KERNEL(ecnn_f32_elementwise_config, activation, isa)->fn(v, v, 256, act);
    ECNN_KERNEL(ecnn_q_elementwise_config, quantize, isa)->fn(table, v, 256, qy->scale, qy->zero_point, qy->type);
    for (i = 0; i < count; i++) yb[i] = table[xb[i] ^ to_index];
}

/* ops/configs.h */
static void act_after_move(ecnn_act_params *act, ecnn_act_after *after)
{
    after->act = *act;
    act->act = ECNN_ACT_NONE;
    act->act_p0 = act->act_p1 = 0.0f;
}

void ecnn_act_after_take(const ecnn_run_ctx *r, ecnn_act_params *act, ecnn_act_after *after)
{
    after->fn = NULL;
    after->add = NULL;
    if (r->reference || ecnn_act_in_kernel(act->act)) return;
    after->fn = ECNN_KERNEL(ecnn_f32_elementwise_config, activation, r->m->isa)->fn;
    act_after_move(act, after);
}

void ecnn_act_after_take_residual(const ecnn_run_ctx *r, ecnn_act_params *act, ecnn_act_after *after)
{
    after->fn = NULL;
    after->add = r->reference ? ecnn_binary_f32_ref : ECNN_KERNEL(ecnn_f32_elementwise_config, binary, r->m->isa)->fn;
    act_after_move(act, after);
}

/* n floats at y (and at r, with a residual). */
static void act_after_span(const ecnn_act_after *after, float *y, const float *r, size_t n)
{
    if (after->add)
        after->add(y, y, r, 1, n, n, ECNN_ARITH_ADD, &after->act);
    else
        after->fn(y, y, n, &after->act);
}

void ecnn_act_after_rows(const ecnn_act_after *after, float *y, const float *residual, size_t row0, size_t row1,
                         uint32_t row_len, uint32_t c0, uint32_t c1)
{
    size_t row;
    if (!after->fn && !after->add) return;
    if (c0 == 0 && c1 == row_len) {
        const size_t at = row0 * row_len;
        act_after_span(after, y + at, residual ? residual + at : NULL, (row1 - row0) * row_len);
        return;
    }
    for (row = row0; row < row1; row++) {
        const size_t at = row * row_len + c0;
        act_after_span(after, y + at, residual ? residual + at : NULL, c1 - c0);
    }
}

/* Element ranges of one activation (in place: each range reads only its own elements). */
typedef struct {
    const ecnn_act_params *a;
    const uint8_t *x;
    uint8_t *y;
    ecnn_activation_f32_kernel *f32_kernel; /* the level's, or the reference */
    const ecnn_isa_info *isa;               /* int8: the level, or NULL for the reference */
    int quantized;
    ecnn_qtensor qx, qy;
} act_job;

static void act_elements(const void *ctx, size_t first, size_t count)
{
    const act_job *j = (const act_job *)ctx;
    if (!j->quantized)
        j->f32_kernel((float *)j->y + first, (const float *)j->x + first, count, j->a);
    else if (j->isa) /* a table of 256 built per range: ranges are >= ECNN_MIN_TILE_WORK / 4 elements */
        ecnn_activation_q_table(j->y + first, j->x + first, count, j->a, &j->qx, &j->qy, j->isa);
    else
        ecnn_activation_q_ref(j->y + first, j->x + first, count, j->a, &j->qx, &j->qy);
}

const char *ecnn_eval_activation(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    const ecnn_activation_f32_impl *f32 = ECNN_KERNEL(ecnn_f32_elementwise_config, activation, r->m->isa);
    ecnn_tensor_rec x, y;
    act_job j;
    size_t count;
    j.a = &op->params.activation;
    j.f32_kernel = r->reference ? ecnn_activation_f32_ref : f32->fn;
    j.isa = r->reference ? NULL : r->m->isa;
    j.x = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = (uint8_t *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    count = (size_t)ecnn_numel(&x) * r->batch;
    j.quantized = x.dtype != ECNN_DTYPE_F32;
    if (j.quantized) {
        ecnn_qtensor_from(r->m, &x, &j.qx);
        ecnn_qtensor_from(r->m, &y, &j.qy);
    }
    if (r->run) { /* int8: a lookup per element after a table of 256 values per range; float: Sigmoid, Tanh divide */
        const uint64_t per = j.quantized ? ECNN_WORK_MOVE
                             : j.a->act == ECNN_ACT_SIGMOID || j.a->act == ECNN_ACT_TANH || j.a->act == ECNN_ACT_SWISH
                                 ? ECNN_WORK_LIBM
                                 : ECNN_WORK_ARITH;
        ecnn_run_span(r, act_elements, &j, count, 64, (uint64_t)count * per, j.quantized ? 256u * ECNN_WORK_LIBM : 0);
    }
    if (j.quantized) return r->reference ? "activation_q_ref" : "activation_q_table";
    return r->reference ? "activation_f32_ref" : f32->name;
}

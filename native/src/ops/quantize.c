/* QUANTIZE (f32 -> i8/u8) and DEQUANTIZE (i8/u8 -> f32), per tensor, as onnxruntime's
 * QuantizeLinear / DequantizeLinear (docs/file-format.md). They run the ISA level's kernel
 * (ECNN_RUN_REFERENCE: the reference kernel); every kernel gives the reference's codes and
 * floats bit for bit. */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h"

/* ---- the element-wise int8 kernels per ISA level (core/isa.h), ADD / MUL's too --------------- */
#define Q_ELEMENTWISE_ROW(isa)                                                                                         \
    {                                                                                                                  \
        ECNN_IMPL(ecnn_quantize_##isa), ECNN_IMPL(ecnn_dequantize_##isa), ECNN_IMPL(ecnn_add_q_##isa),                 \
            ECNN_IMPL(ecnn_mul_q_##isa)                                                                                \
    }
const ecnn_q_elementwise_kernels ecnn_q_elementwise_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = Q_ELEMENTWISE_ROW(portable),
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = Q_ELEMENTWISE_ROW(avx2),
    [ECNN_ISA_AVX512] = Q_ELEMENTWISE_ROW(avx512),
#elif defined(ECNN_WITH_ARM64)
    [ECNN_ISA_NEON] = Q_ELEMENTWISE_ROW(neon),
#endif
};

/* Same shape; the quantized side (y for QUANTIZE, x for DEQUANTIZE) quantized per tensor. */
static ecnn_status check_convert(const ecnn_op_ctx *c, int quantize, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, y;
    const char *msg;
    TRY(ecnn_check_one_to_one(c, &x, &y, "QUANTIZE/DEQUANTIZE needs 1 input and 1 output"));
    if (!ecnn_same_shape(&x, &y))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "input and output shapes differ");
    TRY(ecnn_need_f32(c, quantize ? &x : &y, quantize ? op->inputs[0] : op->outputs[0]));
    msg = ecnn_check_q_activation(c->m, quantize ? &y : &x);
    if (msg) return ecnn_op_fail(c, ECNN_E_CORRUPT, quantize ? op->outputs[0] : op->inputs[0], msg);
    *macs = 0;
    return ECNN_OK;
}

ecnn_status ecnn_check_quantize(const ecnn_op_ctx *c, uint64_t *macs)
{
    return check_convert(c, 1, macs);
}
ecnn_status ecnn_check_dequantize(const ecnn_op_ctx *c, uint64_t *macs)
{
    return check_convert(c, 0, macs);
}

/* Element ranges of one conversion (the kernels count in 32 bits: a range runs in pieces of
 * at most 2^31 elements). */
typedef struct {
    int quantize;
    ecnn_quantize_kernel *quantize_fn;
    ecnn_dequantize_kernel *dequantize_fn;
    const uint8_t *x; /* f32 (QUANTIZE) or 1-byte codes */
    uint8_t *y;
    float scale;
    int32_t zero_point;
    ecnn_qtype t;
} convert_job;

static void convert_elements(const void *ctx, size_t first, size_t count)
{
    const convert_job *j = (const convert_job *)ctx;
    while (count > 0) {
        const uint32_t part = count < 0x80000000u ? (uint32_t)count : 0x80000000u;
        if (j->quantize)
            j->quantize_fn(j->y + first, (const float *)j->x + first, part, j->scale, j->zero_point, j->t);
        else
            j->dequantize_fn((float *)j->y + first, j->x + first, part, j->scale, j->zero_point, j->t);
        first += part;
        count -= part;
    }
}

static const char *eval_convert(const ecnn_run_ctx *r, const ecnn_op_rec *op, int quantize)
{
    const ecnn_quantize_impl *q = ECNN_KERNEL(ecnn_q_elementwise_config, quantize, r->m->isa);
    const ecnn_dequantize_impl *d = ECNN_KERNEL(ecnn_q_elementwise_config, dequantize, r->m->isa);
    ecnn_tensor_rec x, y;
    convert_job j;
    j.quantize = quantize;
    j.quantize_fn = r->reference ? ecnn_quantize_ref : q->fn;
    j.dequantize_fn = r->reference ? ecnn_dequantize_ref : d->fn;
    j.x = (const uint8_t *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = (uint8_t *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.t = ECNN_Q_I8;
    (void)ecnn_qtype_of(quantize ? y.dtype : x.dtype, &j.t);
    j.scale = ecnn_q_scale(r->m, quantize ? &y : &x, 0);
    j.zero_point = ecnn_q_zero_point(r->m, quantize ? &y : &x, 0);
    if (r->run) {
        const size_t count = (size_t)ecnn_numel(&x) * r->batch;
        /* a division or multiply and a rounding */
        ecnn_run_span(r, convert_elements, &j, count, 64, (uint64_t)count * ECNN_WORK_MOVE * 8, 0);
    }
    if (r->reference) return quantize ? "quantize_ref" : "dequantize_ref";
    return quantize ? q->name : d->name;
}

const char *ecnn_eval_quantize(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    return eval_convert(r, op, 1);
}
const char *ecnn_eval_dequantize(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    return eval_convert(r, op, 0);
}

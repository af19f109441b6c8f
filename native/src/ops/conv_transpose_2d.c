/* CONV_TRANSPOSE_2D (docs/file-format.md): ONNX ConvTranspose on NHWC, float, any stride,
 * padding, output padding, dilation and group; the reference kernel gathers each output
 * element's taps, so every element is computed whole by one tile. */
#include "core/op.h"
#include "kernels/kernels.h"

static void conv_transpose_args(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                const ecnn_tensor_rec *y, ecnn_conv_transpose2d_args *p)
{
    const ecnn_conv_transpose2d_params *q = &op->params.conv_transpose_2d;
    ECNN_WINDOW_ARGS(p, x, y, w->dims[1], w->dims[2], q);
    p->o = y->dims[2];
    p->group = q->group;
}

/* stride * (in - 1) + output_pad + dil * (k - 1) + 1 - pads, or 0 when that is not positive. */
static uint64_t transposed_extent(uint32_t in, uint32_t stride, uint32_t out_pad, uint32_t k, uint32_t dil,
                                  uint32_t pad_a, uint32_t pad_b)
{
    const uint64_t full = (uint64_t)stride * (in - 1) + out_pad + (uint64_t)dil * (k - 1) + 1;
    return full > (uint64_t)pad_a + pad_b ? full - pad_a - pad_b : 0;
}

ecnn_status ecnn_check_conv_transpose_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_conv_transpose2d_params *q = &op->params.conv_transpose_2d;
    ecnn_tensor_rec x, w, b, y;
    ecnn_conv_transpose2d_args p;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &b, &y,
                                  "CONV_TRANSPOSE_2D needs 3 inputs (X, W, B or none) and 1 output"));
    if (x.rank != 3 || y.rank != 3 || w.rank != 4)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_TRANSPOSE_2D needs X [H,W,C], W [O,KH,KW,C/group], Y [OH,OW,O]");
    TRY(ecnn_need_f32(c, &x, op->inputs[0]));
    TRY(ecnn_need_f32(c, &w, op->inputs[1]));
    if (b.kind != 0) TRY(ecnn_need_f32(c, &b, op->inputs[2]));
    TRY(ecnn_need_f32(c, &y, op->outputs[0]));
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    if ((q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom | q->pad_right | q->dilation_h |
         q->dilation_w | q->output_pad_h | q->output_pad_w) > 65535u)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONV_TRANSPOSE_2D stride/pad/dilation > 65535");
    if (q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 || q->dilation_w == 0 || q->group == 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_TRANSPOSE_2D stride, dilation and group must be >= 1");
    conv_transpose_args(op, &x, &w, &y, &p);
    if (p.c % p.group != 0 || p.o % p.group != 0 || (uint64_t)w.dims[3] * p.group != p.c || w.dims[0] != p.o)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                            "CONV_TRANSPOSE_2D weight shape does not match channels and group");
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != p.o))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CONV_TRANSPOSE_2D bias shape is not [O]");
    if (transposed_extent(p.h, q->stride_h, q->output_pad_h, p.kh, q->dilation_h, q->pad_top, q->pad_bottom) != p.oh ||
        transposed_extent(p.w, q->stride_w, q->output_pad_w, p.kw, q->dilation_w, q->pad_left, q->pad_right) != p.ow)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0],
                            "CONV_TRANSPOSE_2D output height/width do not match the parameters");
    *macs = (uint64_t)p.h * p.w * p.c * p.kh * p.kw * (p.o / p.group);
    return ECNN_OK;
}

/* Ranges of output rows (samples x OH). */
typedef struct {
    ecnn_span span;
    ecnn_conv_transpose2d_args p;
    const float *x, *w, *b;
    float *y;
} conv_transpose_job;

static void conv_transpose_task(void *ctx, size_t index)
{
    const conv_transpose_job *j = (const conv_transpose_job *)ctx;
    size_t first;
    const size_t rows = ecnn_span_piece(&j->span, index, &first);
    ecnn_conv_transpose2d_f32_ref(j->y, j->x, j->w, j->b, first, rows, &j->p);
}

const char *ecnn_eval_conv_transpose_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, b, y;
    conv_transpose_job j;
    j.x = (const float *)ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = (const float *)ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.b = (const float *)ecnn_tensor_ptr(r, op->inputs[2], &b);
    j.y = (float *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    conv_transpose_args(op, &x, &w, &y, &j.p);
    if (r->run) {
        const size_t rows = (size_t)r->batch * j.p.oh;
        const uint64_t work = (uint64_t)rows * j.p.ow * j.p.o * j.p.kh * j.p.kw * (j.p.c / j.p.group) * ECNN_WORK_ARITH;
        ecnn_run_tasks(r, conv_transpose_task, &j, ecnn_span_plan(&j.span, r, rows, 1, work, 0));
    }
    return "conv_transpose2d_f32_ref";
}

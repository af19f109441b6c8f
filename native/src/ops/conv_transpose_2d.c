/* CONV_TRANSPOSE_2D (docs/file-format.md): ONNX ConvTranspose on NHWC, float, any stride,
 * padding, output padding, dilation and group; the reference kernel gathers each output
 * element's taps, so every element is computed whole by one tile. */
#include "core/op.h"
#include "kernels/kernels.h"

ecnn_status ecnn_check_conv_transpose_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_conv_transpose2d_params *q = &op->params.conv_transpose_2d;
    ecnn_conv_window win = ECNN_CONV_WINDOW_OF(q);
    ecnn_tensor_rec x, w, b, y;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &b, &y,
                                  "CONV_TRANSPOSE_2D needs 3 inputs (X, W, B or none) and 1 output"));
    win.output_pad_h = q->output_pad_h;
    win.output_pad_w = q->output_pad_w;
    TRY(ecnn_check_conv_window(c, &win, &x, &w, &y));
    TRY(ecnn_need_f32_all(c));
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != y.dims[2]))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CONV_TRANSPOSE_2D bias shape is not [O]");
    *macs = (uint64_t)x.dims[0] * x.dims[1] * x.dims[2] * w.dims[1] * w.dims[2] * (y.dims[2] / q->group);
    return ECNN_OK;
}

/* Ranges of output rows (samples x OH). */
typedef struct {
    ecnn_conv_transpose2d_args p;
    const float *x, *w, *b;
    float *y;
} conv_transpose_job;

static void conv_transpose_rows(const void *ctx, size_t first, size_t rows)
{
    const conv_transpose_job *j = (const conv_transpose_job *)ctx;
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
    ECNN_CONV_ARGS(&j.p, &x, &w, &y, &op->params.conv_transpose_2d);
    if (r->run) {
        const size_t rows = (size_t)r->batch * j.p.oh;
        const uint64_t work = (uint64_t)rows * j.p.ow * j.p.o * j.p.kh * j.p.kw * (j.p.c / j.p.group) * ECNN_WORK_ARITH;
        ecnn_run_span(r, conv_transpose_rows, &j, rows, 1, work, 0);
    }
    return "conv_transpose2d_f32_ref";
}

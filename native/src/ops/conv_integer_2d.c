/* CONV_INTEGER_2D (docs/file-format.md): ONNX ConvInteger, and MatMulInteger as a 1x1
 * convolution: int8/uint8 codes in, exact int32 sums out, CONV_2D's window geometry. */
#include "core/op.h"
#include "kernels/kernels.h"

static void conv_integer_args(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                              const ecnn_tensor_rec *y, ecnn_conv_integer2d_args *p)
{
    const ecnn_conv_integer2d_params *q = &op->params.conv_integer_2d;
    ECNN_CONV_ARGS(p, x, w, y, q);
    p->x_unsigned = x->dtype == ECNN_DTYPE_U8;
    p->w_unsigned = w->dtype == ECNN_DTYPE_U8;
    p->x_zero_point = q->x_zero_point;
}

static int is_code(uint32_t dtype)
{
    return dtype == ECNN_DTYPE_I8 || dtype == ECNN_DTYPE_U8;
}

ecnn_status ecnn_check_conv_integer_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_conv_integer2d_params *q = &op->params.conv_integer_2d;
    const ecnn_conv_window win = ECNN_CONV_WINDOW_OF(q);
    ecnn_tensor_rec x, w, z, y;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &z, &y,
                                  "CONV_INTEGER_2D needs 3 inputs (X, W, W zero points or none) and 1 output"));
    TRY(ecnn_check_conv_window(c, &win, &x, &w, &y));
    if (!is_code(x.dtype) || !is_code(w.dtype) || y.dtype != ECNN_DTYPE_I32 ||
        (z.kind != 0 && z.dtype != ECNN_DTYPE_I32))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_INTEGER_2D needs i8/u8 X and W, i32 zero points and an i32 Y");
    if (x.dtype == ECNN_DTYPE_U8 ? (q->x_zero_point < 0 || q->x_zero_point > 255)
                                 : (q->x_zero_point < -128 || q->x_zero_point > 127))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONV_INTEGER_2D x_zero_point outside X's dtype");
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &z, 1u << ECNN_LAYOUT_PLAIN));
    if (z.kind != 0 && (z.rank != 1 || (z.dims[0] != 1 && z.dims[0] != y.dims[2])))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CONV_INTEGER_2D weight zero points are not [1] or [O]");
    *macs = (uint64_t)y.dims[0] * y.dims[1] * y.dims[2] * w.dims[1] * w.dims[2] * w.dims[3];
    return ECNN_OK;
}

/* Ranges of output rows (samples x OH). */
typedef struct {
    ecnn_conv_integer2d_args p;
    const void *x, *w;
    const int32_t *w_zp;
    uint32_t w_zp_count;
    int32_t *y;
} conv_integer_job;

static void conv_integer_rows(const void *ctx, size_t first, size_t rows)
{
    const conv_integer_job *j = (const conv_integer_job *)ctx;
    ecnn_conv_integer2d_ref(j->y, j->x, j->w, j->w_zp, j->w_zp_count, first, rows, &j->p);
}

const char *ecnn_eval_conv_integer_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, w, z, y;
    conv_integer_job j;
    j.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.w = ecnn_tensor_ptr(r, op->inputs[1], &w);
    j.w_zp = (const int32_t *)ecnn_tensor_ptr(r, op->inputs[2], &z);
    j.w_zp_count = z.kind != 0 ? z.dims[0] : 0;
    j.y = (int32_t *)ecnn_tensor_ptr(r, op->outputs[0], &y);
    conv_integer_args(op, &x, &w, &y, &j.p);
    if (r->run) {
        const size_t rows = (size_t)r->batch * j.p.oh;
        const uint64_t work = (uint64_t)rows * j.p.ow * j.p.o * j.p.kh * j.p.kw * (j.p.c / j.p.group) * ECNN_WORK_ARITH;
        ecnn_run_span(r, conv_integer_rows, &j, rows, 1, work, 0);
    }
    return "conv_integer2d_ref";
}

/* CONV_INTEGER_2D (docs/file-format.md): ONNX ConvInteger, and MatMulInteger as a 1x1
 * convolution: int8/uint8 codes in, exact int32 sums out, CONV_2D's window geometry. */
#include "core/op.h"
#include "kernels/kernels.h"

static void conv_integer_args(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                              const ecnn_tensor_rec *y, ecnn_conv_integer2d_args *p)
{
    const ecnn_conv_integer2d_params *q = &op->params.conv_integer_2d;
    ECNN_WINDOW_ARGS(p, x, y, w->dims[1], w->dims[2], q);
    p->o = y->dims[2];
    p->group = q->group;
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
    ecnn_tensor_rec x, w, z, y;
    ecnn_conv_integer2d_args p;
    TRY(ecnn_check_linear_tensors(c, &x, &w, &z, &y,
                                  "CONV_INTEGER_2D needs 3 inputs (X, W, W zero points or none) and 1 output"));
    if (x.rank != 3 || y.rank != 3 || w.rank != 4)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_INTEGER_2D needs X [H,W,C], W [O,KH,KW,C/group], Y [OH,OW,O]");
    if (!is_code(x.dtype) || !is_code(w.dtype) || y.dtype != ECNN_DTYPE_I32 ||
        (z.kind != 0 && z.dtype != ECNN_DTYPE_I32))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_INTEGER_2D needs i8/u8 X and W, i32 zero points and an i32 Y");
    if (x.dtype == ECNN_DTYPE_U8 ? (q->x_zero_point < 0 || q->x_zero_point > 255)
                                 : (q->x_zero_point < -128 || q->x_zero_point > 127))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONV_INTEGER_2D x_zero_point outside X's dtype");
    TRY(ecnn_check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN));
    TRY(ecnn_check_layout(c, op->inputs[2], &z, 1u << ECNN_LAYOUT_PLAIN));
    if ((q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom | q->pad_right | q->dilation_h |
         q->dilation_w) > 65535u)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "CONV_INTEGER_2D stride/pad/dilation > 65535");
    if (q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 || q->dilation_w == 0 || q->group == 0)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "CONV_INTEGER_2D stride, dilation and group must be >= 1");
    conv_integer_args(op, &x, &w, &y, &p);
    if (p.c % p.group != 0 || p.o % p.group != 0 || (uint64_t)w.dims[3] * p.group != p.c || w.dims[0] != p.o)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[1],
                            "CONV_INTEGER_2D weight shape does not match channels and group");
    if (z.kind != 0 && (z.rank != 1 || (z.dims[0] != 1 && z.dims[0] != p.o)))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CONV_INTEGER_2D weight zero points are not [1] or [O]");
    if (ecnn_out_extent(p.h, q->pad_top, q->pad_bottom, p.kh, p.dilation_h, p.stride_h, 0) != p.oh ||
        ecnn_out_extent(p.w, q->pad_left, q->pad_right, p.kw, p.dilation_w, p.stride_w, 0) != p.ow)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0],
                            "CONV_INTEGER_2D output height/width do not match the parameters");
    *macs = (uint64_t)p.oh * p.ow * p.o * p.kh * p.kw * (p.c / p.group);
    return ECNN_OK;
}

/* Ranges of output rows (samples x OH). */
typedef struct {
    ecnn_span span;
    ecnn_conv_integer2d_args p;
    const void *x, *w;
    const int32_t *w_zp;
    uint32_t w_zp_count;
    int32_t *y;
} conv_integer_job;

static void conv_integer_task(void *ctx, size_t index)
{
    const conv_integer_job *j = (const conv_integer_job *)ctx;
    size_t first;
    const size_t rows = ecnn_span_piece(&j->span, index, &first);
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
        ecnn_run_tasks(r, conv_integer_task, &j, ecnn_span_plan(&j.span, r, rows, 1, work, 0));
    }
    return "conv_integer2d_ref";
}

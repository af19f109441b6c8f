/* RESIZE_2D (docs/file-format.md): ONNX Resize of the two spatial axes of NHWC, float nearest,
 * (bi)linear or cubic, or nearest on int8 codes, with ONNX's coordinate transformations and
 * nearest rules. */
#include <math.h>

#include "core/op.h"
#include "kernels/kernels.h"

static void resize_args(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y,
                        ecnn_resize2d_args *p)
{
    const ecnn_resize2d_params *q = &op->params.resize_2d;
    p->h = x->dims[0];
    p->w = x->dims[1];
    p->c = x->dims[2];
    p->oh = y->dims[0];
    p->ow = y->dims[1];
    p->mode = q->mode;
    p->coord = q->coord;
    p->nearest_mode = q->nearest_mode;
    p->scale_h = q->scale_h;
    p->scale_w = q->scale_w;
    p->cubic_a = q->cubic_a;
    p->exclude_outside = q->exclude_outside;
    p->roi_h0 = q->roi_h0;
    p->roi_h1 = q->roi_h1;
    p->roi_w0 = q->roi_w0;
    p->roi_w1 = q->roi_w1;
    p->extrapolation = q->extrapolation;
}

ecnn_status ecnn_check_resize_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_resize2d_params *q = &op->params.resize_2d;
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_unary(c, &x, &y));
    if (x.dtype == ECNN_DTYPE_F32) {
        TRY(ecnn_need_f32(c, &x, op->inputs[0]));
    } else { /* int8 codes: nearest only selects them (same dtype, scale and zero point) */
        TRY(ecnn_check_moved(c, &x, op->inputs[0], &y));
        if (q->mode != ECNN_RESIZE_NEAREST || q->coord == ECNN_COORD_TF_CROP_AND_RESIZE)
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, op->inputs[0],
                                "RESIZE_2D on i8/u8 codes is nearest only, without tf_crop_and_resize");
    }
    if (x.rank != 3 || y.rank != 3 || x.dims[2] != y.dims[2])
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "RESIZE_2D needs X [H,W,C] and Y [OH,OW,C]");
    if (q->mode > ECNN_RESIZE_CUBIC || q->coord > ECNN_COORD_TF_CROP_AND_RESIZE ||
        q->nearest_mode > ECNN_NEAREST_SIMPLE || (q->mode != ECNN_RESIZE_NEAREST && q->nearest_mode != 0) ||
        q->exclude_outside > 1)
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            "RESIZE_2D mode, coord, nearest_mode or exclude_outside out of range");
    if (!(q->scale_h > 0.0f) || !(q->scale_w > 0.0f) || isinf(q->scale_h) || isinf(q->scale_w))
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX, "RESIZE_2D scales must be positive and finite");
    *macs = 0;
    return ECNN_OK;
}

/* Ranges of output rows (samples x OH). */
typedef struct {
    ecnn_resize2d_args p;
    const void *x;
    void *y;
    uint32_t esize; /* bytes per element */
} resize_job;

static void resize_rows(const void *ctx, size_t first, size_t rows)
{
    const resize_job *j = (const resize_job *)ctx;
    if (j->esize == 4) /* f32: every mode */
        ecnn_resize2d_f32_ref((float *)j->y, (const float *)j->x, first, rows, &j->p);
    else
        ecnn_resize2d_nearest_ref(j->y, j->x, j->esize, first, rows, &j->p);
}

const char *ecnn_eval_resize_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    resize_job j;
    j.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    j.esize = ecnn_dtype_size(x.dtype);
    resize_args(op, &x, &y, &j.p);
    if (r->run) {
        const size_t rows = (size_t)r->batch * j.p.oh;
        const uint64_t work = (uint64_t)rows * j.p.ow * j.p.c * (j.p.mode ? 4u * ECNN_WORK_ARITH : ECNN_WORK_MOVE);
        ecnn_run_span(r, resize_rows, &j, rows, 1, work, 0);
    }
    return j.esize == 4 ? "resize2d_f32_ref" : "resize2d_nearest_ref";
}

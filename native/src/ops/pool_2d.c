/* MAX_POOL_2D and AVG_POOL_2D (docs/file-format.md): one window over NHWC, float or int8. Both run
 * the ISA level's kernel (ECNN_RUN_REFERENCE: the reference). Their parameter structs share their
 * first ten fields (edgecnn_ops.h): the window. */
#include "core/op.h"
#include "core/quant.h"
#include "ops/configs.h"

/* ---- kernels per ISA level (core/isa.h) ---------------------------------------------------- */
#if defined(ECNN_WITH_X86)
ecnn_maxpool2d_kernel ecnn_maxpool2d_avx2;
ecnn_avgpool2d_f32_kernel ecnn_avgpool2d_f32_avx2, ecnn_avgpool2d_f32_avx512;
ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx2, ecnn_avgpool2d_q_avx512;
#endif

const ecnn_pool2d_kernels ecnn_pool2d_config[ECNN_ISA_COUNT] = {
    [ECNN_ISA_PORTABLE] = {.max = ECNN_IMPL(ecnn_maxpool2d_portable),
                           .avg = ECNN_IMPL(ecnn_avgpool2d_f32_portable),
                           .avg_q = ECNN_IMPL(ecnn_avgpool2d_q_portable)},
#if defined(ECNN_WITH_X86)
    [ECNN_ISA_AVX2] = {.max = ECNN_IMPL(ecnn_maxpool2d_avx2),
                       .avg = ECNN_IMPL(ecnn_avgpool2d_f32_avx2),
                       .avg_q = ECNN_IMPL(ecnn_avgpool2d_q_avx2)},
    [ECNN_ISA_AVX512] = {.avg = ECNN_IMPL(ecnn_avgpool2d_f32_avx512), .avg_q = ECNN_IMPL(ecnn_avgpool2d_q_avx512)},
#endif
};

/* ---- load time ------------------------------------------------------------------------------ */

/* The window parameters: MAX_POOL_2D's struct is the common initial sequence of AVG_POOL_2D's
 * (members of one union, C99 6.5.2.3). */
static const ecnn_max_pool2d_params *window_of(const ecnn_op_rec *op)
{
    return &op->params.max_pool_2d;
}

static void pool2d_args(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y, ecnn_pool2d_args *p)
{
    const ecnn_max_pool2d_params *q = window_of(op);
    ECNN_WINDOW_ARGS(p, x, y, q->kernel_h, q->kernel_w, q);
    p->pad_bottom = q->pad_bottom;
    p->pad_right = q->pad_right;
    /* bit 1 of AVG_POOL_2D's count_include_pad is the int8 rounding domain, not a count rule */
    p->count_include_pad = op->op_type == ECNN_OP_AVG_POOL_2D ? op->params.avg_pool_2d.count_include_pad & 1u : 0;
}

/* Every window along one axis covers at least one position inside the input. */
static int windows_hit_input(uint32_t out, uint32_t in, uint32_t pad_a, uint32_t k, uint32_t dil, uint32_t stride)
{
    uint32_t o, j;
    for (o = 0; o < out; o++) {
        int hit = 0;
        for (j = 0; j < k && !hit; j++) {
            const int64_t pos = (int64_t)o * stride - (int64_t)pad_a + (int64_t)j * dil;
            hit = pos >= 0 && pos < (int64_t)in;
        }
        if (!hit) return 0;
    }
    return 1;
}

/* The shapes and the window, for both ops (the messages name the op). */
static ecnn_status check_window(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y, int avg)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_max_pool2d_params *q = window_of(op);
    ecnn_pool2d_args p;
#define POOL_FAIL(tensor, what) ecnn_op_fail(c, ECNN_E_CORRUPT, tensor, avg ? "AVG_POOL_2D " what : "MAX_POOL_2D " what)
    if (x->rank != 3 || y->rank != 3 || x->dims[2] != y->dims[2])
        return POOL_FAIL(ECNN_NO_INDEX, "needs X [H,W,C] and Y [OH,OW,C]");
    if ((q->kernel_h | q->kernel_w | q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom |
         q->pad_right | q->dilation_h | q->dilation_w) > 65535u)
        return POOL_FAIL(ECNN_NO_INDEX, "parameter > 65535");
    if (q->kernel_h == 0 || q->kernel_w == 0 || q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 ||
        q->dilation_w == 0)
        return POOL_FAIL(ECNN_NO_INDEX, "kernel, stride and dilation must be >= 1");
    if (avg && op->params.avg_pool_2d.count_include_pad >
                   (x->dtype == ECNN_DTYPE_I8 ? 3u : 1u)) /* i8: bit 1 = round as uint8 codes (docs/file-format.md) */
        return ecnn_op_fail(c, ECNN_E_CORRUPT, ECNN_NO_INDEX,
                            x->dtype == ECNN_DTYPE_I8 ? "int8 AVG_POOL_2D count_include_pad is not 0..3"
                                                      : "AVG_POOL_2D count_include_pad is not 0 or 1");
    pool2d_args(op, x, y, &p);
    if (p.oh < ecnn_out_extent(p.h, p.pad_top, p.pad_bottom, p.kh, p.dilation_h, p.stride_h, 0) ||
        p.oh > ecnn_out_extent(p.h, p.pad_top, p.pad_bottom, p.kh, p.dilation_h, p.stride_h, 1) ||
        p.ow < ecnn_out_extent(p.w, p.pad_left, p.pad_right, p.kw, p.dilation_w, p.stride_w, 0) ||
        p.ow > ecnn_out_extent(p.w, p.pad_left, p.pad_right, p.kw, p.dilation_w, p.stride_w, 1))
        return POOL_FAIL(op->outputs[0], "output height/width do not match the parameters");
    if (!windows_hit_input(p.oh, p.h, p.pad_top, p.kh, p.dilation_h, p.stride_h) ||
        !windows_hit_input(p.ow, p.w, p.pad_left, p.kw, p.dilation_w, p.stride_w))
        return POOL_FAIL(ECNN_NO_INDEX, "has a window entirely in the padding");
#undef POOL_FAIL
    return ECNN_OK;
}

ecnn_status ecnn_check_max_pool_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, y;
    const char *msg;
    TRY(ecnn_check_one_to_one(c, &x, &y, "MAX_POOL_2D needs 1 input and 1 output"));
    /* It only selects values: both f32, or both quantized with the same dtype, scale and zero point. */
    if (x.dtype == ECNN_DTYPE_F32) {
        TRY(ecnn_need_f32(c, &y, op->outputs[0]));
    } else {
        if ((msg = ecnn_check_q_activation(c->m, &x)) != NULL)
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, op->inputs[0], msg);
        if ((msg = ecnn_check_q_activation(c->m, &y)) != NULL)
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, op->outputs[0], msg);
        if (x.dtype != y.dtype || ecnn_q_scale(c->m, &x, 0) != ecnn_q_scale(c->m, &y, 0) ||
            ecnn_q_zero_point(c->m, &x, 0) != ecnn_q_zero_point(c->m, &y, 0))
            return ecnn_op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "input and output differ in dtype or quantization");
    }
    TRY(check_window(c, &x, &y, 0));
    *macs = 0;
    return ECNN_OK;
}

ecnn_status ecnn_check_avg_pool_2d(const ecnn_op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_avg_pool2d_params *q = &op->params.avg_pool_2d;
    ecnn_tensor_rec x, y;
    TRY(ecnn_check_one_to_one(c, &x, &y, "AVG_POOL_2D needs 1 input and 1 output"));
    if (x.dtype != ECNN_DTYPE_F32 || y.dtype != ECNN_DTYPE_F32) {
        /* int8: QLinearAveragePool / QLinearGlobalAveragePool (kernels_i8.h), which have no dilation;
         * the global rule's int32 sum of kh*kw codes must not overflow. */
        const ecnn_tensor_rec ts[2] = {x, y};
        const uint32_t idx[2] = {op->inputs[0], op->outputs[0]};
        TRY(ecnn_need_q_group(c, ts, idx, 2));
        if (q->dilation_h != 1 || q->dilation_w != 1)
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, ECNN_NO_INDEX,
                                "int8 AVG_POOL_2D with dilation (onnxruntime's QLinearAveragePool has none)");
        if ((uint64_t)q->kernel_h * q->kernel_w >= (1u << 23))
            return ecnn_op_fail(c, ECNN_E_UNSUPPORTED, ECNN_NO_INDEX,
                                "int8 AVG_POOL_2D window of 2^23 or more positions");
    } else {
        TRY(ecnn_need_f32_all(c));
    }
    TRY(check_window(c, &x, &y, 1));
    *macs = (uint64_t)y.dims[0] * y.dims[1] * y.dims[2] * q->kernel_h * q->kernel_w;
    return ECNN_OK;
}

/* ---- run time ------------------------------------------------------------------------------- */

/* The kernel a pooling op runs. */
enum { MAX_FAST, MAX_REF_F32, MAX_REF_Q, AVG_FAST, AVG_F32, AVG_Q_FAST, AVG_Q };

/* One pooling op, ready to run tile by tile. */
typedef struct {
    int in_place;                       /* y overlaps x: every tile takes all rows (channels never race) */
    const ecnn_maxpool2d_impl *max;     /* MAX_POOL_2D's fast kernel, or NULL */
    const ecnn_avgpool2d_f32_impl *avg; /* float AVG_POOL_2D's fast kernel, or NULL */
    const ecnn_avgpool2d_q_impl *avg_q; /* int8 AVG_POOL_2D's fast kernel, or NULL */
    int kind;                           /* MAX_FAST, ... */
    int type;                           /* max: ECNN_POOL_F32 or an ecnn_qtype */
    int uint8_rounding;
    void *y;
    const void *x;
    uint32_t n;
    ecnn_pool2d_args p;
    ecnn_qtensor qx, qy;
} pool_job;

static void pool_tile(const void *ctx, const ecnn_tile *t)
{
    const pool_job *j = (const pool_job *)ctx;
    switch (j->kind) {
    case MAX_FAST: j->max->fn(j->y, j->x, j->n, t, &j->p, j->type); break;
    case MAX_REF_F32: ecnn_maxpool2d_f32_ref((float *)j->y, (const float *)j->x, j->n, t, &j->p); break;
    case MAX_REF_Q: ecnn_maxpool2d_q_ref(j->y, j->x, j->n, t, &j->p, (ecnn_qtype)j->type); break;
    case AVG_FAST: j->avg->fn((float *)j->y, (const float *)j->x, j->n, t, &j->p); break;
    case AVG_F32: ecnn_avgpool2d_f32_ref((float *)j->y, (const float *)j->x, j->n, t, &j->p); break;
    case AVG_Q_FAST: j->avg_q->fn(j->y, j->x, j->n, t, &j->p, &j->qx, &j->qy, j->uint8_rounding); break;
    default: ecnn_avgpool2d_q_ref(j->y, j->x, j->n, t, &j->p, &j->qx, &j->qy, j->uint8_rounding); break;
    }
}

/* Runs a prepared job over the batch: rows (n, oh) then channels, or only channels in place;
 * passes of ecnn_pass_samples samples (all of them but for absurd batches). */
static void run_pool(const ecnn_run_ctx *r, pool_job *j, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y)
{
    const uint8_t *x0 = (const uint8_t *)j->x;
    uint8_t *y0 = (uint8_t *)j->y;
    const uintptr_t xa = (uintptr_t)x0, ya = (uintptr_t)y0;
    uint32_t s0;
    j->in_place = ya < xa + (size_t)r->batch * x->size && xa < ya + (size_t)r->batch * y->size;
    for (s0 = 0; s0 < r->batch; s0 += j->n) {
        ecnn_grid grid;
        j->n = ecnn_pass_samples(r->batch - s0, j->p.oh);
        j->x = x0 + (size_t)s0 * x->size;
        j->y = y0 + (size_t)s0 * y->size;
        /* a window position: a SIMD max, or a float addition in plain C (average pooling) */
        ecnn_grid_plan(&grid, r, j->in_place ? 1 : j->n * j->p.oh, j->p.c, ECNN_TILE_O_CONV,
                       (uint64_t)j->n * j->p.oh * j->p.ow * j->p.c * j->p.kh * j->p.kw *
                           (j->kind == MAX_FAST ? 1 : ECNN_WORK_ARITH),
                       0, 0);
        if (j->in_place) grid.rows = grid.row_step = j->n * j->p.oh;
        ecnn_run_grid(r, &grid, pool_tile, j);
    }
}

const char *ecnn_eval_max_pool_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    ecnn_qtype t = ECNN_Q_I8;
    pool_job j;
    int quantized;
    j.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    quantized = ecnn_qtype_of(x.dtype, &t);
    pool2d_args(op, &x, &y, &j.p);
    j.type = quantized ? (int)t : ECNN_POOL_F32;
    j.max = NULL;
    j.kind = quantized ? MAX_REF_Q : MAX_REF_F32;
    if (!r->reference) {
        j.max = ECNN_KERNEL(ecnn_pool2d_config, max, r->m->isa);
        j.kind = MAX_FAST;
    }
    if (r->run) run_pool(r, &j, &x, &y);
    return j.max ? j.max->name : quantized ? "maxpool2d_q_ref" : "maxpool2d_f32_ref";
}

const char *ecnn_eval_avg_pool_2d(const ecnn_run_ctx *r, const ecnn_op_rec *op)
{
    ecnn_tensor_rec x, y;
    pool_job j;
    j.x = ecnn_tensor_ptr(r, op->inputs[0], &x);
    j.y = ecnn_tensor_ptr(r, op->outputs[0], &y);
    pool2d_args(op, &x, &y, &j.p);
    j.kind = AVG_F32;
    j.avg = NULL;
    j.avg_q = NULL;
    if (x.dtype == ECNN_DTYPE_F32 && !r->reference) {
        j.avg = ECNN_KERNEL(ecnn_pool2d_config, avg, r->m->isa);
        j.kind = AVG_FAST;
    }
    if (x.dtype != ECNN_DTYPE_F32) {
        j.kind = AVG_Q;
        if (!r->reference) {
            j.avg_q = ECNN_KERNEL(ecnn_pool2d_config, avg_q, r->m->isa);
            j.kind = AVG_Q_FAST;
        }
        j.uint8_rounding = (op->params.avg_pool_2d.count_include_pad & 2u) != 0;
        ecnn_qtensor_from(r->m, &x, &j.qx);
        ecnn_qtensor_from(r->m, &y, &j.qy);
    }
    if (r->run) run_pool(r, &j, &x, &y);
    if (j.avg_q) return j.avg_q->name;
    return j.avg ? j.avg->name : j.kind == AVG_Q ? "avgpool2d_q_ref" : "avgpool2d_f32_ref";
}

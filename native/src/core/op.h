/* The interface between the core and the ops. Each op of ECNN_OP_LIST (edgecnn_ops.h) has one
 * file src/ops/<name>.c that defines, side by side (TensorFlow Lite Micro's Prepare / Eval):
 *
 *   ecnn_status ecnn_check_<name>(const ecnn_op_ctx *c, uint64_t *macs);
 *       at load, once: the op's tensors (kinds, dtypes, shapes), layouts and parameters, and its
 *       multiply-accumulates per sample. Fails through ecnn_op_fail, which records the check.
 *   const char *ecnn_eval_<name>(const ecnn_run_ctx *r, const ecnn_op_rec *op);
 *       at run time: picks the kernel (from the tensors' dtypes and layouts and the model's ISA
 *       level) and runs it, split into tiles (ecnn_grid_plan then ecnn_run_grid, or
 *       ecnn_run_span, with a function that runs the kernel on one tile: core/parallel.c); returns
 *       the kernel's name. With r->run 0 it only names the kernel (ecnn_model_op): the buffers
 *       from ecnn_tensor_ptr are NULL then, and nothing runs.
 *
 * The registry (core/registry.c) is generated from ECNN_OP_LIST, so adding an op is its line
 * there, its parameter struct and its file here. */
#ifndef ECNN_OP_H
#define ECNN_OP_H

#include "core/internal.h"
#include "core/isa.h"
#include "kernels/kernels.h"

typedef struct {
    ecnn_model *m; /* written only by ecnn_op_fail */
    const ecnn_op_rec *op;
    uint32_t index;
} ecnn_op_ctx;

typedef struct {
    const ecnn_model *m;
    uint32_t batch;
    const uint8_t *input;
    uint8_t *output;
    uint8_t *arena;
    int reference;            /* ECNN_RUN_REFERENCE: the reference kernels only (the oracle) */
    int run;                  /* 0: name the kernel, run nothing */
    const ecnn_parallel *par; /* NULL: one thread; else threads >= 2 and a parallel_for */
} ecnn_run_ctx;

#define ECNN_OP_DECLARE_(NAME, code, name, params)                                                                     \
    ecnn_status ecnn_check_##name(const ecnn_op_ctx *c, uint64_t *macs);                                               \
    const char *ecnn_eval_##name(const ecnn_run_ctx *r, const ecnn_op_rec *op);
ECNN_OP_LIST(ECNN_OP_DECLARE_)
#undef ECNN_OP_DECLARE_

typedef struct {
    const char *name; /* "CONV_2D" */
    uint32_t words;   /* parameter words of its records: sizeof(params) / 4 */
    ecnn_status (*check)(const ecnn_op_ctx *c, uint64_t *macs);
    const char *(*eval)(const ecnn_run_ctx *r, const ecnn_op_rec *op);
} ecnn_op_def;

/* The op of a file code, or NULL. */
const ecnn_op_def *ecnn_op_def_of(uint32_t op_type);

/* ---- run time ---------------------------------------------------------------------------- */

/* Where tensor t lives for this run (NULL for ECNN_NO_TENSOR, or when r->run is 0); fills *rec
 * (kind 0 for ECNN_NO_TENSOR). Arena tensors scale with the batch (docs/file-format.md). */
void *ecnn_tensor_ptr(const ecnn_run_ctx *r, uint32_t t, ecnn_tensor_rec *rec);
/* An op of one data input x and one output y at run time, the whole job of the ops whose kernel
 * needs no more than these and the op's parameters (PAD, TRANSPOSE, RESHAPE, SOFTMAX). */
typedef struct {
    const ecnn_op_rec *op;
    ecnn_tensor_rec x, y;
    const uint8_t *xp; /* ecnn_tensor_ptr's: NULL when r->run is 0 */
    uint8_t *yp;
} ecnn_unary_job;
void ecnn_unary_job_of(const ecnn_run_ctx *r, const ecnn_op_rec *op, ecnn_unary_job *j);

/* ---- splitting an op into tiles (core/parallel.c) ------------------------------------------ *
 * Each output element in exactly one tile, computed by the kernel the same way whatever the
 * tile: results do not depend on the threads. */

/* The split of an op: rows [0, rows) in row_tiles blocks of row_step, channels [0, chans) in
 * chan_tiles blocks of chan_step (a multiple of the op's grain). Tile i: row block
 * i / chan_tiles, channel block i % chan_tiles. */
typedef struct {
    uint32_t rows, row_step, row_tiles;
    uint32_t chans, chan_step, chan_tiles;
} ecnn_grid;

/* Work is counted in MAC-equivalents: one multiply-accumulate of a SIMD conv (~0.04 ns on a
 * 2020s x86 core); the plain C kernels of the other ops cost these per element: */
#define ECNN_WORK_MOVE 8u         /* copying or converting (QUANTIZE, DEQUANTIZE, data movement) */
#define ECNN_WORK_ARITH 32u       /* a float operation (ACTIVATION, ADD, MUL, CHANNEL_ARITH, average pooling) */
#define ECNN_WORK_LIBM 128u       /* an exp or tanh (SOFTMAX, Sigmoid, Tanh) */
#define ECNN_WORK_QARITH 256u     /* int8 ADD / MUL: float requantization in plain C */
#define ECNN_TILES_PER_THREAD 4u  /* tiles per thread at most: the threads balance uneven tiles */
#define ECNN_MIN_TILE_WORK 65536u /* MAC-equivalents a tile keeps at least: ~2-3 us, >> a dispatch (~0.2 us) */
/* More tiles than threads only when each keeps this much (~40 us): each tile costs a small op
 * a few percent (ResNet-8 int8 at batch 1, all tiles on one thread: 8 tiles per op 15% slower
 * than 1, 4 tiles 10%, 2 tiles 5%), and a small op's spare tiles rarely find a free worker. */
#define ECNN_BALANCE_TILE_WORK 1048576u

/* Plans the tiles of an op of `work` MAC-equivalents (whole batch) over `rows` rows and `chans`
 * channels split in multiples of `grain`: at most threads * ECNN_TILES_PER_THREAD tiles, at most
 * work / ECNN_MIN_TILE_WORK, more than one per thread only when each keeps ECNN_BALANCE_TILE_WORK,
 * at least 1; when each tile pays `setup` MAC-equivalents
 * whatever its size (a kernel packing its weights per call), at most one tile per thread and
 * each tile at least 2 x setup of work. Rows first, then channels (chans_first: the other way
 * round; chans 1 or grain >= chans: rows only). Returns the number of tiles. */
uint32_t ecnn_grid_plan(ecnn_grid *g, const ecnn_run_ctx *r, uint32_t rows, uint32_t chans, uint32_t grain,
                        uint64_t work, uint64_t setup, int chans_first);
/* An op's kernel call on one tile; ctx: the op's job. */
typedef void ecnn_tile_fn(const void *ctx, const ecnn_tile *t);
/* fn(ctx, tile) for every tile of a planned grid, through r's parallel-for when more than one. */
void ecnn_run_grid(const ecnn_run_ctx *r, const ecnn_grid *g, ecnn_tile_fn *fn, const void *ctx);

/* An op's kernel call on the piece [first, first + count) of its flat range; ctx: the op's job. */
typedef void ecnn_piece_fn(const void *ctx, size_t first, size_t count);
/* fn(ctx, ...) on the pieces of [0, count) (elements, rows or samples of an elementwise or data
 * movement op), each a multiple of `align` but the last, planned as ecnn_grid_plan plans one
 * channel; through r's parallel-for when more than one piece. */
void ecnn_run_span(const ecnn_run_ctx *r, ecnn_piece_fn *fn, const void *ctx, size_t count, size_t align, uint64_t work,
                   uint64_t setup);
/* Samples of the `left` still to run that one pass takes, so that its rows (samples x
 * rows_per_sample) fit a tile's 32-bit row numbers: all of them but for absurd batches. */
static inline uint32_t ecnn_pass_samples(uint32_t left, uint32_t rows_per_sample)
{
    const uint32_t most = 0xFFFFFFFFu / (rows_per_sample ? rows_per_sample : 1);
    return left < most ? left : most;
}
/* A convolution run over the batch: grids of rows (samples x oh) and, in blocks of `grain`, output
 * channels, in passes of ecnn_pass_samples samples. Before each pass io holds the pass's input,
 * output and samples, which fn reads through ctx; x_bytes / y_bytes: a sample's input / output.
 * setup: MAC-equivalents a tile pays whatever its size. Nothing runs when r->run is 0. */
typedef struct {
    const void *x;
    void *y;
    uint32_t n;
} ecnn_pass_io;
void ecnn_run_conv_passes(const ecnn_run_ctx *r, ecnn_pass_io *io, const ecnn_conv2d_args *p, size_t x_bytes,
                          size_t y_bytes, uint32_t grain, uint64_t setup, ecnn_tile_fn *fn, const void *ctx);

/* ---- load-time checks (core/check.c) ------------------------------------------------------ */

#define ECNN_NO_INDEX 0xFFFFFFFFu /* no op / no tensor to blame */

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        ecnn_status st_ = (expr);                                                                                      \
        if (st_ != ECNN_OK) return st_;                                                                                \
    } while (0)

/* Records the failed check (op c->index, `tensor` or ECNN_NO_INDEX) and returns st. */
ecnn_status ecnn_op_fail(const ecnn_op_ctx *c, ecnn_status st, uint32_t tensor, const char *detail);

/* A data input (read at run time): INPUT, or an ACTIVATION / OUTPUT an earlier op writes. */
ecnn_status ecnn_check_data_input(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec);
/* A weight input: a CONSTANT, or absent (rec->kind 0) when `optional`. */
ecnn_status ecnn_check_const_input(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec, int optional);
/* A constant input's layout is one of `allowed` (bit i = layout i); absent inputs pass. */
ecnn_status ecnn_check_layout(const ecnn_op_ctx *c, uint32_t t, const ecnn_tensor_rec *rec, uint32_t allowed);
/* An output: ACTIVATION or OUTPUT that no earlier op writes. */
ecnn_status ecnn_check_output(const ecnn_op_ctx *c, uint32_t t, ecnn_tensor_rec *rec);
/* One data input x and one output y; `counts` is the message when the op has other counts. */
ecnn_status ecnn_check_one_to_one(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *y, const char *counts);
/* One data input and one output of the same dtype (the unary ops). */
ecnn_status ecnn_check_unary(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *y);
/* CONV_2D / FULLY_CONNECTED: data input x, CONSTANT weights w, optional CONSTANT bias b
 * (b->kind 0 when absent), output y. */
ecnn_status ecnn_check_linear_tensors(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *w, ecnn_tensor_rec *b,
                                      ecnn_tensor_rec *y, const char *counts);
/* A fused activation's code and parameters. */
ecnn_status ecnn_check_act(const ecnn_op_ctx *c, const ecnn_act_params *a);
/* The float kernels need every tensor f32 (absent ones pass). */
ecnn_status ecnn_need_f32(const ecnn_op_ctx *c, const ecnn_tensor_rec *t, uint32_t index);
/* Every tensor of the op f32 (absent inputs pass); after the checks of its indices. */
ecnn_status ecnn_need_f32_all(const ecnn_op_ctx *c);
/* PRELU / CHANNEL_ARITH: a data input x, a plain CONSTANT k and an output y, all f32; `counts`
 * is the message when the op has other counts. */
ecnn_status ecnn_check_f32_with_const(const ecnn_op_ctx *c, ecnn_tensor_rec *x, ecnn_tensor_rec *k, ecnn_tensor_rec *y,
                                      const char *counts);
/* FULLY_CONNECTED / FULLY_CONNECTED_G4: w [O, K] with K the input's elements, y [O], b absent
 * or [O]. The messages name the op. */
ecnn_status ecnn_check_fc_shapes(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                 const ecnn_tensor_rec *b, const ecnn_tensor_rec *y);
/* The int8 forms of ADD, MUL, AVG_POOL_2D, ACTIVATION, CONCAT: every tensor a quantized
 * activation (per tensor), all of one dtype; idx: their indices, for the error. */
ecnn_status ecnn_need_q_group(const ecnn_op_ctx *c, const ecnn_tensor_rec *ts, const uint32_t *idx, uint32_t count);
/* CONV_2D / FULLY_CONNECTED: every tensor f32, or x and y quantized activations, w i8/u8, b i32
 * (core/quant.c checks them); k: the dot product's length, act: the fused activation. */
ecnn_status ecnn_check_linear_dtypes(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                     const ecnn_tensor_rec *b, const ecnn_tensor_rec *y, uint64_t k, uint32_t act);
/* Data movement: y has x's dtype; quantized tensors also its scale and zero point. */
ecnn_status ecnn_check_moved(const ecnn_op_ctx *c, const ecnn_tensor_rec *x, uint32_t xi, const ecnn_tensor_rec *y);

int ecnn_same_shape(const ecnn_tensor_rec *a, const ecnn_tensor_rec *b);

/* The window fields of a conv or pool op's kernel arguments p (ecnn_conv2d_args and
 * ecnn_pool2d_args share their names, as the parameter structs q do): dims from the [H,W,C]
 * input x and output y, a kh x kw kernel, strides, top / left padding and dilations from q
 * (bottom / right padding are implied by OH / OW, which the checks tie to them). */
#define ECNN_WINDOW_ARGS(p, x, y, kh_, kw_, q)                                                                         \
    ((p)->h = (x)->dims[0], (p)->w = (x)->dims[1], (p)->c = (x)->dims[2], (p)->oh = (y)->dims[0],                      \
     (p)->ow = (y)->dims[1], (p)->kh = (kh_), (p)->kw = (kw_), (p)->stride_h = (q)->stride_h,                          \
     (p)->stride_w = (q)->stride_w, (p)->pad_top = (q)->pad_top, (p)->pad_left = (q)->pad_left,                        \
     (p)->dilation_h = (q)->dilation_h, (p)->dilation_w = (q)->dilation_w)
/* The kernel arguments' fields of a convolution (CONV_2D, CONV_INTEGER_2D, CONV_TRANSPOSE_2D):
 * the window's (ECNN_WINDOW_ARGS) from the [O,KH,KW,C/group] weights w, O and group. */
#define ECNN_CONV_ARGS(p, x, w, y, q)                                                                                  \
    (ECNN_WINDOW_ARGS(p, x, y, (w)->dims[1], (w)->dims[2], q), (p)->o = (y)->dims[2], (p)->group = (q)->group)
/* The window parameters of a convolution, whose parameter structs all begin with these fields
 * (ECNN_CONV_WINDOW_OF copies them). */
typedef struct {
    uint32_t stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w, group;
    uint32_t output_pad_h, output_pad_w; /* CONV_TRANSPOSE_2D's; 0 for the others */
} ecnn_conv_window;
#define ECNN_CONV_WINDOW_OF(q)                                                                                         \
    {                                                                                                                  \
        (q)->stride_h, (q)->stride_w, (q)->pad_top, (q)->pad_left, (q)->pad_bottom, (q)->pad_right, (q)->dilation_h,   \
            (q)->dilation_w, (q)->group, 0, 0                                                                          \
    }
/* A convolution's geometry: X [H,W,C], W [O,KH,KW,C/group], Y [OH,OW,O], every parameter in
 * 0..65535, strides, dilations and group >= 1, and OH, OW those the window gives (the transposed
 * convolution's for CONV_TRANSPOSE_2D). The messages name the op. */
ecnn_status ecnn_check_conv_window(const ecnn_op_ctx *c, const ecnn_conv_window *q, const ecnn_tensor_rec *x,
                                   const ecnn_tensor_rec *w, const ecnn_tensor_rec *y);
/* floor((in + pads - dil*(k-1) - 1) / stride) + 1 (ceil with ceil_mode), or 0 when the window
 * does not fit. */
uint64_t ecnn_out_extent(uint32_t in, uint32_t pad_a, uint32_t pad_b, uint32_t k, uint32_t dil, uint32_t stride,
                         int ceil_mode);

#endif /* ECNN_OP_H */

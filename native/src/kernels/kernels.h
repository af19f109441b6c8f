/* Kernel interface: plain functions over raw pointers and small argument structs (TFLite
 * Micro style). They trust their arguments: the ops (src/ops) only call them with shapes their
 * load-time checks validated. Output pointer first, every dimension explicit.
 *
 * Dimension letters: N batch, H/W input height/width, C input channels,
 * OH/OW output height/width, O output channels (or features), KH/KW kernel height/width,
 * K reduction length of a fully connected layer. Layout NHWC, row-major.
 *
 * kernels/ref holds the plain reference kernels: the oracle that faster kernels are tested
 * against, and the kernels of every op and layout no faster one covers. kernels/portable holds
 * faster kernels in plain C99, kernels/<arch>/<isa> the SIMD ones, each directory compiled
 * with its own flags; each op's config (src/ops) says which runs on which ISA level. Every
 * faster kernel gives its reference's result bit for bit. */
#ifndef ECNN_KERNELS_H
#define ECNN_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "edgecnn_ops.h" /* ecnn_act_params, ecnn_layout, ecnn_activation */
#include "kernels/act.h"

/* acc + a * b, the term of every float conv and fully connected sum. Where the compiler targets
 * a fused multiply-add instruction (x86 with FMA, AArch64, ARM with VFPv4, RISC-V with F: C99's
 * FP_FAST_FMAF, which GCC sets and clang does not, or the target's own macro) it is one fused
 * operation, as in onnxruntime's MLAS kernels: one instruction and one rounding per term
 * instead of two. Elsewhere (x86-64 baseline, armv7 VFPv3 / NEON) a multiply and an add. The
 * rounding is a property of the ISA level (core/isa.h fused_mac): every float conv and fully
 * connected kernel of a level, reference and fast, sums its terms with it (the x86 SIMD levels
 * compile the plain C ones again with FMA: x86/avx2/fma_ref.c), and -ffp-contract=off keeps
 * the compiler from fusing anything else, so a level's reference and fast kernels round alike
 * (bit-identical); ECNN_FUSED_MAC tells the SIMD kernels which of the two to emit. */
#if defined(FP_FAST_FMAF) || defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA) ||                 \
    (defined(__riscv_flen) && __riscv_flen >= 32)
#define ECNN_FUSED_MAC 1
#endif
static inline float ecnn_mac(float acc, float a, float b)
{
#ifdef ECNN_FUSED_MAC
    return fmaf(a, b, acc);
#else
    return acc + a * b;
#endif
}

/* Weight layouts: ecnn_layout (edgecnn_ops.h, docs/file-format.md "Packed weights"). The compiler
 * packs weights into the order the fast kernels stream; the reference kernels read
 * every layout through the index functions below, so they stay the oracle on any file. */
#define ECNN_LAYOUT_COUNT 5u
/* The largest |w| of FC_PANEL8X4_W64: 2 * 255 * 64 = 32640 fits int16, so a u8 x s8 pair
 * product sum (x86 vpmaddubsw) never saturates. */
#define ECNN_W64_MAX 64
#define ECNN_PANEL_F32 16u
#define ECNN_PANEL_I8 8u
#define ECNN_GROUP_I8 4u

/* Index of FC weight element (o, k) of a [O, K] matrix stored in `layout`. */
static inline size_t ecnn_fc_w_index(uint32_t layout, uint32_t o, uint32_t k, uint32_t kdim)
{
    switch (layout) {
    case ECNN_LAYOUT_FC_PANEL16: return ((size_t)(o / ECNN_PANEL_F32) * kdim + k) * ECNN_PANEL_F32 + o % ECNN_PANEL_F32;
    case ECNN_LAYOUT_FC_PANEL8X4:
    case ECNN_LAYOUT_FC_PANEL8X4_W64: {
        const size_t kp = ((size_t)kdim + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8 * ECNN_GROUP_I8;
        return (size_t)(o / ECNN_PANEL_I8) * ECNN_PANEL_I8 * kp +
               (size_t)(k / ECNN_GROUP_I8) * (ECNN_PANEL_I8 * ECNN_GROUP_I8) + (o % ECNN_PANEL_I8) * ECNN_GROUP_I8 +
               k % ECNN_GROUP_I8;
    }
    default: return (size_t)o * kdim + k;
    }
}

/* Elements a packed FC weight occupies (padding included). */
static inline uint64_t ecnn_fc_w_elems(uint32_t layout, uint32_t o, uint32_t kdim)
{
    switch (layout) {
    case ECNN_LAYOUT_FC_PANEL16: return (uint64_t)(o + ECNN_PANEL_F32 - 1) / ECNN_PANEL_F32 * ECNN_PANEL_F32 * kdim;
    case ECNN_LAYOUT_FC_PANEL8X4:
    case ECNN_LAYOUT_FC_PANEL8X4_W64:
        return (uint64_t)(o + ECNN_PANEL_I8 - 1) / ECNN_PANEL_I8 * ECNN_PANEL_I8 *
               (((uint64_t)kdim + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8 * ECNN_GROUP_I8);
    default: return (uint64_t)o * kdim;
    }
}

/* The block of its op's output one kernel call computes (the tiling contract: threads split an
 * op into tiles, each output element in exactly one): rows [m0, m1) and output channels
 * [o0, o1). Rows: output rows of the batch flattened, m = s * OH + oy, for conv and pooling;
 * samples for FC. Channels: output channels (pooling: channels). Kernels take pointers to the
 * whole tensors and write exactly the tile's outputs. The ops guarantee m0 < m1 <= rows,
 * o0 < o1 <= O, o0 a multiple of the op's channel grain below and o1 one too or O; a grouped
 * conv (1 < group, not depthwise) is never split by channels, an in-place max pooling never
 * by rows. */
typedef struct {
    uint32_t m0, m1, o0, o1;
} ecnn_tile;
#define ECNN_TILE_O_FC 64u   /* FULLY_CONNECTED: 4 f32 panels, 8 int8 panels */
#define ECNN_TILE_O_CONV 16u /* CONV_2D, depthwise and pooling */

typedef struct {
    uint32_t h, w, c;   /* input, per sample */
    uint32_t oh, ow, o; /* output, per sample */
    uint32_t kh, kw;    /* kernel */
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left; /* bottom/right padding is implied by OH/OW */
    uint32_t dilation_h, dilation_w;
    uint32_t group; /* C and O are multiples of group; depthwise: group == C */
    ecnn_act_params act;
    uint32_t w_layout; /* ECNN_LAYOUT_PLAIN (OHWI) or ECNN_LAYOUT_CONV_HWIO */
} ecnn_conv2d_args;

/* Weight element (o, ky, kx, c = 0) of a conv in p->w_layout, and the step from c to c + 1. */
static inline size_t ecnn_conv_w_base(const ecnn_conv2d_args *p, uint32_t o, uint32_t ky, uint32_t kx)
{
    const size_t cg = p->c / p->group;
    if (p->w_layout == ECNN_LAYOUT_CONV_HWIO) return (((size_t)ky * p->kw + kx) * cg) * p->o + o;
    return (((size_t)o * p->kh + ky) * p->kw + kx) * cg;
}
static inline size_t ecnn_conv_w_cstep(const ecnn_conv2d_args *p)
{
    return p->w_layout == ECNN_LAYOUT_CONV_HWIO ? p->o : 1;
}

typedef struct {
    uint32_t h, w, c;
    uint32_t oh, ow;
    uint32_t kh, kw;
    uint32_t stride_h, stride_w;
    uint32_t pad_top, pad_left;
    uint32_t dilation_h, dilation_w;
    uint32_t pad_bottom, pad_right; /* AVG_POOL_2D's count_include_pad divisor needs them */
    uint32_t count_include_pad;     /* AVG_POOL_2D only: 1 = count positions in the padding too */
} ecnn_pool2d_args;

/* y[N,OH,OW,O] = act(conv(x[N,H,W,C], w[O,KH,KW,C/group]) + b[O]) for the outputs of tile t;
 * b may be NULL. y must not overlap x. */
void ecnn_conv2d_f32_ref(float *y, const float *x, const float *w, const float *b, uint32_t n, const ecnn_tile *t,
                         const ecnn_conv2d_args *p);

/* y[N,OH,OW,C] = max over each window of x[N,H,W,C]; positions in the padding are skipped.
 * Every window must hold at least one position inside x. y may equal x (in place) when
 * pad_top = pad_left = 0 and OW <= W: each output pixel is then stored at or before the
 * first input pixel of its window, and an output pixel sharing that address is written
 * from it first; otherwise y must not overlap x. Tile t: rows and channels of y. */
void ecnn_maxpool2d_f32_ref(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p);

/* y[N,O] = act(x[N,K] . w[O,K]^T + b[O]) for the samples and outputs of tile t; b may be NULL;
 * w stored in `layout` (any FC layout above). y must not overlap x. */
void ecnn_fully_connected_f32_ref(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                  uint32_t o, const ecnn_tile *t, const ecnn_act_params *act, uint32_t layout);

/* FULLY_CONNECTED_G4 (docs/file-format.md): y[N,O] = act(sum) for w[O,K] stored in `layout` (PLAIN
 * or FC_PANEL16), where sum starts at b[o] (0 when b is NULL) and adds, group by group,
 * ((x0 w0 + x1 w1) + x2 w2) + x3 w3 over k in fours (then a pair, then a single k), every product
 * and sum rounded on its own (no fused multiply-add, at every ISA level): onnxruntime's float
 * SGEMM at batch 1. y must not overlap x. */
void ecnn_fully_connected_g4_f32_ref(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                     uint32_t o, const ecnn_tile *t, const ecnn_act_params *act, uint32_t layout);

/* CONV_2D_SLICED (docs/file-format.md): ecnn_conv2d_f32_ref's convolution summed in onnxruntime's
 * MLAS order. The terms of an output, k = (c * KH + ky) * KW + kx over its group's channels c,
 * are cut into slices of k_slice; each slice is a chain of ecnn_mac from 0 in k order (taps in
 * the padding add nothing), the slices are added in order, then b[o] (b may be NULL), then the
 * activation. y must not overlap x. */
void ecnn_conv2d_sliced_f32_ref(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice);

/* Softmax over the last axis: x and y are [rows, C]. y may equal x (in place). */
void ecnn_softmax_f32_ref(float *y, const float *x, size_t rows, uint32_t c);

/* y[i] = act(x[i]) for `count` elements. y may equal x (in place). */
void ecnn_activation_f32_ref(float *y, const float *x, size_t count, const ecnn_act_params *act);

/* y[N,OH,OW,C] = mean of each window of x[N,H,W,C] (docs/file-format.md AVG_POOL_2D): the window
 * positions inside x summed in (ky, kx) order, divided once by the count (positions inside
 * x, or inside the padded area when p->count_include_pad). Every window must hold at least
 * one position inside x. y must not overlap x. Tile t: rows and channels of y. */
void ecnn_avgpool2d_f32_ref(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p);

/* y = act(a + b) (func ECNN_ARITH_ADD) or act(a * b) (ECNN_ARITH_MUL) for n samples of a_count
 * elements. b holds b_count elements a sample: a_count (elementwise), or C or 1 that repeat
 * along the sample (b[s][i % b_count]: per channel of the innermost axis, or a scalar).
 * y may equal a (in place), or b when b_count == a_count. */
void ecnn_binary_f32_ref(float *y, const float *a, const float *b, uint32_t n, size_t a_count, size_t b_count,
                         uint32_t func, const ecnn_act_params *act);

/* Data movement on any dtype (ref/move.c); esize = bytes per element (1 or 4). Shapes are
 * per sample, n samples; y never overlaps x. */

/* y = x.transpose(perm) per sample: y's axis k is x's axis perm[k]; x has `rank` dims. */
void ecnn_transpose_ref(void *y, const void *x, uint32_t n, uint32_t esize, uint32_t rank, const uint32_t *xdims,
                        const uint32_t *perm);

/* y = x padded by before[i] / after[i] elements along axis i, the rest filled with the element
 * whose bytes are the low esize bytes of `value_bits` (little-endian: an f32 bit pattern or an
 * i8/u8 code). */
void ecnn_pad_ref(void *y, const void *x, uint32_t n, uint32_t esize, uint32_t rank, const uint32_t *xdims,
                  const uint32_t *before, const uint32_t *after, uint32_t value_bits);

/* Concatenation: for each of `rows` rows (samples x the product of the dims before the axis),
 * the blocks of the `count` inputs follow each other; input i gives block_bytes[i] bytes a row. */
void ecnn_concat_ref(void *y, const void *const *xs, const size_t *block_bytes, uint32_t count, size_t rows);

/* y[r, c] = x[r, c] op k[c] (k_count == C) or x[r, c] op k[0] (k_count == 1), for `rows` rows of C;
 * op is ecnn_arith; const_first swaps the operands. MUL_ADD (and MUL_ADD_RELU) is x * k + b with
 * b of k's count, the product rounded before the addition (then v > 0 ? v : 0); b is read by
 * those two only (else it may be NULL). y may equal x (in place). */
void ecnn_channel_arith_f32_ref(float *y, const float *x, const float *k, const float *b, uint32_t k_count, size_t rows,
                                uint32_t c, uint32_t func, uint32_t const_first);

/* First and one-past-last kernel tap along one axis that lands inside the input for output
 * position `out` (taps in the padding are skipped, as in the reference kernels). Returns 1 (for
 * ECNN_FOR_EACH_PIXEL's loop condition). */
static inline int ecnn_tap_range(uint32_t out, uint32_t stride, uint32_t pad, uint32_t dil, uint32_t taps, uint32_t in,
                                 uint32_t *first, uint32_t *end)
{
    const int64_t start = (int64_t)out * stride - (int64_t)pad;
    uint32_t t = 0, e;
    while (t < taps && start + (int64_t)t * dil < 0) t++;
    e = t;
    while (e < taps && start + (int64_t)e * dil < (int64_t)in) e++;
    *first = t;
    *end = e;
    return 1;
}

/* The output columns [*full0, *full1) of a window op (input width w, ow output columns) whose
 * every kx tap lies inside the input row: the pixels the multi-pixel blocks take (an empty
 * range when there are none). */
static inline void ecnn_window_full_columns(uint32_t w, uint32_t ow, uint32_t kw, uint32_t stride, uint32_t pad_left,
                                            uint32_t dilation, uint32_t *full0, uint32_t *full1)
{
    const int64_t span = (int64_t)(kw - 1) * dilation;
    const int64_t first_ok = ((int64_t)pad_left + stride - 1) / stride;
    const int64_t room = (int64_t)w - 1 - span + pad_left; /* the last window start, padded coordinates */
    const int64_t last_ok = room < 0 ? -1 : room / stride;
    *full0 = (uint32_t)(first_ok < ow ? first_ok : ow);
    *full1 = last_ok < first_ok ? *full0 : (uint32_t)(last_ok + 1 < ow ? last_ok + 1 : ow);
}

/* ecnn_window_full_columns of a convolution. */
static inline void ecnn_full_columns(const ecnn_conv2d_args *p, uint32_t *full0, uint32_t *full1)
{
    ecnn_window_full_columns(p->w, p->ow, p->kw, p->stride_w, p->pad_left, p->dilation_w, full0, full1);
}

/* Every output pixel of the rows of tile t of a window op (conv or pool args p: the same field
 * names): flattened row m, sample s, row oy, column ox. The statement after it is the loop body. */
#define ECNN_FOR_EACH_OUTPUT(p, t, m, s, oy, ox)                                                                       \
    for (m = (t)->m0; m < (t)->m1 && ((s) = m / (p)->oh, (oy) = m % (p)->oh, 1); m++)                                  \
        for (ox = 0; ox < (p)->ow; ox++)

/* The reference kernels' own window rule (independent of ecnn_tap_range, which the fast kernels
 * use): the input position along one axis of tap k of output position out, in *pos, and 1 when
 * it lies inside [0, in), 0 when in the padding. */
static inline int ecnn_ref_tap(uint32_t out, uint32_t k, uint32_t stride, uint32_t pad, uint32_t dil, uint32_t in,
                               int64_t *pos)
{
    *pos = (int64_t)out * stride - (int64_t)pad + (int64_t)k * dil;
    return *pos >= 0 && *pos < (int64_t)in;
}

/* The loop nest of the window kernels (conv and pool args p: the same field names): every
 * output pixel of the rows of tile t (flattened row m: sample s, output row oy; column ox), with
 * [ky0, ky1) x [kx0, kx1) the kernel taps that land inside the input. The statement after it is
 * the loop body. */
#define ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)                                                    \
    for (m = (t)->m0; m < (t)->m1 && ((s) = m / (p)->oh, (oy) = m % (p)->oh, 1); m++)                                  \
        for (ox = 0, ecnn_tap_range(oy, (p)->stride_h, (p)->pad_top, (p)->dilation_h, (p)->kh, (p)->h, &ky0, &ky1);    \
             ox < (p)->ow &&                                                                                           \
             ecnn_tap_range(ox, (p)->stride_w, (p)->pad_left, (p)->dilation_w, (p)->kw, (p)->w, &kx0, &kx1);           \
             ox++)

/* Element offset, within one sample's [H,W,C] input, of tap (ky, kx) of output pixel (oy, ox)
 * (a tap inside the input), and of output pixel (s, oy, ox) with `c` channels in the output. */
#define ECNN_TAP_AT(p, oy, ox, ky, kx)                                                                                 \
    ((((size_t)(oy) * (p)->stride_h + (size_t)(ky) * (p)->dilation_h - (p)->pad_top) * (p)->w +                        \
      (size_t)(ox) * (p)->stride_w + (size_t)(kx) * (p)->dilation_w - (p)->pad_left) *                                 \
     (p)->c)
#define ECNN_PIXEL_AT(p, s, oy, ox, c) ((((size_t)(s) * (p)->oh + (oy)) * (p)->ow + (ox)) * (c))

/* The divisor of float AVG_POOL_2D's output pixel (oy, ox), as the reference counts it: the
 * window's positions inside x, or inside the padded area with count_include_pad (they form a
 * rectangle, so the count is taken per axis; >= 1: validated). */
static inline float ecnn_avgpool_count(const ecnn_pool2d_args *p, uint32_t oy, uint32_t ox)
{
    const uint32_t cip = p->count_include_pad;
    uint32_t h0, h1, w0, w1;
    ecnn_tap_range(oy, p->stride_h, cip ? 0 : p->pad_top, p->dilation_h, p->kh,
                   cip ? p->h + p->pad_top + p->pad_bottom : p->h, &h0, &h1);
    ecnn_tap_range(ox, p->stride_w, cip ? 0 : p->pad_left, p->dilation_w, p->kw,
                   cip ? p->w + p->pad_left + p->pad_right : p->w, &w0, &w1);
    return (float)((h1 - h0) * (w1 - w0));
}

/* ---- faster kernels: the reference's contract and result, bit for bit -------------------- *
 * Each kernel slot has a function type; a kernel file declares its kernel with it (so the
 * compiler checks the definition) and so does the op config that lists it (src/ops).
 *
 * One difference: the float conv and FC kernels below (ecnn_fc_f32_kernel,
 * ecnn_conv2d_f32_kernel, ecnn_conv2d_sliced_f32_kernel) take only the fused activations of
 * ecnn_act_in_kernel (none, Relu, Clip: a compare or two per output, applied as they store it)
 * and treat any other code as none. The ops hand them nothing else: they run the others over the
 * kernel's outputs with the level's ACTIVATION kernel (ops/activation.c ecnn_act_after_take,
 * which uses ecnn_act_in_kernel to split). The reference kernels apply every activation. */
static inline int ecnn_act_in_kernel(uint32_t act)
{
    return act == ECNN_ACT_NONE || act == ECNN_ACT_RELU || act == ECNN_ACT_CLIP;
}
/* ecnn_apply_act of the activations a fast float conv or FC kernel applies (the scalar ones). */
static inline float ecnn_apply_kernel_act(float v, const ecnn_act_params *a)
{
    return a->act == ECNN_ACT_RELU || a->act == ECNN_ACT_CLIP ? ecnn_apply_act(v, a) : v;
}

/* ecnn_fully_connected_f32_ref for w in ECNN_LAYOUT_FC_PANEL16. Each output is summed in the
 * reference order (k = 0, 1, ..., one ecnn_mac per term), then the bias. */
typedef void ecnn_fc_f32_kernel(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *t, const ecnn_act_params *act);
ecnn_fc_f32_kernel ecnn_fc_f32_panel16_portable;

/* ecnn_fully_connected_g4_f32_ref for w in ECNN_LAYOUT_FC_PANEL16 (the same kernel type): each
 * output in its own lane, its products, groups and sums in the reference's order. */
ecnn_fc_f32_kernel ecnn_fc_g4_f32_panel16_portable;

/* ecnn_conv2d_f32_ref for w in ECNN_LAYOUT_CONV_HWIO: terms in the reference order (ky, kx, c),
 * vectorised over output channels. */
typedef void ecnn_conv2d_f32_kernel(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                    const ecnn_tile *t, const ecnn_conv2d_args *p);
ecnn_conv2d_f32_kernel ecnn_conv2d_f32_hwio_portable;
/* The depthwise case (group == C == O), channels in the inner loop. */
ecnn_conv2d_f32_kernel ecnn_conv2d_f32_dw_portable;

/* ecnn_conv2d_sliced_f32_ref for w in ECNN_LAYOUT_CONV_HWIO, vectorised over output channels
 * (each lane one output, its terms in the reference order). */
typedef void ecnn_conv2d_sliced_f32_kernel(float *y, const float *x, const float *w, const float *b, uint32_t n,
                                           const ecnn_tile *t, const ecnn_conv2d_args *p, uint32_t k_slice);
ecnn_conv2d_sliced_f32_kernel ecnn_conv2d_sliced_f32_hwio_portable;

/* ecnn_channel_arith_f32_ref's contract (portable/channel_arith_f32.c, x86/channel_arith_f32.h). */
typedef void ecnn_channel_arith_f32_kernel(float *y, const float *x, const float *k, const float *b, uint32_t k_count,
                                           size_t rows, uint32_t c, uint32_t func, uint32_t const_first);
ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_portable;

/* ecnn_maxpool2d_f32_ref (type ECNN_POOL_F32) or ecnn_maxpool2d_q_ref (type an ecnn_qtype,
 * kernels_i8.h), any C; in place under the same conditions. */
#define ECNN_POOL_F32 (-1)
typedef void ecnn_maxpool2d_kernel(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
                                   int type);
ecnn_maxpool2d_kernel ecnn_maxpool2d_portable;

/* ecnn_avgpool2d_f32_ref, the sums kept over blocks of channels (vectorisable). */
typedef void ecnn_avgpool2d_f32_kernel(float *y, const float *x, uint32_t n, const ecnn_tile *t,
                                       const ecnn_pool2d_args *p);
ecnn_avgpool2d_f32_kernel ecnn_avgpool2d_f32_portable;

/* The reference float FC's type, for the configs that choose its rounding (src/ops). */
typedef void ecnn_fc_f32_ref_kernel(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                    uint32_t o, const ecnn_tile *t, const ecnn_act_params *act, uint32_t layout);

/* ---- PRELU, CONV_TRANSPOSE_2D, RESIZE_2D (ref/upsample.c): float, whole output rows ---------- */

/* y[r, i] = x[r, i] < 0 ? slope[i] * x[r, i] : x[r, i] for `rows` rows of slope_count elements. */
void ecnn_prelu_f32_ref(float *y, const float *x, const float *slope, uint32_t slope_count, size_t rows);

/* A transposed convolution on NHWC: X [H,W,C], W [O,KH,KW,C/group] (OHWI), Y [OH,OW,O]. */
typedef struct {
    uint32_t h, w, c, oh, ow, o, kh, kw;
    uint32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, group;
} ecnn_conv_transpose2d_args;

/* Output rows [row0, row0 + rows) of the batch (row r: sample r / oh, output row r % oh); x
 * and y are the whole batch; b may be NULL. */
void ecnn_conv_transpose2d_f32_ref(float *y, const float *x, const float *w, const float *b, size_t row0, size_t rows,
                                   const ecnn_conv_transpose2d_args *p);

/* Resizing NHWC X [H,W,C] to Y [OH,OW,C] (edgecnn_ops.h ecnn_resize2d_params). */
typedef struct {
    uint32_t h, w, c, oh, ow;
    uint32_t mode, coord, nearest_mode, exclude_outside;
    float scale_h, scale_w, cubic_a, roi_h0, roi_h1, roi_w0, roi_w1, extrapolation;
} ecnn_resize2d_args;

/* Output rows [row0, row0 + rows) of the batch, as ecnn_conv_transpose2d_f32_ref. */
void ecnn_resize2d_f32_ref(float *y, const float *x, size_t row0, size_t rows, const ecnn_resize2d_args *p);
/* Nearest resizing of elements of esize bytes (int8 codes: it only selects them); output rows
 * as ecnn_resize2d_f32_ref. No tf_crop_and_resize (its extrapolation value is a float). */
void ecnn_resize2d_nearest_ref(void *y, const void *x, uint32_t esize, size_t row0, size_t rows,
                               const ecnn_resize2d_args *p);

/* ---- CONV_INTEGER_2D (ref/conv_integer.c): int32 sums of zero-point-shifted codes ------------ */

/* NHWC X [H,W,C] (i8 or u8 codes), W [O,KH,KW,C/group] (i8 or u8), Y [OH,OW,O] int32. */
typedef struct {
    uint32_t h, w, c, oh, ow, o, kh, kw;
    uint32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, group;
    int x_unsigned, w_unsigned; /* codes are uint8 (else int8) */
    int32_t x_zero_point;
} ecnn_conv_integer2d_args;

/* Output rows [row0, row0 + rows) of the batch (row r: sample r / oh, output row r % oh); taps
 * in the padding add nothing (ONNX: padding holds x_zero_point); w_zp has w_zp_count (1 or O)
 * values; sums wrap modulo 2^32 as int32 arithmetic in onnxruntime does. */
void ecnn_conv_integer2d_ref(int32_t *y, const void *x, const void *w, const int32_t *w_zp, uint32_t w_zp_count,
                             size_t row0, size_t rows, const ecnn_conv_integer2d_args *p);

#endif /* ECNN_KERNELS_H */

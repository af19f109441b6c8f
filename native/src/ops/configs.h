/* The kernel configs of the ops that have kernels per ISA level (core/isa.h): one constant array
 * per op, indexed by level, each row naming the level's kernel per slot, defined in the op's
 * file (src/ops/<op>.c) and read through ECNN_KERNEL(config, slot, model->isa). Declared here
 * for the kernel tests, which run every level's kernels against its reference. */
#ifndef ECNN_OPS_CONFIGS_H
#define ECNN_OPS_CONFIGS_H

#include "core/internal.h" /* ecnn_op_rec, ecnn_tensor_rec */
#include "core/op.h"       /* ecnn_run_ctx */
#include "core/isa.h"
#include "kernels/kernels_i8.h"
#include "kernels/kernels_f32_elementwise.h"
#include "kernels/kernels_q_elementwise.h"

/* A config slot: a kernel and its name (ECNN_IMPL fills it). */
#define ECNN_NAMED_KERNEL(kernel_type)                                                                                 \
    struct {                                                                                                           \
        const char *name;                                                                                              \
        kernel_type *fn;                                                                                               \
    }
typedef ECNN_NAMED_KERNEL(ecnn_fc_f32_kernel) ecnn_fc_f32_impl;
typedef ECNN_NAMED_KERNEL(ecnn_fc_f32_ref_kernel) ecnn_fc_f32_ref_impl;
typedef ECNN_NAMED_KERNEL(ecnn_fc_q_kernel) ecnn_fc_q_impl;
typedef ECNN_NAMED_KERNEL(ecnn_maxpool2d_kernel) ecnn_maxpool2d_impl;
typedef ECNN_NAMED_KERNEL(ecnn_avgpool2d_f32_kernel) ecnn_avgpool2d_f32_impl;
typedef ECNN_NAMED_KERNEL(ecnn_avgpool2d_q_kernel) ecnn_avgpool2d_q_impl;
typedef struct {
    const char *name;
    ecnn_conv2d_f32_kernel *fn;
    uint32_t o_multiple;
} ecnn_conv2d_f32_impl;
typedef struct {
    const char *name;
    ecnn_conv_q_ukernels uk;
    const char *small_name; /* the name of uk.small's convs (ecnn_conv2d_q_small_fits) */
} ecnn_conv2d_q_impl;
typedef ECNN_NAMED_KERNEL(ecnn_conv2d_sliced_f32_kernel) ecnn_conv2d_sliced_f32_impl;

/* ops/fully_connected.c */
typedef struct {
    ecnn_fc_f32_impl f32;     /* FC_PANEL16 weights */
    ecnn_fc_q_impl q;         /* FC_PANEL8X4 (and _W64) weights */
    ecnn_fc_f32_ref_impl ref; /* float, any layout: the oracle (it rounds as the level, fused_mac) */
    ecnn_fc_f32_impl g4;      /* FULLY_CONNECTED_G4, FC_PANEL16 weights (its reference rounds alike at every level) */
} ecnn_fc_kernels;
extern const ecnn_fc_kernels ecnn_fc_config[ECNN_ISA_COUNT];

/* ops/conv_2d.c; o_multiple: the kernel needs O / group a multiple of it (0: any) */
typedef struct {
    ecnn_conv2d_f32_impl f32;    /* HWIO weights */
    ecnn_conv2d_f32_impl narrow; /* HWIO, O / group <= 8 (none: f32) */
    ecnn_conv2d_f32_impl dw;     /* HWIO, depthwise (group == C == O) */
    ecnn_conv2d_f32_impl ref;    /* any layout: the oracle (it rounds as the level, fused_mac) */
    ecnn_conv2d_q_impl q;        /* HWIO, int8 */
} ecnn_conv2d_kernels;
extern const ecnn_conv2d_kernels ecnn_conv2d_config[ECNN_ISA_COUNT];
/* The float kernel a level runs for HWIO weights: depthwise (group == C == O, MobileNet's 3x3
 * blocks), narrow (O / group <= 8) when the level has one, or general, the level's own when its
 * O / group multiple holds, else the portable one. */
const ecnn_conv2d_f32_impl *ecnn_conv2d_f32_fast(const ecnn_isa_info *isa, const ecnn_conv2d_args *p);

/* CONV_2D's and CONV_2D_SLICED's kernel arguments (ops/conv_2d.c, whose check checks both). */
void ecnn_conv2d_args_of(const ecnn_op_rec *op, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                         const ecnn_tensor_rec *y, ecnn_conv2d_args *p);

/* ops/conv_2d_sliced.c */
typedef struct {
    ecnn_conv2d_sliced_f32_impl f32; /* HWIO weights */
    ecnn_conv2d_sliced_f32_impl ref; /* any layout: the oracle (it rounds as the level, fused_mac) */
} ecnn_conv2d_sliced_kernels;
extern const ecnn_conv2d_sliced_kernels ecnn_conv2d_sliced_config[ECNN_ISA_COUNT];

/* ops/pool_2d.c */
typedef struct {
    ecnn_maxpool2d_impl max;     /* MAX_POOL_2D, float and int8 */
    ecnn_avgpool2d_f32_impl avg; /* AVG_POOL_2D, float */
    ecnn_avgpool2d_q_impl avg_q; /* AVG_POOL_2D, int8 and uint8 */
} ecnn_pool2d_kernels;
extern const ecnn_pool2d_kernels ecnn_pool2d_config[ECNN_ISA_COUNT];

/* ops/channel_arith.c */
typedef ECNN_NAMED_KERNEL(ecnn_channel_arith_f32_kernel) ecnn_channel_arith_f32_impl;
typedef struct {
    ecnn_channel_arith_f32_impl f32;
} ecnn_channel_arith_kernels;
extern const ecnn_channel_arith_kernels ecnn_channel_arith_config[ECNN_ISA_COUNT];

/* ops/quantize.c: the element-wise int8 kernels, one file per ISA (kernels_q_elementwise.h):
 * QUANTIZE and DEQUANTIZE, and the int8 ADD and MUL that ops/add_mul.c runs */
typedef ECNN_NAMED_KERNEL(ecnn_quantize_kernel) ecnn_quantize_impl;
typedef ECNN_NAMED_KERNEL(ecnn_dequantize_kernel) ecnn_dequantize_impl;
typedef ECNN_NAMED_KERNEL(ecnn_binary_q_kernel) ecnn_binary_q_impl;
typedef struct {
    ecnn_quantize_impl quantize;
    ecnn_dequantize_impl dequantize;
    ecnn_binary_q_impl add, mul; /* QLinearAdd, QLinearMul */
} ecnn_q_elementwise_kernels;
extern const ecnn_q_elementwise_kernels ecnn_q_elementwise_config[ECNN_ISA_COUNT];

/* ops/activation.c: the float element-wise kernels, one file per ISA (kernels_f32_elementwise.h):
 * ACTIVATION, and the float ADD and MUL that ops/add_mul.c runs */
typedef ECNN_NAMED_KERNEL(ecnn_activation_f32_kernel) ecnn_activation_f32_impl;
typedef ECNN_NAMED_KERNEL(ecnn_binary_f32_kernel) ecnn_binary_f32_impl;
typedef struct {
    ecnn_activation_f32_impl activation;
    ecnn_binary_f32_impl binary; /* ADD, MUL */
} ecnn_f32_elementwise_kernels;
extern const ecnn_f32_elementwise_kernels ecnn_f32_elementwise_config[ECNN_ISA_COUNT];
/* What a float conv or FC applies to each tile's outputs once its kernel has stored them (a
 * float store and reload is exact: the same values), with the level's vectorised element-wise
 * kernels:
 * - an activation the kernel does not apply: the fast kernels apply Relu and Clip as they store,
 *   element by element; the others (LeakyRelu, Sigmoid, Tanh, hard sigmoid / swish, Swish) the
 *   op applies (fn);
 * - a residual R added first, then the whole activation: a CONV_2D with a fourth input, the ADD
 *   op's arithmetic (add).
 * Both NULL: nothing to do (the kernel applies the activation itself). */
typedef struct {
    ecnn_activation_f32_kernel *fn;
    ecnn_binary_f32_kernel *add;
    ecnn_act_params act;
} ecnn_act_after;
/* Moves *act into *after when the op is to apply it (not for reference runs: the reference
 * kernels apply every activation themselves), leaving ECNN_ACT_NONE for the kernel. */
void ecnn_act_after_take(const ecnn_run_ctx *r, ecnn_act_params *act, ecnn_act_after *after);
/* Moves *act into *after after a residual add (reference runs too: the level's ADD kernel, or the
 * reference's). */
void ecnn_act_after_take_residual(const ecnn_run_ctx *r, ecnn_act_params *act, ecnn_act_after *after);
/* Applies *after to channels [c0, c1) of rows [row0, row1) of `row_len` floats at y (a conv's
 * output pixels, an FC's samples), the residual (with add; else NULL) at the same offsets from
 * `residual`: one call when the tile spans whole rows. */
void ecnn_act_after_rows(const ecnn_act_after *after, float *y, const float *residual, size_t row0, size_t row1,
                         uint32_t row_len, uint32_t c0, uint32_t c1);

/* The int8 ACTIVATION at a level: ecnn_activation_q_ref's contract and codes, its table built by
 * the level's DEQUANTIZE, float activation and QUANTIZE kernels (each bit-identical to that step
 * of the reference), then one lookup per element. */
void ecnn_activation_q_table(void *y, const void *x, size_t count, const ecnn_act_params *act, const ecnn_qtensor *qx,
                             const ecnn_qtensor *qy, const ecnn_isa_info *isa);

/* A conv float slot with the O / group multiple its kernel needs. */
#define ECNN_IMPL_O(fn, o_multiple)                                                                                    \
    {                                                                                                                  \
        &(#fn)[5], fn, o_multiple                                                                                      \
    }

#endif /* ECNN_OPS_CONFIGS_H */

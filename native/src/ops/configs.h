/* The kernel configs of the ops that have kernels per ISA level (core/isa.h): one constant
 * array per kernel slot, indexed by level, defined in the op's file (src/ops/<op>.c) and read
 * through ECNN_KERNEL(config, model->isa). Declared here for the kernel tests, which run every
 * level's entries against the reference. */
#ifndef ECNN_OPS_CONFIGS_H
#define ECNN_OPS_CONFIGS_H

#include "core/isa.h"
#include "kernels/kernels_i8.h"

typedef struct {
    const char *name;
    ecnn_fc_f32_kernel *fn;
} ecnn_fc_f32_impl;
typedef struct {
    const char *name;
    ecnn_fc_f32_ref_kernel *fn;
} ecnn_fc_f32_ref_impl;
typedef struct {
    const char *name;
    ecnn_fc_q_kernel *fn;
} ecnn_fc_q_impl;
typedef struct {
    const char *name;
    ecnn_conv2d_f32_kernel *fn;
    uint32_t o_multiple; /* O / group must be a multiple of this (0: any) */
} ecnn_conv2d_f32_impl;
typedef struct {
    const char *name;
    ecnn_conv_q_ukernels uk;
} ecnn_conv2d_q_impl;
typedef struct {
    const char *name;
    ecnn_maxpool2d_kernel *fn;
} ecnn_maxpool2d_impl;

/* ops/fully_connected.c */
extern const ecnn_fc_f32_impl ecnn_fc_f32_config[ECNN_ISA_COUNT];     /* FC_PANEL16 */
extern const ecnn_fc_q_impl ecnn_fc_q_config[ECNN_ISA_COUNT];         /* FC_PANEL8X4 (and _W64) */
extern const ecnn_fc_f32_ref_impl ecnn_fc_f32_ref_config[ECNN_ISA_COUNT]; /* any layout: the oracle */
/* ops/conv_2d.c */
extern const ecnn_conv2d_f32_impl ecnn_conv2d_f32_config[ECNN_ISA_COUNT];    /* HWIO */
extern const ecnn_conv2d_f32_impl ecnn_conv2d_f32_dw_config[ECNN_ISA_COUNT]; /* HWIO, group == C == O */
extern const ecnn_conv2d_f32_impl ecnn_conv2d_f32_ref_config[ECNN_ISA_COUNT]; /* any layout: the oracle */
extern const ecnn_conv2d_q_impl ecnn_conv2d_q_config[ECNN_ISA_COUNT];        /* HWIO, int8 */
/* The float kernel a level runs for HWIO weights: depthwise (group == C == O, MobileNet's 3x3
 * blocks) or general, the level's own when its O / group multiple holds, else the portable one. */
const ecnn_conv2d_f32_impl *ecnn_conv2d_f32_fast(const ecnn_isa_info *isa, const ecnn_conv2d_args *p);
/* ops/pool_2d.c */
extern const ecnn_maxpool2d_impl ecnn_maxpool2d_config[ECNN_ISA_COUNT];

/* An entry with the O / group multiple a kernel needs. */
#define ECNN_IMPL_O(fn, o_multiple) {&(#fn)[5], fn, o_multiple}

#endif /* ECNN_OPS_CONFIGS_H */

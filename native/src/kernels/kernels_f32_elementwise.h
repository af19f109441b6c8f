/* Float ACTIVATION and ADD / MUL kernels faster than their references (kernels.h
 * ecnn_activation_f32_ref, ecnn_binary_f32_ref): each has its reference's contract and result,
 * bit for bit, for every input (NaN, infinities, -0 and subnormals included). The config that
 * chooses them: ecnn_f32_elementwise_config (ops/activation.c, read by ops/add_mul.c too;
 * declared in ops/configs.h). */
#ifndef ECNN_KERNELS_F32_ELEMENTWISE_H
#define ECNN_KERNELS_F32_ELEMENTWISE_H

#include "kernels/kernels.h"

/* ecnn_activation_f32_ref's contract (in place allowed). */
typedef void ecnn_activation_f32_kernel(float *y, const float *x, size_t count, const ecnn_act_params *act);
/* ecnn_binary_f32_ref's contract. */
typedef void ecnn_binary_f32_kernel(float *y, const float *a, const float *b, uint32_t n, size_t a_count,
                                    size_t b_count, uint32_t func, const ecnn_act_params *act);

/* Plain C, the activation's switch hoisted out of the loops (kernels/portable: the compiler
 * vectorises the loops without a libm call). */
ecnn_activation_f32_kernel ecnn_activation_f32_portable;
ecnn_binary_f32_kernel ecnn_binary_f32_portable;

/* kernels/f32_elementwise_loops.h on 8 lanes (x86/avx2/f32_elementwise.c), 16 (x86/avx512/) and
 * 4 (arm/neon/). */
ecnn_activation_f32_kernel ecnn_activation_f32_avx2, ecnn_activation_f32_avx512, ecnn_activation_f32_neon;
ecnn_binary_f32_kernel ecnn_binary_f32_avx2, ecnn_binary_f32_avx512, ecnn_binary_f32_neon;

#endif /* ECNN_KERNELS_F32_ELEMENTWISE_H */

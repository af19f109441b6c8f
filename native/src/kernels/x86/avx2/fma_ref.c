/* The reference float kernels whose terms are ecnn_mac (kernels.h), compiled with this
 * directory's flags: with FMA each term is one fused multiply-add, as in the AVX2 and AVX-512
 * kernels, so every x86 SIMD level's reference (the oracle and the kernel of plain layouts)
 * rounds as its fast kernels do. */
#define ECNN_CONV2D_F32_REF ecnn_conv2d_f32_ref_fma
#define ECNN_FC_F32_REF ecnn_fully_connected_f32_ref_fma
#include "kernels/ref/dot_f32.c"

ecnn_conv2d_f32_kernel ecnn_conv2d_f32_ref_fma;
ecnn_fc_f32_ref_kernel ecnn_fully_connected_f32_ref_fma;

#define ECNN_CONV2D_SLICED_F32_REF ecnn_conv2d_sliced_f32_ref_fma
#include "kernels/ref/conv_sliced_f32.c"

ecnn_conv2d_sliced_f32_kernel ecnn_conv2d_sliced_f32_ref_fma;

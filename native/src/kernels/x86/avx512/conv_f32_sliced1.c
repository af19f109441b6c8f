/* AVX-512 CONV_2D_SLICED of one slice (k_slice >= K: image CNNs' first layers in int8 graphs):
 * the HWIO conv's blocks (avx512/conv_f32_lanes.h) with the terms in K's order c, ky, kx, then
 * the bias: bit-identical to ecnn_conv2d_sliced_f32_ref_fma. Called by avx512/conv_f32.c's
 * sliced kernel (x86/conv_f32_sliced.h SLICED_ONE_SLICE) for more than 8 channels a group. */
#include "kernels/x86/avx512/conv_f32_lanes.h"

#define CONV_C_OUTER
#define CONV_KERNEL ecnn_conv2d_sliced1_f32_hwio_avx512
#include "kernels/x86/conv_f32_hwio.h"

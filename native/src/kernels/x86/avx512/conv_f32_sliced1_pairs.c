/* AVX-512 CONV_2D_SLICED of one slice and at most 8 output channels a group (MobileNet's int8
 * first layer): avx512/conv_f32_pairs.c's two pixels a zmm with the terms in K's order c, ky,
 * kx, then the bias: bit-identical to ecnn_conv2d_sliced_f32_ref_fma. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

#define CONV_PAIRS
#define CONV_C_OUTER
/* 12 rows of two pixels: their windows, reloaded each tap row, and accumulators fill the zmm */
#define CONV_PIX 12u
#define CONV_PIX1 12u
#define CONV_WIDTH1 8u
#define CONV_KERNEL ecnn_conv2d_sliced1_f32_hwio_pairs_avx512
#include "kernels/x86/conv_f32_hwio.h"

/* AVX-512 float convs over HWIO weights of at most 8 output channels per group (MobileNet's
 * first layer: 3x3x3 -> 8): x86/conv_f32_hwio.h's pixel loop with two pixels a zmm (CONV_PAIRS),
 * up to 24 rows of two pixels a block; each output summed in the reference order (ky, kx, c),
 * one vfmadd per term, then the bias: bit-identical to ecnn_conv2d_f32_ref_fma. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

#define CONV_PAIRS
#define CONV_PIX 12u
#define CONV_PIX1 24u
#define CONV_WIDTH1 8u
#define CONV_KERNEL ecnn_conv2d_f32_hwio_pairs_avx512
#include "kernels/x86/conv_f32_hwio.h"

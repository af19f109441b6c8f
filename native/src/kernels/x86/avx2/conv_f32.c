/* AVX2 float convs over HWIO weights (x86/conv_f32_hwio.h, and CONV_2D_SLICED's:
 * x86/conv_f32_sliced.h), any O / group: blocks of up to 6 pixels x 16 output channels (two
 * ymm), or 12 x 8 when a tile has at most 8, a last 1..15 as one or two blocks of up to 8, a
 * last 1..7 under a vector mask; each term one F32_MAC in the reference order: bit-identical to
 * the level's reference kernels. */
#include "kernels/x86/avx2/conv_f32_lanes.h"

#define CONV_KERNEL ecnn_conv2d_f32_hwio_avx2
#include "kernels/x86/conv_f32_hwio.h"

ecnn_conv2d_f32_kernel ecnn_conv2d_sliced1_f32_hwio_avx2; /* avx2/conv_f32_sliced1.c */
#define SLICED_ONE_SLICE ecnn_conv2d_sliced1_f32_hwio_avx2
#define SLICED_KERNEL ecnn_conv2d_sliced_f32_hwio_avx2
#include "kernels/x86/conv_f32_sliced.h"

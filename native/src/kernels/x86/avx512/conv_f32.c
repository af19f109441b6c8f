/* AVX-512 float convs over HWIO weights (x86/conv_f32_hwio.h, and CONV_2D_SLICED's:
 * x86/conv_f32_sliced.h), any O / group: the AVX2 kernel's
 * blocks twice as wide and twice as tall. A block is up to 12 output pixels x 32 output
 * channels (two zmm per pixel; the last 1..31 channels under opmasks, which cost nothing here),
 * or 24 pixels x 16 when the tile's channels fit one zmm,
 * each output summed in the reference order (ky, kx, c), one vfmadd per term (every AVX-512 CPU
 * has FMA), then the bias: bit-identical to ecnn_conv2d_f32_ref_fma. */
#include "kernels/x86/avx512/conv_f32_lanes.h"

#define CONV_KERNEL ecnn_conv2d_f32_hwio_avx512
#include "kernels/x86/conv_f32_hwio.h"

/* avx512/conv_f32_sliced1*.c: two pixels a zmm for at most 8 channels a group */
ecnn_conv2d_f32_kernel ecnn_conv2d_sliced1_f32_hwio_avx512, ecnn_conv2d_sliced1_f32_hwio_pairs_avx512;
#define SLICED_ONE_SLICE(y, x, w, b, n, t, p)                                                                          \
    ((p)->o / (p)->group <= 8 ? ecnn_conv2d_sliced1_f32_hwio_pairs_avx512                                              \
                              : ecnn_conv2d_sliced1_f32_hwio_avx512)(y, x, w, b, n, t, p)
#define SLICED_KERNEL ecnn_conv2d_sliced_f32_hwio_avx512
#include "kernels/x86/conv_f32_sliced.h"

/* AVX-512 float CHANNEL_ARITH (kernels.h), 16 channels a vector: x86/channel_arith_f32.h; rows of
 * C not a multiple of 16 go to the AVX2 kernel (the header says why). */
#include "kernels/kernels.h"

#define VQ_BITS 512
#define ARITH_NAME ecnn_channel_arith_f32_avx512
#define ARITH_NARROW ecnn_channel_arith_f32_avx2
ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx2;
#include "kernels/x86/channel_arith_f32.h"

ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx512;

/* AVX-512 float CHANNEL_ARITH (kernels.h), 16 channels a vector: x86/channel_arith_f32.h. */
#define VQ_BITS 512
#define ARITH_NAME ecnn_channel_arith_f32_avx512
#include "kernels/x86/channel_arith_f32.h"

ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx512;

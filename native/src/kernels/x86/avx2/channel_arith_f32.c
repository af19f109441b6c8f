/* AVX2 float CHANNEL_ARITH (kernels.h), 8 channels a vector: x86/channel_arith_f32.h. */
#define VQ_BITS 256
#define ARITH_NAME ecnn_channel_arith_f32_avx2
#include "kernels/x86/channel_arith_f32.h"

ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx2;

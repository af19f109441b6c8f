/* The portable float CHANNEL_ARITH compiled with AVX-512 flags: its blocks vectorise to 16 lanes, one
 * IEEE operation per element as in the reference: the same result bit for bit. */
#define ECNN_CHANNEL_ARITH_F32 ecnn_channel_arith_f32_avx512
#include "kernels/portable/channel_arith_f32.c"

ecnn_channel_arith_f32_kernel ecnn_channel_arith_f32_avx512;

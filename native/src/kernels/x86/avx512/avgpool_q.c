/* AVX-512 int8 average pooling (kernels_i8.h), 16 channels a vector: x86/avgpool_q.h. */
#define VQ_BITS 512
#define AVGQ_NAME ecnn_avgpool2d_q_avx512
#include "kernels/x86/avgpool_q.h"

ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx512;

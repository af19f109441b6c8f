/* AVX2 int8 average pooling (kernels_i8.h), 8 channels a vector: x86/avgpool_q.h. */
#define VQ_BITS 256
#define AVGQ_NAME ecnn_avgpool2d_q_avx2
#include "kernels/x86/avgpool_q.h"

ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx2;

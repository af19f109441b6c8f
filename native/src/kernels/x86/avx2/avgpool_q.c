/* The portable int8 average pooling compiled with AVX2 flags: its channel loops vectorise to 8
 * lanes, each output computed by the reference's steps: the same result bit for bit. */
#define ECNN_AVGPOOL2D_Q ecnn_avgpool2d_q_avx2
#include "kernels/portable/avgpool_q.c"

ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx2;

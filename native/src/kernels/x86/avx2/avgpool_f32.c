/* The portable float average pooling compiled with AVX2 flags: its channel loops vectorise to
 * 8 lanes. Adds and one division per output, as in the reference: the same result bit for bit. */
#define ECNN_AVGPOOL2D_F32 ecnn_avgpool2d_f32_avx2
#include "kernels/portable/avgpool_f32.c"

ecnn_avgpool2d_f32_kernel ecnn_avgpool2d_f32_avx2;

/* AVX2 float average pooling (kernels.h), 8 channels a vector: x86/avgpool_f32.h. */
#define VF_BITS 256
#define AVGF_NAME ecnn_avgpool2d_f32_avx2
#include "kernels/x86/avgpool_f32.h"

ecnn_avgpool2d_f32_kernel ecnn_avgpool2d_f32_avx2;

/* AVX-512 float average pooling (kernels.h), 16 channels a vector: x86/avgpool_f32.h. */
#define VF_BITS 512
#define AVGF_NAME ecnn_avgpool2d_f32_avx512
#include "kernels/x86/avgpool_f32.h"

ecnn_avgpool2d_f32_kernel ecnn_avgpool2d_f32_avx512;

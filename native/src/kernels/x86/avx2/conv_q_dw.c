/* AVX2 depthwise int8 conv microkernel (kernels/x86/conv_q_dw256.h). */
#include "kernels/x86/conv_q_dw256.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx2;
void ecnn_conv_q_dw_avx2(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    dw_channels(y, k, npix, 0, q);
}

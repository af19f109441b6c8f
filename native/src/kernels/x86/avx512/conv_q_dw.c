/* AVX-512BW depthwise int8 conv microkernel (kernels/x86/conv_q_dw512.h): vpmaddwd then vpaddd. */
#define DW_CHANNELS dw_channels
#define DW_MAC(acc, x, w) _mm512_add_epi32((acc), _mm512_madd_epi16((x), (w)))
#include "kernels/x86/conv_q_dw512.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx512;
void ecnn_conv_q_dw_avx512(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    dw_channels(y, k, npix, 0, q);
}

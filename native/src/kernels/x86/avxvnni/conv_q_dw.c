/* AVX-VNNI depthwise int8 conv microkernel: 3x3 and 5x5 windows of int8 weights without zero
 * points in blocks of 32 channels through vpdpbusd (kernels/x86/conv_q_dw_quad.h), the other
 * channels and weights as AVX2 does (conv_q_dw256.h). */
#include "kernels/x86/conv_q_dw256.h"

#define DWQ_BYTES 32
#define DWQ_DOT8(acc, u, w) _mm256_dpbusd_avx_epi32((acc), (u), (w))
#include "kernels/x86/conv_q_dw_quad.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avxvnni;
void ecnn_conv_q_dw_avxvnni(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    const uint32_t c = dwq_blocks32((uint8_t *)y, k, npix, 0, q);
    if (c < k->count) dw_channels(y, k, npix, c, q);
}

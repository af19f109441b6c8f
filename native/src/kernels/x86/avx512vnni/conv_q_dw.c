/* AVX-512 VNNI depthwise int8 conv microkernel: 3x3 and 5x5 windows of int8 weights without zero
 * points in blocks of 64 channels, then of 32, through vpdpbusd (kernels/x86/conv_q_dw_quad.h;
 * 32 in ymm beat the 16-channel kernel for C = 32, Zen 5), the other channels and weights 16 a
 * vector with one vpdpwssd per tap (conv_q_dw512.h; it does not saturate: a lane's sum is
 * code x weight + 0 x 0). */
#define DW_CHANNELS dw_channels
#define DW_MAC(acc, x, w) _mm512_dpwssd_epi32((acc), (x), (w))
#include "kernels/x86/conv_q_dw512.h"

#define DWQ_BYTES 64
#define DWQ_DOT8(acc, u, w) _mm512_dpbusd_epi32((acc), (u), (w))
#include "kernels/x86/conv_q_dw_quad.h"
#define DWQ_BYTES 32
#define DWQ_DOT8(acc, u, w) _mm256_dpbusd_epi32((acc), (u), (w))
#include "kernels/x86/conv_q_dw_quad.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx512vnni;
void ecnn_conv_q_dw_avx512vnni(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    uint32_t c = dwq_blocks64((uint8_t *)y, k, npix, 0, q);
    c = dwq_blocks32((uint8_t *)y, k, npix, c, q);
    if (c < k->count) dw_channels(y, k, npix, c, q);
}

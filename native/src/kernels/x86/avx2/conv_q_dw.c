/* AVX2 depthwise int8 conv microkernel: 3x3 and 5x5 windows of int8 weights in [-64, 64] without
 * zero points in blocks of 32 channels, four taps a multiply as the VNNI levels
 * (kernels/x86/conv_q_dw_quad.h), vpdpbusd as vpmaddubsw (no saturation: |u w + u' w'| <=
 * 2 * 255 * 64 < 2^15) then vpmaddwd by 1; the other channels and weights two taps a vpmaddwd
 * (conv_q_dw256.h). */
#include "kernels/x86/conv_q_dw256.h"

#define DWQ_BYTES 32
#define DWQ_DOT8(acc, u, w)                                                                                            \
    _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (w)), _mm256_set1_epi16(1)))
#include "kernels/x86/conv_q_dw_quad.h"

ecnn_conv_q_dw_kernel ecnn_conv_q_dw_avx2;
void ecnn_conv_q_dw_avx2(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)
{
    const uint32_t c = k->w_int8_small ? dwq_blocks32((uint8_t *)y, k, npix, 0, q) : 0;
    if (c < k->count) dw_channels(y, k, npix, c, q);
}

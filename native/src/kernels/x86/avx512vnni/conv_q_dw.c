/* AVX-512 VNNI depthwise int8 conv microkernel (kernels/x86/conv_q_dw512.h): one vpdpwssd per
 * tap and 16 channels (it does not saturate; a lane's sum is code x weight + 0 x 0). */
#define DW_KERNEL ecnn_conv_q_dw_avx512vnni
#define DW_MAC(acc, x, w) _mm512_dpwssd_epi32((acc), (x), (w))
#include "kernels/x86/conv_q_dw512.h"

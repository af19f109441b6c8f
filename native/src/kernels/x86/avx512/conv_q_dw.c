/* AVX-512BW depthwise int8 conv microkernel (kernels/x86/conv_q_dw512.h): vpmaddwd then vpaddd. */
#define DW_KERNEL ecnn_conv_q_dw_avx512
#define DW_MAC(acc, x, w) _mm512_add_epi32((acc), _mm512_madd_epi16((x), (w)))
#include "kernels/x86/conv_q_dw512.h"

/* AVX-512 VNNI int8 conv of few terms a pixel (x86/conv_q_small.h): a pixel's window quad
 * against the block's 16 channels in one vpdpbusd. */
#define SQ_BITS 512
#define SQ_PAIRS 0
#define SQ_DPBUSD(acc, u, w) _mm512_dpbusd_epi32(acc, u, w)
#define SQ_KERNEL ecnn_conv_q_small_avx512vnni
#include "kernels/x86/conv_q_small.h"

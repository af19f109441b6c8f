/* AVX-512BW int8 conv of few terms a pixel (x86/conv_q_small.h): a pixel's window quad as two
 * int16 pairs, each against the block's 16 channels per vpmaddwd. */
#define SQ_BITS 512
#define SQ_PAIRS 1
#define SQ_KERNEL ecnn_conv_q_small_avx512
#include "kernels/x86/conv_q_small.h"

/* AVX2 int8 conv of few terms a pixel (x86/conv_q_small.h): a pixel's window quad as two int16
 * pairs, each against 8 channels per vpmaddwd. */
#define SQ_BITS 256
#define SQ_PAIRS 1
#define SQ_KERNEL ecnn_conv_q_small_avx2
#include "kernels/x86/conv_q_small.h"

/* The AVX-512 int8 fully connected kernel with AVX512-VNNI: one vpdpwssd per int16 pair product
 * sum instead of vpmaddwd + vpaddd (kernels/x86/avx512/fc_q.c). */
#define ECNN_FC_Q_VNNI 1
#include "kernels/x86/avx512/fc_q.c"

/* AVX2 float ACTIVATION and ADD / MUL (kernels_f32_elementwise.h), 8 lanes: the loops of
 * kernels/f32_elementwise_loops.h over x86/vq_ops.h. */
#define VQ_BITS 256
#define FE_NAME(op) ecnn_##op##_avx2
#include "kernels/x86/vq_ops.h"

#include "kernels/f32_elementwise_loops.h"

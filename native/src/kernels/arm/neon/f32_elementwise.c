/* AArch64 NEON float ACTIVATION and ADD / MUL (kernels_f32_elementwise.h), 4 lanes: the loops of
 * kernels/f32_elementwise_loops.h over arm/neon/vq_ops.h. */
#include "kernels/arm/neon/vq_ops.h"

#define FE_NAME(op) ecnn_##op##_neon
#include "kernels/f32_elementwise_loops.h"

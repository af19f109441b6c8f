/* Shared by the ARM NEON kernel files. */
#ifndef ECNN_KERNELS_NEON_H
#define ECNN_KERNELS_NEON_H

#include <arm_neon.h>
#include <string.h>

#include "kernels/kernels_i8.h"

/* acc + x * w on 4 lanes, rounded as ecnn_mac (kernels.h). */
#ifdef ECNN_FUSED_MAC
#define F32_MAC(acc, x, w) vfmaq_f32(acc, x, w)
#else
#define F32_MAC(acc, x, w) vaddq_f32(acc, vmulq_f32(x, w))
#endif

#endif /* ECNN_KERNELS_NEON_H */

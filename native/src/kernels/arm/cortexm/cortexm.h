/* The int8 kernels of the Cortex-M levels (core/isa.h ECNN_ISA_DSP, ECNN_ISA_MVE), listed in the
 * op configs (src/ops/conv_2d.c, fully_connected.c) of builds with ECNN_WITH_CORTEXM. Each has
 * the contract of the portable kernel it replaces (kernels_i8.h) and its result, bit for bit. */
#ifndef ECNN_KERNELS_CORTEXM_H
#define ECNN_KERNELS_CORTEXM_H

#include "kernels/kernels_i8.h"

#if defined(__ARM_FEATURE_DSP)
ecnn_conv_q_dot_direct_kernel ecnn_conv_q_dot_direct_dsp;
ecnn_q_store_scaled_kernel ecnn_q_store_scaled_dsp;
ecnn_conv_q_dw_direct_kernel ecnn_conv_q_dw_direct_dsp;
ecnn_conv_q_widen_kernel ecnn_conv_q_widen_dsp;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_dsp;
#endif
#if defined(__ARM_FEATURE_MVE)
ecnn_conv_q_dot_direct_kernel ecnn_conv_q_dot_direct_mve;
ecnn_q_store_scaled_kernel ecnn_q_store_scaled_mve;
ecnn_conv_q_dw_direct_kernel ecnn_conv_q_dw_direct_mve;
ecnn_conv_q_widen_kernel ecnn_conv_q_widen_mve;
ecnn_fc_q_kernel ecnn_fc_q_panel8x4_mve;
#endif

#endif /* ECNN_KERNELS_CORTEXM_H */

/* What the x86 depthwise int8 conv microkernels (kernels_i8.h ecnn_conv_q_dw_kernel: avx2/conv_q_dw.c,
 * conv_q_dw512.h) share: the exported kernel, which calls the file's
 *
 *   static void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t taps,
 *                      int is_u8, const ecnn_qlinear_params *q);
 *
 * (every channel group of the call) with the tap count of 3x3 and 5x5 windows and the input
 * type as constants, so that the tap loops unroll with the weights in registers. */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW_H
#define ECNN_KERNELS_X86_CONV_Q_DW_H

#include "kernels/x86/x86.h"

#define ECNN_CONV_Q_DW_KERNEL(name)                                                                                    \
    void name(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, const ecnn_qlinear_params *q)                     \
    {                                                                                                                  \
        const int is_u8 = q->x_type == ECNN_Q_U8;                                                                      \
        if (k->taps == 9)                                                                                              \
            is_u8 ? dw_all(y, k, npix, 9, 1, q) : dw_all(y, k, npix, 9, 0, q);                                         \
        else if (k->taps == 25)                                                                                        \
            is_u8 ? dw_all(y, k, npix, 25, 1, q) : dw_all(y, k, npix, 25, 0, q);                                       \
        else                                                                                                           \
            is_u8 ? dw_all(y, k, npix, k->taps, 1, q) : dw_all(y, k, npix, k->taps, 0, q);                             \
    }

#endif /* ECNN_KERNELS_X86_CONV_Q_DW_H */

/* What the x86 depthwise int8 conv microkernels (kernels_i8.h ecnn_conv_q_dw_kernel:
 * conv_q_dw256.h, conv_q_dw512.h) share: a function over the channels [c0, count) of the call,
 * which calls the file's
 *
 *   static void dw_all(uint8_t *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,
 *                      uint32_t taps, int is_u8, const ecnn_qlinear_params *q);
 *
 * (every channel group from c0) with the tap count of 3x3 and 5x5 windows and the input type as
 * constants, so that the tap loops unroll with the weights in registers. The VNNI levels run
 * blocks of channels through conv_q_dw_quad.h first and the rest through it. */
#ifndef ECNN_KERNELS_X86_CONV_Q_DW_H
#define ECNN_KERNELS_X86_CONV_Q_DW_H

#include "kernels/x86/x86.h"

#define ECNN_CONV_Q_DW_CHANNELS(name)                                                                                  \
    static NOINLINE void name(void *y, const ecnn_conv_q_dw_block *k, uint32_t npix, uint32_t c0,                      \
                              const ecnn_qlinear_params *q)                                                            \
    {                                                                                                                  \
        const int is_u8 = q->x_type == ECNN_Q_U8;                                                                      \
        if (k->taps == 9)                                                                                              \
            is_u8 ? dw_all(y, k, npix, c0, 9, 1, q) : dw_all(y, k, npix, c0, 9, 0, q);                                 \
        else if (k->taps == 25)                                                                                        \
            is_u8 ? dw_all(y, k, npix, c0, 25, 1, q) : dw_all(y, k, npix, c0, 25, 0, q);                               \
        else                                                                                                           \
            is_u8 ? dw_all(y, k, npix, c0, k->taps, 1, q) : dw_all(y, k, npix, c0, k->taps, 0, q);                     \
    }

#endif /* ECNN_KERNELS_X86_CONV_Q_DW_H */

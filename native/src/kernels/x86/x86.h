/* Shared by the x86 kernel files. Each kernels/x86/<isa> directory is compiled with its own
 * -m flags (native/Makefile) and runs only where the CPU has that ISA (core/isa.h). */
#ifndef ECNN_KERNELS_X86_H
#define ECNN_KERNELS_X86_H

#include <immintrin.h>
#include <string.h>

#include "kernels/kernels_i8.h"

#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define NOINLINE __attribute__((noinline)) /* called from several places: one copy */

/* Batch 1 is bound by how fast the weights arrive from memory: the FC kernels stream several
 * panels side by side, each prefetched this many bytes ahead (on a quiet Zen 3, cold int8
 * batch 1 0.45 ms; 1024: 0.53). */
#define ECNN_PREFETCH 512

/* acc + x * w on 8 lanes, rounded as ecnn_mac (kernels.h). */
#ifdef ECNN_FUSED_MAC
#define F32_MAC(acc, x, w) _mm256_fmadd_ps(x, w, acc)
#else
#define F32_MAC(acc, x, w) _mm256_add_ps(acc, _mm256_mul_ps(x, w))
#endif

/* The output columns [*full0, *full1) of a window op (input width w, ow output columns) whose
 * every kx tap lies inside the input row: the pixels the multi-pixel blocks take. */
static inline void ecnn_window_full_columns(uint32_t w, uint32_t ow, uint32_t kw, uint32_t stride, uint32_t pad_left,
                                            uint32_t dilation, uint32_t *full0, uint32_t *full1)
{
    const int64_t span = (int64_t)(kw - 1) * dilation;
    const int64_t first_ok = ((int64_t)pad_left + stride - 1) / stride;
    const int64_t room = (int64_t)w - 1 - span + pad_left; /* the last window start, padded coordinates */
    const int64_t last_ok = room < 0 ? -1 : room / stride;
    *full0 = (uint32_t)(first_ok < ow ? first_ok : ow);
    *full1 = last_ok < first_ok ? *full0 : (uint32_t)(last_ok + 1 < ow ? last_ok + 1 : ow);
}

/* ecnn_window_full_columns of a convolution. */
static inline void ecnn_full_columns(const ecnn_conv2d_args *p, uint32_t *full0, uint32_t *full1)
{
    ecnn_window_full_columns(p->w, p->ow, p->kw, p->stride_w, p->pad_left, p->dilation_w, full0, full1);
}

#endif /* ECNN_KERNELS_X86_H */

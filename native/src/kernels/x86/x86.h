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

/* The n (1..4) bytes at p in the low bytes of a word, the others 0, reading no byte past them:
 * a row's last 1..3 inputs, where the next 4-byte group would be read whole. */
static ALWAYS_INLINE uint32_t ecnn_load_upto4(const uint8_t *p, uint32_t n)
{
    uint32_t v;
    if (n >= 4) {
        memcpy(&v, p, sizeof v);
        return v;
    }
    v = p[0];
    if (n > 1) v |= (uint32_t)p[1] << 8;
    if (n > 2) v |= (uint32_t)p[2] << 16;
    return v;
}

#endif /* ECNN_KERNELS_X86_H */

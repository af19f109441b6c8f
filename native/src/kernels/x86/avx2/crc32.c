/* The bulk of a CRC32 (core/crc32.c) folded 64 bytes per step by carry-less multiplication
 * (PCLMULQDQ): the method of Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", as in zlib's and Linux's x86 CRC32. Every CPU of the x86 SIMD levels has it. */
#include "core/internal.h"
#include "kernels/x86/x86.h"

/* crc (the running, inverted state) over len bytes, len >= 64 and a multiple of 16. The
 * constants are x^n mod P for the fold distances (bit-reflected), then P and its Barrett
 * quotient; the last fold reduces 128 bits to the 32-bit remainder. */
uint32_t ecnn_crc32_fold_pclmul(const uint8_t *buf, size_t len, uint32_t crc)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4); /* fold 4 x 128 bits */
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0); /* fold 128 bits */
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);              /* 96 -> 64 bits */
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641); /* P, Barrett mu */
    const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)buf), x2 = _mm_loadu_si128((const __m128i *)(buf + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(buf + 32)), x4 = _mm_loadu_si128((const __m128i *)(buf + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    for (buf += 64, len -= 64; len >= 64; buf += 64, len -= 64) {
#define CRC_FOLD(X, K, NEXT)                                                                                           \
    X = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(X, K, 0x00), _mm_clmulepi64_si128(X, K, 0x11)), NEXT)
        CRC_FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)buf));
        CRC_FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(buf + 16)));
        CRC_FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(buf + 32)));
        CRC_FOLD(x4, k1k2, _mm_loadu_si128((const __m128i *)(buf + 48)));
    }
    CRC_FOLD(x1, k3k4, x2);
    CRC_FOLD(x1, k3k4, x3);
    CRC_FOLD(x1, k3k4, x4);
    for (; len >= 16; buf += 16, len -= 16) CRC_FOLD(x1, k3k4, _mm_loadu_si128((const __m128i *)buf));
#undef CRC_FOLD
    /* 128 -> 64 bits, then 64 -> 32 by Barrett reduction */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), _mm_srli_si128(x1, 4));
    x2 = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10), low32);
    x1 = _mm_xor_si128(x1, _mm_clmulepi64_si128(x2, poly, 0x00));
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

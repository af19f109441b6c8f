/* AVX-512 QUANTIZE, DEQUANTIZE, QLinearAdd and QLinearMul (kernels_q_elementwise.h), 16 lanes:
 * the loops of x86/q_elementwise.h over these code loads and stores. */
#include "kernels/x86/x86.h"

/* 16 codes, sign- or zero-extended to int32. */
static ALWAYS_INLINE __m512i q_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    return u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

/* The low byte of each of 16 int32 lanes (vpmovdb truncates). */
static ALWAYS_INLINE void q_store_codes(uint8_t *p, __m512i v)
{
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}

#define VQ_BITS 512
#define QE_NAME(op) ecnn_##op##_avx512
#include "kernels/x86/q_elementwise.h"

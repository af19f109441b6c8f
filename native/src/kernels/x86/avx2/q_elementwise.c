/* AVX2 QUANTIZE, DEQUANTIZE, QLinearAdd and QLinearMul (kernels_q_elementwise.h), 8 lanes:
 * the loops of x86/q_elementwise.h over these code loads and stores. */
#include "kernels/x86/x86.h"

/* 8 codes, sign- or zero-extended to int32. */
static ALWAYS_INLINE __m256i q_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}

/* The low byte of each of 8 int32 lanes (each in [-128, 255]: the int16 pack is exact). */
static ALWAYS_INLINE void q_store_codes(uint8_t *p, __m256i v)
{
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i low_bytes = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    _mm_storel_epi64((__m128i *)p, _mm_shuffle_epi8(words, low_bytes));
}

#define VQ_BITS 256
#define QE_NAME(op) ecnn_##op##_avx2
#include "kernels/x86/q_elementwise.h"

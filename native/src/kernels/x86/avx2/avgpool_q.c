/* AVX2 int8 average pooling (kernels_i8.h), 8 channels a vector: x86/avgpool_q.h over these code
 * loads and stores. */
#define VQ_BITS 256
#define AVGQ_NAME ecnn_avgpool2d_q_avx2
#include "kernels/x86/x86.h"

/* 8 codes, sign- or zero-extended to int32. */
static ALWAYS_INLINE __m256i avgq_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}

/* 8 int32 lanes, each a code of the dtype: the saturating packs are exact. */
static ALWAYS_INLINE void avgq_store_codes(uint8_t *p, __m256i v, int u8)
{
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)p, u8 ? _mm_packus_epi16(words, words) : _mm_packs_epi16(words, words));
}

#include "kernels/x86/avgpool_q.h"

ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx2;

/* AVX-512 int8 average pooling (kernels_i8.h), 16 channels a vector: x86/avgpool_q.h over these
 * code loads and stores. */
#define VQ_BITS 512
#define AVGQ_NAME ecnn_avgpool2d_q_avx512
#include "kernels/x86/x86.h"

/* 16 codes, sign- or zero-extended to int32. */
static ALWAYS_INLINE __m512i avgq_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    return u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}

/* 16 int32 lanes, each a code of the dtype: vpmovdb keeps the low byte. */
static ALWAYS_INLINE void avgq_store_codes(uint8_t *p, __m512i v, int u8)
{
    (void)u8;
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}

#include "kernels/x86/avgpool_q.h"

ecnn_avgpool2d_q_kernel ecnn_avgpool2d_q_avx512;

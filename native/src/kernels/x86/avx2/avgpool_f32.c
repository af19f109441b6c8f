/* AVX2 float average pooling (kernels.h), 8 channels a vector: x86/avgpool_f32.h. */
#define VF_BITS 256
#include "kernels/x86/vec_f32.h"

typedef __m256i avgf_mask;

static ALWAYS_INLINE avgf_mask avgf_lanes(uint32_t lanes)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), lane);
}

static ALWAYS_INLINE __m256 avgf_load(const float *p, avgf_mask m)
{
    return _mm256_maskload_ps(p, m);
}

static ALWAYS_INLINE void avgf_store(float *p, __m256 v, avgf_mask m)
{
    _mm256_maskstore_ps(p, m, v);
}

static ALWAYS_INLINE __m256 avgf_div(__m256 a, __m256 b)
{
    return _mm256_div_ps(a, b);
}

#define AVGF_NAME ecnn_avgpool2d_f32_avx2
ecnn_avgpool2d_f32_kernel AVGF_NAME;
#include "kernels/x86/avgpool_f32.h"

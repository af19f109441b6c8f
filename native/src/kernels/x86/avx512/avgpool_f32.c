/* AVX-512 float average pooling (kernels.h), 16 channels a vector: x86/avgpool_f32.h. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

typedef __mmask16 avgf_mask;

static ALWAYS_INLINE avgf_mask avgf_lanes(uint32_t lanes)
{
    return (__mmask16)((1u << lanes) - 1u);
}

static ALWAYS_INLINE __m512 avgf_load(const float *p, avgf_mask m)
{
    return _mm512_maskz_loadu_ps(m, p);
}

static ALWAYS_INLINE void avgf_store(float *p, __m512 v, avgf_mask m)
{
    _mm512_mask_storeu_ps(p, m, v);
}

static ALWAYS_INLINE __m512 avgf_div(__m512 a, __m512 b)
{
    return _mm512_div_ps(a, b);
}

#define AVGF_NAME ecnn_avgpool2d_f32_avx512
ecnn_avgpool2d_f32_kernel AVGF_NAME;
#include "kernels/x86/avgpool_f32.h"

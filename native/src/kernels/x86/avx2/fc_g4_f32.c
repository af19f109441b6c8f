/* AVX2 FULLY_CONNECTED_G4 kernel over FC_PANEL16 weights (x86/fc_g4_f32.h): two ymm hold a row
 * of a panel; tiles of up to 8 samples x one ymm of outputs, 4 panels side by side at batch 1. */
#define VF_BITS 256
#define G4_KERNEL ecnn_fc_g4_f32_panel16_avx2
#define G4_TILE_V 1u /* vectors of outputs per tile at batch > 1 */
#include "kernels/x86/fc_g4_f32.h"

ecnn_fc_f32_kernel G4_KERNEL;

static ALWAYS_INLINE __m256 g4_load_part(const float *p, uint32_t lanes)
{
    float t[8] = {0};
    if (lanes == 8) return _mm256_loadu_ps(p);
    return _mm256_loadu_ps(memcpy(t, p, lanes * sizeof(float)));
}

static ALWAYS_INLINE void g4_store_part(float *p, __m256 v, uint32_t lanes)
{
    float t[8];
    if (lanes == 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    _mm256_storeu_ps(t, v);
    memcpy(p, t, lanes * sizeof(float));
}

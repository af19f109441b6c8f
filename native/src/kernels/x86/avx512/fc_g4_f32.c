/* AVX-512 FULLY_CONNECTED_G4 kernel over FC_PANEL16 weights (x86/fc_g4_f32.h): one zmm holds a
 * row of a panel; tiles of up to 8 samples x two panels, 4 panels side by side at batch 1. */
#define VF_BITS 512
#define G4_KERNEL ecnn_fc_g4_f32_panel16_avx512
#define G4_TILE_V 2u /* vectors of outputs per tile at batch > 1 */
#include "kernels/x86/fc_g4_f32.h"

ecnn_fc_f32_kernel G4_KERNEL;

static ALWAYS_INLINE __m512 g4_load_part(const float *p, uint32_t lanes)
{
    return _mm512_maskz_loadu_ps((__mmask16)((1u << lanes) - 1u), p);
}

static ALWAYS_INLINE void g4_store_part(float *p, __m512 v, uint32_t lanes)
{
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << lanes) - 1u), v);
}

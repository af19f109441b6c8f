/* AVX2 FULLY_CONNECTED_G4 kernel over FC_PANEL16 weights (x86/fc_g4_f32.h): two ymm hold a row
 * of a panel; tiles of one sample x two panels at batch > 1, 4 panels side by side at batch 1.
 *
 * The tile at batch > 1, on a Zen 1 (EPYC, family 23 model 1; each ymm op two 128-bit halves),
 * one 640 x 128 layer at batch 64 timed alone, interleaved medians (load average 5-6 on its 2
 * CPUs): 8 samples x 1 vector (the Zen 5's best, fc_g4_f32.h) 9.1 GMAC/s, 4 x 2 11.5, 6 x 2
 * 11.4, 2 x 2 11.3, 1 x 4 13.4-13.8, 1 x 8 13.2; the 128 x 640 layer alike; batch 8 and 3 the
 * same order. Rows of 10 and 24 outputs (K 512): 1 x 2 8.1 and 12.2 GMAC/s, 1 x 4 (its 1-vector
 * tiles) 6.6 and 10.8, hence a row's end in 2 vectors. Taking a group's four terms in turn
 * across the tile's outputs (more chains in flight) gained nothing at 1 x 4 (13.5 vs 13.4). */
#define VF_BITS 256
#define G4_KERNEL ecnn_fc_g4_f32_panel16_avx2
#define G4_TILE_S 1u /* samples per tile at batch > 1 */
#define G4_TILE_V 4u /* vectors of outputs per tile at batch > 1 */
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

/* NEON FULLY_CONNECTED_G4 kernel over FC_PANEL16 weights (kernels.h): a panel row is four q
 * registers, each output in its own lane, its products, groups of four and sums in the
 * reference's order (vmulq and vaddq: never fused), so the result is
 * ecnn_fully_connected_g4_f32_ref's bit for bit. A tile of up to G4_TILE_S samples meets each
 * weight row once; a sample's four inputs of a group arrive in one register, taken lane by lane
 * (vmulq_laneq_f32). */
#include "kernels/arm/neon/neon.h"

ecnn_fc_f32_kernel ecnn_fc_g4_f32_panel16_neon;

#define G4_TILE_S 2u

/* The group of `terms` (4, 2 or 1: the reference's group, pair or single) k at xs[s] and w
 * (rows of 16) added to acc[s][0..3] for ns samples. */
static inline void g4_group(float32x4_t acc[G4_TILE_S][4], const float *const *xs, const float *w, uint32_t ns,
                            uint32_t terms)
{
    float32x4_t group[G4_TILE_S][4], xv[G4_TILE_S];
    uint32_t s, j, i;
    for (s = 0; s < ns; s++) {
        float t[4] = {0, 0, 0, 0};
        memcpy(t, xs[s], terms * sizeof(float));
        xv[s] = vld1q_f32(t);
    }
    for (i = 0; i < terms; i++)
        for (j = 0; j < 4; j++) {
            const float32x4_t wv = vld1q_f32(w + i * 16 + j * 4);
            for (s = 0; s < ns; s++) {
                float32x4_t term;
                switch (i) { /* the lane must be a constant */
                case 0: term = vmulq_laneq_f32(wv, xv[s], 0); break;
                case 1: term = vmulq_laneq_f32(wv, xv[s], 1); break;
                case 2: term = vmulq_laneq_f32(wv, xv[s], 2); break;
                default: term = vmulq_laneq_f32(wv, xv[s], 3); break;
                }
                group[s][j] = i == 0 ? term : vaddq_f32(group[s][j], term);
            }
        }
    for (s = 0; s < ns; s++)
        for (j = 0; j < 4; j++) acc[s][j] = vaddq_f32(group[s][j], acc[s][j]);
}

/* ns (1..G4_TILE_S) samples x one panel of `width` outputs over all of K, then the activation. */
static inline void g4_tile(float *y, size_t o, const float *x, size_t k, const float *w, uint32_t ns, const float *bias,
                           uint32_t width, const ecnn_act_params *act)
{
    float32x4_t acc[G4_TILE_S][4];
    const float *xs[G4_TILE_S];
    float t[16] = {0};
    uint32_t s, j, i;
    if (bias) memcpy(t, bias, width * sizeof(float));
    for (s = 0; s < ns; s++)
        for (j = 0; j < 4; j++) acc[s][j] = vld1q_f32(t + j * 4);
    for (i = 0; i + 4 <= k; i += 4) {
        for (s = 0; s < ns; s++) xs[s] = x + s * k + i;
        g4_group(acc, xs, w + (size_t)i * 16, ns, 4);
    }
    if (k - i >= 2) { /* K's tail: a pair, then a single */
        for (s = 0; s < ns; s++) xs[s] = x + s * k + i;
        g4_group(acc, xs, w + (size_t)i * 16, ns, 2);
        i += 2;
    }
    if (i < k) {
        for (s = 0; s < ns; s++) xs[s] = x + s * k + i;
        g4_group(acc, xs, w + (size_t)i * 16, ns, 1);
    }
    for (s = 0; s < ns; s++) {
        for (j = 0; j < 4; j++) vst1q_f32(t + j * 4, acc[s][j]);
        for (j = 0; j < width; j++) y[s * o + j] = ecnn_apply_kernel_act(t[j], act);
    }
}

void ecnn_fc_g4_f32_panel16_neon(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                 uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    uint32_t o0, s0;
    (void)n;
    for (o0 = t->o0; o0 < t->o1; o0 += 16) /* the tile's panels (o0: a multiple of 16), G4_TILE_S samples at a time */
        for (s0 = t->m0; s0 < t->m1; s0 += G4_TILE_S)
            g4_tile(y + (size_t)s0 * o + o0, o, x + (size_t)s0 * k, k, w + (size_t)o0 * k,
                    t->m1 - s0 < G4_TILE_S ? t->m1 - s0 : G4_TILE_S, b ? b + o0 : NULL,
                    t->o1 - o0 < 16 ? t->o1 - o0 : 16, act);
}

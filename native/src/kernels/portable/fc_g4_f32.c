/* FULLY_CONNECTED_G4's kernel over FC_PANEL16 weights in plain C99 (kernels.h): each output of a
 * panel in its own lane, its products, groups of four and sums in the reference's order (never
 * fused: -ffp-contract=off), so the result is ecnn_fully_connected_g4_f32_ref's bit for bit. The
 * loops over a panel's 16 lanes are what the compiler vectorises; each weight row feeds
 * G4_SAMPLES samples. */
#include "kernels/kernels.h"

#define G4_SAMPLES 4u
#define LANES ECNN_PANEL_F32

/* acc[l] = (((x0 w0[l] + x1 w1[l]) + x2 w2[l]) + x3 w3[l]) + acc[l] for the first `terms` (4, 2
 * or 1: the reference's group, pair or single) of those products; one loop over the lanes per
 * case, so that a group stays in vector registers. */
static inline void g4_group(float *acc, const float *x, const float *w, uint32_t terms)
{
    uint32_t l;
    if (terms == 4) {
        for (l = 0; l < LANES; l++) {
            float group = x[0] * w[l];
            group = group + x[1] * w[LANES + l];
            group = group + x[2] * w[2 * LANES + l];
            group = group + x[3] * w[3 * LANES + l];
            acc[l] = group + acc[l];
        }
    } else if (terms == 2) {
        for (l = 0; l < LANES; l++) {
            float group = x[0] * w[l];
            group = group + x[1] * w[LANES + l];
            acc[l] = group + acc[l];
        }
    } else {
        for (l = 0; l < LANES; l++) acc[l] = x[0] * w[l] + acc[l];
    }
}

void ecnn_fc_g4_f32_panel16_portable(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                     uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    uint32_t o0, s0, s, i, l;
    (void)n;
    for (o0 = t->o0; o0 < t->o1; o0 += LANES) { /* the tile's panels (o0: a multiple of the panel) */
        const float *wp = w + (size_t)o0 * k;
        const uint32_t width = t->o1 - o0 < LANES ? t->o1 - o0 : LANES;
        for (s0 = t->m0; s0 < t->m1; s0 += G4_SAMPLES) {
            const uint32_t ns = t->m1 - s0 < G4_SAMPLES ? t->m1 - s0 : G4_SAMPLES;
            float acc[G4_SAMPLES][LANES];
            for (s = 0; s < ns; s++)
                for (l = 0; l < LANES; l++) acc[s][l] = b && l < width ? b[o0 + l] : 0.0f;
            for (i = 0; i + 4 <= k; i += 4)
                for (s = 0; s < ns; s++) g4_group(acc[s], x + (size_t)(s0 + s) * k + i, wp + (size_t)i * LANES, 4);
            if (k - i >= 2) { /* K's tail: a pair, then a single */
                for (s = 0; s < ns; s++) g4_group(acc[s], x + (size_t)(s0 + s) * k + i, wp + (size_t)i * LANES, 2);
                i += 2;
            }
            if (i < k)
                for (s = 0; s < ns; s++) g4_group(acc[s], x + (size_t)(s0 + s) * k + i, wp + (size_t)i * LANES, 1);
            for (s = 0; s < ns; s++)
                for (l = 0; l < width; l++) y[(size_t)(s0 + s) * o + o0 + l] = ecnn_apply_kernel_act(acc[s][l], act);
        }
    }
}

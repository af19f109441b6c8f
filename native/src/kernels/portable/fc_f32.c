/* Fully connected float kernel over FC_PANEL16 weights in plain C99 (kernels.h): each loaded
 * weight row feeds FC_SAMPLES samples. Every output is summed in the reference order (k
 * ascending, one ecnn_mac per term, bias last), so the result is the reference's bit for bit.
 *
 * Weights in the plain [O][K] layout (one shared by several ops, which the compiler leaves
 * unpacked) run on the reference kernel: a faster kernel for that layout would sum in
 * another order (lanes over k) and so round differently. */
#include "kernels/kernels.h"

#define FC_SAMPLES 4u

void ecnn_fc_f32_panel16_portable(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                                  uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    const uint32_t panels = (t->o1 + ECNN_PANEL_F32 - 1) / ECNN_PANEL_F32;
    uint32_t p, s0, s, i, l;
    (void)n; /* samples and outputs come from the tile (o0: a multiple of the panel) */
    for (p = t->o0 / ECNN_PANEL_F32; p < panels; p++) {
        const float *wp = w + (size_t)p * ECNN_PANEL_F32 * k;
        const uint32_t o0 = p * ECNN_PANEL_F32;
        const uint32_t width = t->o1 - o0 < ECNN_PANEL_F32 ? t->o1 - o0 : ECNN_PANEL_F32;
        for (s0 = t->m0; s0 < t->m1; s0 += FC_SAMPLES) {
            const uint32_t ns = t->m1 - s0 < FC_SAMPLES ? t->m1 - s0 : FC_SAMPLES;
            float acc[FC_SAMPLES][ECNN_PANEL_F32];
            for (s = 0; s < FC_SAMPLES; s++)
                for (l = 0; l < ECNN_PANEL_F32; l++) acc[s][l] = 0.0f;
            /* k ascending, one ecnn_mac per term: the reference order. */
            for (i = 0; i < k; i++) {
                const float *wi = wp + (size_t)i * ECNN_PANEL_F32;
                for (s = 0; s < ns; s++) {
                    const float xv = x[(size_t)(s0 + s) * k + i];
                    for (l = 0; l < ECNN_PANEL_F32; l++) acc[s][l] = ecnn_mac(acc[s][l], xv, wi[l]);
                }
            }
            for (s = 0; s < ns; s++)
                for (l = 0; l < width; l++) {
                    float v = acc[s][l];
                    if (b) v += b[o0 + l];
                    y[(size_t)(s0 + s) * o + o0 + l] = ecnn_apply_kernel_act(v, act);
                }
        }
    }
}

/* Fully connected int8 kernel over FC_PANEL8X4 weights in plain C99 (kernels_i8.h): exact
 * int32 sums and the reference requantization, so the result is the reference's bit for bit. */
#include <string.h>

#include "kernels/kernels_i8.h"

#define FC_SAMPLES 4u

void ecnn_fc_q_panel8x4_portable(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                 uint32_t o, const ecnn_tile *tile, const ecnn_qlinear_params *q)
{
    const uint32_t panels = (tile->o1 + ECNN_PANEL_I8 - 1) / ECNN_PANEL_I8;
    const uint32_t groups = (k + ECNN_GROUP_I8 - 1) / ECNN_GROUP_I8;
    const int8_t *w8 = (const int8_t *)w;
    uint32_t p, s0, s, g, t, l;
    (void)n; /* samples and outputs come from the tile (o0: a multiple of the panel) */
    for (s0 = tile->m0; s0 < tile->m1; s0 += FC_SAMPLES) {
        const uint32_t ns = tile->m1 - s0 < FC_SAMPLES ? tile->m1 - s0 : FC_SAMPLES;
        for (p = tile->o0 / ECNN_PANEL_I8; p < panels; p++) {
            const int8_t *wp = w8 + (size_t)p * ECNN_PANEL_I8 * groups * ECNN_GROUP_I8;
            const uint32_t o0 = p * ECNN_PANEL_I8;
            const uint32_t width = tile->o1 - o0 < ECNN_PANEL_I8 ? tile->o1 - o0 : ECNN_PANEL_I8;
            int32_t acc[FC_SAMPLES][ECNN_PANEL_I8];
            memset(acc, 0, sizeof acc);
            for (g = 0; g < groups; g++) {
                const int8_t *wg = wp + (size_t)g * ECNN_PANEL_I8 * ECNN_GROUP_I8;
                for (s = 0; s < ns; s++) {
                    int32_t xv[ECNN_GROUP_I8];
                    for (t = 0; t < ECNN_GROUP_I8; t++) {
                        const size_t i = (size_t)g * ECNN_GROUP_I8 + t;
                        const size_t at = (size_t)(s0 + s) * k + i;
                        /* past K the padded weights are 0: take x - zx = 0 there too */
                        xv[t] = i >= k ? 0
                                       : (q->x_type == ECNN_Q_U8 ? (int32_t)((const uint8_t *)x)[at]
                                                                 : (int32_t)((const int8_t *)x)[at]) -
                                             q->x_zero_point;
                    }
                    for (l = 0; l < ECNN_PANEL_I8; l++)
                        acc[s][l] +=
                            xv[0] * wg[l * 4] + xv[1] * wg[l * 4 + 1] + xv[2] * wg[l * 4 + 2] + xv[3] * wg[l * 4 + 3];
                }
            }
            for (s = 0; s < ns; s++) ecnn_q_store_outputs(y, (size_t)(s0 + s) * o + o0, acc[s], width, o0, b, q);
        }
    }
}

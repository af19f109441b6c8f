/* Faster portable float32 kernels; see kernels.h. The reference versions in
 * kernels_ref_f32.c are their oracle (native/tests). */
#include <stddef.h>

#include "kernels.h"

#define LANES 8u    /* partial sums per dot product */
#define SAMPLES 4u  /* samples sharing one pass over a weight row */

/* Dot products of up to SAMPLES rows of x with one weight row, 8 lanes each. */
static void dot_rows(float *out, const float *const *xs, uint32_t rows, const float *wj, uint32_t k)
{
    float acc[SAMPLES][LANES];
    uint32_t s, l, i;
    const uint32_t k8 = k - k % LANES;
    for (s = 0; s < SAMPLES; s++)
        for (l = 0; l < LANES; l++) acc[s][l] = 0.0f;
    for (i = 0; i < k8; i += LANES) {
        for (s = 0; s < rows; s++) {
            const float *xp = xs[s] + i;
            for (l = 0; l < LANES; l++) acc[s][l] += xp[l] * wj[i + l];
        }
    }
    for (s = 0; s < rows; s++) {
        for (i = k8; i < k; i++) acc[s][i - k8] += xs[s][i] * wj[i];
        out[s] = ((acc[s][0] + acc[s][1]) + (acc[s][2] + acc[s][3])) + ((acc[s][4] + acc[s][5]) + (acc[s][6] + acc[s][7]));
    }
}

void ecnn_fully_connected_f32(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    uint32_t s0, j, s;
    for (s0 = 0; s0 < n; s0 += SAMPLES) {
        const uint32_t rows = n - s0 < SAMPLES ? n - s0 : SAMPLES;
        const float *xs[SAMPLES];
        for (s = 0; s < rows; s++) xs[s] = x + (size_t)(s0 + s) * k;
        for (j = 0; j < o; j++) {
            float d[SAMPLES];
            dot_rows(d, xs, rows, w + (size_t)j * k, k);
            for (s = 0; s < rows; s++) {
                float v = d[s];
                if (b) v += b[j];
                y[(size_t)(s0 + s) * o + j] = ecnn_apply_act(v, act);
            }
        }
    }
}

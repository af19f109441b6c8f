/* Faster portable float32 kernels; see kernels.h. The reference versions in
 * kernels_ref_f32.c are their oracle (native/tests).
 *
 * Plain C99: the loops over LANES independent partial sums have a fixed order, so the
 * compiler may vectorize them without -ffast-math (each lane is one SIMD slot). */
#include <stddef.h>

#include "kernels.h"

#define LANES 8u   /* partial sums per dot product */
#define SAMPLES 4u /* samples sharing one pass over a weight row (weights are the big stream) */

static float reduce_lanes(const float *acc)
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* out[0] = x . w over k elements. */
static void dot1(float *out, const float *x, const float *w, uint32_t k)
{
    float acc[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    const uint32_t k8 = k - k % LANES;
    uint32_t i, l;
    for (i = 0; i < k8; i += LANES)
        for (l = 0; l < LANES; l++) acc[l] += x[i + l] * w[i + l];
    for (i = k8; i < k; i++) acc[i - k8] += x[i] * w[i];
    out[0] = reduce_lanes(acc);
}

/* out[s] = x_s . w for SAMPLES rows x0..x3 (each read once per weight row). */
static void dot4(float *out, const float *x0, const float *x1, const float *x2, const float *x3, const float *w,
                 uint32_t k)
{
    float a0[LANES] = {0, 0, 0, 0, 0, 0, 0, 0}, a1[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    float a2[LANES] = {0, 0, 0, 0, 0, 0, 0, 0}, a3[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    const uint32_t k8 = k - k % LANES;
    uint32_t i, l;
    for (i = 0; i < k8; i += LANES) {
        for (l = 0; l < LANES; l++) {
            const float wv = w[i + l];
            a0[l] += x0[i + l] * wv;
            a1[l] += x1[i + l] * wv;
            a2[l] += x2[i + l] * wv;
            a3[l] += x3[i + l] * wv;
        }
    }
    for (i = k8; i < k; i++) {
        a0[i - k8] += x0[i] * w[i];
        a1[i - k8] += x1[i] * w[i];
        a2[i - k8] += x2[i] * w[i];
        a3[i - k8] += x3[i] * w[i];
    }
    out[0] = reduce_lanes(a0);
    out[1] = reduce_lanes(a1);
    out[2] = reduce_lanes(a2);
    out[3] = reduce_lanes(a3);
}

void ecnn_fully_connected_f32(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    uint32_t s0 = 0, j, s;
    for (; s0 + SAMPLES <= n; s0 += SAMPLES) {
        const float *xs = x + (size_t)s0 * k;
        for (j = 0; j < o; j++) {
            float d[SAMPLES];
            dot4(d, xs, xs + k, xs + 2 * (size_t)k, xs + 3 * (size_t)k, w + (size_t)j * k, k);
            for (s = 0; s < SAMPLES; s++) y[(size_t)(s0 + s) * o + j] = ecnn_apply_act(b ? d[s] + b[j] : d[s], act);
        }
    }
    for (; s0 < n; s0++) { /* the last n % 4 samples */
        for (j = 0; j < o; j++) {
            float d;
            dot1(&d, x + (size_t)s0 * k, w + (size_t)j * k, k);
            y[(size_t)s0 * o + j] = ecnn_apply_act(b ? d + b[j] : d, act);
        }
    }
}

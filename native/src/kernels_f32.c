/* Faster portable float32 kernels; see kernels.h. The reference versions in
 * kernels_ref_f32.c are their oracle (native/tests).
 *
 * Plain C99, no intrinsics: the loops over LANES partial sums have a fixed order, so
 * the compiler may vectorize them without -ffast-math (each lane is one SIMD slot).
 *
 * Fully connected: y[s, j] = x[s, :] . w[j, :]. The work is cut into blocks of up to
 * 4 samples x 4 outputs so each loaded x and w vector feeds several products (register
 * blocking). Every block size sums in exactly the same order (lane l takes the k with
 * k mod 4 == l, lanes combined as (l0 + l1) + (l2 + l3), then the bias), so a sample's
 * result does not depend on the batch it is in. */
#include <stddef.h>

#include "kernels.h"

#define LANES 4u

/* DOT_BLOCK(NS, NJ) defines dot_NSxNJ(out, x, w, k): out[s * NJ + j] = x_s . w_j for NS
 * rows of x and NJ rows of w (row stride k). */
#define DOT_BLOCK(NS, NJ)                                                                              \
    static void dot_##NS##x##NJ(float *out, const float *x, const float *w, uint32_t k)                \
    {                                                                                                  \
        float acc[NS][NJ][LANES];                                                                      \
        const uint32_t kl = k - k % LANES;                                                             \
        uint32_t s, j, l, i;                                                                           \
        for (s = 0; s < NS; s++)                                                                       \
            for (j = 0; j < NJ; j++)                                                                   \
                for (l = 0; l < LANES; l++) acc[s][j][l] = 0.0f;                                       \
        for (i = 0; i < kl; i += LANES)                                                                \
            for (s = 0; s < NS; s++)                                                                   \
                for (j = 0; j < NJ; j++)                                                               \
                    for (l = 0; l < LANES; l++)                                                        \
                        acc[s][j][l] += x[(size_t)s * k + i + l] * w[(size_t)j * k + i + l];           \
        for (s = 0; s < NS; s++)                                                                       \
            for (j = 0; j < NJ; j++) {                                                                 \
                for (i = kl; i < k; i++) acc[s][j][i - kl] += x[(size_t)s * k + i] * w[(size_t)j * k + i]; \
                out[s * NJ + j] = (acc[s][j][0] + acc[s][j][1]) + (acc[s][j][2] + acc[s][j][3]);       \
            }                                                                                          \
    }

DOT_BLOCK(4, 4)
DOT_BLOCK(4, 1)
DOT_BLOCK(1, 4)
DOT_BLOCK(1, 1)

/* Finishes a block: bias, activation, store. d is [ns][nj]. */
static void store_block(float *y, const float *d, uint32_t s0, uint32_t ns, uint32_t j0, uint32_t nj, uint32_t o,
                        const float *b, const ecnn_act_params *act)
{
    uint32_t s, j;
    for (s = 0; s < ns; s++)
        for (j = 0; j < nj; j++) {
            const float v = d[s * nj + j];
            y[(size_t)(s0 + s) * o + j0 + j] = ecnn_apply_act(b ? v + b[j0 + j] : v, act);
        }
}

void ecnn_fully_connected_f32(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_act_params *act)
{
    uint32_t s0, j0;
    float d[16];
    for (s0 = 0; s0 < n; s0 += (n - s0 >= 4 ? 4 : 1)) {
        const int four = n - s0 >= 4;
        const float *xs = x + (size_t)s0 * k;
        for (j0 = 0; j0 + 4 <= o; j0 += 4) {
            if (four) {
                dot_4x4(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 4, j0, 4, o, b, act);
            } else {
                dot_1x4(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 1, j0, 4, o, b, act);
            }
        }
        for (; j0 < o; j0++) {
            if (four) {
                dot_4x1(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 4, j0, 1, o, b, act);
            } else {
                dot_1x1(d, xs, w + (size_t)j0 * k, k);
                store_block(y, d, s0, 1, j0, 1, o, b, act);
            }
        }
    }
}

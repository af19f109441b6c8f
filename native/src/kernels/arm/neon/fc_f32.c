/* NEON fully connected float kernel over FC_PANEL16 weights (kernels.h): each output summed in
 * the reference order with one ecnn_mac per term, bit-identical to the reference. */
#include "kernels/arm/neon/neon.h"

ecnn_fc_f32_kernel ecnn_fc_f32_panel16_neon;

#define F32_TILE 4u

static inline void f32_tile(float *y, size_t ystride, const float *x, size_t xstride, const float *w, uint32_t k,
                            uint32_t ns, const float *bias, uint32_t width)
{
    float32x4_t a[F32_TILE][4];
    uint32_t s, i, j;
    for (s = 0; s < F32_TILE; s++)
        for (j = 0; j < 4; j++) a[s][j] = vdupq_n_f32(0.0f);
    for (i = 0; i < k; i++) {
        const float *wr = w + (size_t)i * 16;
        const float32x4_t w0 = vld1q_f32(wr), w1 = vld1q_f32(wr + 4), w2 = vld1q_f32(wr + 8), w3 = vld1q_f32(wr + 12);
        for (s = 0; s < ns; s++) {
            const float32x4_t xb = vdupq_n_f32(x[s * xstride + i]);
            a[s][0] = F32_MAC(a[s][0], xb, w0);
            a[s][1] = F32_MAC(a[s][1], xb, w1);
            a[s][2] = F32_MAC(a[s][2], xb, w2);
            a[s][3] = F32_MAC(a[s][3], xb, w3);
        }
    }
    for (s = 0; s < ns; s++) {
        float t[16];
        for (j = 0; j < 4; j++) {
            float32x4_t v = a[s][j];
            if (bias) {
                float bt[4] = {0, 0, 0, 0};
                const uint32_t lo = j * 4;
                if (lo < width) memcpy(bt, bias + lo, (width - lo < 4 ? width - lo : 4) * sizeof(float));
                v = vaddq_f32(v, vld1q_f32(bt));
            }
            vst1q_f32(t + j * 4, v);
        }
        memcpy(y + s * ystride, t, width * sizeof(float));
    }
}

void ecnn_fc_f32_panel16_neon(float *y, const float *x, const float *w, const float *b, uint32_t n, uint32_t k,
                              uint32_t o, const ecnn_tile *t, const ecnn_act_params *act)
{
    /* The tile's samples and panels (o0: a multiple of 16) */
    const uint32_t panels = (t->o1 + 15) / 16;
    uint32_t p, s0, s;
    size_t i;
    (void)n;
    for (p = t->o0 / 16; p < panels; p++) {
        const uint32_t o0 = p * 16, width = t->o1 - o0 < 16 ? t->o1 - o0 : 16;
        for (s0 = t->m0; s0 < t->m1; s0 += F32_TILE)
            f32_tile(y + (size_t)s0 * o + o0, o, x + (size_t)s0 * k, k, w + (size_t)p * k * 16, k,
                     t->m1 - s0 < F32_TILE ? t->m1 - s0 : F32_TILE, b ? b + o0 : NULL, width);
    }
    if (act->act != ECNN_ACT_NONE) /* Relu or Clip over the tile's outputs */
        for (s = t->m0; s < t->m1; s++)
            for (i = (size_t)s * o + t->o0; i < (size_t)s * o + t->o1; i++) y[i] = ecnn_apply_kernel_act(y[i], act);
}

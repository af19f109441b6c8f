/* AArch64 dot-product (SDOT) fully connected int8 kernel over FC_PANEL8X4 weights
 * (kernels_i8.h), weight zero points 0: a 16-byte half of a weight group (4 outputs x 4 k)
 * meets the 4 inputs in one vdotq_s32, straight into 4 int32 output lanes. sdot multiplies int8
 * by int8, so x enters as int8 (uint8 x as x - 128) and the zero point is corrected once:
 * sum (x - zx) w = sum x' w - (zx - off) sum w, with sum w from a dot product with ones. All in
 * wrapping int32 lanes: exact whenever the true sum fits int32 (checked by the loader). */
#include "kernels/arm/neon/neon.h"

ecnn_fc_q_kernel ecnn_fc_q_panel8x4_dotprod;

void ecnn_fc_q_panel8x4_dotprod(void *y, const void *x, const void *w, const int32_t *b, uint32_t n, uint32_t k,
                                uint32_t o, const ecnn_tile *tile, const ecnn_qlinear_params *q)
{
    /* The tile's samples and panels (o0: a multiple of 8; o1 one too, or O) */
    const uint32_t panels = (tile->o1 + 7) / 8, groups = (k + 3) / 4;
    /* x enters sdot as int8: int8 x as is, uint8 x shifted by -128 (flip the top bit). */
    const int is_u8 = q->x_type == ECNN_Q_U8;
    const uint32_t zx_shifted = (uint32_t)(q->x_zero_point - (is_u8 ? 128 : 0));
    const int8x16_t ones = vdupq_n_s8(1);
    uint32_t s, p, g, l;
    (void)n;
    for (s = tile->m0; s < tile->m1; s++) {
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * k;
        for (p = tile->o0 / 8; p < panels; p++) {
            const int8_t *wp = (const int8_t *)w + (size_t)p * 8 * groups * 4;
            const uint32_t o0 = p * 8, width = tile->o1 - o0 < 8 ? tile->o1 - o0 : 8;
            int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0), wlo = vdupq_n_s32(0), whi = vdupq_n_s32(0);
            int32_t sums[8], wsum[8];
            for (g = 0; g < groups; g++) {
                const int8x16_t w0 = vld1q_s8(wp + (size_t)g * 32), w1 = vld1q_s8(wp + (size_t)g * 32 + 16);
                uint8_t t[16];
                int8x16_t xq;
                const uint32_t have = k - g * 4 < 4 ? k - g * 4 : 4;
                memset(t, 0, sizeof t); /* past K the weights are 0: any x will do */
                memcpy(t, xs + (size_t)g * 4, have);
                for (l = 0; l < 4; l++) t[l] = (uint8_t)(t[l] ^ (is_u8 ? 0x80 : 0));
                xq = vreinterpretq_s8_s32(vdupq_n_s32(
                    (int32_t)((uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24)));
                lo = vdotq_s32(lo, w0, xq);
                hi = vdotq_s32(hi, w1, xq);
                wlo = vdotq_s32(wlo, w0, ones);
                whi = vdotq_s32(whi, w1, ones);
            }
            vst1q_s32(sums, lo);
            vst1q_s32(sums + 4, hi);
            vst1q_s32(wsum, wlo);
            vst1q_s32(wsum + 4, whi);
            for (l = 0; l < 8; l++) /* wrapping uint32 arithmetic: exact when the result fits int32 */
                sums[l] = (int32_t)((uint32_t)sums[l] - zx_shifted * (uint32_t)wsum[l]);
            ecnn_q_store_outputs(y, (size_t)s * o + o0, sums, width, o0, b, q);
        }
    }
}

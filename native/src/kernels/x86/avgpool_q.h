/* int8 / uint8 average pooling on one x86 width (kernels_i8.h ecnn_avgpool2d_q_ref's contract and
 * result, bit for bit), over the operations of x86/vq_ops.h: VQ_LANES channels a vector, each
 * lane the reference's steps in its order (global rule: the exact int32 sum, one multiply, the
 * clamp, rne; window rule: sx * (float)(x - zx) added in (ky, kx) order, two divisions, + zy,
 * vcvtps2dq, whose INT32_MIN for NaN and values outside int32 is the reference's cvtps_epi32,
 * then the clamp). The channels past the last whole vector go to the portable kernel, which
 * computes the same. The includer defines VQ_BITS and AVGQ_NAME. */
#include "kernels/kernels_i8.h"
#include "kernels/x86/vq_ops.h"

/* avgq_load_codes: VQ_LANES codes, sign- or zero-extended to int32; avgq_store_codes: VQ_LANES
 * int32 lanes, each a code of the dtype, as bytes (the saturating packs and vpmovdb are exact). */
#if VQ_BITS == 256
static ALWAYS_INLINE __m256i avgq_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}
static ALWAYS_INLINE void avgq_store_codes(uint8_t *p, __m256i v, int u8)
{
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)p, u8 ? _mm_packus_epi16(words, words) : _mm_packs_epi16(words, words));
}
#else
static ALWAYS_INLINE __m512i avgq_load_codes(const uint8_t *p, int u8)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    return u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
}
static ALWAYS_INLINE void avgq_store_codes(uint8_t *p, __m512i v, int u8)
{
    (void)u8;
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(v));
}
#endif

/* MlasQLinearGlobalAveragePool over the whole vectors of channels from o0 to c_end. */
static void global_rule(uint8_t *y, const uint8_t *x, const ecnn_tile *t, uint32_t c_end, const ecnn_pool2d_args *p,
                        const ecnn_qtensor *qx, const ecnn_qtensor *qy)
{
    const int u8 = qx->type == ECNN_Q_U8;
    const uint32_t size = p->h * p->w;
    const float sd = qy->scale * (float)size;
    const vq_f scale = VQF_SET1(qx->scale / sd);
    const vq_f lo = VQF_SET1((float)(ecnn_qtype_min(qx->type) - qy->zero_point));
    const vq_f hi = VQF_SET1((float)(ecnn_qtype_max(qx->type) - qy->zero_point));
    const vq_i offset = VQI_SET1(qx->zero_point * (int32_t)size), zy = VQI_SET1(qy->zero_point);
    uint32_t m, c0, i;
    for (m = t->m0; m < t->m1; m++) {
        const uint8_t *xs = x + (size_t)(m / p->oh) * size * p->c;
        for (c0 = t->o0; c0 < c_end; c0 += VQ_LANES) {
            vq_i acc = VQI_SET1(0);
            vq_f v;
            vq_i q;
            for (i = 0; i < size; i++) acc = VQI_ADD(acc, avgq_load_codes(xs + (size_t)i * p->c + c0, u8));
            v = VQF_MUL(VQI_TO_F(VQI_SUB(acc, offset)), scale);
            v = VQF_BELOW(VQF_ABOVE(v, lo), hi);
            q = VQI_ADD(VQF_CVT(v), zy);
            for (i = 0; i < p->ow; i++) avgq_store_codes(y + ((size_t)m * p->ow + i) * p->c + c0, q, u8);
        }
    }
}

void AVGQ_NAME(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p,
               const ecnn_qtensor *qx, const ecnn_qtensor *qy, int uint8_rounding)
{
    const int u8 = qx->type == ECNN_Q_U8;
    const int32_t shift = !u8 && uint8_rounding ? 128 : 0; /* the rounding domain (kernels_i8.h) */
    const uint32_t c_end = t->o0 + (t->o1 - t->o0) / VQ_LANES * VQ_LANES;
    const vq_i lo = VQI_SET1(ecnn_qtype_min(qx->type) + shift), hi = VQI_SET1(ecnn_qtype_max(qx->type) + shift);
    const vq_i zx = VQI_SET1(qx->zero_point), shift_v = VQI_SET1(shift);
    const vq_f zy = VQF_SET1((float)(qy->zero_point + shift)), sx = VQF_SET1(qx->scale), sy = VQF_SET1(qy->scale);
    const uint8_t *xb = (const uint8_t *)x;
    uint32_t m, ox, c0;
    if (c_end < t->o1) {
        const ecnn_tile rest = {t->m0, t->m1, c_end, t->o1};
        ecnn_avgpool2d_q_portable(y, x, n, &rest, p, qx, qy, uint8_rounding);
    }
    if (p->kh == p->h && p->kw == p->w && (p->pad_top | p->pad_left | p->pad_bottom | p->pad_right) == 0) {
        global_rule((uint8_t *)y, xb, t, c_end, p, qx, qy);
        return;
    }
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const uint8_t *xs = xb + (size_t)s * p->h * p->w * p->c;
        long hs, he, ws, we;
        ecnn_qpool_window(oy, p->stride_h, p->pad_top, p->kh, p->h, &hs, &he);
        for (ox = 0; ox < p->ow; ox++) {
            vq_f count;
            ecnn_qpool_window(ox, p->stride_w, p->pad_left, p->kw, p->w, &ws, &we);
            count = VQF_SET1(ecnn_qpool_count(p, hs, he, ws, we));
            for (c0 = t->o0; c0 < c_end; c0 += VQ_LANES) {
                vq_f acc = VQF_SET1(0.0f), v;
                vq_i q;
                long iy, ix;
                for (iy = hs; iy < he; iy++)
                    for (ix = ws; ix < we; ix++) {
                        const vq_i codes = avgq_load_codes(xs + ((size_t)iy * p->w + (size_t)ix) * p->c + c0, u8);
                        acc = VQF_ADD(acc, VQF_MUL(sx, VQI_TO_F(VQI_SUB(codes, zx))));
                    }
                v = VQF_ADD(VQF_DIV(VQF_DIV(acc, count), sy), zy);
                q = VQI_SUB(VQI_MIN(VQI_MAX(VQF_CVT(v), lo), hi), shift_v);
                avgq_store_codes((uint8_t *)y + ECNN_PIXEL_AT(p, s, oy, ox, p->c) + c0, q, u8);
            }
        }
    }
}

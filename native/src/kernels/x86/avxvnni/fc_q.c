/* AVX-VNNI fully connected int8 kernel (x86/fc_q_vnni.h, whose top comment says why it is
 * exact) on 16 ymm registers with the VEX vpdpbusd of AVX2-class CPUs. One ymm holds a weight
 * group: 8 outputs x 4 k, against the sample's 4 inputs (u bytes) broadcast to every lane. A
 * tile is up to 4 samples x 2 panels: 8 accumulators, 4 inputs, 2 weights, flip. */
#define FQ_VEC __m256i
#define FQ_K 4u
#define TILE_P 2u
#define FQ_KERNEL ecnn_fc_q_panel8x4_avxvnni
#define FQ_ZERO() _mm256_setzero_si256()
#define FQ_SET1_EPI8(c) _mm256_set1_epi8(c)
#define FQ_STREAM_POINTERS 0
#define FQ_STORE16 0
#include "kernels/x86/fc_q_vnni.h"

/* The sample's 4 inputs at x as u bytes in every lane. */
static ALWAYS_INLINE __m256i fq_x(const uint8_t *x, __m256i flip)
{
    int32_t v;
    memcpy(&v, x, 4);
    return _mm256_xor_si256(_mm256_set1_epi32(v), flip); /* a broadcast load and one xor */
}

static ALWAYS_INLINE __m256i fq_x_rest(const uint8_t *x, uint32_t rest, __m256i flip)
{
    return _mm256_xor_si256(_mm256_set1_epi32((int)ecnn_load_upto4(x, rest)), flip);
}

static ALWAYS_INLINE __m256i fq_w(const int8_t *wp)
{
    return _mm256_loadu_si256((const __m256i *)wp);
}

static ALWAYS_INLINE __m256i fq_w_rest(const int8_t *wp, uint32_t rest)
{
    (void)rest; /* one group of 4 k, padded with 0 weights */
    return _mm256_loadu_si256((const __m256i *)wp);
}

static ALWAYS_INLINE __m256i fq_dot(__m256i acc, __m256i x, __m256i w)
{
    return _mm256_dpbusd_avx_epi32(acc, x, w);
}

static ALWAYS_INLINE void fq_store8(uint8_t *y, __m256i acc, const int32_t *bias, const float *scales, uint32_t width,
                                    const rq256_consts *c)
{
    ecnn_fc_q_store8(y, acc, bias, scales, width, c);
}

/* vpdpbusd of c's bytes over the weights, four independent sums per panel (a single chain
 * would wait on vpdpbusd's latency). */
static void column_terms(int32_t *terms, const int8_t *w, size_t panel_bytes, uint32_t k, uint32_t np, uint8_t c)
{
    const __m256i cv = _mm256_set1_epi8((char)c);
    const uint32_t groups = (k + 3) / 4, g4 = groups / 4 * 4; /* the padded weights are 0 */
    uint32_t p, g;
    for (p = 0; p < np; p++) {
        const int8_t *wp = w + p * panel_bytes;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (g = 0; g < g4; g += 4) {
            const __m256i *wg = (const __m256i *)(wp + (size_t)g * 32);
            _mm_prefetch((const char *)wg + ECNN_PREFETCH, _MM_HINT_T0);
            _mm_prefetch((const char *)wg + ECNN_PREFETCH + 64, _MM_HINT_T0);
            a0 = _mm256_dpbusd_avx_epi32(a0, cv, _mm256_loadu_si256(wg));
            a1 = _mm256_dpbusd_avx_epi32(a1, cv, _mm256_loadu_si256(wg + 1));
            a2 = _mm256_dpbusd_avx_epi32(a2, cv, _mm256_loadu_si256(wg + 2));
            a3 = _mm256_dpbusd_avx_epi32(a3, cv, _mm256_loadu_si256(wg + 3));
        }
        for (; g < groups; g++)
            a0 = _mm256_dpbusd_avx_epi32(a0, cv, _mm256_loadu_si256((const __m256i *)(wp + (size_t)g * 32)));
        _mm256_storeu_si256((__m256i *)(terms + p * 8),
                            _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)));
    }
}

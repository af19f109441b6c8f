/* AVX-512 depthwise float conv (CONV_2D with group == C == O) over HWIO weights
 * (x86/conv_f32_dw.h): blocks of up to 4 pixels x 64 channels (four zmm each, the last 1..15
 * channels under an opmask), one vfmadd per term (every AVX-512 CPU has FMA) in the
 * reference order, then the bias: bit-identical to ecnn_conv2d_f32_ref_fma. */
#define VF_BITS 512
#include "kernels/x86/vec_f32.h"

/* The opmask of a block's last vector (the others are whole). */
typedef __mmask16 dw_mask;

static ALWAYS_INLINE dw_mask dw_lanes(dw_mask last, uint32_t v, uint32_t nv)
{
    return v == nv - 1 ? last : (__mmask16)0xFFFFu;
}

static ALWAYS_INLINE __m512 dw_load(const float *p, uint32_t v, dw_mask k)
{
    return _mm512_maskz_loadu_ps(k, p + 16 * v);
}

static ALWAYS_INLINE void dw_store(float *p, uint32_t v, dw_mask k, __m512 r)
{
    _mm512_mask_storeu_ps(p + 16 * v, k, r);
}

#define DW_PIX 4u  /* 16 accumulators + 4 weight vectors + 1 input vector of the 32 zmm registers */
#define DW_VECS 4u /* 64 channels */
#define DW_KERNEL ecnn_conv2d_f32_dw_avx512
#include "kernels/x86/conv_f32_dw.h"

static void dw_block(float *yp, const float *xp, const conv_geom *g, const float *wp, const float *b, uint32_t nky,
                     uint32_t nkx, uint32_t np, uint32_t count)
{
    uint32_t c0;
    for (c0 = 0; c0 < count;) {
        const uint32_t width = count - c0 < 64 ? count - c0 : 64, nv = (width + 15) / 16;
        const __mmask16 last = (__mmask16)(width % 16 ? (1u << (width % 16)) - 1u : 0xFFFFu);
        float *yc = yp + c0;
        const float *xc = xp + c0, *wc = wp + c0, *bc = b ? b + c0 : NULL;
#define DW_CASE(NP, NV) dw_tile(yc, xc, g, wc, bc, nky, nkx, NP, NV, last)
#define DW_NP(NV)                                                                                                      \
    switch (np) {                                                                                                      \
    case 1: DW_CASE(1, NV); break;                                                                                     \
    case 2: DW_CASE(2, NV); break;                                                                                     \
    case 3: DW_CASE(3, NV); break;                                                                                     \
    default: DW_CASE(4, NV); break;                                                                                    \
    }
        switch (nv) {
        case 1: DW_NP(1) break;
        case 2: DW_NP(2) break;
        case 3: DW_NP(3) break;
        default: DW_NP(4) break;
        }
#undef DW_NP
#undef DW_CASE
        c0 += width;
    }
}

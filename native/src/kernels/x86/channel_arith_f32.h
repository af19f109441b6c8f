/* Float CHANNEL_ARITH on one x86 width (kernels.h ecnn_channel_arith_f32_ref's contract and
 * result, bit for bit): VQ_LANES channels a vector, one IEEE operation per element as in the
 * reference (vaddps, vsubps, vmulps, vdivps; MUL_ADD a vmulps then a vaddps, no fused
 * multiply-add, and MUL_ADD_RELU a vmaxps with 0 after them), each vector loaded before
 * it is stored (y may be x); a row's last channels are one masked vector. In place, the next
 * row's loads wait on that masked store (Zen 5: a 16x16x24 batch norm 1.9 instead of 0.9 us with
 * AVX-512), so a level whose rows would end in a partial vector hands them to ARITH_NARROW (the
 * AVX2 kernel, 8 lanes) when the includer names one. The includer defines VQ_BITS and ARITH_NAME. */
#include "kernels/kernels.h"
#include "kernels/x86/vq_ops.h"

/* The first `n` lanes (n < VQ_LANES) of a vector: its mask, masked load (other lanes 0) and store. */
#if VQ_BITS == 256
#define VQF_SUB(a, b) _mm256_sub_ps(a, b)
typedef __m256i part_mask;
#define PART_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define VQF_LOAD_PART(p, m) _mm256_maskload_ps(p, m)
#define VQF_STORE_PART(p, m, v) _mm256_maskstore_ps(p, m, v)
#else
#define VQF_SUB(a, b) _mm512_sub_ps(a, b)
typedef __mmask16 part_mask;
#define PART_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define VQF_LOAD_PART(p, m) _mm512_maskz_loadu_ps(m, p)
#define VQF_STORE_PART(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#endif

/* The operations on A and B; BV, MUL_ADD's B vector, is an expression only those two evaluate
 * (b may be NULL for the others). */
#define ARITH_ADD(a, b, bv) VQF_ADD(a, b)
#define ARITH_SUB(a, b, bv) VQF_SUB(a, b)
#define ARITH_MUL(a, b, bv) VQF_MUL(a, b)
#define ARITH_DIV(a, b, bv) VQF_DIV(a, b)
#define ARITH_MUL_ADD(a, b, bv) VQF_ADD(VQF_MUL(a, b), bv)
#define ARITH_MUL_ADD_RELU(a, b, bv) VQF_ABOVE(VQF_ADD(VQF_MUL(a, b), bv), VQF_SET1(0.0f))

/* Every row: yr[i..] = OP(A, B, BV), kv the constant vector of channels i.. and BV their B
 * (KV_PART, BV_PART: of the last). */
#define ARITH_VECTORS(KV, KV_PART, BV, BV_PART, OP, A, B)                                                              \
    for (r = 0; r < rows; r++) {                                                                                       \
        const float *xr = x + (size_t)r * c;                                                                           \
        float *yr = y + (size_t)r * c;                                                                                 \
        for (i = 0; i < c_end; i += VQ_LANES) {                                                                        \
            const vq_f xv = VQF_LOAD(xr + i), kv = (KV);                                                               \
            VQF_STORE(yr + i, OP(A, B, BV));                                                                           \
        }                                                                                                              \
        if (c_end < c) {                                                                                               \
            const vq_f xv = VQF_LOAD_PART(xr + i, last), kv = (KV_PART);                                               \
            VQF_STORE_PART(yr + i, last, OP(A, B, BV_PART));                                                           \
        }                                                                                                              \
    }
#define ARITH_OPS(KV, KV_PART, BV, BV_PART, A, B)                                                                      \
    switch (func) {                                                                                                    \
    case ECNN_ARITH_ADD: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_ADD, A, B) break;                               \
    case ECNN_ARITH_SUB: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_SUB, A, B) break;                               \
    case ECNN_ARITH_MUL: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_MUL, A, B) break;                               \
    case ECNN_ARITH_DIV: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_DIV, A, B) break;                               \
    case ECNN_ARITH_MUL_ADD: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_MUL_ADD, A, B) break;                       \
    default: ARITH_VECTORS(KV, KV_PART, BV, BV_PART, ARITH_MUL_ADD_RELU, A, B) break;                                  \
    }

void ARITH_NAME(float *y, const float *x, const float *k, const float *b, uint32_t k_count, size_t rows, uint32_t c,
                uint32_t func, uint32_t const_first)
{
    uint32_t c_end, i;
    size_t r;
    part_mask last;
#ifdef ARITH_NARROW
    if (k_count != 1 && c % VQ_LANES != 0) {
        ARITH_NARROW(y, x, k, b, k_count, rows, c, func, const_first);
        return;
    }
#endif
    if (k_count == 1 && rows * c <= UINT32_MAX) { /* one constant: the rows are one flat row */
        c = (uint32_t)(rows * c);
        rows = 1;
    }
    c_end = c / VQ_LANES * VQ_LANES;
    last = PART_MASK(c - c_end);
    if (k_count == 1) {
        if (const_first) {
            ARITH_OPS(VQF_SET1(k[0]), VQF_SET1(k[0]), VQF_SET1(b[0]), VQF_SET1(b[0]), kv, xv)
        } else {
            ARITH_OPS(VQF_SET1(k[0]), VQF_SET1(k[0]), VQF_SET1(b[0]), VQF_SET1(b[0]), xv, kv)
        }
    } else if (const_first) {
        ARITH_OPS(VQF_LOAD(k + i), VQF_LOAD_PART(k + i, last), VQF_LOAD(b + i), VQF_LOAD_PART(b + i, last), kv, xv)
    } else {
        ARITH_OPS(VQF_LOAD(k + i), VQF_LOAD_PART(k + i, last), VQF_LOAD(b + i), VQF_LOAD_PART(b + i, last), xv, kv)
    }
}

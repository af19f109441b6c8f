/* AVX2 max pooling of float, int8 or uint8 values (type: ECNN_POOL_F32 or an ecnn_qtype), any C:
 * each 64-, 32-, 16-, 4- or 1-byte chunk of an output pixel is the max of its window's
 * inputs in registers (taps walked by pointer steps), stored after every tap of the chunk was
 * read (so in place works as for the portable kernels). Float: _mm256_max_ps(v, m) is
 * v > m ? v : m, the reference's compare (NaN and -0 / +0 ties keep the running max); the
 * lanes beyond a short chunk are not stored. pool_max* are inlined with a constant type: no
 * type test per tap. */
#include "kernels/x86/x86.h"

ecnn_maxpool2d_kernel ecnn_maxpool2d_avx2;

static ALWAYS_INLINE __m256i pool_max32(__m256i m, __m256i v, int type)
{
    if (type == ECNN_POOL_F32)
        return _mm256_castps_si256(_mm256_max_ps(_mm256_castsi256_ps(v), _mm256_castsi256_ps(m)));
    return type == ECNN_Q_U8 ? _mm256_max_epu8(m, v) : _mm256_max_epi8(m, v);
}
static ALWAYS_INLINE __m128i pool_max16(__m128i m, __m128i v, int type)
{
    if (type == ECNN_POOL_F32) return _mm_castps_si128(_mm_max_ps(_mm_castsi128_ps(v), _mm_castsi128_ps(m)));
    return type == ECNN_Q_U8 ? _mm_max_epu8(m, v) : _mm_max_epi8(m, v);
}

/* The first `bytes` (16, 4 or 1) bytes at p in an xmm register / stored back. */
static ALWAYS_INLINE __m128i pool_load(const uint8_t *p, uint32_t bytes)
{
    int32_t v;
    if (bytes == 16) return _mm_loadu_si128((const __m128i *)p);
    if (bytes == 1) return _mm_cvtsi32_si128(*p);
    memcpy(&v, p, 4);
    return _mm_cvtsi32_si128(v);
}
static ALWAYS_INLINE void pool_store(uint8_t *p, __m128i m, uint32_t bytes)
{
    int32_t v = _mm_cvtsi128_si32(m);
    if (bytes == 16)
        _mm_storeu_si128((__m128i *)p, m);
    else if (bytes == 1)
        *p = (uint8_t)v;
    else
        memcpy(p, &v, 4);
}

/* Bytes [c, c + bytes) of one output pixel (an xmm register or part of one). */
static ALWAYS_INLINE void pool_chunk(uint8_t *yp, const uint8_t *x0, size_t c, size_t step_y, size_t step_x,
                                     uint32_t nky, uint32_t nkx, int type, uint32_t bytes)
{
    const uint8_t *rp = x0 + c;
    __m128i m = pool_load(rp, bytes);
    uint32_t ky, kx;
    for (ky = 0; ky < nky; ky++, rp += step_y) {
        const uint8_t *tp = rp;
        for (kx = 0; kx < nkx; kx++, tp += step_x) m = pool_max16(m, pool_load(tp, bytes), type);
    }
    pool_store(yp + c, m, bytes);
}

static void pool_tail(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x, uint32_t nky,
                      uint32_t nkx, int type);

/* One output pixel: x0 its window's first tap inside x, nky x nky taps step_y / step_x apart;
 * chunks of 64, 32 and 16 bytes, the rest (row % 16 bytes) in pool_tail. */
static ALWAYS_INLINE void pool_pixel(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x,
                                     uint32_t nky, uint32_t nkx, int type)
{
    uint32_t ky, kx;
    size_t c = 0;
    for (; c + 64 <= row; c += 64) { /* two registers: the float C = 16 of a small CNN in one pass */
        const uint8_t *rp = x0 + c;
        __m256i m0 = _mm256_loadu_si256((const __m256i *)rp), m1 = _mm256_loadu_si256((const __m256i *)(rp + 32));
        for (ky = 0; ky < nky; ky++, rp += step_y) {
            const uint8_t *tp = rp;
            for (kx = 0; kx < nkx; kx++, tp += step_x) {
                m0 = pool_max32(m0, _mm256_loadu_si256((const __m256i *)tp), type);
                m1 = pool_max32(m1, _mm256_loadu_si256((const __m256i *)(tp + 32)), type);
            }
        }
        _mm256_storeu_si256((__m256i *)(yp + c), m0);
        _mm256_storeu_si256((__m256i *)(yp + c + 32), m1);
    }
    if (c + 32 <= row) {
        const uint8_t *rp = x0 + c;
        __m256i m = _mm256_loadu_si256((const __m256i *)rp);
        for (ky = 0; ky < nky; ky++, rp += step_y) {
            const uint8_t *tp = rp;
            for (kx = 0; kx < nkx; kx++, tp += step_x) m = pool_max32(m, _mm256_loadu_si256((const __m256i *)tp), type);
        }
        _mm256_storeu_si256((__m256i *)(yp + c), m);
        c += 32;
    }
    if (c + 16 <= row) {
        pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 16);
        c += 16;
    }
    if (c < row) pool_tail(yp, x0, row, step_y, step_x, nky, nkx, type);
}

/* The last row % 16 bytes of pool_pixel's row, one copy for the three types (a type test
 * per tap; channel counts not a multiple of 16 bytes are rare): 4-byte chunks (the last one
 * ending at the row's end), int8 rows under 4 bytes byte by byte. The last chunk may overlap
 * those before it: recomputing a max is harmless, in place too (the only input an in-place
 * output overwrites is its own first tap, and a window's max folded in again as its first
 * tap leaves the result unchanged, bit for bit under the float compare). */
static NOINLINE void pool_tail(uint8_t *yp, const uint8_t *x0, size_t row, size_t step_y, size_t step_x, uint32_t nky,
                               uint32_t nkx, int type)
{
    size_t c;
    if (row >= 4) {
        for (c = row / 16 * 16; c + 4 < row; c += 4) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 4);
        pool_chunk(yp, x0, row - 4, step_y, step_x, nky, nkx, type, 4);
    } else if (type != ECNN_POOL_F32) { /* int8, C = 1..3 */
        for (c = 0; c < row; c++) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 1);
    }
}

/* A run of pixels of one output row whose windows lie wholly inside the row, stride_w and
 * dilation_w 1, every channel: its outputs are `bytes` contiguous bytes, byte i the max of the
 * taps' bytes i (x0 the first pixel's first tap, kx steps one pixel), so whole registers of
 * neighbouring pixels at once. No chunk is recomputed (in place, a later chunk would read
 * outputs stored over its taps): registers, then 4-byte and 1-byte chunks. */
static ALWAYS_INLINE void pool_run(uint8_t *yp, const uint8_t *x0, size_t bytes, size_t step_y, size_t step_x,
                                   uint32_t nky, uint32_t nkx, int type)
{
    size_t c = bytes / 16 * 16;
    pool_pixel(yp, x0, c, step_y, step_x, nky, nkx, type);
    for (; c + 4 <= bytes; c += 4) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 4);
    for (; c < bytes; c++) pool_chunk(yp, x0, c, step_y, step_x, nky, nkx, type, 1); /* int8 only */
}

static ALWAYS_INLINE void maxpool2d_avx2_typed(void *y, const void *x, const ecnn_tile *t, const ecnn_pool2d_args *p,
                                               int type)
{
    const size_t esize = type == ECNN_POOL_F32 ? 4 : 1, row = (size_t)p->c * esize;
    const size_t first = t->o0 * esize, bytes = (t->o1 - t->o0) * esize; /* the tile's channels of a pixel */
    const size_t step_y = (size_t)p->dilation_h * p->w * row, step_x = (size_t)p->dilation_w * row;
    const int64_t span_x = (int64_t)(p->kw - 1) * p->dilation_w;
    /* the columns whose windows lie inside the row, in runs (pool_run) when whole pixels are contiguous */
    const int runs = p->stride_w == 1 && p->dilation_w == 1 && bytes == row;
    uint32_t in0, in1, m, ox;
    ecnn_window_full_columns(p->w, p->ow, p->kw, p->stride_w, p->pad_left, p->dilation_w, &in0, &in1);
    for (m = t->m0; m < t->m1; m++) {
        const uint32_t s = m / p->oh, oy = m % p->oh;
        const uint8_t *xs = (const uint8_t *)x + (size_t)s * p->h * p->w * row + first;
        {
            uint32_t ky0, ky1;
            const uint8_t *xr; /* first tap row of this output row, at ix = 0 */
            ecnn_tap_range(oy, p->stride_h, p->pad_top, p->dilation_h, p->kh, p->h, &ky0, &ky1);
            xr = xs + ((size_t)oy * p->stride_h + (size_t)ky0 * p->dilation_h - p->pad_top) * p->w * row;
            for (ox = 0; ox < p->ow; ox++) {
                uint8_t *yp = (uint8_t *)y + (((size_t)s * p->oh + oy) * p->ow + ox) * row + first;
                const int64_t ix = (int64_t)ox * p->stride_w - p->pad_left;
                uint32_t kx0 = 0, kx1 = p->kw;
                if (runs && ox == in0 && in1 > in0 + 1) {
                    pool_run(yp, xr + (size_t)ix * row, (size_t)(in1 - in0) * row, step_y, step_x, ky1 - ky0, p->kw,
                             type);
                    ox = in1 - 1;
                    continue;
                }
                if (ix < 0 || ix + span_x >= p->w) /* padded window: skip the taps outside */
                    ecnn_tap_range(ox, p->stride_w, p->pad_left, p->dilation_w, p->kw, p->w, &kx0, &kx1);
                pool_pixel(yp, xr + ((size_t)ox * p->stride_w + (size_t)kx0 * p->dilation_w - p->pad_left) * row, bytes,
                           step_y, step_x, ky1 - ky0, kx1 - kx0, type);
            }
        }
    }
}

void ecnn_maxpool2d_avx2(void *y, const void *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p, int type)
{
    (void)n; /* rows and channels come from the tile */
    if (type == ECNN_POOL_F32)
        maxpool2d_avx2_typed(y, x, t, p, ECNN_POOL_F32);
    else if (type == ECNN_Q_U8)
        maxpool2d_avx2_typed(y, x, t, p, ECNN_Q_U8);
    else
        maxpool2d_avx2_typed(y, x, t, p, ECNN_Q_I8);
}

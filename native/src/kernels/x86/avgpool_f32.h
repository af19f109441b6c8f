/* Float average pooling on one x86 width (kernels.h ecnn_avgpool2d_f32_ref's contract and result,
 * bit for bit): each lane one channel, the window's positions inside x added in (ky, kx) order to
 * a +0 start, then one division by the count, as the reference does per element. Up to
 * AVGF_VECS vectors of channels are summed in registers across the window (the last under a lane
 * mask), so a pixel costs one load and one add per vector and tap. The includer defines VF_BITS
 * (vec_f32.h) and AVGF_NAME. */
#include "kernels/x86/vec_f32.h"

#define AVGF_VECS 4u /* vectors of channels a block: 4 sums in flight cover the add latency */

/* One output pixel's channels from c0: nfull whole vectors, then (tail) one under `last`'s lanes
 * (whole vectors take plain loads and stores: an AVX2 masked store costs many micro-ops on AMD). */
static ALWAYS_INLINE void avgf_block(float *yp, const float *xs, const ecnn_pool2d_args *p, uint32_t oy, uint32_t ox,
                                     uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1, VF count, uint32_t c0,
                                     const uint32_t nfull, const int tail, vf_mask last)
{
    VF acc[AVGF_VECS];
    uint32_t ky, kx, v;
    for (v = 0; v < nfull + (uint32_t)tail; v++) acc[v] = VF_ZERO();
    for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
            const float *xp = xs + ECNN_TAP_AT(p, oy, ox, ky, kx) + c0;
            for (v = 0; v < nfull; v++) acc[v] = VF_ADD(acc[v], VF_LOADU(xp + v * VF_LANES));
            if (tail) acc[nfull] = VF_ADD(acc[nfull], VF_MASK_LOAD(xp + nfull * VF_LANES, last));
        }
    for (v = 0; v < nfull; v++) VF_STOREU(yp + c0 + v * VF_LANES, VF_DIV(acc[v], count));
    if (tail) VF_MASK_STORE(yp + c0 + nfull * VF_LANES, VF_DIV(acc[nfull], count), last);
}

void AVGF_NAME(float *y, const float *x, uint32_t n, const ecnn_tile *t, const ecnn_pool2d_args *p)
{
    uint32_t m, s, oy, ox, ky0, ky1, kx0, kx1, c0;
    (void)n;
    ECNN_FOR_EACH_PIXEL(p, t, m, s, oy, ox, ky0, ky1, kx0, kx1)
    {
        const float *xs = x + (size_t)s * p->h * p->w * p->c;
        float *yp = y + ECNN_PIXEL_AT(p, s, oy, ox, p->c);
        const VF count = VF_SET1(ecnn_avgpool_count(p, oy, ox));
        for (c0 = t->o0; c0 < t->o1; c0 += AVGF_VECS * VF_LANES) {
            const uint32_t rest = t->o1 - c0 < AVGF_VECS * VF_LANES ? t->o1 - c0 : AVGF_VECS * VF_LANES;
            const uint32_t nfull = rest / VF_LANES, tail = rest % VF_LANES != 0;
            const vf_mask last = VF_MASK(rest % VF_LANES);
#define AVGF_CASE(NFULL, TAIL)                                                                                         \
    case NFULL * 2 + TAIL: avgf_block(yp, xs, p, oy, ox, ky0, ky1, kx0, kx1, count, c0, NFULL, TAIL, last); break;
            switch (nfull * 2 + tail) { /* constant counts of sums in each copy: they stay in registers */
                AVGF_CASE(0, 1)
                AVGF_CASE(1, 0)
                AVGF_CASE(1, 1)
                AVGF_CASE(2, 0)
                AVGF_CASE(2, 1)
                AVGF_CASE(3, 0)
                AVGF_CASE(3, 1)
            default: avgf_block(yp, xs, p, oy, ox, ky0, ky1, kx0, kx1, count, c0, AVGF_VECS, 0, last); break;
            }
#undef AVGF_CASE
        }
    }
}

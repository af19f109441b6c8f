#include "test_kernels.h"

/* ---- the tiling contract (kernels.h ecnn_tile): a kernel run on one tile writes exactly the
 * tile's outputs, each the value the whole run gives, whatever the tile. Random tilings: rows
 * cut anywhere, channels at multiples of the op's grain (FC 64, conv and pooling 16; a grouped
 * conv is not cut by channels). ------------------------------------------------------------- */

typedef struct {
    int kind; /* which kernel: TK_* */
    const void *x, *w, *b;
    uint32_t n, k, o; /* FC */
    const ecnn_act_params *act;
    const ecnn_conv2d_args *conv;
    const ecnn_pool2d_args *pool;
    const ecnn_qlinear_params *q;
    const ecnn_qtensor *qx, *qy;
    int type; /* max pool */
} tile_case;

enum {
    TK_FC_F32,
    TK_FC_F32_REF,
    TK_FC_G4,
    TK_FC_G4_REF,
    TK_FC_Q,
    TK_FC_Q_REF,
    TK_CONV_F32,
    TK_CONV_F32_REF,
    TK_CONV_Q,
    TK_CONV_Q_REF,
    TK_MAX,
    TK_MAX_F32_REF,
    TK_MAX_Q_REF,
    TK_AVG_F32,
    TK_AVG_F32_REF,
    TK_AVG_Q,
    TK_AVG_Q_REF
};

static void run_tile(const tile_case *c, void *y, const ecnn_tile *t)
{
    switch (c->kind) {
    case TK_FC_F32:
        run_fc_f32_fast(ECNN_KERNEL(ecnn_fc_config, f32, isa), y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act);
        break;
    case TK_FC_F32_REF:
        ECNN_KERNEL(ecnn_fc_config, ref, isa)
            ->fn(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act, ECNN_LAYOUT_FC_PANEL16);
        break;
    case TK_FC_G4:
        run_fc_f32_fast(ECNN_KERNEL(ecnn_fc_config, g4, isa), y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act);
        break;
    case TK_FC_G4_REF:
        ecnn_fully_connected_g4_f32_ref(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->act, ECNN_LAYOUT_FC_PANEL16);
        break;
    case TK_FC_Q: ECNN_KERNEL(ecnn_fc_config, q, isa)->fn(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->q); break;
    case TK_FC_Q_REF: ecnn_fully_connected_q_ref(y, c->x, c->w, c->b, c->n, c->k, c->o, t, c->q); break;
    case TK_CONV_F32: run_conv_f32_fast(y, c->x, c->w, c->b, c->n, t, c->conv); break;
    case TK_CONV_F32_REF: ECNN_KERNEL(ecnn_conv2d_config, ref, isa)->fn(y, c->x, c->w, c->b, c->n, t, c->conv); break;
    case TK_CONV_Q:
        ecnn_conv2d_q_hwio(y, c->x, c->w, c->b, c->n, t, c->conv, c->q, &ECNN_KERNEL(ecnn_conv2d_config, q, isa)->uk);
        break;
    case TK_CONV_Q_REF: ecnn_conv2d_q_ref(y, c->x, c->w, c->b, c->n, t, c->conv, c->q); break;
    case TK_MAX: ECNN_KERNEL(ecnn_pool2d_config, max, isa)->fn(y, c->x, c->n, t, c->pool, c->type); break;
    case TK_MAX_F32_REF: ecnn_maxpool2d_f32_ref(y, c->x, c->n, t, c->pool); break;
    case TK_MAX_Q_REF: ecnn_maxpool2d_q_ref(y, c->x, c->n, t, c->pool, (ecnn_qtype)c->type); break;
    case TK_AVG_F32: ECNN_KERNEL(ecnn_pool2d_config, avg, isa)->fn(y, c->x, c->n, t, c->pool); break;
    case TK_AVG_F32_REF: ecnn_avgpool2d_f32_ref(y, c->x, c->n, t, c->pool); break;
    case TK_AVG_Q: ECNN_KERNEL(ecnn_pool2d_config, avg_q, isa)->fn(y, c->x, c->n, t, c->pool, c->qx, c->qy, 1); break;
    default: ecnn_avgpool2d_q_ref(y, c->x, c->n, t, c->pool, c->qx, c->qy, 1); break;
    }
}

/* Cuts [0, len) at random multiples of `grain` (up to 3 cuts): cuts[0] = 0 ... cuts[count] = len. */
static uint32_t random_cuts(uint32_t *cuts, uint32_t len, uint32_t grain)
{
    uint32_t count = 0, units = (len + grain - 1) / grain, i, j;
    cuts[count++] = 0;
    for (i = 0; i < 3 && units > 1; i++) {
        const uint32_t at = (1 + next_u32() % (units - 1)) * grain;
        for (j = 0; j < count && cuts[j] != at; j++) continue;
        if (j == count) cuts[count++] = at;
    }
    cuts[count] = len;
    for (i = 1; i < count; i++) /* sort */
        for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            const uint32_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    return count;
}

/* Runs case c tile by tile over y (rows x pixels x chans elements of esize bytes), each tile on
 * a buffer of sentinel bytes, and checks it against `whole` inside the tile and the sentinel
 * outside. Returns 0 on the first mismatch. */
static int check_tiling(const tile_case *c, uint8_t *y, const uint8_t *whole, size_t esize, uint32_t rows,
                        uint32_t pixels, uint32_t chans, uint32_t grain)
{
    uint32_t rc[5], cc[5], nr, nc, i, j, m, px, ch;
    const size_t bytes = (size_t)rows * pixels * chans * esize;
    nr = random_cuts(rc, rows, 1);
    nc = grain ? random_cuts(cc, chans, grain) : (cc[0] = 0, cc[1] = chans, 1u);
    for (i = 0; i < nr; i++)
        for (j = 0; j < nc; j++) {
            const ecnn_tile t = {rc[i], rc[i + 1], cc[j], cc[j + 1]};
            memset(y, 0xCD, bytes);
            run_tile(c, y, &t);
            for (m = 0; m < rows; m++)
                for (px = 0; px < pixels; px++)
                    for (ch = 0; ch < chans; ch++) {
                        const size_t at = (((size_t)m * pixels + px) * chans + ch) * esize;
                        const int inside = m >= t.m0 && m < t.m1 && ch >= t.o0 && ch < t.o1;
                        size_t e;
                        for (e = 0; e < esize; e++)
                            if (y[at + e] != (inside ? whole[at + e] : 0xCD)) {
                                fprintf(stderr,
                                        "  kernel %d: tile rows [%u, %u) channels [%u, %u): output (%u, %u, %u) %s\n",
                                        c->kind, t.m0, t.m1, t.o0, t.o1, m, px, ch,
                                        inside ? "differs" : "written outside");
                                return 0;
                            }
                    }
        }
    return 1;
}

void test_tiles(void)
{
    static float fx[4 * 9 * 9 * 70], fw[72 * 3 * 3 * 70], fwh[72 * 3 * 3 * 70], fb[MAX_O], fy[4 * 11 * 11 * 72],
        fwhole[4 * 11 * 11 * 72];
    static uint8_t qx8[4 * 9 * 9 * 70], qw8[72 * 3 * 3 * 70], qwh8[72 * 3 * 3 * 70], qy8[4 * 11 * 11 * 72],
        qwhole[4 * 11 * 11 * 72];
    static int32_t qb32[MAX_O];
    float w_scales[MAX_O];
    int32_t w_zero[MAX_O];
    uint32_t trial, i;
    for (i = 0; i < MAX_O; i++) {
        w_scales[i] = 0.002f + 0.0001f * (float)i;
        w_zero[i] = 0;
        fb[i] = frand();
        qb32[i] = irand(-3000, 3000);
    }
    for (trial = 0; trial < 60; trial++) {
        ecnn_qlinear_params q;
        ecnn_act_params act;
        tile_case c;
        memset(&c, 0, sizeof c);
        memset(&q, 0, sizeof q);
        act.act = trial % 3;
        act.act_p0 = 0.1f;
        act.act_p1 = 0.5f;
        q.x_type = trial % 2 ? ECNN_Q_U8 : ECNN_Q_I8;
        q.w_type = ECNN_Q_I8;
        q.y_type = trial % 3 ? ECNN_Q_I8 : ECNN_Q_U8;
        q.x_scale = 0.03f;
        q.x_zero_point = irand(ecnn_qtype_min(q.x_type), ecnn_qtype_max(q.x_type));
        q.w_count = MAX_O;
        q.w_scales = w_scales;
        q.w_zero_points = w_zero;
        q.y_scale = 0.2f;
        q.y_zero_point = 3;
        q.y_min = ecnn_qtype_min(q.y_type);
        q.y_max = ecnn_qtype_max(q.y_type);
        c.act = &act;
        c.q = &q;
        { /* FC: float and int8, packed (fast) and reference */
            const uint32_t n = 1 + trial % 9, k = 1 + next_u32() % 300, o = 1 + next_u32() % MAX_O;
            const uint32_t layout = trial % 4 == 1 ? ECNN_LAYOUT_FC_PANEL8X4_W64 : ECNN_LAYOUT_FC_PANEL8X4;
            uint32_t j, t;
            for (i = 0; i < n * k; i++) xf[i] = frand(), xq[i] = (uint8_t)irand(0, 255);
            for (i = 0; i < o * k; i++) wf[i] = frand(), wq[i] = (int8_t)irand(-64, 64);
            pack_f32(wf_packed, wf, o, k, ECNN_LAYOUT_FC_PANEL16);
            memset(wq_packed, 0, (size_t)ecnn_fc_w_elems(layout, o, k));
            for (j = 0; j < o; j++)
                for (t = 0; t < k; t++) wq_packed[ecnn_fc_w_index(layout, j, t, k)] = wq[(size_t)j * k + t];
            c.n = n, c.k = k, c.o = o;
            c.x = xf, c.w = wf_packed, c.b = trial % 2 ? fb : NULL;
            for (c.kind = TK_FC_F32; c.kind <= TK_FC_G4_REF; c.kind++) { /* FULLY_CONNECTED's and G4's */
                run_tile(&c, fwhole, WHOLE(n, o));
                CHECK(check_tiling(&c, (uint8_t *)fy, (const uint8_t *)fwhole, 4, n, 1, o, ECNN_TILE_O_FC));
            }
            q.w_layout = layout;
            c.x = xq, c.w = wq_packed, c.b = trial % 2 ? qb32 : NULL;
            for (c.kind = TK_FC_Q; c.kind <= TK_FC_Q_REF; c.kind++) {
                run_tile(&c, qwhole, WHOLE(n, o));
                CHECK(check_tiling(&c, qy8, qwhole, 1, n, 1, o, ECNN_TILE_O_FC));
            }
            q.w_layout = ECNN_LAYOUT_PLAIN;
        }
        { /* conv: float and int8, HWIO (fast) and reference, any geometry */
            ecnn_conv2d_args p;
            const uint32_t n = 1 + trial % 3;
            uint32_t rows, grain;
            random_conv(&p, trial);
            rows = n * p.oh;
            grain = p.group == 1 || (p.group == p.c && p.o == p.c) ? ECNN_TILE_O_CONV : 0;
            for (i = 0; i < n * p.h * p.w * p.c; i++) fx[i] = frand(), qx8[i] = (uint8_t)irand(0, 255);
            for (i = 0; i < p.o * p.kh * p.kw * (p.c / p.group); i++) fw[i] = frand(), qw8[i] = (uint8_t)irand(0, 255);
            to_hwio(fwh, fw, &p, sizeof(float));
            to_hwio(qwh8, qw8, &p, 1);
            p.w_layout = ECNN_LAYOUT_CONV_HWIO;
            q.w_count = 1;
            c.conv = &p;
            c.n = n;
            c.x = fx, c.w = fwh, c.b = trial % 2 ? fb : NULL;
            for (c.kind = TK_CONV_F32; c.kind <= TK_CONV_F32_REF; c.kind++) {
                run_tile(&c, fwhole, WHOLE(rows, p.o));
                CHECK(check_tiling(&c, (uint8_t *)fy, (const uint8_t *)fwhole, 4, rows, p.ow, p.o, grain));
            }
            c.x = qx8, c.w = qwh8, c.b = trial % 2 ? qb32 : NULL;
            for (c.kind = TK_CONV_Q; c.kind <= TK_CONV_Q_REF; c.kind++) {
                if (c.kind == TK_CONV_Q && !ecnn_conv2d_q_hwio_fits(&p)) continue;
                run_tile(&c, qwhole, WHOLE(rows, p.o));
                CHECK(check_tiling(&c, qy8, qwhole, 1, rows, p.ow, p.o, grain));
            }
            q.w_count = MAX_O;
        }
        { /* pooling: max (the level's kernel, float and int8, and the references), average */
            ecnn_pool2d_args p;
            ecnn_qtensor qx, qy;
            const uint32_t n = 1 + trial % 4;
            memset(&p, 0, sizeof p);
            p.c = 1 + next_u32() % 70;
            p.kh = p.kw = 2 + trial % 2;
            p.stride_h = p.stride_w = 1 + trial % 2;
            p.dilation_h = p.dilation_w = 1;
            p.pad_top = p.pad_left = trial % 3 == 0;
            p.pad_bottom = p.pad_right = 0;
            p.h = 5 + trial % 4;
            p.w = 6;
            p.oh = (p.h + p.pad_top - p.kh) / p.stride_h + 1;
            p.ow = (p.w + p.pad_left - p.kw) / p.stride_w + 1;
            p.count_include_pad = trial % 2;
            qx.type = qy.type = (ecnn_qtype)(trial % 2);
            qx.scale = 0.05f, qy.scale = 0.04f;
            qx.zero_point = qy.zero_point = trial % 2 ? 128 : 0;
            for (i = 0; i < n * p.h * p.w * p.c; i++) fx[i] = frand(), qx8[i] = (uint8_t)irand(0, 255);
            c.pool = &p;
            c.n = n;
            c.qx = &qx, c.qy = &qy;
            for (c.kind = TK_MAX; c.kind <= TK_AVG_Q_REF; c.kind++) {
                const int f32 = c.kind == TK_MAX_F32_REF || c.kind == TK_AVG_F32 || c.kind == TK_AVG_F32_REF ||
                                (c.kind == TK_MAX && trial % 3 == 1);
                c.type = c.kind == TK_MAX && f32 ? ECNN_POOL_F32 : (int)qx.type;
                c.x = f32 ? (const void *)fx : (const void *)qx8;
                run_tile(&c, f32 ? (void *)fwhole : (void *)qwhole, WHOLE(n * p.oh, p.c));
                CHECK(check_tiling(&c, f32 ? (uint8_t *)fy : qy8, f32 ? (const uint8_t *)fwhole : qwhole, f32 ? 4 : 1,
                                   n * p.oh, p.ow, p.c, ECNN_TILE_O_CONV));
            }
        }
    }
}

/* A float conv (random operands, bias when with_bias): the level's kernel against the reference
 * bit for bit (check_conv_f32_hwio), then in random tiles (channels cut at multiples of 16
 * unless the conv is grouped). */
static void check_conv_f32_tiles(ecnn_conv2d_args *p, uint32_t n, int with_bias, float *x, float *w, float *wh,
                                 float *b, float *y_ref, float *y_fast, float *y_tile)
{
    tile_case c;
    memset(&c, 0, sizeof c);
    check_conv_f32_hwio(p, n, with_bias, x, w, wh, b, y_ref, y_fast);
    p->w_layout = ECNN_LAYOUT_CONV_HWIO;
    c.kind = TK_CONV_F32;
    c.conv = p;
    c.n = n;
    c.x = x, c.w = wh, c.b = with_bias ? b : NULL;
    CHECK(check_tiling(&c, (uint8_t *)y_tile, (const uint8_t *)y_ref, 4, n * p->oh, p->ow, p->o,
                       p->group == 1 || p->group == p->c ? ECNN_TILE_O_CONV : 0));
}

/* The convs real CNNs are made of, float, against the reference bit for bit, whole and in random
 * tiles, with every fused activation: pointwise (1x1, stride 1, no padding: one run of pixels
 * across rows and samples) with O around the SIMD blocks (8, 16, 32 wide) and groups, and
 * depthwise 3x3 / 5x5, stride 1 and 2, over channel counts that fill whole SIMD blocks and leave
 * 1..15 over. */
void test_conv_cnn_shapes(void)
{
    static const uint32_t dw_channels[] = {8, 24, 40, 64, 70, 101};
    /* output: up to 13 x 13 (11 + 2 x 2 padding - 3 + 1) */
    static float cx[3 * 11 * 11 * 101], cw[80 * 80], cwh[80 * 80], cb[101], cy_ref[3 * 13 * 13 * 101],
        cy_fast[3 * 13 * 13 * 101], cy_tile[3 * 13 * 13 * 101];
    uint32_t trial;
    for (trial = 0; trial < 96; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 3;
        memset(&p, 0, sizeof p);
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
        if (trial % 2 == 0) { /* pointwise */
            p.group = trial % 8 == 6 ? 2 : 1;
            p.c = p.group * (uint32_t)irand(1, 40);
            p.o = p.group * (trial % 4 == 0 ? 8u * (uint32_t)irand(1, 10) : (uint32_t)irand(1, 40));
            p.kh = p.kw = 1;
            p.h = p.oh = (uint32_t)irand(1, 9);
            p.w = p.ow = (uint32_t)irand(1, 9);
        } else { /* depthwise */
            const uint32_t span = trial % 3 == 1 ? 5 : 3;
            p.group = p.c = p.o = dw_channels[(trial / 2) % 6];
            p.kh = p.kw = span;
            p.stride_h = p.stride_w = 1 + trial % 5 % 2;
            p.pad_top = p.pad_left = (uint32_t)irand(0, 2);
            p.h = (uint32_t)irand(5, 11);
            p.w = (uint32_t)irand(5, 11);
            p.oh = (p.h + 2 * p.pad_top - span) / p.stride_h + 1; /* pad_bottom = pad_top */
            p.ow = (p.w + 2 * p.pad_left - span) / p.stride_w + 1;
        }
        p.act.act = (trial / 2 + trial / 16) % ACT_CODES; /* every activation code */
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_tiles(&p, n, trial % 3 != 2, cx, cw, cwh, cb, cy_ref, cy_fast, cy_tile);
    }
}

/* Depthwise float convs against the reference bit for bit, whole and in random tiles: channel
 * counts that divide a vector (the flat path: 1, 2, 4, 8; half a vector with 3 kx taps its
 * shifted-half loads), leave a rest (3, 12, 24, 144) or fill
 * whole vectors (16, 64); 3x3 and 5x5 (and 1x3, 3x1) windows, strides 1 and 2 on either axis,
 * padding 0..2, dilation 1 and 2, every activation, batch 1..3; rows wide enough for several
 * blocks of pixels and a rest, with border columns and rows wholly in the padding. */
void test_conv_depthwise(void)
{
    static const uint32_t channels[] = {1, 2, 3, 4, 8, 12, 16, 24, 64, 144};
    /* output up to 16 x 25: a 1-tap axis with 2 + 2 padding over 12 x 21 */
    enum { DW_X = 3 * 12 * 21 * 144, DW_Y = 3 * 16 * 25 * 144 };
    static float cx[DW_X], cw[5 * 5 * 144], cwh[5 * 5 * 144], cb[144], cy_ref[DW_Y], cy_fast[DW_Y], cy_tile[DW_Y];
    uint32_t trial;
    for (trial = 0; trial < 160; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 3, shape = trial / 10 % 8;
        uint32_t pad_bottom, pad_right;
        memset(&p, 0, sizeof p);
        p.group = p.c = p.o = channels[trial % 10];
        p.kh = shape == 6 ? 1 : shape % 2 ? 5 : 3;
        p.kw = shape == 7 ? 1 : shape % 2 ? 5 : 3;
        p.stride_h = 1 + (shape == 2 || shape == 5);
        p.stride_w = 1 + (shape == 3 || shape == 5);
        p.dilation_h = p.dilation_w = 1 + (shape == 4);
        p.pad_top = (uint32_t)irand(0, 2);
        p.pad_left = (uint32_t)irand(0, 2);
        pad_bottom = (uint32_t)irand(0, 2);
        pad_right = (uint32_t)irand(0, 2);
        p.h = (uint32_t)irand(p.dilation_h * (p.kh - 1) + 1, 12);
        p.w = (uint32_t)irand(p.dilation_w * (p.kw - 1) + 1, 21);
        p.oh = (p.h + p.pad_top + pad_bottom - (p.dilation_h * (p.kh - 1) + 1)) / p.stride_h + 1;
        p.ow = (p.w + p.pad_left + pad_right - (p.dilation_w * (p.kw - 1) + 1)) / p.stride_w + 1;
        p.act.act = (trial / 3) % ACT_CODES;
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_tiles(&p, n, trial % 4 != 3, cx, cw, cwh, cb, cy_ref, cy_fast, cy_tile);
    }
}

/* Image CNNs' first layers, float, against the reference bit for bit, whole and in random tiles:
 * C = 1, 3, 4 input channels, O = 4, 8, 12, 16 (AVX-512: two pixels a zmm up to 8), 3x3 (and
 * 5x5, 1x3) windows, stride 1 and 2, no padding or 1 (SAME-like) on either side, rows 9 to 40
 * wide (several blocks of pixels and an odd last one), batch 1..2, every fused activation. */
void test_conv_first_layers(void)
{
    static const uint32_t channels[] = {1, 3, 4}, outs[] = {4, 8, 12, 16};
    enum { FL_X = 2 * 12 * 40 * 4, FL_Y = 2 * 12 * 40 * 16 };
    static float cx[FL_X], cw[16 * 5 * 5 * 4], cwh[16 * 5 * 5 * 4], cb[16], cy_ref[FL_Y], cy_fast[FL_Y], cy_tile[FL_Y];
    uint32_t trial;
    for (trial = 0; trial < 96; trial++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + trial % 2, pad = trial / 24 % 2;
        memset(&p, 0, sizeof p);
        p.group = 1;
        p.c = channels[trial % 3];
        p.o = outs[trial / 3 % 4];
        p.kh = trial % 11 == 5 ? 1 : trial % 7 == 3 ? 5 : 3;
        p.kw = trial % 7 == 3 ? 5 : 3;
        p.stride_h = p.stride_w = 1 + trial / 12 % 2;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = p.pad_left = pad;
        p.h = (uint32_t)irand(6, 12);
        p.w = (uint32_t)irand(9, 40);
        p.oh = (p.h + 2 * pad - p.kh) / p.stride_h + 1; /* pad_bottom = pad_right = pad */
        p.ow = (p.w + 2 * pad - p.kw) / p.stride_w + 1;
        p.act.act = trial % ACT_CODES; /* every activation code */
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_tiles(&p, n, trial % 5 != 4, cx, cw, cwh, cb, cy_ref, cy_fast, cy_tile);
    }
}

/* Depthwise float convs of the sizes mobile CNNs have, against the reference bit for bit, whole
 * and in random tiles: maps 3x3 to 48x48 (rows of 1 to 6 blocks of outputs, the last moved back),
 * 3x3 and 5x5 windows, stride 1 and 2 with TF's SAME padding (none before, one after) or one
 * each side, C 8 to 256 (whole vectors, a rest, half a vector), Relu, Clip and LeakyRelu. */
void test_conv_depthwise_maps(void)
{
    static const struct {
        uint32_t h, c, k, s, pad;
    } shapes[] = {{48, 8, 3, 1, 1},  {48, 16, 3, 2, 0}, {24, 32, 3, 1, 1}, {24, 32, 3, 2, 0}, {12, 64, 3, 1, 1},
                  {12, 64, 3, 2, 0}, {6, 128, 3, 1, 1}, {6, 128, 3, 2, 0}, {3, 256, 3, 1, 1}, {16, 96, 3, 2, 0},
                  {8, 144, 3, 1, 1}, {15, 32, 3, 1, 1}, {24, 40, 3, 2, 1}, {7, 24, 3, 1, 1},  {9, 16, 5, 1, 2},
                  {24, 64, 5, 2, 1}, {13, 48, 5, 2, 2}, {4, 32, 3, 1, 1},  {5, 20, 3, 2, 1},  {25, 64, 3, 1, 1}};
    enum { MAP_X = 2 * 48 * 48 * 16, MAP_Y = 2 * 48 * 48 * 16 };
    static float cx[MAP_X], cw[5 * 5 * 256], cwh[5 * 5 * 256], cb[256], cy_ref[MAP_Y], cy_fast[MAP_Y], cy_tile[MAP_Y];
    uint32_t i;
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        ecnn_conv2d_args p;
        const uint32_t n = 1 + i % 2, pad_after = shapes[i].pad ? shapes[i].pad : 1;
        memset(&p, 0, sizeof p);
        p.group = p.c = p.o = shapes[i].c;
        p.kh = p.kw = shapes[i].k;
        p.stride_h = p.stride_w = shapes[i].s;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = p.pad_left = shapes[i].pad;
        p.h = shapes[i].h;
        p.w = i == 19 ? 5 : shapes[i].h; /* DS-CNN's 25 x 5 */
        p.oh = (p.h + p.pad_top + pad_after - p.kh) / p.stride_h + 1;
        p.ow = (p.w + p.pad_left + pad_after - p.kw) / p.stride_w + 1;
        CHECK((size_t)n * p.h * p.w * p.c <= MAP_X && (size_t)n * p.oh * p.ow * p.o <= MAP_Y);
        p.act.act = i % 4 == 3 ? ECNN_ACT_LEAKY_RELU : i % 4 == 2 ? ECNN_ACT_CLIP : i % 4; /* none, Relu */
        p.act.act_p0 = p.act.act == ECNN_ACT_CLIP ? -0.25f : 0.2f;
        p.act.act_p1 = 0.5f;
        check_conv_f32_tiles(&p, n, i % 3 != 2, cx, cw, cwh, cb, cy_ref, cy_fast, cy_tile);
    }
}

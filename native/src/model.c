/* Model loading: validates every byte of an .ecnn file (native/FORMAT.md) before use,
 * then answers queries. Nothing here allocates: per-tensor facts (who writes a tensor,
 * who reads it last) are recomputed by scanning the op list, which is short. */
#include "internal.h"
#include "ops.h"
#include "quant.h"

#define NO_OP 0xFFFFFFFFu

/* Record the failed check in the handle and return the status. */
static ecnn_status fail(ecnn_model *m, ecnn_status st, int32_t op, int32_t tensor, const char *detail)
{
    m->err_op = op;
    m->err_tensor = tensor;
    m->err_detail = detail;
    return st;
}

void ecnn_read_tensor(const ecnn_model *m, uint32_t index, ecnn_tensor_rec *t)
{
    const uint8_t *p = m->tensors + (size_t)index * ECNN_TENSOR_RECORD_SIZE;
    uint32_t i;
    t->kind = p[0];
    t->dtype = p[1];
    t->rank = p[2];
    t->quant_axis = p[3];
    for (i = 0; i < ECNN_MAX_RANK; i++) t->dims[i] = ecnn_rd32(p + 4 + 4 * i);
    t->offset = ecnn_rd32(p + 24);
    t->size = ecnn_rd32(p + 28);
    t->quant_count = ecnn_rd32(p + 32);
    t->scale_offset = ecnn_rd32(p + 36);
    t->zero_point_offset = ecnn_rd32(p + 40);
    t->layout = p[44];
}

uint32_t ecnn_read_op(const uint8_t *rec, uint32_t avail, ecnn_op_rec *op)
{
    uint32_t size, nt, i, slots;
    const uint8_t *idx;
    const uint8_t *par;
    if (avail < ECNN_OP_HEADER_SIZE) return 0;
    op->op_type = ecnn_rd16(rec);
    size = ecnn_rd16(rec + 2);
    op->num_inputs = rec[4];
    op->num_outputs = rec[5];
    op->num_params = ecnn_rd16(rec + 6);
    op->scratch = ecnn_rd16(rec + 8);
    if (op->num_inputs > ECNN_MAX_OP_TENSORS || op->num_outputs > ECNN_MAX_OP_TENSORS) return 0;
    if (op->num_params > ECNN_MAX_OP_PARAMS) return 0;
    nt = op->num_inputs + op->num_outputs;
    slots = (nt + 1u) / 2u; /* 4-byte words holding the u16 indices */
    if (size != ECNN_OP_HEADER_SIZE + 4u * slots + 4u * op->num_params || size > avail) return 0;
    if (ecnn_rd16(rec + 10) != 0) return 0;
    idx = rec + ECNN_OP_HEADER_SIZE;
    for (i = 0; i < op->num_inputs; i++) op->inputs[i] = ecnn_rd16(idx + 2 * i);
    for (i = 0; i < op->num_outputs; i++) op->outputs[i] = ecnn_rd16(idx + 2 * (op->num_inputs + i));
    if ((nt & 1u) && ecnn_rd16(idx + 2 * nt) != ECNN_NO_TENSOR) return 0; /* padding slot */
    par = idx + 4u * slots;
    for (i = 0; i < op->num_params && i < sizeof op->params / 4u; i++) {
        const uint32_t word = ecnn_rd32(par + 4 * i); /* little-endian file, native struct: the host is little-endian */
        memcpy((uint8_t *)&op->params + 4u * i, &word, 4);
    }
    return size;
}

/* ---- tensor checks ---------------------------------------------------------------- */

static ecnn_status check_tensor(ecnn_model *m, uint32_t index)
{
    ecnn_tensor_rec t;
    const uint8_t *p = m->tensors + (size_t)index * ECNN_TENSOR_RECORD_SIZE;
    uint64_t elems = 1;
    uint32_t esize, i;
    const int32_t ti = (int32_t)index;
    ecnn_read_tensor(m, index, &t);
    if (t.kind < ECNN_KIND_INPUT || t.kind > ECNN_KIND_SCRATCH)
        return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor kind is not 1..5");
    esize = ecnn_dtype_size(t.dtype);
    if (esize == 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor dtype is not 1..4");
    if (t.rank > ECNN_MAX_RANK) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor rank > 5");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i < t.rank) {
            if (t.dims[i] == 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor has a zero dimension");
            elems *= t.dims[i];
            if (elems > 0xFFFFFFFFu) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor too large");
        } else if (t.dims[i] != 0) {
            return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor dims beyond its rank are not 0");
        }
    }
    if (ecnn_rd32(p + 44) >> 8 != 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor reserved bytes 45..47 are not 0");
    if (t.layout >= ECNN_LAYOUT_COUNT) return fail(m, ECNN_E_UNSUPPORTED, -1, ti, "unknown weight layout");
    if (t.layout != ECNN_LAYOUT_PLAIN) {
        if (t.kind != ECNN_KIND_CONSTANT) return fail(m, ECNN_E_CORRUPT, -1, ti, "weight layout set on a non-CONSTANT tensor");
        if (t.layout == ECNN_LAYOUT_CONV_HWIO ? t.rank != 4 : t.rank != 2)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "packed weight has the wrong rank for its layout");
        if (t.layout != ECNN_LAYOUT_CONV_HWIO) elems = ecnn_fc_w_elems(t.layout, t.dims[0], t.dims[1]); /* padded panels */
    }
    if (elems * esize != t.size) return fail(m, ECNN_E_CORRUPT, -1, ti, "tensor size != element size x product(dims) (x padding of its layout)");

    switch (t.kind) {
    case ECNN_KIND_INPUT:
        if (index != m->input) return fail(m, ECNN_E_CORRUPT, -1, ti, "INPUT tensor is not the header's input_tensor");
        if (t.offset != 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "INPUT tensor offset is not 0");
        break;
    case ECNN_KIND_OUTPUT:
        if (index != m->output) return fail(m, ECNN_E_CORRUPT, -1, ti, "OUTPUT tensor is not the header's output_tensor");
        if (t.offset != 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "OUTPUT tensor offset is not 0");
        break;
    case ECNN_KIND_ACTIVATION:
    case ECNN_KIND_SCRATCH:
        if (t.offset % ECNN_PLAN_ALIGN != 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "arena offset not a multiple of 64");
        if ((uint64_t)t.offset + t.size > m->arena_per_sample)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "arena offset + size beyond arena_bytes_per_sample");
        if (t.kind == ECNN_KIND_ACTIVATION) m->activation_bytes += t.size;
        break;
    default: /* CONSTANT */
        if (t.offset % ECNN_DATA_ALIGN != 0) return fail(m, ECNN_E_CORRUPT, -1, ti, "constant offset not a multiple of 64");
        if ((uint64_t)t.offset + t.size > m->data_size)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "constant offset + size beyond the weight data");
        m->weight_bytes += t.size;
        break;
    }

    if (t.quant_count == 0) {
        if (t.quant_axis != 0 || t.scale_offset != 0 || t.zero_point_offset != 0)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "quantization fields set on an unquantized tensor");
    } else {
        if (t.dtype == ECNN_DTYPE_F32) return fail(m, ECNN_E_CORRUPT, -1, ti, "f32 tensor with quantization parameters");
        if (t.quant_count != 1 && (t.quant_axis >= t.rank || t.quant_count != t.dims[t.quant_axis]))
            return fail(m, ECNN_E_CORRUPT, -1, ti, "per-channel quant_count != dims[quant_axis]");
        if (t.scale_offset % 4 != 0 || (uint64_t)t.scale_offset + 4ull * t.quant_count > m->data_size)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "quantization scales outside the weight data or misaligned");
        if (t.zero_point_offset % 4 != 0 || (uint64_t)t.zero_point_offset + 4ull * t.quant_count > m->data_size)
            return fail(m, ECNN_E_CORRUPT, -1, ti, "quantization zero points outside the weight data or misaligned");
    }
    return ECNN_OK;
}

/* ---- op-list scans (no per-tensor tables: the library does not allocate) ---------- */

/* Calls back nothing; returns the index of the op writing tensor t, or NO_OP. `before`
 * limits the search to ops [0, before). */
static uint32_t writer_of(const ecnn_model *m, uint32_t t, uint32_t before)
{
    uint32_t pos = 0, i, j;
    ecnn_op_rec op;
    for (i = 0; i < before && i < m->num_ops; i++) {
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        for (j = 0; j < op.num_outputs; j++)
            if (op.outputs[j] == t) return i;
        if (op.scratch == t) return i;
    }
    return NO_OP;
}

static void op_at(const ecnn_model *m, uint32_t index, ecnn_op_rec *op)
{
    uint32_t pos = 0, i;
    for (i = 0; i <= index; i++) pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, op);
}

static int is_in_arena(uint32_t kind) { return kind == ECNN_KIND_ACTIVATION || kind == ECNN_KIND_SCRATCH; }

/* Ops whose output may share its input's bytes (FORMAT.md, "Arena"). */
static int may_alias(uint32_t op_type)
{
    return op_type == ECNN_OP_RESHAPE || op_type == ECNN_OP_ACTIVATION || op_type == ECNN_OP_SOFTMAX ||
           op_type == ECNN_OP_CHANNEL_ARITH || op_type == ECNN_OP_MAX_POOL_2D || op_type == ECNN_OP_ADD ||
           op_type == ECNN_OP_MUL;
}

/* If arena tensor t is an alias of its producer's first input, return that input; else
 * NO_OP. *op_index receives t's producer. */
static uint32_t alias_parent(const ecnn_model *m, uint32_t t, uint32_t *op_index)
{
    ecnn_op_rec op;
    ecnn_tensor_rec a, b;
    uint32_t w = writer_of(m, t, m->num_ops);
    *op_index = w;
    if (w == NO_OP) return NO_OP;
    op_at(m, w, &op);
    if (!may_alias(op.op_type) || op.num_inputs < 1 || op.outputs[0] != t) return NO_OP;
    ecnn_read_tensor(m, op.inputs[0], &a);
    ecnn_read_tensor(m, t, &b);
    if (!is_in_arena(a.kind) || a.offset != b.offset) return NO_OP;
    if (op.op_type == ECNN_OP_MAX_POOL_2D) {
        /* No top/left padding and OW <= W: output pixel (oy, ox) lands at or before every
         * input pixel it or a later output reads (FORMAT.md), so the kernel may run in place. */
        if (op.params.max_pool_2d.pad_top != 0 || op.params.max_pool_2d.pad_left != 0 || b.dims[1] > a.dims[1] || b.size > a.size)
            return NO_OP;
    } else if (a.size != b.size) {
        return NO_OP;
    }
    return op.inputs[0];
}

/* Arena tensors are checked in blocks of PLAN_BLOCK: one pass over the op list finds the
 * lifetimes of a whole block (stack memory only, nothing allocated). Checking the plan
 * then costs O((T / PLAN_BLOCK)^2 * ops + T^2) instead of a scan of the op list per pair of
 * tensors (a 200-op chain of in-place ops took 17 s to load, 400 ops 4 minutes). */
#define PLAN_BLOCK 64u

typedef struct {
    uint32_t first, last; /* lifetime [first, last] in op indices; first = NO_OP: not in the arena */
} lifetime_span;

/* Lifetimes of tensors [t0, t0 + n): from the op writing each one (as output or scratch)
 * to the last op reading it (as input or scratch), or just the writer when nothing reads it. */
static void block_lifetimes(const ecnn_model *m, uint32_t t0, uint32_t n, lifetime_span *s)
{
    uint32_t i, j, pos = 0;
    ecnn_op_rec op;
    for (j = 0; j < n; j++) s[j].first = s[j].last = NO_OP;
    for (i = 0; i < m->num_ops; i++) {
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        for (j = 0; j < op.num_outputs; j++)
            if (op.outputs[j] - t0 < n && s[op.outputs[j] - t0].first == NO_OP) s[op.outputs[j] - t0].first = i;
        if (op.scratch - t0 < n && s[op.scratch - t0].first == NO_OP) s[op.scratch - t0].first = i;
        for (j = 0; j < op.num_inputs; j++)
            if (op.inputs[j] - t0 < n) s[op.inputs[j] - t0].last = i;
        if (op.scratch - t0 < n) s[op.scratch - t0].last = i;
    }
    for (j = 0; j < n; j++) {
        ecnn_tensor_rec t;
        ecnn_read_tensor(m, t0 + j, &t);
        if (!is_in_arena(t.kind) || s[j].first == NO_OP) {
            s[j].first = s[j].last = NO_OP;
        } else if (s[j].last == NO_OP || s[j].last < s[j].first) {
            s[j].last = s[j].first;
        }
    }
}

/* 1 when arena tensors a and b (written by ops wa and wb) are aliases of one buffer: they
 * descend from a common tensor through alias_parent. Parents are written strictly before
 * their children, so stepping whichever of the two was written later finds the common
 * ancestor, if there is one, after as many steps as ops lie between them. */
static int same_alias_group(const ecnn_model *m, uint32_t a, uint32_t wa, uint32_t b, uint32_t wb)
{
    uint32_t steps = 0, child_writer;
    while (a != b && steps++ <= m->num_tensors) {
        if (wa >= wb) {
            if ((a = alias_parent(m, a, &child_writer)) == NO_OP) return 0;
            wa = writer_of(m, a, m->num_ops);
        } else {
            if ((b = alias_parent(m, b, &child_writer)) == NO_OP) return 0;
            wb = writer_of(m, b, m->num_ops);
        }
    }
    return a == b;
}

/* Checks the arena plan: live tensors never share bytes except through allowed aliases,
 * and an in-place op never overwrites an alias of its input that a later op still reads. */
static ecnn_status check_plan(ecnn_model *m)
{
    lifetime_span sa[PLAN_BLOCK], sb[PLAN_BLOCK];
    uint32_t in_place_op[PLAN_BLOCK]; /* op writing a over an alias of its input (not RESHAPE), or NO_OP */
    const uint32_t nt = m->num_tensors;
    uint32_t a0, b0, i, j;
    for (a0 = 0; a0 < nt; a0 += PLAN_BLOCK) {
        const uint32_t na = nt - a0 < PLAN_BLOCK ? nt - a0 : PLAN_BLOCK;
        block_lifetimes(m, a0, na, sa);
        for (i = 0; i < na; i++) {
            uint32_t write_op;
            ecnn_op_rec op;
            in_place_op[i] = NO_OP;
            if (sa[i].first != NO_OP && alias_parent(m, a0 + i, &write_op) != NO_OP) {
                op_at(m, write_op, &op);
                if (op.op_type != ECNN_OP_RESHAPE) in_place_op[i] = write_op;
            }
        }
        for (b0 = 0; b0 < nt; b0 += PLAN_BLOCK) {
            const uint32_t nb = nt - b0 < PLAN_BLOCK ? nt - b0 : PLAN_BLOCK;
            block_lifetimes(m, b0, nb, sb);
            for (i = 0; i < na; i++) {
                const uint32_t a = a0 + i, wa = in_place_op[i];
                ecnn_tensor_rec ta;
                if (sa[i].first == NO_OP) continue;
                ecnn_read_tensor(m, a, &ta);
                /* In-place write (not a reshape): nothing sharing these bytes that was
                 * written before may be read after this op. */
                for (j = 0; j < nb; j++) {
                    const uint32_t b = b0 + j;
                    ecnn_tensor_rec tb;
                    const lifetime_span *la = &sa[i], *lb = &sb[j];
                    if (b == a || lb->first == NO_OP) continue;
                    if (wa != NO_OP && lb->first < wa && lb->last > wa &&
                        same_alias_group(m, a, la->first, b, lb->first))
                        return fail(m, ECNN_E_CORRUPT, (int32_t)wa, (int32_t)b,
                                    "arena plan: in-place op overwrites a tensor that is read later");
                    if (b < a) continue; /* each pair once below */
                    ecnn_read_tensor(m, b, &tb);
                    if (ta.offset >= tb.offset + tb.size || tb.offset >= ta.offset + ta.size) continue; /* disjoint bytes */
                    if (la->last < lb->first || lb->last < la->first) continue; /* disjoint lifetimes */
                    if (same_alias_group(m, a, la->first, b, lb->first)) continue; /* allowed alias */
                    return fail(m, ECNN_E_CORRUPT, -1, (int32_t)b, "arena plan: two live tensors share bytes");
                }
            }
        }
    }
    return ECNN_OK;
}

/* ---- per-op checks -------------------------------------------------------------- */

typedef struct {
    ecnn_model *m;
    const ecnn_op_rec *op;
    uint32_t index;
} op_ctx;

static ecnn_status op_fail(const op_ctx *c, ecnn_status st, uint32_t tensor, const char *detail)
{
    return fail(c->m, st, (int32_t)c->index, tensor == NO_OP ? -1 : (int32_t)tensor, detail);
}

/* A data input (read at run time): INPUT, or an ACTIVATION/OUTPUT written by an earlier op. */
static ecnn_status check_data_input(const op_ctx *c, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t >= c->m->num_tensors) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "op input index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind == ECNN_KIND_INPUT) return ECNN_OK;
    if (rec->kind != ECNN_KIND_ACTIVATION && rec->kind != ECNN_KIND_OUTPUT)
        return op_fail(c, ECNN_E_CORRUPT, t, "op data input is not INPUT, ACTIVATION or OUTPUT");
    if (writer_of(c->m, t, c->index) == NO_OP)
        return op_fail(c, ECNN_E_CORRUPT, t, "op reads a tensor no earlier op writes");
    return ECNN_OK;
}

/* A weight input: a CONSTANT, or absent when `optional`. */
static ecnn_status check_const_input(const op_ctx *c, uint32_t t, ecnn_tensor_rec *rec, int optional)
{
    if (t == ECNN_NO_TENSOR && optional) {
        rec->kind = 0;
        return ECNN_OK;
    }
    if (t >= c->m->num_tensors) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "op weight index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind != ECNN_KIND_CONSTANT) return op_fail(c, ECNN_E_CORRUPT, t, "op weight input is not a CONSTANT");
    return ECNN_OK;
}

/* A constant input's weight layout must be one of `allowed` (bit i = layout i; absent inputs pass). */
static ecnn_status check_layout(const op_ctx *c, uint32_t t, const ecnn_tensor_rec *rec, uint32_t allowed)
{
    if (rec->kind == 0 || (allowed >> rec->layout & 1u)) return ECNN_OK;
    return op_fail(c, ECNN_E_CORRUPT, t, "weight layout not valid for this op input");
}

/* An output: ACTIVATION or OUTPUT, written by no earlier op. */
static ecnn_status check_output(const op_ctx *c, uint32_t t, ecnn_tensor_rec *rec)
{
    if (t >= c->m->num_tensors) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "op output index out of range");
    ecnn_read_tensor(c->m, t, rec);
    if (rec->kind != ECNN_KIND_ACTIVATION && rec->kind != ECNN_KIND_OUTPUT)
        return op_fail(c, ECNN_E_CORRUPT, t, "op output is not ACTIVATION or OUTPUT");
    if (writer_of(c->m, t, c->index) != NO_OP) return op_fail(c, ECNN_E_CORRUPT, t, "tensor written by two ops");
    return ECNN_OK;
}

static int same_shape(const ecnn_tensor_rec *a, const ecnn_tensor_rec *b)
{
    uint32_t i;
    if (a->rank != b->rank) return 0;
    for (i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static ecnn_status check_act(const op_ctx *c, const ecnn_act_params *p)
{
    const ecnn_act_params a = *p;
    switch (a.act) {
    case ECNN_ACT_NONE:
    case ECNN_ACT_RELU: return ECNN_OK;
    case ECNN_ACT_LEAKY_RELU:
        if (a.act_p0 == a.act_p0 && a.act_p0 - a.act_p0 == 0.0f) return ECNN_OK; /* finite */
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "LeakyRelu alpha is not finite");
    case ECNN_ACT_CLIP:
        if (a.act_p0 <= a.act_p1) return ECNN_OK; /* false for NaN */
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "Clip min > max or NaN");
    case ECNN_ACT_SIGMOID:
    case ECNN_ACT_TANH:
    case ECNN_ACT_HARD_SWISH: return ECNN_OK;
    case ECNN_ACT_HARD_SIGMOID:
        if (a.act_p0 - a.act_p0 == 0.0f && a.act_p1 - a.act_p1 == 0.0f) return ECNN_OK; /* finite */
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "HardSigmoid alpha or beta is not finite");
    default: return op_fail(c, ECNN_E_UNSUPPORTED, NO_OP, "unknown fused activation code");
    }
}

/* The float kernels in this build need every tensor f32 and unquantized. */
static ecnn_status need_f32(const op_ctx *c, const ecnn_tensor_rec *t, uint32_t index)
{
    if (t->kind == 0) return ECNN_OK; /* absent optional input */
    if (t->dtype != ECNN_DTYPE_F32)
        return op_fail(c, ECNN_E_UNSUPPORTED, index, "op with this dtype is not implemented in this build (float32 only)");
    return ECNN_OK;
}

/* The int8 forms of ADD, MUL, AVG_POOL_2D, ACTIVATION and CONCAT: every data tensor a quantized
 * activation (per tensor), all of one dtype (quant.c). idx: the tensors' indices, for the error. */
static ecnn_status check_q_group(const op_ctx *c, const ecnn_tensor_rec *ts, const uint32_t *idx, uint32_t count)
{
    uint32_t bad = 0;
    const char *msg = ecnn_check_q_group(c->m, ts, count, &bad);
    return msg ? op_fail(c, ECNN_E_UNSUPPORTED, idx[bad], msg) : ECNN_OK;
}

/* floor((in + pads - dil*(k-1) - 1) / stride) + 1, or 0 when the window does not fit. */
static uint64_t out_extent(uint32_t in, uint32_t pad_a, uint32_t pad_b, uint32_t k, uint32_t dil, uint32_t stride,
                           int ceil_mode)
{
    const uint64_t span = (uint64_t)dil * (k - 1) + 1;
    const uint64_t total = (uint64_t)in + pad_a + pad_b;
    if (total < span) return 0;
    return (total - span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
}

/* Every window along one axis covers at least one position inside the input. */
static int windows_hit_input(uint32_t out, uint32_t in, uint32_t pad_a, uint32_t k, uint32_t dil, uint32_t stride)
{
    uint32_t o, j;
    for (o = 0; o < out; o++) {
        int hit = 0;
        for (j = 0; j < k && !hit; j++) {
            const int64_t pos = (int64_t)o * stride - (int64_t)pad_a + (int64_t)j * dil;
            hit = pos >= 0 && pos < (int64_t)in;
        }
        if (!hit) return 0;
    }
    return 1;
}

#define TRY(expr)                         \
    do {                                  \
        ecnn_status st_ = (expr);         \
        if (st_ != ECNN_OK) return st_;   \
    } while (0)

/* CONV_2D / FULLY_CONNECTED: every tensor f32 (float kernel), or x and y quantized
 * activations, w i8/u8 and b i32 (int8 kernel; quant.c checks them). k: dot product length. */
static ecnn_status check_linear_dtypes(const op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *w,
                                       const ecnn_tensor_rec *b, const ecnn_tensor_rec *y, uint64_t k, uint32_t act)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t idx[4] = {op->inputs[0], op->inputs[1], op->inputs[2], op->outputs[0]};
    ecnn_status st;
    uint32_t bad;
    const char *msg;
    if (x->dtype == ECNN_DTYPE_F32) {
        TRY(need_f32(c, w, idx[1]));
        TRY(need_f32(c, b, idx[2]));
        return need_f32(c, y, idx[3]);
    }
    msg = ecnn_check_qlinear(c->m, x, w, b, y, idx, k, act, &st, &bad);
    return msg ? op_fail(c, st, bad == 0xFFFFFFFFu ? NO_OP : bad, msg) : ECNN_OK;
}

/* Ops that only move or select values (MAX_POOL_2D): both f32, or both quantized
 * activations with the same dtype, scale and zero point. */
static ecnn_status check_same_dtype(const op_ctx *c, const ecnn_tensor_rec *x, const ecnn_tensor_rec *y)
{
    const char *msg;
    if (x->dtype == ECNN_DTYPE_F32) return need_f32(c, y, c->op->outputs[0]);
    if ((msg = ecnn_check_q_activation(c->m, x)) != NULL) return op_fail(c, ECNN_E_UNSUPPORTED, c->op->inputs[0], msg);
    if ((msg = ecnn_check_q_activation(c->m, y)) != NULL) return op_fail(c, ECNN_E_UNSUPPORTED, c->op->outputs[0], msg);
    if (x->dtype != y->dtype || ecnn_q_scale(c->m, x, 0) != ecnn_q_scale(c->m, y, 0) ||
        ecnn_q_zero_point(c->m, x, 0) != ecnn_q_zero_point(c->m, y, 0))
        return op_fail(c, ECNN_E_CORRUPT, c->op->outputs[0], "input and output differ in dtype or quantization");
    return ECNN_OK;
}

/* QUANTIZE (f32 -> i8/u8) and DEQUANTIZE (i8/u8 -> f32): same shape, the quantized side
 * quantized per tensor. */
static ecnn_status check_quant_convert(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, y;
    const char *msg;
    const int quantize = op->op_type == ECNN_OP_QUANTIZE;
    if (op->num_inputs != 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "QUANTIZE/DEQUANTIZE needs 1 input and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_output(c, op->outputs[0], &y));
    if (!same_shape(&x, &y)) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "input and output shapes differ");
    TRY(need_f32(c, quantize ? &x : &y, quantize ? op->inputs[0] : op->outputs[0]));
    msg = ecnn_check_q_activation(c->m, quantize ? &y : &x);
    if (msg) return op_fail(c, ECNN_E_CORRUPT, quantize ? op->outputs[0] : op->inputs[0], msg);
    *macs = 0;
    return ECNN_OK;
}

static ecnn_status check_conv2d(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_conv2d_params *q = &op->params.conv_2d;
    ecnn_tensor_rec x, w, b, y;
    ecnn_conv2d_args p;
    if (op->num_inputs != 3 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONV_2D needs 3 inputs (X, W, B or none) and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_const_input(c, op->inputs[1], &w, 0));
    TRY(check_const_input(c, op->inputs[2], &b, 1));
    TRY(check_output(c, op->outputs[0], &y));
    if (x.rank != 3 || y.rank != 3 || w.rank != 4)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONV_2D needs X [H,W,C], W [O,KH,KW,C/group], Y [OH,OW,O]");
    if ((q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom | q->pad_right | q->dilation_h |
         q->dilation_w) > 65535u)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONV_2D stride/pad/dilation > 65535");
    if (q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 || q->dilation_w == 0 || q->group == 0)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONV_2D stride, dilation and group must be >= 1");
    ecnn_conv2d_args_from(op, &x, &w, &y, &p);
    if (p.c % p.group != 0 || p.o % p.group != 0 || (uint64_t)w.dims[3] * p.group != p.c || w.dims[0] != p.o)
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "CONV_2D weight shape does not match channels and group");
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != p.o))
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "CONV_2D bias shape is not [O]");
    if (out_extent(p.h, q->pad_top, q->pad_bottom, p.kh, p.dilation_h, p.stride_h, 0) != p.oh ||
        out_extent(p.w, q->pad_left, q->pad_right, p.kw, p.dilation_w, p.stride_w, 0) != p.ow)
        return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "CONV_2D output height/width do not match the parameters");
    TRY(check_linear_dtypes(c, &x, &w, &b, &y, (uint64_t)p.kh * p.kw * (p.c / p.group), q->act));
    TRY(check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN | 1u << ECNN_LAYOUT_CONV_HWIO));
    TRY(check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    TRY(check_act(c, &p.act));
    *macs = (uint64_t)p.oh * p.ow * p.o * p.kh * p.kw * (p.c / p.group);
    return ECNN_OK;
}

/* MAX_POOL_2D and AVG_POOL_2D: the same window parameters (AVG_POOL_2D adds count_include_pad). */
static ecnn_status check_pool2d(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_max_pool2d_params *q = &op->params.max_pool_2d; /* AVG_POOL_2D's first fields (ops.c) */
    const int avg = op->op_type == ECNN_OP_AVG_POOL_2D;
    ecnn_tensor_rec x, y;
    ecnn_pool2d_args p;
    if (op->num_inputs != 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, avg ? "AVG_POOL_2D needs 1 input and 1 output" : "MAX_POOL_2D needs 1 input and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_output(c, op->outputs[0], &y));
    if (avg && (x.dtype != ECNN_DTYPE_F32 || y.dtype != ECNN_DTYPE_F32)) {
        /* int8: QLinearAveragePool / QLinearGlobalAveragePool (kernels_i8.h), which have no dilation;
         * the global rule's int32 sum of kh*kw codes must not overflow. */
        const ecnn_tensor_rec ts[2] = {x, y};
        const uint32_t idx[2] = {op->inputs[0], op->outputs[0]};
        TRY(check_q_group(c, ts, idx, 2));
        if (q->dilation_h != 1 || q->dilation_w != 1)
            return op_fail(c, ECNN_E_UNSUPPORTED, NO_OP, "int8 AVG_POOL_2D with dilation (onnxruntime's QLinearAveragePool has none)");
        if ((uint64_t)q->kernel_h * q->kernel_w >= (1u << 23))
            return op_fail(c, ECNN_E_UNSUPPORTED, NO_OP, "int8 AVG_POOL_2D window of 2^23 or more positions");
    } else if (avg) {
        TRY(need_f32(c, &x, op->inputs[0]));
        TRY(need_f32(c, &y, op->outputs[0]));
    } else {
        TRY(check_same_dtype(c, &x, &y));
    }
    if (x.rank != 3 || y.rank != 3 || x.dims[2] != y.dims[2])
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, avg ? "AVG_POOL_2D needs X [H,W,C] and Y [OH,OW,C]" : "MAX_POOL_2D needs X [H,W,C] and Y [OH,OW,C]");
    if ((q->kernel_h | q->kernel_w | q->stride_h | q->stride_w | q->pad_top | q->pad_left | q->pad_bottom |
         q->pad_right | q->dilation_h | q->dilation_w) > 65535u)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, avg ? "AVG_POOL_2D parameter > 65535" : "MAX_POOL_2D parameter > 65535");
    if (q->kernel_h == 0 || q->kernel_w == 0 || q->stride_h == 0 || q->stride_w == 0 || q->dilation_h == 0 ||
        q->dilation_w == 0)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, avg ? "AVG_POOL_2D kernel, stride and dilation must be >= 1" : "MAX_POOL_2D kernel, stride and dilation must be >= 1");
    if (avg && op->params.avg_pool_2d.count_include_pad > (x.dtype == ECNN_DTYPE_I8 ? 3u : 1u)) /* i8: bit 1 = round as uint8 codes (FORMAT.md) */
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, x.dtype == ECNN_DTYPE_I8 ? "int8 AVG_POOL_2D count_include_pad is not 0..3"
                                                                        : "AVG_POOL_2D count_include_pad is not 0 or 1");
    ecnn_pool2d_args_from(op, &x, &y, &p);
    if (p.oh < out_extent(p.h, p.pad_top, p.pad_bottom, p.kh, p.dilation_h, p.stride_h, 0) ||
        p.oh > out_extent(p.h, p.pad_top, p.pad_bottom, p.kh, p.dilation_h, p.stride_h, 1) ||
        p.ow < out_extent(p.w, p.pad_left, p.pad_right, p.kw, p.dilation_w, p.stride_w, 0) ||
        p.ow > out_extent(p.w, p.pad_left, p.pad_right, p.kw, p.dilation_w, p.stride_w, 1))
        return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], avg ? "AVG_POOL_2D output height/width do not match the parameters" : "MAX_POOL_2D output height/width do not match the parameters");
    if (!windows_hit_input(p.oh, p.h, p.pad_top, p.kh, p.dilation_h, p.stride_h) ||
        !windows_hit_input(p.ow, p.w, p.pad_left, p.kw, p.dilation_w, p.stride_w))
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, avg ? "AVG_POOL_2D has a window entirely in the padding" : "MAX_POOL_2D has a window entirely in the padding");
    *macs = avg ? (uint64_t)p.oh * p.ow * p.c * p.kh * p.kw : 0;
    return ECNN_OK;
}

static ecnn_status check_fully_connected(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, w, b, y;
    if (op->num_inputs != 3 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "FULLY_CONNECTED needs 3 inputs (X, W, B or none) and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_const_input(c, op->inputs[1], &w, 0));
    TRY(check_const_input(c, op->inputs[2], &b, 1));
    TRY(check_output(c, op->outputs[0], &y));
    if (w.rank != 2 || ecnn_numel(&x) != w.dims[1])
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "FULLY_CONNECTED weight is not [O, K] with K = input elements");
    if (y.rank != 1 || y.dims[0] != w.dims[0])
        return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "FULLY_CONNECTED output is not [O]");
    if (b.kind != 0 && (b.rank != 1 || b.dims[0] != w.dims[0]))
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[2], "FULLY_CONNECTED bias is not [O]");
    TRY(check_linear_dtypes(c, &x, &w, &b, &y, w.dims[1], op->params.fully_connected.act));
    /* Packed FC weights: f32 panels of 16, or int8 panels of 8x4 with every zero point 0 (the
     * fast int8 kernel multiplies raw weights; the padding must be a true zero). */
    TRY(check_layout(c, op->inputs[1], &w, 1u << ECNN_LAYOUT_PLAIN | 1u << ECNN_LAYOUT_FC_PANEL16 | 1u << ECNN_LAYOUT_FC_PANEL8X4 |
                                               1u << ECNN_LAYOUT_FC_PANEL8X4_W64));
    TRY(check_layout(c, op->inputs[2], &b, 1u << ECNN_LAYOUT_PLAIN));
    if (w.layout == ECNN_LAYOUT_FC_PANEL16 && w.dtype != ECNN_DTYPE_F32)
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "FC_PANEL16 weights must be f32");
    if (w.layout == ECNN_LAYOUT_FC_PANEL8X4 || w.layout == ECNN_LAYOUT_FC_PANEL8X4_W64) {
        uint32_t i;
        if (w.dtype != ECNN_DTYPE_I8) return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "FC_PANEL8X4 weights must be i8");
        for (i = 0; i < w.quant_count; i++)
            if (ecnn_q_zero_point(c->m, &w, i) != 0)
                return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "FC_PANEL8X4 weights need zero points 0");
    }
    if (w.layout == ECNN_LAYOUT_FC_PANEL8X4_W64) { /* the fast kernel's exactness rests on this claim: verify it */
        const int8_t *wd = (const int8_t *)(c->m->data + w.offset);
        uint32_t i;
        for (i = 0; i < w.size; i++)
            if (wd[i] < -ECNN_W64_MAX || wd[i] > ECNN_W64_MAX)
                return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "FC_PANEL8X4_W64 weight outside [-64, 64]");
    }
    TRY(check_act(c, &op->params.fully_connected));
    *macs = (uint64_t)w.dims[0] * w.dims[1];
    return ECNN_OK;
}

/* SOFTMAX, RESHAPE, ACTIVATION: one data input, one output. */
static ecnn_status check_unary(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, y;
    if (op->num_inputs != 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "op needs 1 input and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_output(c, op->outputs[0], &y));
    if (x.dtype != y.dtype) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "input and output dtypes differ");
    if (op->op_type == ECNN_OP_RESHAPE) {
        if (x.size != y.size) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "RESHAPE changes the element count");
    } else {
        if (op->op_type == ECNN_OP_ACTIVATION && x.dtype != ECNN_DTYPE_F32) {
            /* int8: a lookup table of QuantizeLinear(f(DequantizeLinear(code))) (kernels_i8.h) */
            const ecnn_tensor_rec ts[2] = {x, y};
            const uint32_t idx[2] = {op->inputs[0], op->outputs[0]};
            TRY(check_q_group(c, ts, idx, 2));
            if (op->params.activation.act < ECNN_ACT_RELU || op->params.activation.act > ECNN_ACT_SIGMOID)
                return op_fail(c, ECNN_E_UNSUPPORTED, NO_OP, "int8 ACTIVATION other than Relu, LeakyRelu, Clip, Sigmoid");
        } else {
            TRY(need_f32(c, &x, op->inputs[0]));
        }
        if (!same_shape(&x, &y)) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "input and output shapes differ");
        if (op->op_type == ECNN_OP_SOFTMAX && x.rank == 0)
            return op_fail(c, ECNN_E_CORRUPT, NO_OP, "SOFTMAX needs rank >= 1");
        if (op->op_type == ECNN_OP_ACTIVATION) TRY(check_act(c, &op->params.activation));
    }
    *macs = 0;
    return ECNN_OK;
}

/* B [1, ..., 1, C] (or all 1) of A's rank, C = A's innermost dim: one value per sample and
 * channel, broadcast over the other axes (ADD / MUL, e.g. squeeze-and-excitation). */
static int broadcasts_per_channel(const ecnn_tensor_rec *b, const ecnn_tensor_rec *a)
{
    uint32_t i;
    if (b->rank != a->rank || a->rank == 0) return 0;
    for (i = 0; i + 1 < b->rank; i++)
        if (b->dims[i] != 1) return 0;
    return b->dims[b->rank - 1] == 1 || b->dims[b->rank - 1] == a->dims[a->rank - 1];
}

/* ADD / MUL: two runtime tensors of equal dims (or B per channel), elementwise, fused activation. */
static ecnn_status check_binary(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec a, b, y;
    if (op->num_inputs != 2 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "ADD/MUL needs 2 inputs (A, B) and 1 output");
    TRY(check_data_input(c, op->inputs[0], &a));
    if (op->inputs[1] < c->m->num_tensors) ecnn_read_tensor(c->m, op->inputs[1], &b);
    if (op->inputs[1] < c->m->num_tensors && b.kind == ECNN_KIND_CONSTANT && b.dtype != ECNN_DTYPE_F32) {
        /* int8 only: B a quantized constant per channel of the innermost axis ([C]) or a scalar ([1]) */
        TRY(check_const_input(c, op->inputs[1], &b, 0));
        TRY(check_layout(c, op->inputs[1], &b, 1u << ECNN_LAYOUT_PLAIN));
        TRY(check_output(c, op->outputs[0], &y));
        if (a.rank == 0 || b.rank != 1 || (b.dims[0] != 1 && b.dims[0] != a.dims[a.rank - 1]) || !same_shape(&a, &y))
            return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "int8 ADD/MUL constant is not [C] or [1], or Y's shape is not A's");
    } else {
        TRY(check_data_input(c, op->inputs[1], &b));
        TRY(check_output(c, op->outputs[0], &y));
        if (!same_shape(&a, &y) || (!same_shape(&a, &b) && !broadcasts_per_channel(&b, &a)))
            return op_fail(c, ECNN_E_CORRUPT, NO_OP, "ADD/MUL output is not A's shape, or B is neither A's shape nor [1,...,1,C]");
    }
    if (a.dtype != ECNN_DTYPE_F32 || b.dtype != ECNN_DTYPE_F32 || y.dtype != ECNN_DTYPE_F32) {
        /* int8: QLinearAdd / QLinearMul (kernels_i8.h), without a fused activation */
        const ecnn_tensor_rec ts[3] = {a, b, y};
        const uint32_t idx[3] = {op->inputs[0], op->inputs[1], op->outputs[0]};
        TRY(check_q_group(c, ts, idx, 3));
        if (op->params.add.act != ECNN_ACT_NONE) /* ADD and MUL: one struct type */
            return op_fail(c, ECNN_E_UNSUPPORTED, NO_OP, "int8 ADD/MUL with a fused activation");
    }
    TRY(check_act(c, &op->params.add));
    *macs = ecnn_numel(&y);
    return ECNN_OK;
}

/* Data movement ops: the output has the input's dtype; quantized tensors also share its
 * scale and zero point (the codes are copied). */
static ecnn_status check_moved(const op_ctx *c, const ecnn_tensor_rec *x, uint32_t xi, const ecnn_tensor_rec *y)
{
    const char *msg;
    if (x->dtype == ECNN_DTYPE_F32 || y->dtype == ECNN_DTYPE_F32) {
        if (x->dtype != y->dtype) return op_fail(c, ECNN_E_CORRUPT, xi, "input and output dtypes differ");
        return ECNN_OK;
    }
    if ((msg = ecnn_check_q_activation(c->m, x)) != NULL) return op_fail(c, ECNN_E_UNSUPPORTED, xi, msg);
    if ((msg = ecnn_check_q_activation(c->m, y)) != NULL) return op_fail(c, ECNN_E_UNSUPPORTED, c->op->outputs[0], msg);
    if (x->dtype != y->dtype || ecnn_q_scale(c->m, x, 0) != ecnn_q_scale(c->m, y, 0) ||
        ecnn_q_zero_point(c->m, x, 0) != ecnn_q_zero_point(c->m, y, 0))
        return op_fail(c, ECNN_E_UNSUPPORTED, xi, "input and output differ in dtype or quantization (no requantizing kernel in this build)");
    return ECNN_OK;
}

static ecnn_status check_transpose(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t *perm = op->params.transpose.perm;
    ecnn_tensor_rec x, y;
    uint32_t i, seen = 0;
    if (op->num_inputs != 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "TRANSPOSE needs 1 input and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_output(c, op->outputs[0], &y));
    TRY(check_moved(c, &x, op->inputs[0], &y));
    if (x.rank != y.rank) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "TRANSPOSE input and output ranks differ");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (perm[i] != 0) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "TRANSPOSE perm entries beyond the rank are not 0");
            continue;
        }
        if (perm[i] >= x.rank || (seen >> perm[i] & 1u))
            return op_fail(c, ECNN_E_CORRUPT, NO_OP, "TRANSPOSE perm is not a permutation of the axes");
        seen |= 1u << perm[i];
        if (y.dims[i] != x.dims[perm[i]])
            return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "TRANSPOSE output dims are not the permuted input dims");
    }
    *macs = 0;
    return ECNN_OK;
}

static ecnn_status check_pad(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const ecnn_pad_params *q = &op->params.pad;
    ecnn_tensor_rec x, y;
    uint32_t i;
    if (op->num_inputs != 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "PAD needs 1 input and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_output(c, op->outputs[0], &y));
    TRY(check_moved(c, &x, op->inputs[0], &y));
    if (x.rank != y.rank) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "PAD input and output ranks differ");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (q->before[i] != 0 || q->after[i] != 0) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "PAD pads beyond the rank are not 0");
        } else if ((uint64_t)x.dims[i] + q->before[i] + q->after[i] != y.dims[i]) {
            return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "PAD output dims are not input dims + pads");
        }
    }
    if (x.dtype != ECNN_DTYPE_F32) {
        const int32_t v = q->value.i32;
        if (x.dtype == ECNN_DTYPE_I8 ? (v < -128 || v > 127) : (v < 0 || v > 255))
            return op_fail(c, ECNN_E_CORRUPT, NO_OP, "PAD value is not a code of the tensor's dtype");
    }
    *macs = 0;
    return ECNN_OK;
}

static ecnn_status check_concat(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    const uint32_t axis = op->params.concat.axis;
    ecnn_tensor_rec x, y;
    uint64_t sum = 0;
    uint32_t i, d;
    if (op->num_inputs < 2 || op->num_inputs > ECNN_MAX_OP_TENSORS - 1 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONCAT needs 2..7 inputs and 1 output");
    TRY(check_output(c, op->outputs[0], &y));
    if (axis >= y.rank) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CONCAT axis is not below the output rank");
    for (i = 0; i < op->num_inputs; i++) {
        TRY(check_data_input(c, op->inputs[i], &x));
        if (x.dtype != ECNN_DTYPE_F32 && y.dtype != ECNN_DTYPE_F32) {
            /* int8: each input requantized to Y's quantization (QLinearConcat; a copy when equal) */
            const ecnn_tensor_rec ts[2] = {x, y};
            const uint32_t idx[2] = {op->inputs[i], op->outputs[0]};
            TRY(check_q_group(c, ts, idx, 2));
        } else {
            TRY(check_moved(c, &x, op->inputs[i], &y));
        }
        if (x.rank != y.rank) return op_fail(c, ECNN_E_CORRUPT, op->inputs[i], "CONCAT input rank differs from the output's");
        for (d = 0; d < x.rank; d++)
            if (d != axis && x.dims[d] != y.dims[d])
                return op_fail(c, ECNN_E_CORRUPT, op->inputs[i], "CONCAT input dims differ from the output's off the axis");
        sum += x.dims[axis];
    }
    if (sum != y.dims[axis]) return op_fail(c, ECNN_E_CORRUPT, op->outputs[0], "CONCAT output axis length is not the inputs' sum");
    *macs = 0;
    return ECNN_OK;
}

static ecnn_status check_channel_arith(const op_ctx *c, uint64_t *macs)
{
    const ecnn_op_rec *op = c->op;
    ecnn_tensor_rec x, k, y;
    if (op->num_inputs != 2 || op->num_outputs != 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CHANNEL_ARITH needs 2 inputs (X, K) and 1 output");
    TRY(check_data_input(c, op->inputs[0], &x));
    TRY(check_const_input(c, op->inputs[1], &k, 0));
    TRY(check_output(c, op->outputs[0], &y));
    TRY(need_f32(c, &x, op->inputs[0]));
    TRY(need_f32(c, &k, op->inputs[1]));
    TRY(need_f32(c, &y, op->outputs[0]));
    TRY(check_layout(c, op->inputs[1], &k, 1u << ECNN_LAYOUT_PLAIN));
    if (!same_shape(&x, &y) || x.rank == 0) return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CHANNEL_ARITH input and output shapes differ");
    if (k.rank != 1 || (k.dims[0] != 1 && k.dims[0] != x.dims[x.rank - 1]))
        return op_fail(c, ECNN_E_CORRUPT, op->inputs[1], "CHANNEL_ARITH constant is not [C] or [1]");
    const ecnn_channel_arith_params *q = &op->params.channel_arith;
    if (q->func < ECNN_ARITH_ADD || q->func > ECNN_ARITH_DIV || q->const_first > 1)
        return op_fail(c, ECNN_E_CORRUPT, NO_OP, "CHANNEL_ARITH func not 1..4 or const_first not 0/1");
    *macs = ecnn_numel(&x);
    return ECNN_OK;
}

/* Validates op `index` (already decoded) and returns its MACs per sample. */
static ecnn_status check_op(ecnn_model *m, const ecnn_op_rec *op, uint32_t index, uint64_t *macs)
{
    op_ctx c;
    c.m = m;
    c.op = op;
    c.index = index;
    if (ecnn_op_param_count(op->op_type) == 0xFFFFFFFFu)
        return op_fail(&c, ECNN_E_UNSUPPORTED, NO_OP, "unknown or unsupported op type");
    if (op->num_params != ecnn_op_param_count(op->op_type))
        return op_fail(&c, ECNN_E_CORRUPT, NO_OP, "wrong number of op parameters");
    if (op->scratch != ECNN_NO_TENSOR) /* no v1 kernel uses scratch */
        return op_fail(&c, ECNN_E_UNSUPPORTED, op->scratch, "op has a scratch tensor no kernel of this build uses");
    switch (op->op_type) {
    case ECNN_OP_CONV_2D: return check_conv2d(&c, macs);
    case ECNN_OP_MAX_POOL_2D:
    case ECNN_OP_AVG_POOL_2D: return check_pool2d(&c, macs);
    case ECNN_OP_ADD:
    case ECNN_OP_MUL: return check_binary(&c, macs);
    case ECNN_OP_TRANSPOSE: return check_transpose(&c, macs);
    case ECNN_OP_PAD: return check_pad(&c, macs);
    case ECNN_OP_CONCAT: return check_concat(&c, macs);
    case ECNN_OP_FULLY_CONNECTED: return check_fully_connected(&c, macs);
    case ECNN_OP_CHANNEL_ARITH: return check_channel_arith(&c, macs);
    case ECNN_OP_QUANTIZE:
    case ECNN_OP_DEQUANTIZE: return check_quant_convert(&c, macs);
    default: return check_unary(&c, macs);
    }
}

/* ---- init --------------------------------------------------------------------------- */

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

ecnn_status ecnn_model_init(ecnn_model *m, const void *buf, size_t buf_size)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint32_t i, pos;
    uint64_t ops_end;
    ecnn_status st;
    if (m == NULL) return ECNN_E_ARG;
    memset(m, 0, sizeof *m);
    m->err_op = -1;
    m->err_tensor = -1;
    m->err_detail = "";
    if (buf == NULL) return fail(m, ECNN_E_ARG, -1, -1, "model buffer is NULL");
    if ((uintptr_t)buf % ECNN_MODEL_ALIGN != 0) return fail(m, ECNN_E_ALIGN, -1, -1, "model buffer not 4-byte aligned");
    if (!host_is_little_endian()) return fail(m, ECNN_E_UNSUPPORTED, -1, -1, "this library version needs a little-endian host");
    if (buf_size >= 4 && memcmp(p, "ECNN", 4) != 0) return fail(m, ECNN_E_MAGIC, -1, -1, "file does not start with ECNN");
    if (buf_size < ECNN_HEADER_SIZE) return fail(m, ECNN_E_TRUNCATED, -1, -1, "buffer shorter than the 64-byte header");
    m->version = ecnn_rd32(p + 4);
    if (m->version != ECNN_FORMAT_VERSION) return fail(m, ECNN_E_VERSION, -1, -1, "unsupported format version");
    m->file_size = ecnn_rd32(p + 8);
    if (m->file_size < ECNN_HEADER_SIZE + 4) return fail(m, ECNN_E_CORRUPT, -1, -1, "file_size smaller than header + CRC");
    if (buf_size < m->file_size) return fail(m, ECNN_E_TRUNCATED, -1, -1, "buffer shorter than file_size");
    if (ecnn_crc32(p, m->file_size - 4) != ecnn_rd32(p + m->file_size - 4))
        return fail(m, ECNN_E_CRC, -1, -1, "CRC32 of the file does not match");

    if (ecnn_rd32(p + 12) != ECNN_HEADER_SIZE) return fail(m, ECNN_E_CORRUPT, -1, -1, "header_size is not 64");
    if (ecnn_rd32(p + 16) != 0) return fail(m, ECNN_E_UNSUPPORTED, -1, -1, "unknown header flags");
    m->num_tensors = ecnn_rd32(p + 20);
    m->num_ops = ecnn_rd32(p + 28);
    m->ops_size = ecnn_rd32(p + 36);
    m->data_size = ecnn_rd32(p + 44);
    m->arena_fixed = ecnn_rd32(p + 48);
    m->arena_per_sample = ecnn_rd32(p + 52);
    m->input = ecnn_rd32(p + 56);
    m->output = ecnn_rd32(p + 60);
    if (m->num_tensors < 2 || m->num_tensors >= ECNN_NO_TENSOR)
        return fail(m, ECNN_E_CORRUPT, -1, -1, "num_tensors not in 2..65534");
    if (m->num_ops < 1) return fail(m, ECNN_E_CORRUPT, -1, -1, "num_ops is 0");
    if (ecnn_rd32(p + 24) != ECNN_HEADER_SIZE) return fail(m, ECNN_E_CORRUPT, -1, -1, "tensors_offset is not 64");
    if ((uint64_t)ecnn_rd32(p + 32) != ECNN_HEADER_SIZE + (uint64_t)ECNN_TENSOR_RECORD_SIZE * m->num_tensors)
        return fail(m, ECNN_E_CORRUPT, -1, -1, "ops_offset does not follow the tensor table");
    ops_end = (uint64_t)ecnn_rd32(p + 32) + m->ops_size;
    {
        const uint32_t data_offset = ecnn_rd32(p + 40);
        if (data_offset % ECNN_DATA_ALIGN != 0) return fail(m, ECNN_E_CORRUPT, -1, -1, "data_offset not a multiple of 64");
        if (ops_end > data_offset) return fail(m, ECNN_E_CORRUPT, -1, -1, "op list overlaps the weight data");
        if ((uint64_t)data_offset + m->data_size != (uint64_t)m->file_size - 4)
            return fail(m, ECNN_E_CORRUPT, -1, -1, "weight data does not end at the CRC");
        m->data = p + data_offset;
    }
    if (m->arena_fixed % ECNN_PLAN_ALIGN != 0 || m->arena_per_sample % ECNN_PLAN_ALIGN != 0)
        return fail(m, ECNN_E_CORRUPT, -1, -1, "arena sizes not multiples of 64");
    if (m->input >= m->num_tensors || m->output >= m->num_tensors || m->input == m->output)
        return fail(m, ECNN_E_CORRUPT, -1, -1, "input_tensor/output_tensor index out of range");
    m->buf = p;
    m->tensors = p + ECNN_HEADER_SIZE;
    m->ops = p + ecnn_rd32(p + 32);

    for (i = 0; i < m->num_tensors; i++) {
        st = check_tensor(m, i);
        if (st != ECNN_OK) return st;
    }
    {
        ecnn_tensor_rec t;
        ecnn_read_tensor(m, m->input, &t);
        if (t.kind != ECNN_KIND_INPUT) return fail(m, ECNN_E_CORRUPT, -1, (int32_t)m->input, "input_tensor is not an INPUT");
        ecnn_read_tensor(m, m->output, &t);
        if (t.kind != ECNN_KIND_OUTPUT) return fail(m, ECNN_E_CORRUPT, -1, (int32_t)m->output, "output_tensor is not an OUTPUT");
    }

    /* Op records: structure first (so later scans can trust every record), then semantics. */
    for (i = 0, pos = 0; i < m->num_ops; i++) {
        ecnn_op_rec op;
        const uint32_t size = ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        if (size == 0) return fail(m, ECNN_E_CORRUPT, (int32_t)i, -1, "malformed op record");
        pos += size;
    }
    if (pos != m->ops_size) return fail(m, ECNN_E_CORRUPT, -1, -1, "ops_size does not match the op records");
    for (i = 0, pos = 0; i < m->num_ops; i++) {
        ecnn_op_rec op;
        uint64_t macs;
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        st = check_op(m, &op, i, &macs);
        if (st != ECNN_OK) return st;
    }
    for (i = 0; i < m->num_tensors; i++) {
        ecnn_tensor_rec t;
        ecnn_read_tensor(m, i, &t);
        if (t.kind == ECNN_KIND_SCRATCH) return fail(m, ECNN_E_UNSUPPORTED, -1, (int32_t)i, "SCRATCH tensors are not used by this build");
        if ((t.kind == ECNN_KIND_ACTIVATION || t.kind == ECNN_KIND_OUTPUT) && writer_of(m, i, m->num_ops) == NO_OP)
            return fail(m, ECNN_E_CORRUPT, -1, (int32_t)i, "no op writes this tensor");
    }
    st = check_plan(m);
    if (st != ECNN_OK) return st;
    m->err_detail = "";
    return ECNN_OK;
}

/* ---- queries -------------------------------------------------------------------------- */

const char *ecnn_model_error(const ecnn_model *m, int32_t *op, int32_t *tensor)
{
    if (op) *op = m ? m->err_op : -1;
    if (tensor) *tensor = m ? m->err_tensor : -1;
    return (m && m->err_detail) ? m->err_detail : "";
}

ecnn_status ecnn_model_get_info(const ecnn_model *m, ecnn_model_info *info)
{
    if (m == NULL || info == NULL || m->buf == NULL) return ECNN_E_ARG;
    info->version = m->version;
    info->file_size = m->file_size;
    info->num_tensors = m->num_tensors;
    info->num_ops = m->num_ops;
    info->input = m->input;
    info->output = m->output;
    info->arena_fixed = m->arena_fixed;
    info->arena_per_sample = m->arena_per_sample;
    info->weight_bytes = m->weight_bytes;
    info->activation_bytes = m->activation_bytes;
    return ECNN_OK;
}

ecnn_status ecnn_model_tensor(const ecnn_model *m, uint32_t index, ecnn_tensor_info *info)
{
    ecnn_tensor_rec t;
    uint32_t i;
    if (m == NULL || info == NULL || m->buf == NULL || index >= m->num_tensors) return ECNN_E_ARG;
    ecnn_read_tensor(m, index, &t);
    info->kind = t.kind;
    info->dtype = t.dtype;
    info->rank = t.rank;
    for (i = 0; i < ECNN_MAX_RANK; i++) info->dims[i] = t.dims[i];
    info->size = t.size;
    info->offset = t.offset;
    info->quant_count = t.quant_count;
    return ECNN_OK;
}

ecnn_status ecnn_model_op(const ecnn_model *m, uint32_t index, ecnn_op_info *info)
{
    ecnn_op_rec op;
    uint32_t i, pos = 0;
    ecnn_model scratch_model;
    uint64_t macs = 0;
    if (m == NULL || info == NULL || m->buf == NULL || index >= m->num_ops) return ECNN_E_ARG;
    for (i = 0; i <= index; i++) pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
    info->op_type = op.op_type;
    info->num_inputs = op.num_inputs;
    info->num_outputs = op.num_outputs;
    info->weight_bytes = 0;
    for (i = 0; i < ECNN_MAX_OP_TENSORS; i++) {
        info->inputs[i] = i < op.num_inputs ? op.inputs[i] : ECNN_NO_TENSOR;
        info->outputs[i] = i < op.num_outputs ? op.outputs[i] : ECNN_NO_TENSOR;
    }
    for (i = 0; i < op.num_inputs; i++) {
        ecnn_tensor_rec t;
        if (op.inputs[i] == ECNN_NO_TENSOR) continue;
        ecnn_read_tensor(m, op.inputs[i], &t);
        if (t.kind == ECNN_KIND_CONSTANT) info->weight_bytes += t.size;
    }
    /* The checks compute the MACs; run them on a copy so the model stays read-only. */
    scratch_model = *m;
    (void)check_op(&scratch_model, &op, index, &macs);
    info->macs_per_sample = macs;
    return ECNN_OK;
}

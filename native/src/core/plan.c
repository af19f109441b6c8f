/* The arena plan check (docs/file-format.md "Arena"): two arena tensors whose lifetimes overlap never
 * share bytes, except through the aliases the format allows, and an in-place op never
 * overwrites an alias of its input that a later op still reads. Nothing is allocated: the
 * lifetimes of a block of tensors at a time come from one scan of the op list. */
#include "core/internal.h"

#define NO_OP 0xFFFFFFFFu

static int is_in_arena(uint32_t kind)
{
    return kind == ECNN_KIND_ACTIVATION || kind == ECNN_KIND_SCRATCH;
}

/* Ops whose output may share its input's bytes (docs/file-format.md, "Arena"). */
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
    uint32_t w = ecnn_writer_of(m, t, m->num_ops);
    *op_index = w;
    if (w == NO_OP) return NO_OP;
    ecnn_op_at(m, w, &op);
    if (!may_alias(op.op_type) || op.num_inputs < 1 || op.outputs[0] != t) return NO_OP;
    ecnn_read_tensor(m, op.inputs[0], &a);
    ecnn_read_tensor(m, t, &b);
    if (!is_in_arena(a.kind) || a.offset != b.offset) return NO_OP;
    if (op.op_type == ECNN_OP_MAX_POOL_2D) {
        /* No top/left padding and OW <= W: output pixel (oy, ox) lands at or before every
         * input pixel it or a later output reads (docs/file-format.md), so the kernel may run in place. */
        if (op.params.max_pool_2d.pad_top != 0 || op.params.max_pool_2d.pad_left != 0 || b.dims[1] > a.dims[1] ||
            b.size > a.size)
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
            wa = ecnn_writer_of(m, a, m->num_ops);
        } else {
            if ((b = alias_parent(m, b, &child_writer)) == NO_OP) return 0;
            wb = ecnn_writer_of(m, b, m->num_ops);
        }
    }
    return a == b;
}

/* Checks the arena plan: live tensors never share bytes except through allowed aliases,
 * and an in-place op never overwrites an alias of its input that a later op still reads. */
ecnn_status ecnn_check_plan(ecnn_model *m)
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
                ecnn_op_at(m, write_op, &op);
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
                        return ecnn_fail(m, ECNN_E_CORRUPT, (int32_t)wa, (int32_t)b,
                                         "arena plan: in-place op overwrites a tensor that is read later");
                    if (b < a) continue; /* each pair once below */
                    ecnn_read_tensor(m, b, &tb);
                    if (ta.offset >= tb.offset + tb.size || tb.offset >= ta.offset + ta.size)
                        continue;                                                  /* disjoint bytes */
                    if (la->last < lb->first || lb->last < la->first) continue;    /* disjoint lifetimes */
                    if (same_alias_group(m, a, la->first, b, lb->first)) continue; /* allowed alias */
                    return ecnn_fail(m, ECNN_E_CORRUPT, -1, (int32_t)b, "arena plan: two live tensors share bytes");
                }
            }
        }
    }
    return ECNN_OK;
}

/* The file's records, decoded where they lie (docs/file-format.md), and the failure record every
 * check writes. The loader, the shared op checks (check.c), the arena plan check (plan.c) and the
 * ops read the model only through these. Nothing here allocates: per-tensor facts (who writes a
 * tensor) are recomputed by scanning the op list, which is short. */
#include <string.h>

#include "core/op.h"

ecnn_status ecnn_fail(ecnn_model *m, ecnn_status st, int32_t op, int32_t tensor, const char *detail)
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

ecnn_status ecnn_op_fail(const ecnn_op_ctx *c, ecnn_status st, uint32_t tensor, const char *detail)
{
    return ecnn_fail(c->m, st, (int32_t)c->index, tensor == ECNN_NO_INDEX ? -1 : (int32_t)tensor, detail);
}

uint32_t ecnn_writer_of(const ecnn_model *m, uint32_t t, uint32_t before)
{
    uint32_t pos = 0, i, j;
    ecnn_op_rec op;
    for (i = 0; i < before && i < m->num_ops; i++) {
        pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        for (j = 0; j < op.num_outputs; j++)
            if (op.outputs[j] == t) return i;
        if (op.scratch == t) return i;
    }
    return ECNN_NO_INDEX;
}

void ecnn_op_at(const ecnn_model *m, uint32_t index, ecnn_op_rec *op)
{
    uint32_t pos = 0, i;
    for (i = 0; i <= index; i++) pos += ecnn_read_op(m->ops + pos, m->ops_size - pos, op);
}

/* Model loading: validates every byte of an .ecnn file (docs/file-format.md) before use: the
 * header, every tensor record, the op records' structure, then each op's own check (src/ops,
 * through the registry) and the arena plan (plan.c); then answers queries. Nothing here
 * allocates; records.c decodes the records and scans the op list. */
#include "core/op.h"
#include "kernels/kernels.h"

#define NO_OP ECNN_NO_INDEX

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
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor kind is not 1..5");
    esize = ecnn_dtype_size(t.dtype);
    if (esize == 0) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor dtype is not 1..4");
    if (t.rank > ECNN_MAX_RANK) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor rank > 5");
    for (i = 0; i < ECNN_MAX_RANK; i++) {
        if (i < t.rank) {
            if (t.dims[i] == 0) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor has a zero dimension");
            elems *= t.dims[i];
            if (elems > 0xFFFFFFFFu) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor too large");
        } else if (t.dims[i] != 0) {
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor dims beyond its rank are not 0");
        }
    }
    if (ecnn_rd32(p + 44) >> 8 != 0)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "tensor reserved bytes 45..47 are not 0");
    if (t.layout >= ECNN_LAYOUT_COUNT) return ecnn_fail(m, ECNN_E_UNSUPPORTED, -1, ti, "unknown weight layout");
    if (t.layout != ECNN_LAYOUT_PLAIN) {
        if (t.kind != ECNN_KIND_CONSTANT)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "weight layout set on a non-CONSTANT tensor");
        if (t.layout == ECNN_LAYOUT_CONV_HWIO ? t.rank != 4 : t.rank != 2)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "packed weight has the wrong rank for its layout");
        if (t.layout != ECNN_LAYOUT_CONV_HWIO)
            elems = ecnn_fc_w_elems(t.layout, t.dims[0], t.dims[1]); /* padded panels */
    }
    if (elems * esize != t.size)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti,
                         "tensor size != element size x product(dims) (x padding of its layout)");

    switch (t.kind) {
    case ECNN_KIND_INPUT:
        if (index != m->input)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "INPUT tensor is not the header's input_tensor");
        if (t.offset != 0) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "INPUT tensor offset is not 0");
        break;
    case ECNN_KIND_OUTPUT:
        if (index != m->output)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "OUTPUT tensor is not the header's output_tensor");
        if (t.offset != 0) return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "OUTPUT tensor offset is not 0");
        break;
    case ECNN_KIND_ACTIVATION:
    case ECNN_KIND_SCRATCH:
        if (t.offset % ECNN_PLAN_ALIGN != 0)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "arena offset not a multiple of 64");
        if ((uint64_t)t.offset + t.size > m->arena_per_sample)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "arena offset + size beyond arena_bytes_per_sample");
        if (t.kind == ECNN_KIND_ACTIVATION) m->activation_bytes += t.size;
        break;
    default: /* CONSTANT */
        if (t.offset % ECNN_DATA_ALIGN != 0)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "constant offset not a multiple of 64");
        if ((uint64_t)t.offset + t.size > m->data_size)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "constant offset + size beyond the weight data");
        m->weight_bytes += t.size;
        break;
    }

    if (t.quant_count == 0) {
        if (t.quant_axis != 0 || t.scale_offset != 0 || t.zero_point_offset != 0)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "quantization fields set on an unquantized tensor");
    } else {
        if (t.dtype == ECNN_DTYPE_F32)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "f32 tensor with quantization parameters");
        if (t.quant_count != 1 && (t.quant_axis >= t.rank || t.quant_count != t.dims[t.quant_axis]))
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "per-channel quant_count != dims[quant_axis]");
        if (t.scale_offset % 4 != 0 || (uint64_t)t.scale_offset + 4ull * t.quant_count > m->data_size)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti, "quantization scales outside the weight data or misaligned");
        if (t.zero_point_offset % 4 != 0 || (uint64_t)t.zero_point_offset + 4ull * t.quant_count > m->data_size)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, ti,
                             "quantization zero points outside the weight data or misaligned");
    }
    return ECNN_OK;
}

/* Validates op `index` (already decoded) and returns its MACs per sample. */
static ecnn_status check_op(ecnn_model *m, const ecnn_op_rec *op, uint32_t index, uint64_t *macs)
{
    const ecnn_op_def *def = ecnn_op_def_of(op->op_type);
    ecnn_op_ctx c;
    c.m = m;
    c.op = op;
    c.index = index;
    if (def == NULL) return ecnn_op_fail(&c, ECNN_E_UNSUPPORTED, NO_OP, "unknown or unsupported op type");
    if (def->check == NULL)
        return ecnn_op_fail(&c, ECNN_E_UNSUPPORTED, NO_OP, "op left out of this build (its ECNN_OPS_HEADER)");
    if (op->num_params != def->words) return ecnn_op_fail(&c, ECNN_E_CORRUPT, NO_OP, "wrong number of op parameters");
    if (op->scratch != ECNN_NO_TENSOR) /* no kernel uses scratch */
        return ecnn_op_fail(&c, ECNN_E_UNSUPPORTED, op->scratch,
                            "op has a scratch tensor no kernel of this build uses");
    return def->check(&c, macs);
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
    const char *why = "";
    uint32_t i, pos, header_size;
    uint64_t ops_end;
    ecnn_status st;
    if (m == NULL) return ECNN_E_ARG;
    memset(m, 0, sizeof *m);
    m->err_op = -1;
    m->err_tensor = -1;
    m->err_detail = "";
    if (buf == NULL) return ecnn_fail(m, ECNN_E_ARG, -1, -1, "model buffer is NULL");
    m->isa = ecnn_isa_select(&why);
    if (m->isa == NULL) return ecnn_fail(m, ECNN_E_ISA, -1, -1, why);
    if ((uintptr_t)buf % ECNN_MODEL_ALIGN != 0)
        return ecnn_fail(m, ECNN_E_ALIGN, -1, -1, "model buffer not 4-byte aligned");
    if (!host_is_little_endian())
        return ecnn_fail(m, ECNN_E_UNSUPPORTED, -1, -1, "this library version needs a little-endian host");
    if (buf_size >= 4 && memcmp(p, "ECNN", 4) != 0)
        return ecnn_fail(m, ECNN_E_MAGIC, -1, -1, "file does not start with ECNN");
    if (buf_size < ECNN_HEADER_SIZE)
        return ecnn_fail(m, ECNN_E_TRUNCATED, -1, -1, "buffer shorter than the 64-byte header");
    m->version = ecnn_rd32(p + 4);
    if (m->version < ECNN_FORMAT_VERSION_MIN || m->version > ECNN_FORMAT_VERSION)
        return ecnn_fail(m, ECNN_E_VERSION, -1, -1, "unsupported format version");
    header_size = m->version >= 2 ? ECNN_HEADER_SIZE_V2 : ECNN_HEADER_SIZE;
    if (buf_size < header_size)
        return ecnn_fail(m, ECNN_E_TRUNCATED, -1, -1, "buffer shorter than the 80-byte version 2 header");
    m->file_size = ecnn_rd32(p + 8);
    if (m->file_size < header_size + 4)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "file_size smaller than header + CRC");
    if (buf_size < m->file_size) return ecnn_fail(m, ECNN_E_TRUNCATED, -1, -1, "buffer shorter than file_size");
    if (ecnn_crc32(p, m->file_size - 4, m->isa) != ecnn_rd32(p + m->file_size - 4))
        return ecnn_fail(m, ECNN_E_CRC, -1, -1, "CRC32 of the file does not match");

    if (ecnn_rd32(p + 12) != header_size)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "header_size is not 64 (version 1) or 80 (version 2)");
    if (ecnn_rd32(p + 16) != 0) return ecnn_fail(m, ECNN_E_UNSUPPORTED, -1, -1, "unknown header flags");
    m->num_tensors = ecnn_rd32(p + 20);
    m->num_ops = ecnn_rd32(p + 28);
    m->ops_size = ecnn_rd32(p + 36);
    m->data_size = ecnn_rd32(p + 44);
    m->arena_fixed = ecnn_rd32(p + 48);
    m->arena_per_sample = ecnn_rd32(p + 52);
    m->input = ecnn_rd32(p + 56);
    m->output = ecnn_rd32(p + 60);
    if (m->num_tensors < 2 || m->num_tensors >= ECNN_NO_TENSOR)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "num_tensors not in 2..65534");
    if (m->num_ops < 1) return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "num_ops is 0");
    if (ecnn_rd32(p + 24) != header_size)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "tensors_offset does not follow the header");
    if ((uint64_t)ecnn_rd32(p + 32) != header_size + (uint64_t)ECNN_TENSOR_RECORD_SIZE * m->num_tensors)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "ops_offset does not follow the tensor table");
    ops_end = (uint64_t)ecnn_rd32(p + 32) + m->ops_size;
    {
        const uint32_t data_offset = ecnn_rd32(p + 40);
        if (data_offset % ECNN_DATA_ALIGN != 0)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "data_offset not a multiple of 64");
        if (ops_end > data_offset) return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "op list overlaps the weight data");
        if ((uint64_t)data_offset + m->data_size != (uint64_t)m->file_size - 4)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "weight data does not end at the CRC");
        m->data = p + data_offset;
        if (m->version >= 2) {
            m->batch = ecnn_rd32(p + 64);
            m->metadata_offset = ecnn_rd32(p + 68);
            m->metadata_size = ecnn_rd32(p + 72);
            if (ecnn_rd32(p + 76) != 0) return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "header bytes 76..79 are not 0");
            if (m->metadata_size == 0
                    ? m->metadata_offset != 0
                    : m->metadata_offset < ops_end || (uint64_t)m->metadata_offset + m->metadata_size > data_offset)
                return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1,
                                 "metadata section not between the op list and the weight data");
        }
    }
    if (m->arena_fixed % ECNN_PLAN_ALIGN != 0 || m->arena_per_sample % ECNN_PLAN_ALIGN != 0)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "arena sizes not multiples of 64");
    if (m->input >= m->num_tensors || m->output >= m->num_tensors || m->input == m->output)
        return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "input_tensor/output_tensor index out of range");
    m->buf = p;
    m->tensors = p + header_size;
    m->ops = p + ecnn_rd32(p + 32);

    for (i = 0; i < m->num_tensors; i++) {
        st = check_tensor(m, i);
        if (st != ECNN_OK) return st;
    }
    {
        ecnn_tensor_rec t;
        ecnn_read_tensor(m, m->input, &t);
        if (t.kind != ECNN_KIND_INPUT)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, (int32_t)m->input, "input_tensor is not an INPUT");
        ecnn_read_tensor(m, m->output, &t);
        if (t.kind != ECNN_KIND_OUTPUT)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, (int32_t)m->output, "output_tensor is not an OUTPUT");
    }

    /* Op records: structure first (so later scans can trust every record), then semantics. */
    for (i = 0, pos = 0; i < m->num_ops; i++) {
        ecnn_op_rec op;
        const uint32_t size = ecnn_read_op(m->ops + pos, m->ops_size - pos, &op);
        if (size == 0) return ecnn_fail(m, ECNN_E_CORRUPT, (int32_t)i, -1, "malformed op record");
        pos += size;
    }
    if (pos != m->ops_size) return ecnn_fail(m, ECNN_E_CORRUPT, -1, -1, "ops_size does not match the op records");
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
        if (t.kind == ECNN_KIND_SCRATCH)
            return ecnn_fail(m, ECNN_E_UNSUPPORTED, -1, (int32_t)i, "SCRATCH tensors are not used by this build");
        if ((t.kind == ECNN_KIND_ACTIVATION || t.kind == ECNN_KIND_OUTPUT) && ecnn_writer_of(m, i, m->num_ops) == NO_OP)
            return ecnn_fail(m, ECNN_E_CORRUPT, -1, (int32_t)i, "no op writes this tensor");
    }
    st = ecnn_check_plan(m);
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
    info->batch = m->batch;
    return ECNN_OK;
}

ecnn_status ecnn_model_metadata(const ecnn_model *m, const char **text, uint32_t *bytes)
{
    if (m == NULL || text == NULL || bytes == NULL || m->buf == NULL) return ECNN_E_ARG;
    *text = m->metadata_size ? (const char *)(m->buf + m->metadata_offset) : "";
    *bytes = m->metadata_size;
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
    /* The op's eval names the kernel it runs, without running it. */
    {
        ecnn_run_ctx r;
        memset(&r, 0, sizeof r);
        r.par = NULL;
        r.m = m;
        r.batch = 1;
        info->kernel = ecnn_op_def_of(op.op_type)->eval(&r, &op);
    }
    return ECNN_OK;
}

const char *ecnn_model_isa(const ecnn_model *m)
{
    return m && m->isa ? m->isa->name : "";
}

const char *ecnn_isa_level(uint32_t index, int *runs_here)
{
    if (index >= ECNN_ISA_COUNT) return NULL;
    if (runs_here) *runs_here = ecnn_isa_runs_here(index);
    return ecnn_isa_levels[index].name;
}

#include "model_builder.h"

#include <string.h>

#include "core/internal.h"

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v & 0xFFFFu);
    wr16(p + 2, v >> 16);
}

uint32_t mb_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

void mb_init(model_builder *b)
{
    memset(b, 0, sizeof *b);
}

/* The next tensor of b: f32, of this kind and shape, its size set (the caller sets the rest). */
static mb_tensor *next_f32_tensor(model_builder *b, uint8_t kind, uint32_t rank, const uint32_t *dims)
{
    mb_tensor *t = &b->tensors[b->num_tensors];
    uint32_t i, n = 1;
    t->kind = kind;
    t->dtype = ECNN_DTYPE_F32;
    t->rank = (uint8_t)rank;
    for (i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        n *= dims[i];
    }
    t->size = 4 * n;
    return t;
}

uint16_t mb_tensor_act(model_builder *b, uint8_t kind, uint32_t arena_offset, uint32_t rank, const uint32_t *dims)
{
    mb_tensor *t = next_f32_tensor(b, kind, rank, dims);
    t->offset = kind == ECNN_KIND_ACTIVATION ? arena_offset : 0;
    if (kind == ECNN_KIND_ACTIVATION && arena_offset + t->size > b->arena_per_sample)
        b->arena_per_sample = (arena_offset + t->size + 63u) & ~63u;
    if (kind == ECNN_KIND_INPUT) b->input = b->num_tensors;
    if (kind == ECNN_KIND_OUTPUT) b->output = b->num_tensors;
    return (uint16_t)b->num_tensors++;
}

uint16_t mb_tensor_const(model_builder *b, uint32_t rank, const uint32_t *dims, const float *values)
{
    mb_tensor *t = next_f32_tensor(b, ECNN_KIND_CONSTANT, rank, dims);
    t->offset = (b->data_size + 63u) & ~63u;
    memcpy(b->data + t->offset, values, t->size);
    b->data_size = t->offset + t->size;
    return (uint16_t)b->num_tensors++;
}

uint16_t mb_tensor_const_packed(model_builder *b, uint32_t rank, const uint32_t *dims, const float *values,
                                uint32_t count, uint8_t layout)
{
    const uint32_t dummy_dims[1] = {count};
    const uint16_t t = mb_tensor_const(b, 1, dummy_dims, values);
    uint32_t i;
    b->tensors[t].rank = (uint8_t)rank;
    for (i = 0; i < 5; i++) b->tensors[t].dims[i] = i < rank ? dims[i] : 0;
    b->tensors[t].layout = layout;
    return t;
}

void mb_op_add(model_builder *b, uint16_t type, uint32_t ni, const uint16_t *inputs, uint32_t no,
               const uint16_t *outputs, uint32_t np, const uint32_t *params)
{
    mb_op *op = &b->ops[b->num_ops++];
    op->type = type;
    op->ni = (uint8_t)ni;
    op->no = (uint8_t)no;
    op->np = (uint16_t)np;
    memcpy(op->inputs, inputs, ni * sizeof *inputs);
    memcpy(op->outputs, outputs, no * sizeof *outputs);
    if (np) memcpy(op->params, params, np * sizeof *params);
}

void mb_op_1to1(model_builder *b, uint16_t type, uint16_t x, uint16_t y, uint32_t np, const uint32_t *params)
{
    mb_op_add(b, type, 1, &x, 1, &y, np, params);
}

void mb_op_linear(model_builder *b, uint16_t type, uint16_t x, uint16_t w, uint16_t bias, uint16_t y, uint32_t np,
                  const uint32_t *params)
{
    const uint16_t inputs[3] = {x, w, bias};
    mb_op_add(b, type, 3, inputs, 1, &y, np, params);
}

uint32_t mb_write(const model_builder *b, uint8_t *out)
{
    uint32_t pos = 64, i, j, ops_offset, data_offset, file_size;
    for (i = 0; i < b->num_tensors; i++, pos += 48) {
        const mb_tensor *t = &b->tensors[i];
        memset(out + pos, 0, 48);
        out[pos] = t->kind;
        out[pos + 1] = t->dtype;
        out[pos + 2] = t->rank;
        for (j = 0; j < 5; j++) wr32(out + pos + 4 + 4 * j, t->dims[j]);
        wr32(out + pos + 24, t->offset);
        wr32(out + pos + 28, t->size);
        out[pos + 44] = t->layout;
    }
    ops_offset = pos;
    for (i = 0; i < b->num_ops; i++) {
        const mb_op *op = &b->ops[i];
        const uint32_t nt = op->ni + op->no, slots = (nt + 1) / 2;
        const uint32_t size = 12 + 4 * slots + 4u * op->np;
        wr16(out + pos, op->type);
        wr16(out + pos + 2, size);
        out[pos + 4] = op->ni;
        out[pos + 5] = op->no;
        wr16(out + pos + 6, op->np);
        wr16(out + pos + 8, ECNN_NO_TENSOR);
        wr16(out + pos + 10, 0);
        for (j = 0; j < op->ni; j++) wr16(out + pos + 12 + 2 * j, op->inputs[j]);
        for (j = 0; j < op->no; j++) wr16(out + pos + 12 + 2 * (op->ni + j), op->outputs[j]);
        if (nt & 1) wr16(out + pos + 12 + 2 * nt, ECNN_NO_TENSOR);
        for (j = 0; j < op->np; j++) wr32(out + pos + 12 + 4 * slots + 4 * j, op->params[j]);
        pos += size;
    }
    data_offset = (pos + 63u) & ~63u;
    memset(out + pos, 0, data_offset - pos);
    memcpy(out + data_offset, b->data, b->data_size);
    file_size = data_offset + b->data_size + 4;
    memcpy(out, "ECNN", 4);
    wr32(out + 4, 1); /* the 64-byte version 1 header: the library keeps reading it */
    wr32(out + 8, file_size);
    wr32(out + 12, 64);
    wr32(out + 16, 0);
    wr32(out + 20, b->num_tensors);
    wr32(out + 24, 64);
    wr32(out + 28, b->num_ops);
    wr32(out + 32, ops_offset);
    wr32(out + 36, pos - ops_offset);
    wr32(out + 40, data_offset);
    wr32(out + 44, b->data_size);
    wr32(out + 48, 0);
    wr32(out + 52, b->arena_per_sample);
    wr32(out + 56, b->input);
    wr32(out + 60, b->output);
    mb_fix_crc(out, file_size);
    return file_size;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t mb_to_version_2(uint8_t *file, uint32_t batch, const char *metadata)
{
    const uint32_t ops_offset = rd32(file + 32), ops_size = rd32(file + 36), data_offset = rd32(file + 40);
    const uint32_t data_size = rd32(file + 44), meta_size = (uint32_t)strlen(metadata);
    const uint32_t ops_end = ops_offset + 16 + ops_size, meta_offset = (ops_end + 3u) & ~3u;
    const uint32_t new_data = (meta_offset + meta_size + 63u) & ~63u; /* >= data_offset: moves up */
    const uint32_t file_size = new_data + data_size + 4;
    memmove(file + new_data, file + data_offset, data_size);
    memmove(file + 80, file + 64, ops_end - 80);
    memset(file + ops_end, 0, new_data - ops_end);
    memcpy(file + meta_offset, metadata, meta_size);
    wr32(file + 4, 2);
    wr32(file + 8, file_size);
    wr32(file + 12, 80);
    wr32(file + 24, 80);
    wr32(file + 32, ops_offset + 16);
    wr32(file + 40, new_data);
    wr32(file + 64, batch);
    wr32(file + 68, meta_size ? meta_offset : 0);
    wr32(file + 72, meta_size);
    wr32(file + 76, 0);
    mb_fix_crc(file, file_size);
    return file_size;
}

void mb_fix_crc(uint8_t *file, uint32_t size)
{
    wr32(file + size - 4, ecnn_crc32(file, size - 4, NULL));
}

/* Internal declarations shared by the library sources: file layout constants,
 * little-endian readers, the decoded tensor and op records. Not installed, not public. */
#ifndef ECNN_INTERNAL_H
#define ECNN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/isa.h"
#include "edgecnn.h"

/* File layout (docs/file-format.md). */
#define ECNN_HEADER_SIZE 64u    /* version 1 */
#define ECNN_HEADER_SIZE_V2 80u /* version 2: + batch, metadata_offset, metadata_size, reserved */
#define ECNN_TENSOR_RECORD_SIZE 48u
#define ECNN_OP_HEADER_SIZE 12u
#define ECNN_DATA_ALIGN 64u
#define ECNN_PLAN_ALIGN 64u
#define ECNN_MAX_OP_PARAMS 32u

/* Little-endian readers: byte-wise so they work at any alignment and host endianness. */
static inline uint16_t ecnn_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t ecnn_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float ecnn_rdf32(const uint8_t *p)
{
    uint32_t u = ecnn_rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A decoded tensor record (fields as in the file). */
typedef struct {
    uint32_t kind, dtype, rank, quant_axis;
    uint32_t dims[ECNN_MAX_RANK];
    uint32_t offset, size;
    uint32_t quant_count, scale_offset, zero_point_offset;
    uint32_t layout; /* byte 44: weight layout of a CONSTANT (ecnn_layout) */
} ecnn_tensor_rec;

/* A decoded op record; pointers into the file are not kept. */
typedef struct {
    uint32_t op_type;
    uint32_t num_inputs, num_outputs, num_params;
    uint32_t scratch;
    uint32_t inputs[ECNN_MAX_OP_TENSORS];
    uint32_t outputs[ECNN_MAX_OP_TENSORS];
    ecnn_op_params params; /* decoded into the op's struct (edgecnn_ops.h) */
} ecnn_op_rec;

/* core/records.c: the records decoded where they lie, and the failure record. */
void ecnn_read_tensor(const ecnn_model *m, uint32_t index, ecnn_tensor_rec *t);

/* Decodes the op record at byte offset `pos` of the op list, which holds `avail` bytes
 * from there: its parameter words into op->params (the op's struct; a record with more words
 * than any struct holds keeps the first ones: the validator refuses its count). Returns its
 * size in bytes, or 0 when the record is malformed (too short, too many tensors or params).
 * Used by the validator and, on validated files, by ecnn_run. */
uint32_t ecnn_read_op(const uint8_t *rec, uint32_t avail, ecnn_op_rec *op);

/* Index of the op writing tensor t (as output or scratch) among ops [0, before), or
 * 0xFFFFFFFF. The op list has no per-tensor tables: the library does not allocate. */
uint32_t ecnn_writer_of(const ecnn_model *m, uint32_t t, uint32_t before);
/* Decodes op `index` (< num_ops) of a model whose records were checked. */
void ecnn_op_at(const ecnn_model *m, uint32_t index, ecnn_op_rec *op);

/* The arena plan check (core/plan.c): live tensors never share bytes except through the
 * aliases docs/file-format.md allows. */
ecnn_status ecnn_check_plan(ecnn_model *m);

/* Records the failed check in the handle and returns the status. */
ecnn_status ecnn_fail(ecnn_model *m, ecnn_status st, int32_t op, int32_t tensor, const char *detail);

/* zlib's CRC32 of data[0, len), with the level's fastest code (isa may be NULL: the table). */
uint32_t ecnn_crc32(const uint8_t *data, size_t len, const ecnn_isa_info *isa);
/* The running CRC `crc` (inverted state) over len >= 64 bytes, a multiple of 16 (PCLMULQDQ). */
uint32_t ecnn_crc32_fold_pclmul(const uint8_t *buf, size_t len, uint32_t crc);

/* Product of dims (element count), in 64 bits. */
static inline uint64_t ecnn_numel(const ecnn_tensor_rec *t)
{
    uint64_t n = 1;
    uint32_t i;
    for (i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

static inline uint32_t ecnn_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case ECNN_DTYPE_F32: return 4;
    case ECNN_DTYPE_I8: return 1;
    case ECNN_DTYPE_U8: return 1;
    case ECNN_DTYPE_I32: return 4;
    default: return 0;
    }
}

#endif /* ECNN_INTERNAL_H */

/* Writes small .ecnn files in memory for the C tests (the Python compiler writes real
 * ones). Follows docs/file-format.md; fixed capacities, no error handling beyond asserts
 * in the tests that use it. */
#ifndef ECNN_MODEL_BUILDER_H
#define ECNN_MODEL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define MB_MAX_TENSORS 64
#define MB_MAX_OPS 64
#define MB_MAX_DATA (1u << 20)
#define MB_MAX_FILE (MB_MAX_DATA + 65536u)

typedef struct {
    uint8_t kind, dtype, rank, layout;
    uint32_t dims[5];
    uint32_t offset, size;
} mb_tensor;

typedef struct {
    uint16_t type;
    uint8_t ni, no;
    uint16_t inputs[8], outputs[8];
    uint16_t np;
    uint32_t params[32];
} mb_op;

typedef struct {
    mb_tensor tensors[MB_MAX_TENSORS];
    uint32_t num_tensors;
    mb_op ops[MB_MAX_OPS];
    uint32_t num_ops;
    uint8_t data[MB_MAX_DATA];
    uint32_t data_size;
    uint32_t arena_per_sample;
    uint32_t input, output;
} model_builder;

void mb_init(model_builder *b);
/* Adds an activation-like tensor (INPUT/OUTPUT/ACTIVATION) with a per-sample shape; returns its index. */
uint16_t mb_tensor_act(model_builder *b, uint8_t kind, uint32_t arena_offset, uint32_t rank, const uint32_t *dims);
/* Adds a f32 CONSTANT with the given values (count must match the shape). */
uint16_t mb_tensor_const(model_builder *b, uint32_t rank, const uint32_t *dims, const float *values);
/* The same with the bytes in a weight layout (ecnn_layout): `count` floats, padding included. */
uint16_t mb_tensor_const_packed(model_builder *b, uint32_t rank, const uint32_t *dims, const float *values,
                                uint32_t count, uint8_t layout);
void mb_op_add(model_builder *b, uint16_t type, uint32_t ni, const uint16_t *inputs, uint32_t no,
               const uint16_t *outputs, uint32_t np, const uint32_t *params);
/* mb_op_add for an op of one input x and one output y. */
void mb_op_1to1(model_builder *b, uint16_t type, uint16_t x, uint16_t y, uint32_t np, const uint32_t *params);
/* mb_op_add for an op of inputs x, w, bias (ECNN_NO_TENSOR: none) and one output y: CONV_2D,
 * FULLY_CONNECTED. */
void mb_op_linear(model_builder *b, uint16_t type, uint16_t x, uint16_t w, uint16_t bias, uint16_t y, uint32_t np,
                  const uint32_t *params);
/* Serialises into out (64-aligned), returns the file size. */
uint32_t mb_write(const model_builder *b, uint8_t *out);
/* Rewrites a file from mb_write (version 1) in place as format version 2 with the given fixed
 * batch (0: any) and metadata text (""): none); the buffer needs 128 spare bytes. Returns the size. */
uint32_t mb_to_version_2(uint8_t *file, uint32_t batch, const char *metadata);
/* Recomputes the trailing CRC after a test edits the bytes. */
void mb_fix_crc(uint8_t *file, uint32_t size);
uint32_t mb_f32_bits(float f);

#endif

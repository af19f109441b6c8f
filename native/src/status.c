/* Names and messages for status codes and op types. */
#include "edgecnn.h"

const char *ecnn_status_string(ecnn_status status)
{
    switch (status) {
    case ECNN_OK: return "ok";
    case ECNN_E_ARG: return "invalid argument (NULL pointer or batch 0)";
    case ECNN_E_MAGIC: return "not an edgecnn model file (bad magic)";
    case ECNN_E_VERSION: return "unsupported model file format version: recompile the model with this edgecnn version";
    case ECNN_E_TRUNCATED: return "model file is truncated";
    case ECNN_E_CRC: return "model file is damaged (CRC32 mismatch)";
    case ECNN_E_CORRUPT: return "model file is corrupt (invalid offset, size, shape or parameter)";
    case ECNN_E_UNSUPPORTED: return "model uses an op, dtype or feature this library build does not support";
    case ECNN_E_ALIGN: return "buffer not aligned as required";
    case ECNN_E_ARENA: return "arena too small (see ecnn_arena_size)";
    case ECNN_E_SIZE: return "input or output byte count does not match the batch";
    case ECNN_E_OVERFLOW: return "batch too large: sizes overflow";
    default: return "unknown status";
    }
}

const char *ecnn_op_name(uint32_t op_type)
{
    switch (op_type) {
    case ECNN_OP_CONV_2D: return "CONV_2D";
    case ECNN_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case ECNN_OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case ECNN_OP_SOFTMAX: return "SOFTMAX";
    case ECNN_OP_RESHAPE: return "RESHAPE";
    case ECNN_OP_ACTIVATION: return "ACTIVATION";
    case ECNN_OP_AVG_POOL_2D: return "AVG_POOL_2D";
    case ECNN_OP_ADD: return "ADD";
    case ECNN_OP_QUANTIZE: return "QUANTIZE";
    case ECNN_OP_DEQUANTIZE: return "DEQUANTIZE";
    case ECNN_OP_CHANNEL_ARITH: return "CHANNEL_ARITH";
    case ECNN_OP_CONCAT: return "CONCAT";
    case ECNN_OP_PAD: return "PAD";
    case ECNN_OP_TRANSPOSE: return "TRANSPOSE";
    case ECNN_OP_MUL: return "MUL";
    default: return "UNKNOWN";
    }
}

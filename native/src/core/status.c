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
    case ECNN_E_ISA: return "EDGECNN_ISA names a kernel level this library build or CPU does not have";
    case ECNN_E_THREADS: return "the thread pool could not start a thread or create its lock";
    case ECNN_E_BATCH: return "the model's graph fixes the batch: run it with exactly that many samples";
    case ECNN_E_NONFINITE: return "the float input holds a NaN or an infinity";
    default: return "unknown status";
    }
}

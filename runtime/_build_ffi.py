"""cffi build script (out-of-line API mode) for the native library.

Run by `pip install` through `cffi_modules` in setup.py: the C compiler checks
the declarations below against the real header, and the sources in native/src
are compiled straight into the extension `edgecnn.runtime._native`.
"""
import glob
import os

from cffi import FFI

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "native")

# Declarations exposed to Python; tests/test_ffi_header.py checks that each one
# is declared in native/include/edgecnn.h so the two cannot drift.
CDEF = """
#define ECNN_FORMAT_VERSION 1
#define ECNN_ARENA_ALIGN 64
#define ECNN_MODEL_ALIGN 4
#define ECNN_MAX_RANK 5
#define ECNN_MAX_OP_TENSORS 8
#define ECNN_NO_TENSOR 0xFFFF

typedef enum {
    ECNN_OK = 0,
    ECNN_E_ARG = -1,
    ECNN_E_MAGIC = -2,
    ECNN_E_VERSION = -3,
    ECNN_E_TRUNCATED = -4,
    ECNN_E_CRC = -5,
    ECNN_E_CORRUPT = -6,
    ECNN_E_UNSUPPORTED = -7,
    ECNN_E_ALIGN = -8,
    ECNN_E_ARENA = -9,
    ECNN_E_SIZE = -10,
    ECNN_E_OVERFLOW = -11
} ecnn_status;

typedef struct ecnn_model {
    uint32_t version;
    ...;
} ecnn_model;

typedef struct {
    uint32_t version;
    uint32_t file_size;
    uint32_t num_tensors;
    uint32_t num_ops;
    uint32_t input;
    uint32_t output;
    uint32_t arena_fixed;
    uint32_t arena_per_sample;
    uint64_t weight_bytes;
    uint64_t activation_bytes;
} ecnn_model_info;

typedef struct {
    uint32_t kind;
    uint32_t dtype;
    uint32_t rank;
    uint32_t dims[5];
    uint32_t size;
    uint32_t offset;
    uint32_t quant_count;
} ecnn_tensor_info;

typedef struct {
    uint32_t op_type;
    uint32_t num_inputs;
    uint32_t num_outputs;
    uint32_t inputs[8];
    uint32_t outputs[8];
    uint64_t macs_per_sample;
    uint64_t weight_bytes;
} ecnn_op_info;

const char *ecnn_version(void);
const char *ecnn_status_string(ecnn_status status);
const char *ecnn_op_name(uint32_t op_type);
ecnn_status ecnn_model_init(ecnn_model *model, const void *buf, size_t buf_size);
const char *ecnn_model_error(const ecnn_model *model, int32_t *op, int32_t *tensor);
ecnn_status ecnn_model_get_info(const ecnn_model *model, ecnn_model_info *info);
ecnn_status ecnn_model_tensor(const ecnn_model *model, uint32_t index, ecnn_tensor_info *info);
ecnn_status ecnn_model_op(const ecnn_model *model, uint32_t index, ecnn_op_info *info);
ecnn_status ecnn_arena_size(const ecnn_model *model, uint32_t batch, size_t *bytes);
ecnn_status ecnn_run(const ecnn_model *model, uint32_t batch, const void *input, size_t input_bytes,
                     void *output, size_t output_bytes, void *arena, size_t arena_bytes);
#define ECNN_RUN_REFERENCE 1
ecnn_status ecnn_run_ops(const ecnn_model *model, uint32_t batch, uint32_t first_op, uint32_t end_op, uint32_t flags,
                         const void *input, size_t input_bytes, void *output, size_t output_bytes, void *arena,
                         size_t arena_bytes);
const char *ecnn_simd(void);
"""

def arch_flags() -> list[str]:
    """SIMD choice (native/src/simd.h): kernels for this machine's CPU (-march=native: AVX2,
    AVX-512, NEON ...), or plain portable C when EDGECNN_PORTABLE=1 (a wheel for any CPU)."""
    if os.environ.get("EDGECNN_PORTABLE", "0") not in ("", "0"):
        return ["-DECNN_PORTABLE"]
    return ["-march=native"]


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "edgecnn.runtime._native",
    '#include "edgecnn.h"',
    sources=sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(NATIVE, "src", "*.c"))),
    include_dirs=[os.path.relpath(os.path.join(NATIVE, "include"), ROOT)],
    # Same numerics rules as native/Makefile: no -ffast-math, no FMA contraction.
    extra_compile_args=["-std=c99", "-O3", "-ffp-contract=off", "-Wall", "-Wextra"] + arch_flags(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

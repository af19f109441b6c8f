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
const char *ecnn_version(void);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "edgecnn.runtime._native",
    '#include "edgecnn.h"',
    sources=sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(NATIVE, "src", "*.c"))),
    include_dirs=[os.path.relpath(os.path.join(NATIVE, "include"), ROOT)],
    extra_compile_args=["-std=c99", "-O3", "-ffp-contract=off", "-Wall", "-Wextra"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

"""The cffi declarations (runtime/_build_ffi.py CDEF) and native/include/edgecnn.h cannot drift.

cffi's API mode already makes the C compiler check CDEF against the header at build
time; this test also catches declarations that compile but say something else (a
changed parameter name, a constant with another value) and runs without a compiler.
"""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "native" / "include" / "edgecnn.h"


def _cdef() -> str:
    spec = importlib.util.spec_from_file_location("_edgecnn_build_ffi", ROOT / "runtime" / "_build_ffi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CDEF


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _functions(text: str) -> dict:
    """name -> normalised declaration text of every function prototype."""
    text = _strip_comments(text)
    found = {}
    for match in re.finditer(r"([A-Za-z_][\w \*]*?\b(ecnn_\w+)\s*\([^;{]*\))\s*;", text):
        decl = " ".join(match.group(1).split())
        decl = re.sub(r"\s*([(),*])\s*", r"\1", decl)
        found[match.group(2)] = decl
    return found


def _defines(text: str) -> dict:
    return dict(re.findall(r"#define\s+(ECNN_\w+)\s+(\S+)", _strip_comments(text)))


def _enum_values(text: str) -> dict:
    return {name: int(value) for name, value in re.findall(r"\b(ECNN_\w+)\s*=\s*(-?\d+)", _strip_comments(text))}


def test_every_cdef_function_is_declared_in_the_header_with_the_same_signature():
    cdef, header = _functions(_cdef()), _functions(HEADER.read_text())
    assert cdef, "no functions found in CDEF"
    for name, decl in cdef.items():
        assert name in header, f"{name} is in runtime/_build_ffi.py CDEF but not in {HEADER}"
        assert decl == header[name], f"signature differs:\n  CDEF:   {decl}\n  header: {header[name]}"


def test_every_header_function_is_exposed_to_python():
    missing = sorted(set(_functions(HEADER.read_text())) - set(_functions(_cdef())))
    assert not missing, f"declared in edgecnn.h but missing from the cffi CDEF: {missing}"


def test_constants_and_enum_values_agree():
    header_text = HEADER.read_text()
    cdef_text = _cdef()
    for name, value in _defines(cdef_text).items():
        assert _defines(header_text).get(name) == value, f"#define {name}: CDEF {value}, header {_defines(header_text).get(name)}"
    header_enums = _enum_values(header_text)
    for name, value in _enum_values(cdef_text).items():
        assert header_enums.get(name) == value, f"{name}: CDEF {value}, header {header_enums.get(name)}"


def test_the_built_extension_releases_the_gil_around_ecnn_run(tmp_path):
    """cffi API mode wraps each call in Py_BEGIN/END_ALLOW_THREADS; check the generated C does."""
    spec = importlib.util.spec_from_file_location("_edgecnn_build_ffi2", ROOT / "runtime" / "_build_ffi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "_native.c"
    module.ffibuilder.emit_c_code(str(out))
    source = out.read_text()
    wrapper = re.search(r"_cffi_f_ecnn_run\(PyObject.*?\n}\n", source, flags=re.S)
    assert wrapper, "no cffi wrapper for ecnn_run in the generated C"
    body = wrapper.group(0)
    begin, end = body.find("Py_BEGIN_ALLOW_THREADS"), body.find("Py_END_ALLOW_THREADS")
    call = body.find("= ecnn_run(")
    assert 0 <= begin < call < end, "ecnn_run is not called between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS"


@pytest.mark.parametrize("name", ["ecnn_run", "ecnn_model_init", "ecnn_arena_size", "ecnn_status_string"])
def test_core_api_is_in_the_cdef(name):
    assert name in _functions(_cdef())

"""The C headers, the cffi declarations and runtime/optable.py cannot drift.

runtime/_build_ffi.py builds the cffi cdef by parsing native/include/edgecnn.h and
edgecnn_ops.h (the op table), and optable.py reads op codes, parameter fields and enums
from the built extension. These tests read the headers (and the op table of
docs/file-format.md) a second, independent way and check that every declaration made it
through, that each op's fields are the header's, and that the parser refuses what it
does not understand instead of dropping it.
"""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "native" / "include"
HEADER = INCLUDE / "edgecnn.h"
OPS_HEADER = INCLUDE / "edgecnn_ops.h"
FORMAT = ROOT / "docs" / "file-format.md"


def _build_module(name="_edgecnn_build_ffi"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "runtime" / "_build_ffi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build():
    return _build_module()


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
    return {
        k: v.rstrip("uU")
        for k, v in re.findall(r"#define\s+(ECNN_\w+)\s+(-?(?:0[xX][0-9a-fA-F]+|\d+)[uU]?)\b", _strip_comments(text))
    }


def _enum_values(text: str) -> dict:
    return {name: int(value) for name, value in re.findall(r"\b(ECNN_\w+)\s*=\s*(-?\d+)", _strip_comments(text))}


def _op_list(text: str) -> list:
    """(NAME, code, name, params) of every X(...) line of ECNN_OP_LIST, read line by line."""
    return [
        (n, int(c), low, p)
        for n, c, low, p in re.findall(
            r"^\s*X\((\w+),\s*(\d+),\s*(\w+),\s*(\w+)\)\s*\\?$", _strip_comments(text), flags=re.M
        )
    ]


def _structs(text: str) -> dict:
    """struct name -> [(field, C type, array length)] of every `typedef struct {...} name;`
    (a declaration may list several fields: `uint32_t a, b[5];`)."""
    out = {}
    for body, name in re.findall(r"typedef\s+struct\s*\{([^{}]*)\}\s*(\w+)\s*;", _strip_comments(text)):
        fields = []
        for ctype, declarators in re.findall(r"(\w+)\s+([^;]+);", body):
            for d in declarators.split(","):
                field, length = re.fullmatch(r"\s*(\w+)\s*(?:\[(\d+)\])?\s*", d).groups()
                fields.append((field, ctype, int(length) if length else 1))
        out[name] = fields
    return out


def test_every_header_function_is_in_the_cdef_with_the_same_signature(build):
    header, cdef = _functions(HEADER.read_text()), _functions(build.CDEF)
    assert header, "no functions found in edgecnn.h"
    assert set(header) == set(cdef), f"parser lost or invented functions: {set(header) ^ set(cdef)}"
    for name, decl in header.items():
        assert cdef[name] == decl, f"signature differs:\n  cdef:   {cdef[name]}\n  header: {decl}"


def test_constants_and_enum_values_agree(build):
    header_text = HEADER.read_text() + OPS_HEADER.read_text()
    assert _defines(build.CDEF) == _defines(header_text)
    header_enums, cdef_enums = _enum_values(header_text), _enum_values(build.CDEF)
    op_codes = {f"ECNN_OP_{name}": code for name, code, _, _ in _op_list(OPS_HEADER.read_text())}
    assert cdef_enums == {**header_enums, **op_codes}


def test_the_op_list_is_one_source(build):
    from edgecnn.runtime import optable
    from edgecnn.runtime._native import ffi, lib

    entries = _op_list(OPS_HEADER.read_text())
    assert entries, "no X(...) lines in ECNN_OP_LIST"
    assert build.parse_op_list(OPS_HEADER.read_text()) == entries
    assert [(s.name, s.code) for s in optable.OPS.values()] == [(n, c) for n, c, _, _ in entries]
    assert [member for member, _ in ffi.typeof("ecnn_op_params").fields] == [low for _, _, low, _ in entries]
    structs = _structs(OPS_HEADER.read_text())
    kinds = {"uint32_t": "u32", "int32_t": "i32", "float": "f32", "ecnn_bits32": "bits"}
    for name, code, lower, params in entries:
        assert lower == name.lower(), f"X({name}, ...): the lower-case name must be {name.lower()}"
        assert getattr(lib, f"ECNN_OP_{name}") == code
        assert lib.ecnn_op_name(code) != ffi.NULL and ffi.string(lib.ecnn_op_name(code)).decode() == name
        spec = optable.OPS_BY_CODE[code]
        header_fields = [] if params == "ecnn_no_params" else structs[params]
        assert [(f.name, f.kind, f.count) for f in spec.fields] == [(f, kinds[t], n) for f, t, n in header_fields], name
        assert spec.words * 4 == (0 if params == "ecnn_no_params" else ffi.sizeof(params)), name


def test_the_enums_come_from_the_header():
    from edgecnn.runtime import optable

    values = _enum_values(OPS_HEADER.read_text())
    for enum, prefix in (
        (optable.Kind, "ECNN_KIND_"),
        (optable.DType, "ECNN_DTYPE_"),
        (optable.Layout, "ECNN_LAYOUT_"),
        (optable.Act, "ECNN_ACT_"),
        (optable.Arith, "ECNN_ARITH_"),
    ):
        header = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
        assert {e.name: int(e) for e in enum} == header, enum.__name__


def test_format_md_lists_each_ops_parameters():
    """docs/file-format.md's op table names the same parameters, in the same order, as the header."""
    from edgecnn.runtime import optable

    section = FORMAT.read_text().split("### Op types", 1)[1].split("\n\n", 3)[2]  # the table after the heading
    rows = re.findall(r"^\| (\d+) \| ([A-Z0-9_]+) \|[^|]*\|[^|]*\| ([^|]*) \|$", section, flags=re.M)
    assert len(rows) == len(optable.OPS)
    for code, name, params in rows:
        spec = optable.OPS_BY_CODE[int(code)]
        assert spec.name == name
        params = params.strip()
        if params.startswith("none"):
            assert spec.fields == (), name
            continue
        count = re.search(r"\((\d+)\)$", params)
        assert count and int(count.group(1)) == spec.words, f"{name}: docs/file-format.md says {params!r}"
        listed = [re.match(r"\w+", p.strip()).group(0) for p in re.sub(r"\([^()]*\)", "", params).split(",")]
        assert listed == [f.name for f in spec.fields], name


def test_params_round_trip_through_the_c_struct():
    """encode_params' bytes, read as the C struct, give back each named field."""
    from edgecnn.runtime import optable
    from edgecnn.runtime._native import ffi

    attrs = {
        "stride_h": 1,
        "stride_w": 2,
        "pad_top": 3,
        "pad_left": 4,
        "pad_bottom": 5,
        "pad_right": 6,
        "dilation_h": 7,
        "dilation_w": 8,
        "group": 9,
        "act": 3,
        "act_p0": -0.5,
        "act_p1": 6.0,
    }
    conv = ffi.new("ecnn_conv2d_params *")
    ffi.memmove(conv, optable.encode_params("CONV_2D", attrs), ffi.sizeof(conv[0]))
    assert {k: getattr(conv, k) for k in attrs} == attrs
    pad = ffi.new("ecnn_pad_params *")
    ffi.memmove(
        pad, optable.encode_params("PAD", {"before": [1, 2, 3, 0, 0], "after": [0, 1, 0, 0, 0], "value": -3}), 44
    )
    assert list(pad.before) == [1, 2, 3, 0, 0] and pad.value.i32 == -3
    assert (
        optable.decode_params("PAD", optable.encode_params("PAD", {"before": [0] * 5, "after": [0] * 5, "value": 1.5}))[
            "value"
        ]
        == 0x3FC00000
    )


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("#if ECNN_X\n#endif\n", "preprocessor line"),
        ("#define ECNN_X some_name\n", "#define"),
        ("static inline int ecnn_f(void) { return 0; }\n", "text after the last declaration"),
        ("static int ecnn_g(void);\nint ecnn_h(void) { return 1; };\n", "declaration the cffi parser does not know"),
        ("int ecnn_x[3];\n", "declaration"),
        ("typedef struct { uint32_t a; } t;\nECNN_OP_LIST(H)\n", "ECNN_OP_LIST"),
    ],
)
def test_the_parser_refuses_what_it_does_not_know(build, text, complaint):
    with pytest.raises(build.HeaderShapeError, match=complaint):
        build.header_cdef(text, [], "test.h")


def test_the_parser_refuses_a_malformed_op_list(build):
    with pytest.raises(build.HeaderShapeError, match="X\\(NAME, code, name, params\\)"):
        build.parse_op_list("#define ECNN_OP_LIST(X) X(CONV_2D, 1, conv_2d, ecnn_conv2d_params) Y(A, 2, a, b)\n")


@pytest.mark.parametrize("function", ["ecnn_run", "ecnn_run_parallel", "ecnn_run_ops_parallel"])
def test_the_built_extension_releases_the_gil_around_the_run_functions(tmp_path, function):
    """cffi API mode wraps each call in Py_BEGIN/END_ALLOW_THREADS; check the generated C does for
    the run functions (Model.predict calls ecnn_run_ops_parallel)."""
    module = _build_module("_edgecnn_build_ffi2")
    out = tmp_path / "_native.c"
    module.ffibuilder.emit_c_code(str(out))
    source = out.read_text()
    wrapper = re.search(rf"_cffi_f_{function}\(PyObject.*?\n}}\n", source, flags=re.S)
    assert wrapper, f"no cffi wrapper for {function} in the generated C"
    body = wrapper.group(0)
    begin, end = body.find("Py_BEGIN_ALLOW_THREADS"), body.find("Py_END_ALLOW_THREADS")
    call = body.find(f"= {function}(")
    assert 0 <= begin < call < end, f"{function} is not called between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS"


@pytest.mark.parametrize("name", ["ecnn_run", "ecnn_model_init", "ecnn_arena_size", "ecnn_status_string"])
def test_core_api_is_in_the_cdef(build, name):
    assert name in _functions(build.CDEF)

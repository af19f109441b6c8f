"""cffi build script (out-of-line API mode) for the native library.

Run by `pip install` through `cffi_modules` in setup.py. The cffi declarations are not
written here: they are read from the public headers native/include/edgecnn.h and
edgecnn_ops.h (the op table: its X-macro list is expanded here), so Python and C take op
codes, parameter structs and enums from one source. The C compiler then checks the
declarations against the headers, and tests/native/test_ffi_header.py checks the parser kept
every declaration.

The headers hold declarations of a few shapes only (edgecnn_ops.h says which); anything
else stops the build with a message naming it, rather than being dropped in silence.

The library itself is built by native/Makefile (`make pic`: every ISA directory with its own
flags, the kernels picked at run time, so the extension runs on any CPU of its
architecture) and linked into the extension: one build description for C and Python.
setup.py runs build_native_library() before the extension is compiled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "native")
HEADERS = ("edgecnn_ops.h", "edgecnn.h")  # the order cffi needs: edgecnn.h uses the op table's types

_INT = r"-?(?:0[xX][0-9a-fA-F]+|\d+)[uU]?"
_IDENT = r"[A-Za-z_]\w*"
# One op of ECNN_OP_LIST: X(NAME, code, name, params)
_OP_ENTRY = re.compile(rf"X\(\s*([A-Z][A-Z0-9_]*)\s*,\s*(\d+)\s*,\s*([a-z][a-z0-9_]*)\s*,\s*({_IDENT})\s*\)")
_TOP_LEVEL = [  # the declaration shapes the headers may hold (after comments and preprocessor lines)
    re.compile(rf"typedef\s+(enum|struct|union)\s*(?:{_IDENT}\s*)?\{{.*\}}\s*{_IDENT}", re.S),
    re.compile(rf"struct\s+{_IDENT}"),  # an opaque struct
    re.compile(rf"typedef\s+[\w\s\*]+?\(\s*\*\s*{_IDENT}\s*\)\s*\([^()]*\)", re.S),  # a function pointer type
    re.compile(rf"[\w\s\*]+?\b{_IDENT}\s*\([^()]*\)", re.S),  # a function prototype
]


class HeaderShapeError(Exception):
    """A header holds a construct this parser does not know: fix the header or the parser."""


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined."""
    return re.sub(r"\\\n", " ", text).split("\n")


def parse_op_list(text: str) -> list[tuple[str, int, str, str]]:
    """The (NAME, code, name, params) entries of `#define ECNN_OP_LIST(X)` in edgecnn_ops.h."""
    for line in _logical_lines(_strip_comments(text)):
        match = re.match(r"\s*#\s*define\s+ECNN_OP_LIST\(X\)(.*)$", line)
        if match:
            body = match.group(1).strip()
            entries = _OP_ENTRY.findall(body)
            if not entries or _OP_ENTRY.sub("", body).strip():
                raise HeaderShapeError(f"ECNN_OP_LIST: every entry must be X(NAME, code, name, params); got {body!r}")
            return [(name, int(code), lower, params) for name, code, lower, params in entries]
    raise HeaderShapeError("edgecnn_ops.h has no `#define ECNN_OP_LIST(X)`")


def _expand(helper: tuple[list[str], str], entry: tuple) -> str:
    """The body of a one-line helper macro `#define H(a, b, c, d) body` for one op entry."""
    names, body = helper
    values = dict(zip(names, (str(v) for v in entry)))
    body = re.sub(
        rf"(?<!#)#(?!#)\s*({_IDENT})", lambda m: f'"{values[m.group(1)]}"' if m.group(1) in values else m.group(0), body
    )
    body = re.sub(_IDENT, lambda m: values.get(m.group(0), m.group(0)), body)
    return re.sub(r"\s*##\s*", "", body)


def header_cdef(text: str, ops: list[tuple] | None = None, name: str = "header") -> str:
    """The declarations of one header as cffi cdef text: comments, include guards, #include,
    C++ guards and #undef dropped; integer #defines kept; ECNN_OP_LIST(H) expanded through the
    one-line helper macro H. Raises HeaderShapeError on anything else."""
    out, helpers, skip_depth = [], {}, 0
    for line in _logical_lines(_strip_comments(text)):
        stripped = line.strip()
        if skip_depth:  # inside #ifdef __cplusplus
            if re.match(r"#\s*if", stripped):
                skip_depth += 1
            elif re.match(r"#\s*endif", stripped):
                skip_depth -= 1
            continue
        if not stripped.startswith("#"):
            match = re.fullmatch(r"ECNN_OP_LIST\((\w+)\)", stripped)
            if match:
                if ops is None or match.group(1) not in helpers:
                    raise HeaderShapeError(f"{name}: ECNN_OP_LIST({match.group(1)}) without the op list or its helper")
                out.extend(_expand(helpers[match.group(1)], entry) for entry in ops)
            else:
                out.append(line)
            continue
        directive = re.match(r"#\s*(\w+)\s*(.*)$", stripped)
        keyword, rest = directive.group(1), directive.group(2).strip()
        if keyword == "ifdef" and rest == "__cplusplus":
            skip_depth = 1
        elif keyword in ("ifndef", "endif", "include", "undef"):
            pass  # include guards, includes (the headers are all read), helper cleanup
        elif keyword == "define":
            const = re.fullmatch(rf"(ECNN_\w+)\s+({_INT})", rest)
            helper = re.fullmatch(r"(\w+)\(([^()]*)\)\s+(.+)", rest)
            if const:
                out.append(f"#define {const.group(1)} {const.group(2).rstrip('uU')}")
            elif rest.startswith("ECNN_OP_LIST("):
                pass  # parse_op_list reads it
            elif helper:
                helpers[helper.group(1)] = ([a.strip() for a in helper.group(2).split(",")], helper.group(3))
            elif not re.fullmatch(r"\w+_H", rest):  # not the include guard
                raise HeaderShapeError(f"{name}: #define the cffi parser does not know: {stripped!r}")
        else:
            raise HeaderShapeError(f"{name}: preprocessor line the cffi parser does not know: {stripped!r}")
    cdef = re.sub(r"\n\s*(?=\n)", "\n", "\n".join(out)).strip() + "\n"
    _check_declarations(cdef, name)
    return cdef


def _check_declarations(cdef: str, name: str) -> None:
    """Every top-level declaration (split at `;` outside braces) has one of the known shapes."""
    text = re.sub(r"^#define .*$", "", cdef, flags=re.M)
    depth, start = 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            decl = " ".join(text[start:i].split())
            start = i + 1
            if decl and not any(p.fullmatch(decl) for p in _TOP_LEVEL):
                raise HeaderShapeError(f"{name}: declaration the cffi parser does not know: {decl[:200]!r}")
    if text[start:].strip():
        raise HeaderShapeError(f"{name}: text after the last declaration: {text[start:].strip()[:200]!r}")


def build_cdef() -> str:
    """The cffi cdef of the public headers."""
    texts = {h: Path(NATIVE, "include", h).read_text(encoding="utf-8") for h in HEADERS}
    ops = parse_op_list(texts["edgecnn_ops.h"])
    return "\n".join(header_cdef(texts[h], ops, h) for h in HEADERS)


CDEF = build_cdef()


# Where `make pic` puts the library for the extension (git ignores native/build).
NATIVE_BUILD = os.path.join("build", "python")
NATIVE_LIB = os.path.join(NATIVE, NATIVE_BUILD, "libedgecnn_pic.a")


def build_native_library() -> str:
    """Runs `make pic` in native/ (at -O3: speed on the host, where a few KB do not matter) and
    returns the static library's path. CC is the environment's, as setuptools uses it."""
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("building the edgecnn extension needs `make` (and a C compiler): apt-get install make gcc")
    command = [make, "-C", NATIVE, f"BUILD={NATIVE_BUILD}", "CFLAGS=-O3", "COLD_OPT=-O3", "pic"]
    if os.environ.get("CC"):
        command.append(f"CC={os.environ['CC']}")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return NATIVE_LIB


def _make_ffibuilder():
    from cffi import FFI

    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "edgecnn.runtime._native",
        '#include "edgecnn.h"',
        include_dirs=[os.path.relpath(os.path.join(NATIVE, "include"), ROOT)],
        extra_objects=[os.path.relpath(NATIVE_LIB, ROOT)],
        depends=[os.path.relpath(NATIVE_LIB, ROOT)],  # relink when the library changes
        libraries=["m"],
        extra_link_args=["-pthread"],  # the library's thread pool (native/src/core/pool.c)
        extra_compile_args=["-std=c99", "-O2", "-Wall", "-Wextra"],
    )
    return builder


ffibuilder = _make_ffibuilder()

if __name__ == "__main__":
    build_native_library()
    ffibuilder.compile(verbose=True)

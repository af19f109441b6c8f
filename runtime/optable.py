"""The native op table as Python sees it: op codes, the named parameter fields of each op's
record, and the format's enumerations (tensor kinds, dtypes, weight layouts, activations).

The compiler (`edgecnn.export.compiler`) writes op records with `encode_params`, the
runtime's `edgecnn info` reads them back with `decode_params`. Nothing is written down
here: codes, field names, field types and enum values come from the C header
native/include/edgecnn_ops.h through the cffi extension (runtime/_build_ffi.py parses the
header), so Python and C cannot disagree.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from edgecnn.runtime.errors import native_extension

_ffi, _ = native_extension()


def _enum(name: str, ctype: str, prefix: str) -> type[IntEnum]:
    """An IntEnum of the C enum `ctype`, members without their `prefix`, in value order."""
    values = sorted(_ffi.typeof(ctype).relements.items(), key=lambda kv: kv[1])
    return IntEnum(name, [(key[len(prefix) :], value) for key, value in values], module=__name__)


Kind = _enum("Kind", "ecnn_kind", "ECNN_KIND_")
DType = _enum("DType", "ecnn_dtype", "ECNN_DTYPE_")
Layout = _enum("Layout", "ecnn_layout", "ECNN_LAYOUT_")
Act = _enum("Act", "ecnn_activation", "ECNN_ACT_")
Arith = _enum("Arith", "ecnn_arith", "ECNN_ARITH_")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "u32", "i32", "f32", or "bits" (a u32 that holds an f32 bit pattern or an i32 code)
    count: int = 1  # > 1: a fixed-size array


@dataclass(frozen=True)
class OpSpec:
    name: str
    code: int
    fields: tuple[Field, ...]

    @property
    def words(self) -> int:
        """Parameter words in the op record."""
        return sum(f.count for f in self.fields)


_KINDS = {"uint32_t": "u32", "int32_t": "i32", "float": "f32", "ecnn_bits32": "bits"}


def _field(name: str, ctype) -> Field:
    count = 1
    if ctype.kind == "array":
        ctype, count = ctype.item, ctype.length
    cname = ctype.cname.removeprefix("union ")
    if cname not in _KINDS:
        raise TypeError(f"parameter field {name} has C type {ctype.cname}, not one of {', '.join(_KINDS)}")
    return Field(name, _KINDS[cname], count)


def _fields(ctype) -> tuple[Field, ...]:
    if _ffi.sizeof(ctype) < 4:  # ecnn_no_params
        return ()
    return tuple(_field(name, f.type) for name, f in ctype.fields)


def _specs() -> tuple[OpSpec, ...]:
    codes = {key.removeprefix("ECNN_OP_"): value for key, value in _ffi.typeof("ecnn_op_type").relements.items()}
    specs = []
    for member, f in _ffi.typeof("ecnn_op_params").fields:  # ECNN_OP_LIST order: one member per op
        name = member.upper()
        if name not in codes:
            raise TypeError(f"ecnn_op_params member {member} has no ECNN_OP_{name} code")
        specs.append(OpSpec(name, codes[name], _fields(f.type)))
    return tuple(specs)


_SPECS = _specs()
OPS: dict[str, OpSpec] = {s.name: s for s in _SPECS}
OPS_BY_CODE: dict[int, OpSpec] = {s.code: s for s in _SPECS}


def _word(field: Field, value) -> bytes:
    if field.kind == "f32" or (field.kind == "bits" and isinstance(value, float)):
        return struct.pack("<f", float(value))
    value = int(value)
    if field.kind == "u32" and not 0 <= value < 2**32:
        raise ValueError(f"parameter {field.name} = {value} is not a u32")
    return struct.pack("<i" if value < 0 else "<I", value)


def encode_params(op: str, attrs: Mapping) -> bytes:
    """The parameter words of an `op` record, little-endian, from a mapping of every field
    name to its value (a sequence of `count` values for array fields)."""
    spec = OPS[op]
    unknown = set(attrs) - {f.name for f in spec.fields}
    if unknown:
        raise ValueError(f"{op} has no parameter {', '.join(sorted(unknown))}")
    out = b""
    for f in spec.fields:
        if f.name not in attrs:
            raise ValueError(f"{op} parameter {f.name} is missing")
        values = list(attrs[f.name]) if f.count > 1 else [attrs[f.name]]
        if len(values) != f.count:
            raise ValueError(f"{op} parameter {f.name} needs {f.count} values, got {len(values)}")
        out += b"".join(_word(f, v) for v in values)
    return out


def decode_params(op: str, data: bytes) -> dict:
    """The inverse of encode_params ("bits" fields come back as u32)."""
    spec = OPS[op]
    if len(data) != 4 * spec.words:
        raise ValueError(f"{op} has {spec.words} parameter words, got {len(data)} bytes")
    out, pos = {}, 0
    for f in spec.fields:
        fmt = {"f32": "f", "i32": "i"}.get(f.kind, "I")
        values = struct.unpack_from(f"<{f.count}{fmt}", data, pos)
        pos += 4 * f.count
        out[f.name] = list(values) if f.count > 1 else values[0]
    return out

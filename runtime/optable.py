"""The native op table as Python sees it: op codes, the named parameter fields of each op's
record, and the format's enumerations (tensor kinds, dtypes, weight layouts, activations).

The compiler (`edgecnn.export.compiler`) writes op records with `encode_params`, the
runtime's `edgecnn info` reads them back with `decode_params`. Field names and order are
the C library's parameter structs (native/include/edgecnn_ops.h).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum


class Kind(IntEnum):
    INPUT = 1
    OUTPUT = 2
    ACTIVATION = 3
    CONSTANT = 4
    SCRATCH = 5


class DType(IntEnum):
    F32 = 1
    I8 = 2
    U8 = 3
    I32 = 4


class Layout(IntEnum):
    PLAIN = 0
    FC_PANEL16 = 1
    FC_PANEL8X4 = 2
    CONV_HWIO = 3
    FC_PANEL8X4_W64 = 4


class Act(IntEnum):
    NONE = 0
    RELU = 1
    LEAKY_RELU = 2
    CLIP = 3
    SIGMOID = 4
    TANH = 5
    HARD_SIGMOID = 6
    HARD_SWISH = 7


class Arith(IntEnum):
    ADD = 1
    SUB = 2
    MUL = 3
    DIV = 4


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


_ACT = (Field("act", "u32"), Field("act_p0", "f32"), Field("act_p1", "f32"))
_POOL = tuple(
    Field(n, "u32")
    for n in (
        "kernel_h",
        "kernel_w",
        "stride_h",
        "stride_w",
        "pad_top",
        "pad_left",
        "pad_bottom",
        "pad_right",
        "dilation_h",
        "dilation_w",
    )
)
_CONV = tuple(
    Field(n, "u32")
    for n in (
        "stride_h",
        "stride_w",
        "pad_top",
        "pad_left",
        "pad_bottom",
        "pad_right",
        "dilation_h",
        "dilation_w",
        "group",
    )
)

_SPECS = (
    OpSpec("CONV_2D", 1, _CONV + _ACT),
    OpSpec("MAX_POOL_2D", 2, _POOL),
    OpSpec("FULLY_CONNECTED", 3, _ACT),
    OpSpec("SOFTMAX", 4, ()),
    OpSpec("RESHAPE", 5, ()),
    OpSpec("ACTIVATION", 6, _ACT),
    OpSpec("AVG_POOL_2D", 7, _POOL + (Field("count_include_pad", "u32"),)),
    OpSpec("ADD", 8, _ACT),
    OpSpec("QUANTIZE", 9, ()),
    OpSpec("DEQUANTIZE", 10, ()),
    OpSpec("CHANNEL_ARITH", 11, (Field("func", "u32"), Field("const_first", "u32"))),
    OpSpec("CONCAT", 12, (Field("axis", "u32"),)),
    OpSpec("PAD", 13, (Field("before", "u32", 5), Field("after", "u32", 5), Field("value", "bits"))),
    OpSpec("TRANSPOSE", 14, (Field("perm", "u32", 5),)),
    OpSpec("MUL", 15, _ACT),
)

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

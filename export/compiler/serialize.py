"""The .ecnn writer: header, tensor table, op list, 64-byte aligned weights, CRC32
(docs/file-format.md). Op codes and parameter words come from `edgecnn.runtime.optable`."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from edgecnn.export.compiler.errors import CompileError
from edgecnn.export.compiler.ir import DTYPE_NUMPY, Kind, NOp, NTensor, align
from edgecnn.runtime.optable import OPS, encode_params

FORMAT_VERSION = 2
MAGIC = b"ECNN"
HEADER_SIZE = 80  # version 2: the 64 bytes of version 1, then batch, metadata offset and size, reserved
NO_TENSOR = 0xFFFF
MAX_RANK = 5


def _weight_data(tensors: list[NTensor]) -> tuple[bytearray, dict]:
    """Every constant 64-aligned (setting its offset), then the quantization parameters (f32
    scales, i32 zero points, 4-byte aligned); returns the data and, per quantized tensor,
    (axis, count, scale offset, zero point offset)."""
    data = bytearray()
    for t in tensors:
        if t.kind == Kind.CONSTANT:
            data += b"\0" * (align(len(data)) - len(data))
            t.offset = len(data)
            data += np.ascontiguousarray(t.data, dtype=DTYPE_NUMPY[t.dtype]).tobytes()
    quant_offsets = {}
    for i, t in enumerate(tensors):
        if t.quant is not None:
            data += b"\0" * (-len(data) % 4)
            scale_offset = len(data)
            data += np.ascontiguousarray(t.quant.scales, dtype="<f4").tobytes()
            quant_offsets[i] = (t.quant.axis, t.quant.scales.size, scale_offset, len(data))
            data += np.ascontiguousarray(t.quant.zero_points, dtype="<i4").tobytes()
    return data, quant_offsets


def _tensor_table(tensors: list[NTensor], quant_offsets: dict) -> bytearray:
    table = bytearray()
    for i, t in enumerate(tensors):
        if len(t.dims) > MAX_RANK:
            raise CompileError(f"a tensor of rank {len(t.dims)} exceeds the format's rank {MAX_RANK}")
        dims = list(t.dims) + [0] * (MAX_RANK - len(t.dims))
        offset = t.offset if t.kind in (Kind.ACTIVATION, Kind.CONSTANT) else 0
        axis, count, scale_offset, zp_offset = quant_offsets.get(i, (0, 0, 0, 0))
        table += struct.pack(
            "<BBBB5IIIIIII",
            t.kind,
            t.dtype,
            len(t.dims),
            axis,
            *dims,
            offset,
            t.size,
            count,
            scale_offset,
            zp_offset,
            t.layout,
        )
    return table


def _op_record(op: NOp) -> bytes:
    spec = OPS[op.op]
    idx = [NO_TENSOR if t is None else t for t in op.inputs + op.outputs]
    if len(idx) % 2:
        idx.append(NO_TENSOR)
    params = encode_params(op.op, op.attrs)
    size = 12 + 2 * len(idx) + len(params)
    head = struct.pack("<HHBBHHH", spec.code, size, len(op.inputs), len(op.outputs), spec.words, NO_TENSOR, 0)
    return head + struct.pack(f"<{len(idx)}H", *idx) + params


def serialize(
    tensors: list[NTensor],
    ops: list[NOp],
    input_tensor: int,
    output_tensor: int,
    arena_per_sample: int,
    batch: int = 0,
    metadata: bytes = b"",
) -> bytes:
    """The whole .ecnn file; sets each constant's weight-data offset. batch: the batch the graph
    fixes (0: any); metadata: the UTF-8 JSON text of the metadata section (b"": none)."""
    if len(tensors) >= NO_TENSOR:
        raise CompileError(f"the model needs {len(tensors)} tensors; the format allows 65534")
    data, quant_offsets = _weight_data(tensors)
    table = _tensor_table(tensors, quant_offsets)
    oplist = b"".join(_op_record(op) for op in ops)
    ops_offset = HEADER_SIZE + len(table)
    metadata_offset = (ops_offset + len(oplist) + 3) // 4 * 4 if metadata else 0
    data_offset = align(max(ops_offset + len(oplist), metadata_offset + len(metadata)))
    file_size = data_offset + len(data) + 4
    if file_size >= 2**32:
        raise CompileError(f"the model file would be {file_size:,} bytes; the format allows up to 4 GiB")
    header = struct.pack(
        "<4s19I",
        MAGIC,
        FORMAT_VERSION,
        file_size,
        HEADER_SIZE,
        0,
        len(tensors),
        HEADER_SIZE,
        len(ops),
        ops_offset,
        len(oplist),
        data_offset,
        len(data),
        0,
        arena_per_sample,
        input_tensor,
        output_tensor,
        batch,
        metadata_offset,
        len(metadata),
        0,
    )
    gap = bytearray(data_offset - ops_offset - len(oplist))
    if metadata:
        start = metadata_offset - ops_offset - len(oplist)
        gap[start : start + len(metadata)] = metadata
    body = header + table + oplist + gap + data
    return bytes(body) + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)

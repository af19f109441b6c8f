"""ConvInteger and MatMulInteger: int8/uint8 codes in, exact int32 sums out (CONV_INTEGER_2D;
MatMulInteger is a 1x1 convolution over the rows of A). The zero points are constants, x's per
tensor, w's per tensor or per output channel."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, identity, lowers, optional_input
from edgecnn.export.compiler.ir import DType, Kind
from edgecnn.export.compiler.ops.conv import conv_geometry, spatial_input, window_attrs

CODES = {DType.I8: np.int8, DType.U8: np.uint8}


def _codes_input(low: Lowering, node, tid: int, what: str) -> None:
    if low.tensors[tid].dtype not in CODES:
        raise low.fail(f"{what} is {low.tensors[tid].dtype.name.lower()}; {node.op_type} takes int8 or uint8 codes")


def _x_zero_point(low: Lowering, node, i: int, x_dtype: DType, what: str) -> int:
    """Input i, a constant of x's dtype with one value (0 when absent)."""
    if not optional_input(node, i):
        return 0
    zp = np.asarray(low.const_input(node, i, what))
    if zp.dtype != CODES[x_dtype] or zp.size != 1:
        raise low.fail(f"{what} is {zp.dtype} with {zp.size} values; need one {np.dtype(CODES[x_dtype])} value")
    return int(zp.reshape(-1)[0])


def _weights(low: Lowering, node, w: np.ndarray, zp_index: int, outputs: int) -> tuple[int, int | None]:
    """The weight constant and its zero points (None when absent) as native tensors."""
    if w.dtype not in (np.int8, np.uint8):
        raise low.fail(f"weight is {w.dtype}; {node.op_type} takes int8 or uint8 weights")
    zp = None
    if optional_input(node, zp_index):
        z = np.asarray(low.const_input(node, zp_index, "the weight zero point"))
        if z.dtype != w.dtype or z.size not in (1, outputs):
            raise low.fail(
                f"weight zero point is {z.dtype} with {z.size} values; need {w.dtype}, 1 or {outputs} values"
            )
        zp = low.const_tensor(z.reshape(-1).astype(np.int32))
    return low.const_tensor(np.ascontiguousarray(w)), zp


def _params(strides, pads, dilations, group: int, x_zero_point: int) -> dict:
    return {**window_attrs(strides, pads, dilations, group), "x_zero_point": x_zero_point}


@lowers("ConvInteger", note="2-D, constant weights and zero points")
def lower_conv_integer(low: Lowering, node) -> None:
    a = attrs(node)
    v, x = spatial_input(low, node)
    _codes_input(low, node, x, "input x")
    weight = np.asarray(low.const_input(node, 1, "the weight w"))
    group, strides, pads, dilations, oh, ow = conv_geometry(low, a, v.shape, weight.shape)
    o = weight.shape[0]
    xzp = _x_zero_point(low, node, 2, low.tensors[x].dtype, "x_zero_point")
    wt, wzp = _weights(low, node, weight.transpose(0, 2, 3, 1), 3, o)  # OIHW -> OHWI
    y = low.new_tensor(Kind.ACTIVATION, (oh, ow, o), dtype=DType.I32)
    low.emit("CONV_INTEGER_2D", [x, wt, wzp], [y], _params(strides, pads, dilations, group, xzp))
    low.values[node.output[0]] = View(y, (o, oh, ow), (0, 2, 3, 1))


@lowers("MatMulInteger", note="by a constant matrix")
def lower_matmul_integer(low: Lowering, node) -> None:
    """A [..., K] (runtime) x B [K, N] (constant): each row of A is a 1x1 convolution's pixel."""
    v = low.view_input(node, 0)
    a_tensor = low.materialize(v, identity(v.rank))
    _codes_input(low, node, a_tensor, "input A")
    b = np.asarray(low.const_input(node, 1, "B"))
    if b.ndim != 2 or b.shape[0] != v.shape[-1]:
        raise low.fail(f"B has shape {b.shape}; need a [K, N] matrix with K = {v.shape[-1]} (A's last dimension)")
    k, n = b.shape
    rows = int(np.prod(v.shape[:-1], dtype=np.int64))
    x = low.materialize(View(a_tensor, (rows, 1, k), identity(4)))  # rows as the height of a 1-wide image
    azp = _x_zero_point(low, node, 2, low.tensors[a_tensor].dtype, "a_zero_point (one per tensor)")
    wt, wzp = _weights(low, node, b.T.reshape(n, 1, 1, k), 3, n)
    y = low.new_tensor(Kind.ACTIVATION, (rows, 1, n), dtype=DType.I32)
    low.emit("CONV_INTEGER_2D", [x, wt, wzp], [y], _params((1, 1), (0, 0, 0, 0), (1, 1), 1, azp))
    low.values[node.output[0]] = View(y, (*v.shape[:-1], n), identity(v.rank))

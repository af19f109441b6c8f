"""QuantizeLinear / DequantizeLinear, and the quantization helpers every QLinear* lowering uses.

Native int8 ops: the requantization scale (x_scale * w_scale[c]) / y_scale is computed by the C
kernel from the quantization parameters stored with the tensors, so a lowering only attaches
a `Quant` to each int8 tensor (its scales and zero points, checked here).
"""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, lowers
from edgecnn.export.compiler.ir import DType, Kind, Quant
from edgecnn.runtime.errors import require

INT8_TYPES = (np.int8, np.uint8)


def dtype_code(zero_point: np.ndarray) -> DType:
    return DType.I8 if zero_point.dtype == np.int8 else DType.U8


def qparams(
    low: Lowering, node, scale_index: int, zp_index: int, what: str, per_channel_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(scales float32 (n,), zero points (n,) in their integer dtype) of a node's quantization inputs."""
    scale = np.asarray(low.const_input(node, scale_index, f"{what} scale"))
    has_zp = len(node.input) > zp_index and node.input[zp_index]
    zp = np.asarray(low.const_input(node, zp_index, f"{what} zero point")) if has_zp else np.zeros_like(scale, np.uint8)
    if scale.dtype != np.float32:
        raise low.fail(f"{what} scale is {scale.dtype}; only float32 scales are supported")
    if zp.dtype not in INT8_TYPES:
        raise low.fail(f"{what} zero point is {zp.dtype}; only int8 and uint8 quantization is supported")
    sizes = (1,) if per_channel_size is None else (1, per_channel_size)
    if scale.size not in sizes or zp.size != scale.size:
        kind = "per tensor" if per_channel_size is None else f"per tensor or per channel ({per_channel_size})"
        raise low.fail(f"{what} has {scale.size} scales and {zp.size} zero points; expected {kind}")
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise low.fail(f"{what} scale must be finite and > 0, got {scale.reshape(-1)[:4]}")
    return scale.reshape(-1), zp.reshape(-1)


def quant(scales, zero_points, axis: int = 0) -> Quant:
    return Quant(np.asarray(scales, np.float32), np.asarray(zero_points, np.int32), axis)


def quantized_input(low: Lowering, node, index: int, scale_index: int, zp_index: int, what: str) -> View:
    """The runtime int8/uint8 input `index` as a View, checked against the node's scale / zero point."""
    view = low.view_input(node, index)
    tensor = low.tensors[view.tensor]
    scale, zp = qparams(low, node, scale_index, zp_index, what)
    if tensor.quant is None:
        raise low.fail(f"{what} ('{node.input[index]}') is a float tensor; a QuantizeLinear must produce it")
    # An int8 / uint8 graph input (full-integer TFLite models) is quantized as its first reader
    # says (a DequantizeLinear or a QLinear op), unless a Cast reads its codes as numbers.
    raw = Quant(np.float32([1.0]), np.int32([0]))  # the input as graph.py reads it
    if (
        tensor.kind == Kind.INPUT
        and raw.same(tensor.quant)
        and tensor.dtype == dtype_code(zp)
        and "Cast" not in low.readers.get(low.input_name, [])
    ):
        tensor.quant = quant(scale, zp)
    if tensor.dtype != dtype_code(zp) or not quant(scale, zp).same(tensor.quant):
        raise low.fail(f"the scale / zero point given for {what} differ from those its producer quantized it with")
    return view


def check_weights(low: Lowering, node, weight: np.ndarray, what: str) -> None:
    if weight.dtype not in INT8_TYPES:
        raise low.fail(f"{what} is {weight.dtype}; expected int8 or uint8 quantized weights")


def weight_quant(low: Lowering, node, scale_index: int, zp_index: int, what: str, weight: np.ndarray) -> Quant:
    """The quantization of `weight` (output channels first): per tensor or per output channel."""
    ws, wz = qparams(low, node, scale_index, zp_index, what, per_channel_size=weight.shape[0])
    if wz.dtype != weight.dtype:
        raise low.fail(f"weight zero point is {wz.dtype} but the weight is {weight.dtype}")
    return quant(ws, wz, axis=0)


def set_output(low: Lowering, node, tensor: int, scale_index: int, zp_index: int) -> None:
    scale, zp = qparams(low, node, scale_index, zp_index, "output")
    low.tensors[tensor].dtype = dtype_code(zp)
    low.tensors[tensor].quant = quant(scale, zp)


def quantized_output(low: Lowering, node, tensor: int, scale_index: int, zp_index: int, x_tensor: int) -> None:
    """Give `tensor` the node's output quantization; it must keep the input's dtype (the int8
    kernels of ADD, AVG_POOL_2D, ACTIVATION and CONCAT read and write one dtype)."""
    set_output(low, node, tensor, scale_index, zp_index)
    if low.tensors[tensor].dtype != low.tensors[x_tensor].dtype:
        raise low.fail("input and output mix int8 and uint8; onnxruntime's kernel needs one dtype")


def float_twin(node, op_type: str, inputs, drop=("channels_last",)):
    """A float ONNX node with the QLinear node's attributes: the float lowering does the geometry."""
    helper = require("onnx").helper
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name not in drop}
    return helper.make_node(op_type, list(inputs), [node.output[0]], name=node.name, **attrs)


def no_channels_last(low: Lowering, node) -> None:
    if any(a.name == "channels_last" and a.i for a in node.attribute):
        raise low.fail(f"channels_last=1 {node.op_type} (an onnxruntime-internal form) is not supported")


def lower_qlinear_unary(low: Lowering, node, op_type: str, lower, drop=("channels_last",)) -> None:
    """QLinear{GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu}(X, xs, xz, ys, yz): the float
    op's lowering on the int8 view, then the output quantization."""
    no_channels_last(low, node)
    view = quantized_input(low, node, 0, 1, 2, "input X")
    lower(low, float_twin(node, op_type, [node.input[0]], drop=drop))
    op = low.ops[-1]
    quantized_output(low, node, op.outputs[0], 3, 4, view.tensor)


@lowers("QuantizeLinear")
def lower_quantize_linear(low: Lowering, node) -> None:
    view = low.view_input(node, 0)
    if low.tensors[view.tensor].dtype != DType.F32:
        raise low.fail("input is already quantized; QuantizeLinear needs a float32 tensor")
    scale, zp = qparams(low, node, 1, 2, "QuantizeLinear output")
    x = view.tensor
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[x].dims, dtype=dtype_code(zp), quant=quant(scale, zp))
    low.emit("QUANTIZE", [x], [y])
    low.values[node.output[0]] = View(y, view.shape, view.perm)


@lowers("DequantizeLinear")
def lower_dequantize_linear(low: Lowering, node) -> None:
    view = quantized_input(low, node, 0, 1, 2, "DequantizeLinear input")
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[view.tensor].dims)
    low.emit("DEQUANTIZE", [view.tensor], [y])
    low.values[node.output[0]] = View(y, view.shape, view.perm)

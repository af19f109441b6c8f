"""Activations: ACTIVATION ops that passes/fuse.py folds into the op before them where it
can; on int8 values a lookup table (QLinearSigmoid, QLinearLeakyRelu, and Relu / Clip / LeakyRelu
between quantized tensors)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, lowers, optional_input
from edgecnn.export.compiler.ir import Act, DType, act_attrs
from edgecnn.export.compiler.ops.quantize import lower_qlinear_unary


def _activation(low: Lowering, node, act: Act, p0: float = 0.0, p1: float = 0.0) -> None:
    v = low.view_input(node, 0)
    x = v.tensor
    y = low.activation_like(x)
    low.emit("ACTIVATION", [x], [y], act_attrs(act, p0, p1))
    low.values[node.output[0]] = View(y, v.shape, v.perm)


def _f32(value) -> float:
    """An attribute as the f32 parameter the kernel reads."""
    return float(np.float32(value))


@lowers("Relu", "Sigmoid", "Tanh")
def lower_plain_activation(low: Lowering, node) -> None:
    _activation(low, node, {"Relu": Act.RELU, "Sigmoid": Act.SIGMOID, "Tanh": Act.TANH}[node.op_type])


@lowers("LeakyRelu")
def lower_leaky_relu(low: Lowering, node) -> None:
    _activation(low, node, Act.LEAKY_RELU, _f32(attrs(node).get("alpha", 0.01)))


@lowers("HardSwish")
def lower_hard_swish(low: Lowering, node) -> None:
    _activation(low, node, Act.HARD_SWISH)


@lowers("HardSigmoid")
def lower_hard_sigmoid(low: Lowering, node) -> None:
    a = attrs(node)
    _activation(low, node, Act.HARD_SIGMOID, _f32(a.get("alpha", 0.2)), _f32(a.get("beta", 0.5)))


@lowers("Clip")
def lower_clip(low: Lowering, node) -> None:
    a = attrs(node)
    lo, hi = a.get("min", -np.inf), a.get("max", np.inf)
    if optional_input(node, 1):
        lo = float(low.const_input(node, 1, "min"))
    if optional_input(node, 2):
        hi = float(low.const_input(node, 2, "max"))
    if np.isnan(lo) or np.isnan(hi):
        raise low.fail(f"Clip bound is NaN (min {lo}, max {hi})")
    # ONNX: with min > max every value becomes max, which is min(max(x, max), max).
    _activation(low, node, Act.CLIP, _f32(min(lo, hi)), _f32(hi))


@lowers("QLinearSigmoid", "QLinearLeakyRelu", domain="com.microsoft")
def lower_qlinear_activation(low: Lowering, node) -> None:
    float_op = node.op_type.removeprefix("QLinear")
    lower_qlinear_unary(low, node, float_op, lower_plain_activation if float_op == "Sigmoid" else lower_leaky_relu)


@lowers("PRelu", note="float, constant slope")
def lower_prelu(low: Lowering, node) -> None:
    """PRelu(X, slope): PRELU with the slope broadcast to X's stored order and cut to the
    shortest run of trailing elements that repeats (one value, a channel vector, ...)."""
    v = low.view_input(node, 0)
    x = low.materialize(v)
    if low.tensors[x].dtype != DType.F32:
        raise low.fail("PRelu of int8 values is not supported; dequantize before it")
    slope = np.asarray(low.const_input(node, 1, "the slope"))
    if slope.dtype != np.float32:
        raise low.fail(f"slope has dtype {slope.dtype}; PRelu is supported on float32")
    full = v.full_shape(1)
    try:
        per_sample = np.broadcast_to(slope, full)
    except ValueError:
        raise low.fail(f"slope of shape {slope.shape} does not broadcast to the input's shape {full}") from None
    if slope.ndim == len(full) and slope.shape[0] != 1:
        raise low.fail(f"slope of shape {slope.shape} varies along the batch axis; one slope per sample is supported")
    stored = np.ascontiguousarray(per_sample.transpose(v.perm)[0]).reshape(-1)
    dims = low.tensors[x].dims
    for start in range(len(dims), -1, -1):  # the shortest repeating suffix of the stored dims
        run = int(np.prod(dims[start:], dtype=np.int64))
        if np.array_equal(stored.reshape(-1, run), np.broadcast_to(stored[:run], (stored.size // run, run))):
            break
    k = low.const_tensor(stored[:run].copy())
    y = low.activation_like(x)
    low.emit("PRELU", [x, k], [y])
    low.values[node.output[0]] = View(y, v.shape, v.perm)

"""Concat of runtime tensors (and float constants, copied into every sample) along a non-batch
axis (CONCAT, chained for more than 7 inputs), and its int8 form QLinearConcat (com.microsoft)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Const, Lowering, View, attrs, lowers
from edgecnn.export.compiler.ir import DType, Kind
from edgecnn.export.compiler.ops.quantize import float_twin, quantized_input, quantized_output

MAX_OP_INPUTS = 7  # ECNN_MAX_OP_TENSORS - 1: a CONCAT of more inputs becomes a chain


def _constant_part(low: Lowering, k: Const, first: View) -> View:
    """A float constant input of a Concat as a CONSTANT of one sample, stored in `first`'s axis
    order (CONCAT copies it into every sample)."""
    if not k.static:
        raise low.fail("a constant input depends on the batch size")
    value = np.asarray(k.value)
    if value.ndim != first.rank or value.shape[0] != 1:
        raise low.fail(f"constant input of shape {value.shape}: needs rank {first.rank} and a batch of 1")
    if low.tensors[first.tensor].dtype != DType.F32:
        raise low.fail("a constant input of an int8 Concat is not supported")
    sample = np.ascontiguousarray(value[0].transpose([p - 1 for p in first.perm[1:]]), dtype=np.float32)
    return View(low.const_tensor(sample), value.shape[1:], first.perm)


@lowers("Concat", note="of runtime tensors and float constants")
def lower_concat(low: Lowering, node) -> None:
    values = [low.value(n) for n in node.input if n]
    first = next((x for x in values if isinstance(x, View)), None)
    if first is None:
        raise low.fail("Concat of constants only should have been folded")
    views = [x if isinstance(x, View) else _constant_part(low, x, first) for x in values]
    axis = attrs(node)["axis"]
    axis = axis + first.rank if axis < 0 else axis
    if axis == 0 or not 0 < axis < first.rank:
        raise low.fail(f"Concat axis {attrs(node)['axis']}: only non-batch axes are supported")
    for x in views:
        if x.rank != first.rank or any(d != e for i, (d, e) in enumerate(zip(x.shape, first.shape)) if i + 1 != axis):
            raise low.fail(f"inputs of shapes {[x.full_shape() for x in views]} do not match off axis {axis}")
    perm = first.perm
    storage_axis = perm.index(axis) - 1
    parts = [x.tensor if low.tensors[x.tensor].kind == Kind.CONSTANT else low.materialize(x, perm) for x in views]
    shape = list(first.shape)
    shape[axis - 1] = sum(x.shape[axis - 1] for x in views)
    while len(parts) > 1:  # chains of at most MAX_OP_INPUTS inputs (concat of concats)
        group, parts = parts[:MAX_OP_INPUTS], parts[MAX_OP_INPUTS:]
        dims = list(low.tensors[group[0]].dims)
        dims[storage_axis] = sum(low.tensors[t].dims[storage_axis] for t in group)
        y = low.activation_like(first_runtime(low, group), dims)
        low.emit("CONCAT", group, [y], {"axis": storage_axis})
        parts.insert(0, y)
    low.values[node.output[0]] = View(parts[0], tuple(shape), perm)


def first_runtime(low: Lowering, tensors: list) -> int:
    """The first of `tensors` that is not a CONSTANT (the model of the output's dtype and kind)."""
    runtime = [t for t in tensors if low.tensors[t].kind != Kind.CONSTANT]
    if not runtime:
        raise low.fail(f"more than {MAX_OP_INPUTS} constant inputs in a row are not supported")
    return runtime[0]


@lowers("QLinearConcat", domain="com.microsoft")
def lower_qlinear_concat(low: Lowering, node) -> None:
    """com.microsoft QLinearConcat(Y_scale, Y_zp, X1, s1, z1, ...): CONCAT, each input requantized
    to Y's quantization as onnxruntime's lookup tables do (a copy where they are equal)."""
    if len(node.input) < 5 or (len(node.input) - 2) % 3:
        raise low.fail("QLinearConcat needs Y_scale, Y_zero_point and (X, scale, zero point) per input")
    views = [quantized_input(low, node, i, i + 1, i + 2, f"input {(i - 2) // 3}") for i in range(2, len(node.input), 3)]
    first = len(low.ops)
    lower_concat(low, float_twin(node, "Concat", node.input[2::3], drop=()))
    for op in low.ops[first:]:
        if op.op == "CONCAT":  # every link of a chain of CONCATs ends in Y's quantization
            quantized_output(low, node, op.outputs[0], 0, 1, views[0].tensor)

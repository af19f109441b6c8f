"""Concat of runtime tensors along a non-batch axis (CONCAT, chained for more than 7 inputs),
and its int8 form QLinearConcat (com.microsoft)."""

from __future__ import annotations

from edgecnn.export.compiler.graph import Lowering, View, attrs, lowers
from edgecnn.export.compiler.ops.quantize import float_twin, quantized_input, quantized_output

MAX_OP_INPUTS = 7  # ECNN_MAX_OP_TENSORS - 1: a CONCAT of more inputs becomes a chain


@lowers("Concat", note="of runtime tensors")
def lower_concat(low: Lowering, node) -> None:
    views = [low.value(n) for n in node.input if n]
    if not all(isinstance(x, View) for x in views):
        raise low.fail("Concat of a constant with runtime tensors is not supported; all inputs must be computed")
    first = views[0]
    axis = attrs(node)["axis"]
    axis = axis + first.rank if axis < 0 else axis
    if axis == 0 or not 0 < axis < first.rank:
        raise low.fail(f"Concat axis {attrs(node)['axis']}: only non-batch axes are supported")
    for x in views:
        if x.rank != first.rank or any(d != e for i, (d, e) in enumerate(zip(x.shape, first.shape)) if i + 1 != axis):
            raise low.fail(f"inputs of shapes {[x.full_shape() for x in views]} do not match off axis {axis}")
    perm = first.perm
    storage_axis = perm.index(axis) - 1
    parts = [low.materialize(x, perm) for x in views]
    shape = list(first.shape)
    shape[axis - 1] = sum(x.shape[axis - 1] for x in views)
    while len(parts) > 1:  # chains of at most MAX_OP_INPUTS inputs (concat of concats)
        group, parts = parts[:MAX_OP_INPUTS], parts[MAX_OP_INPUTS:]
        dims = list(low.tensors[group[0]].dims)
        dims[storage_axis] = sum(low.tensors[t].dims[storage_axis] for t in group)
        y = low.activation_like(group[0], dims)
        low.emit("CONCAT", group, [y], {"axis": storage_axis})
        parts.insert(0, y)
    low.values[node.output[0]] = View(parts[0], tuple(shape), perm)


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

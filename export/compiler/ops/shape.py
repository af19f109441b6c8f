"""Layout ops: Identity, Dropout, Cast, Transpose, Reshape, Flatten, Squeeze, Unsqueeze and
Shape. They change the view of a runtime tensor, not its bytes; a RESHAPE or TRANSPOSE is
emitted only where the stored order must change (graph.Lowering.materialize)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Const, Lowering, View, attrs, identity, lowers, optional_input
from edgecnn.export.compiler.ir import DType, Kind


@lowers("Identity")
def lower_identity(low: Lowering, node) -> None:
    low.values[node.output[0]] = low.view_input(node, 0)


@lowers("Dropout", note="inference")
def lower_dropout(low: Lowering, node) -> None:
    if optional_input(node, 2):
        mode = low.value(node.input[2])
        if not isinstance(mode, Const) or bool(mode.value):
            raise low.fail("Dropout in training mode is not supported")
    low.values[node.output[0]] = low.view_input(node, 0)
    if len(node.output) > 1 and node.output[1]:
        raise low.fail("Dropout's mask output is not supported")


@lowers("Cast", note="to float, of a float or a uint8/int8 model input")
def lower_cast(low: Lowering, node) -> None:
    """Cast of a runtime tensor: to float32 of a uint8/int8 model input (DEQUANTIZE with scale 1,
    zero point 0: exact, as onnxruntime's Cast), or float32 to float32 (nothing to do)."""
    v = low.view_input(node, 0)
    t = low.tensors[v.tensor]
    to = attrs(node).get("to")
    if to != low.onnx.TensorProto.FLOAT:
        name = low.onnx.TensorProto.DataType.Name(to) if to is not None else "(missing)"
        raise low.fail(f"Cast of a runtime tensor to {name}: only Cast to FLOAT is supported")
    if t.dtype == DType.F32:
        low.values[node.output[0]] = v
        return
    if t.quant is None or not (np.array_equal(t.quant.scales, [1.0]) and not np.any(t.quant.zero_points)):
        raise low.fail(
            "Cast of a quantized int8/uint8 tensor to FLOAT: only the raw uint8/int8 model input "
            "can be cast (use DequantizeLinear for quantized values)"
        )
    y = low.new_tensor(Kind.ACTIVATION, t.dims)
    low.emit("DEQUANTIZE", [v.tensor], [y])
    low.values[node.output[0]] = View(y, v.shape, v.perm)


@lowers("Transpose", note="keeping the batch first")
def lower_transpose(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    perm = tuple(attrs(node).get("perm", tuple(reversed(range(v.rank)))))
    if perm[0] != 0:
        raise low.fail(
            f"Transpose perm {list(perm)} moves the batch axis; only perms keeping axis 0 first are supported"
        )
    inv = np.argsort(perm)
    new_perm = tuple(int(inv[p]) for p in v.perm)
    full = v.full_shape()
    low.values[node.output[0]] = View(v.tensor, tuple(full[p] for p in perm[1:]), new_perm)


def _reshape_to(low: Lowering, node, v: View, new_shape: tuple) -> None:
    if int(np.prod(new_shape, dtype=np.int64)) != int(np.prod(v.shape, dtype=np.int64)):
        raise low.fail(f"reshape from {v.shape} to {new_shape} changes the per-sample element count")
    # A view stored in another axis order is first put in ONNX (row-major) order: a TRANSPOSE op.
    t = v.tensor if v.compatible(identity(v.rank)) else low.materialize(v, identity(v.rank))
    low.values[node.output[0]] = View(t, tuple(int(d) for d in new_shape), identity(len(new_shape) + 1))


@lowers("Reshape", note="per sample")
def lower_reshape(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    target = low.value(node.input[1])
    if not isinstance(target, Const):
        raise low.fail("the target shape must be computable at compile time")
    allowzero = bool(attrs(node).get("allowzero", 0))
    results = []
    for b, t in zip(low.batches(), target.values):
        t = [int(x) for x in np.asarray(t).reshape(-1)]
        if allowzero and 0 in t:  # (without a 0 in the target, allowzero changes nothing)
            raise low.fail(f"allowzero=1 with a 0 in the target shape {t} would make an empty tensor")
        in_full = (b, *v.shape)
        t = [in_full[i] if d == 0 else d for i, d in enumerate(t)]
        total = int(np.prod(in_full, dtype=np.int64))
        if t.count(-1) == 1:
            known = int(np.prod([d for d in t if d != -1], dtype=np.int64))
            if known == 0 or total % known:
                raise low.fail(f"cannot infer -1 in reshape target {t} for input shape {in_full}")
            t[t.index(-1)] = total // known
        if int(np.prod(t, dtype=np.int64)) != total or not t or t[0] != b:
            raise low.fail(
                f"reshape to {t} for an input of shape {in_full} does not keep the batch as the "
                "leading dimension; only per-sample reshapes are supported"
            )
        results.append(tuple(t[1:]))
    if results[0] != results[1]:
        raise low.fail(
            f"the reshape target depends on the batch size in a way other than the leading dimension: {results}"
        )
    _reshape_to(low, node, v, results[0])


@lowers("Flatten", note="keeping the batch first")
def lower_flatten(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    axis = attrs(node).get("axis", 1)
    if axis < 0:
        axis += v.rank
    if not 0 <= axis <= v.rank:
        raise low.fail(f"Flatten axis={attrs(node).get('axis')} is out of range for rank {v.rank}")
    # ONNX gives (prod(dims[:axis]), prod(dims[axis:])); the batch must stay the leading dimension.
    merged = int(np.prod(v.shape[: max(axis - 1, 0)], dtype=np.int64))
    if axis == 0 and low.fixed_batch != 1:
        raise low.fail("Flatten axis=0 merges the batch into the features; supported only for a fixed batch of 1")
    if axis >= 2 and merged != 1:
        raise low.fail(
            f"Flatten axis={axis} of shape {v.full_shape()} merges the batch with axes of total size "
            f"{merged}; only flattens that keep the batch as the leading dimension are supported"
        )
    _reshape_to(low, node, v, (int(np.prod(v.shape[max(axis - 1, 0) :], dtype=np.int64)),))


@lowers("Squeeze")
def lower_squeeze(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    axes = low.axes(node, v.rank) or [i + 1 for i, d in enumerate(v.shape) if d == 1]
    if 0 in axes or any(v.full_shape()[ax] != 1 for ax in axes):
        raise low.fail(f"Squeeze axes {axes} are not all size-1 non-batch axes of shape {v.full_shape()}")
    _reshape_to(low, node, v, tuple(d for i, d in enumerate(v.shape, start=1) if i not in axes))


@lowers("Unsqueeze")
def lower_unsqueeze(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    out_rank = v.rank + len(low.axes(node, 0) or [])
    axes = low.axes(node, out_rank)
    if not axes or 0 in axes:
        raise low.fail("Unsqueeze must insert non-batch axes")
    shape = list(v.shape)
    for ax in axes:
        shape.insert(ax - 1, 1)
    _reshape_to(low, node, v, tuple(shape))


@lowers("Shape", note="of a runtime tensor")
def lower_shape(low: Lowering, node) -> None:
    """The shape as a constant, at each trial batch size (the batch entry differs between them)."""
    view = low.view_input(node, 0)
    a = attrs(node)
    vals = []
    for b in low.batches():
        shape = np.array((b, *view.shape), dtype=np.int64)
        vals.append(shape[a.get("start", 0) : a.get("end", len(shape))] if ("start" in a or "end" in a) else shape)
    low.values[node.output[0]] = Const(tuple(vals))

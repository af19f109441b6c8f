"""Softmax: SOFTMAX over the innermost stored axis (a TRANSPOSE first when the ONNX axis is
stored elsewhere); on int8 values refused."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, identity, lowers
from edgecnn.export.compiler.ir import Kind


@lowers("Softmax")
def lower_softmax(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    axis = attrs(node).get("axis", -1 if low.opset >= 13 else 1)
    axis = axis + v.rank if axis < 0 else axis
    if not 0 < axis < v.rank:
        raise low.fail(f"Softmax over axis {attrs(node).get('axis')} of a rank-{v.rank} tensor: only non-batch axes")
    if low.opset < 13 and axis != v.rank - 1:
        # Before opset 13 Softmax normalises over all axes from `axis` on, flattened.
        flat = View(
            low.materialize(v, identity(v.rank)),
            (*v.shape[: axis - 1], int(np.prod(v.shape[axis - 1 :], dtype=np.int64))),
            identity(axis + 1),
        )
        x = low.materialize(flat)
        perm = identity(v.rank)
    else:
        # SOFTMAX works on the innermost stored axis: keep the view's order when `axis` is
        # innermost there, else store it innermost (a TRANSPOSE).
        perm = v.innermost(axis)
        x = low.materialize(v, perm)
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[x].dims)
    low.emit("SOFTMAX", [x], [y])
    low.values[node.output[0]] = View(y, v.shape, perm)


@lowers("QLinearSoftmax", domain="com.microsoft", listed=False)
def lower_qlinear_softmax(low: Lowering, node) -> None:
    """Refused: onnxruntime's QLinearSoftmax looks its exponentials up in a table it builds with
    the C library's exp(), whose last bits differ between libm versions."""
    raise low.fail(
        "Softmax on int8 values (onnxruntime's QLinearSoftmax, whose exp() table depends on the C "
        "library) is not supported: quantize with the Softmax left in float (quantize_static "
        "nodes_to_exclude, as `edgecnn quantize` does)"
    )

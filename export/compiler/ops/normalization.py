"""BatchNormalization (inference): two CHANNEL_ARITH ops that passes/fuse.py folds into the
convolution or dense layer before them, or else (after a Concat) into one CHANNEL_ARITH(mul_add),
with the Relu after it if there is one."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, attrs, lowers
from edgecnn.export.compiler.ir import Arith
from edgecnn.export.compiler.ops.elementwise import channel_arith


@lowers("BatchNormalization", note="inference")
def lower_batch_normalization(low: Lowering, node) -> None:
    """y = (x - mean) / sqrt(var + eps) * scale + bias per channel (axis 1): CHANNEL_ARITH mul,
    then add, which fuse folds into a preceding CONV_2D / FULLY_CONNECTED whose output nothing
    else reads (as onnxruntime's Conv+BN fusion does)."""
    a = attrs(node)
    if a.get("training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
        raise low.fail("BatchNormalization in training mode (extra outputs) is not supported")
    v = low.view_input(node, 0)
    if v.rank < 2:
        raise low.fail(f"input of rank {v.rank} has no channel axis")
    scale, bias, mean, var = (
        np.asarray(low.const_input(node, i, n), np.float64)
        for i, n in ((1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var"))
    )
    c = v.shape[0]
    if any(t.shape != (c,) for t in (scale, bias, mean, var)):
        raise low.fail(f"scale/B/mean/var must all be ({c},) for {c} channels")
    mul = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
    add = bias - mean * mul
    t = channel_arith(low, v, 1, mul.astype(np.float32), Arith.MUL, False)
    low.values[node.output[0]] = channel_arith(low, t, 1, add.astype(np.float32), Arith.ADD, False)

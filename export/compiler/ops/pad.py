"""Pad (constant mode, non-negative pads): PAD, which passes/fuse.py folds into a convolution's
own padding when it can; on int8 values the fill value becomes its code."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, lowers, optional_input
from edgecnn.export.compiler.ir import DType


def _quantized_value(value: float, dtype: DType, scale: np.float32, zp: int) -> int:
    """QuantizeLinear of the fill value: a true division, clamp, round half to even (onnxruntime
    runs DQ -> Pad -> Q with one quantization as a float Pad between them)."""
    info = np.iinfo(np.int8 if dtype == DType.I8 else np.uint8)
    v = np.float32(np.float32(value) / scale)
    v = min(max(v, np.float32(info.min - zp)), np.float32(info.max - zp))
    return int(np.rint(v)) + zp


@lowers("Pad", note="constant mode")
def lower_pad(low: Lowering, node) -> None:
    a = attrs(node)
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise low.fail(f"Pad mode '{mode}' is not supported; only 'constant'")
    v = low.view_input(node, 0)
    if "pads" in a:  # opset < 11
        pads, value = list(a["pads"]), float(a.get("value", 0.0))
    else:
        pads = [int(x) for x in np.asarray(low.const_input(node, 1, "pads")).reshape(-1)]
        value = 0.0
        if optional_input(node, 2):
            value = float(np.asarray(low.const_input(node, 2, "constant_value")).reshape(-1)[0])
    axes = list(range(v.rank))
    if optional_input(node, 3):
        axes = [
            ax + v.rank if ax < 0 else ax
            for ax in (int(x) for x in np.asarray(low.const_input(node, 3, "axes")).reshape(-1))
        ]
    if len(pads) != 2 * len(axes):
        raise low.fail(f"pads {pads} do not have 2 values per axis of {axes}")
    before, after = [0] * v.rank, [0] * v.rank
    for i, ax in enumerate(axes):
        before[ax], after[ax] = pads[i], pads[len(axes) + i]
    if min(before + after) < 0:
        raise low.fail(f"negative pads {pads} (cropping) are not supported")
    if before[0] or after[0]:
        raise low.fail("padding the batch axis is not supported")
    if v.rank - 1 > 5:
        raise low.fail(f"rank {v.rank} exceeds the native rank 5 per sample")
    # A feature map read by convolutions is padded in their NHWC order (so fuse can turn the
    # PAD into the convolution's own padding); anything else in the order it is stored.
    readers = low.readers.get(node.output[0], [])
    perm = (0, 2, 3, 1) if v.rank == 4 and readers and set(readers) <= {"Conv"} else v.perm
    x = low.materialize(v, perm)
    # pads in the stored axis order
    sb = [before[p] for p in perm[1:]]
    sa = [after[p] for p in perm[1:]]
    dims = tuple(d + b + e for d, b, e in zip(low.tensors[x].dims, sb, sa))
    y = low.activation_like(x, dims)
    zeros = [0] * (5 - len(sb))
    t = low.tensors[x]
    fill = float(np.float32(value))  # f32 bits; on int8 values the code
    if t.quant is not None:
        fill = _quantized_value(fill, t.dtype, np.float32(t.quant.scales[0]), int(t.quant.zero_points[0]))
    low.emit("PAD", [x], [y], {"before": sb + zeros, "after": sa + zeros, "value": fill})
    shape = tuple(d + b + e for d, b, e in zip(v.shape, before[1:], after[1:]))
    low.values[node.output[0]] = View(y, shape, perm)

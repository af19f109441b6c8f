"""Pooling: MaxPool, AveragePool, the global pools and ReduceMean / ReduceMax over the two
spatial axes (MAX_POOL_2D / AVG_POOL_2D), and their int8 forms QLinearAveragePool and
QLinearGlobalAveragePool (com.microsoft)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, identity, lowers
from edgecnn.export.compiler.ops.conv import pads_2d, spatial_input, stride_pad_dilation_attrs, window_steps
from edgecnn.export.compiler.ops.quantize import lower_qlinear_unary

# The native op of each pooling kind: the ONNX op types that take the maximum.
MAX_OPS = ("MaxPool", "GlobalMaxPool", "ReduceMax")


def pool_attrs(k, strides, pads, dilations, count_include_pad: int | None) -> dict:
    """MAX_POOL_2D parameters, plus count_include_pad for AVG_POOL_2D (when not None)."""
    out = {"kernel_h": k[0], "kernel_w": k[1], **stride_pad_dilation_attrs(strides, pads, dilations)}
    if count_include_pad is not None:
        out["count_include_pad"] = count_include_pad
    return out


def _as_2d(a: dict) -> dict:
    """The attributes of a 1-D pooling as those of a 2-D one over an H of 1."""
    a = dict(a)
    for name in ("kernel_shape", "strides", "dilations"):
        if name in a:
            a[name] = [1, *a[name]]
    if "pads" in a:
        pads = list(a["pads"])
        a["pads"] = [0, pads[0], 0, pads[-1]] if len(pads) == 2 else pads
    return a


@lowers("MaxPool", "AveragePool", note="1-D and 2-D")
def lower_pool(low: Lowering, node) -> None:
    """MaxPool / AveragePool: window geometry shared, count_include_pad for the average. 1-D
    (an NCL input) runs as 2-D over an H of 1."""
    a = attrs(node)
    if len(node.output) > 1 and node.output[1]:
        raise low.fail("MaxPool's Indices output is not supported")
    if a.get("storage_order", 0):
        raise low.fail("storage_order=1 is not supported")
    v = low.view_input(node, 0)
    one_d = v.rank == 3
    if one_d:
        a = _as_2d(a)
        v = View(low.materialize(v, (0, 2, 1)), (v.shape[0], 1, v.shape[1]), (0, 2, 3, 1))  # [L, C] as [1, L, C]
        x = low.materialize(v)
    else:
        v, x = spatial_input(low, node)
    c, h, w_ = v.shape
    k = tuple(a["kernel_shape"])
    if len(k) != 2:
        raise low.fail(f"kernel_shape {k}: only 2-D pooling is supported")
    if min(k) < 1:
        raise low.fail(f"kernel_shape {k} not supported (need sizes >= 1)")
    strides, dilations = window_steps(low, a)
    pads = pads_2d(low, a, (h, w_), k, strides, dilations)
    pt, pl, pb, pr = pads
    ceil_mode = int(a.get("ceil_mode", 0))

    def extent(n, pa, pb_, kk, s, d):
        span = d * (kk - 1) + 1
        num = n + pa + pb_ - span
        if num < 0:
            raise low.fail(f"the pooling window does not fit the {h}x{w_} input")
        out = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (out - 1) * s >= n + pa:  # the last window would start in the end padding
            out -= 1
        return out

    oh = extent(h, pt, pb, k[0], strides[0], dilations[0])
    ow = extent(w_, pl, pr, k[1], strides[1], dilations[1])
    for out, n, pa, kk, st, d in (
        (oh, h, pt, k[0], strides[0], dilations[0]),
        (ow, w_, pl, k[1], strides[1], dilations[1]),
    ):
        if not all(any(0 <= o * st - pa + j * d < n for j in range(kk)) for o in range(out)):
            raise low.fail(
                "a pooling window lies entirely in the padding (onnxruntime outputs -3.4e38 or 0 there); "
                "pads and dilations that leave a window without input are not supported"
            )
    is_max = node.op_type in MAX_OPS
    params = pool_attrs(k, strides, pads, dilations, None if is_max else int(a.get("count_include_pad", 0)))
    y = low.activation_like(x, (oh, ow, c))
    low.emit("MAX_POOL_2D" if is_max else "AVG_POOL_2D", [x], [y], params)
    low.values[node.output[0]] = View(y, (c, ow), (0, 2, 1)) if one_d else View(y, (c, oh, ow), (0, 2, 3, 1))


def _global_pool(low: Lowering, node, v: View, h_ax: int, w_ax: int, keepdims: bool) -> None:
    """Mean (max) over two spatial axes of a rank-4 view: AVG_POOL_2D (MAX_POOL_2D) with a
    kernel covering the map."""
    is_max = node.op_type in MAX_OPS
    c_ax = next(ax for ax in (1, 2, 3) if ax not in (h_ax, w_ax))
    full = v.full_shape()
    h, w_, c = full[h_ax], full[w_ax], full[c_ax]
    x = low.materialize(v, (0, h_ax, w_ax, c_ax))  # [H, W, C] with the reduced axes first
    y = low.activation_like(x, (1, 1, c))
    low.emit(
        "MAX_POOL_2D" if is_max else "AVG_POOL_2D",
        [x],
        [y],
        pool_attrs((h, w_), (1, 1), (0, 0, 0, 0), (1, 1), None if is_max else 0),
    )
    if keepdims:
        shape = tuple(1 if ax in (h_ax, w_ax) else d for ax, d in enumerate(full))[1:]
        low.values[node.output[0]] = View(y, shape, (0, h_ax, w_ax, c_ax))
    else:
        low.values[node.output[0]] = View(y, (c,), (0, 1))


@lowers("GlobalAveragePool", "GlobalMaxPool")
def lower_global_pool(low: Lowering, node) -> None:
    v = low.view_input(node, 0)
    if v.rank != 4:
        raise low.fail(f"input has rank {v.rank}; only 2-D pooling of NCHW (rank 4) inputs is supported")
    _global_pool(low, node, v, 2, 3, keepdims=True)


def _reduce_any_axes(low: Lowering, node, v: View, axes: list, keepdims: bool) -> None:
    """Mean (max) over any non-batch axes: the tensor stored [R, 1, K] (the R reduced values
    first, the K kept ones innermost), then AVG_POOL_2D (MAX_POOL_2D) with an R x 1 kernel."""
    is_max = node.op_type in MAX_OPS
    full = v.full_shape()
    kept = [ax for ax in range(1, v.rank) if ax not in axes]
    order = (0, *axes, *kept)
    r = int(np.prod([full[ax] for ax in axes]))
    k = int(np.prod([full[ax] for ax in kept]))
    x = low.materialize(View(low.materialize(v, order), (r, 1, k), identity(4)))
    y = low.activation_like(x, (1, 1, k))
    params = pool_attrs((r, 1), (1, 1), (0, 0, 0, 0), (1, 1), None if is_max else 0)
    low.emit("MAX_POOL_2D" if is_max else "AVG_POOL_2D", [x], [y], params)
    if keepdims:
        shape = tuple(1 if ax in axes else d for ax, d in enumerate(full))[1:]
        low.values[node.output[0]] = View(y, shape, order)
    else:
        low.values[node.output[0]] = View(y, tuple(full[ax] for ax in kept), identity(len(kept) + 1))


@lowers("ReduceMean", "ReduceMax", note="over non-batch axes")
def lower_reduce(low: Lowering, node) -> None:
    """Keras' GlobalAveragePooling2D / GlobalMaxPooling2D (tf2onnx: ReduceMean / ReduceMax over
    the two spatial axes of a rank-4 tensor), and the reduction over any other non-batch axes."""
    v = low.view_input(node, 0)
    a = attrs(node)
    axes = low.axes(node, v.rank)
    if not axes and a.get("noop_with_empty_axes", 0):
        raise low.fail("noop_with_empty_axes=1 with no axes is not supported")
    axes = axes or list(range(v.rank))
    if 0 in axes:
        raise low.fail(
            f"{node.op_type} over axes {axes} of a rank-{v.rank} tensor reduces the batch axis; only "
            "non-batch axes can be reduced (or give the input a fixed batch)"
        )
    keepdims = bool(a.get("keepdims", 1))
    if v.rank == 4 and len(axes) == 2:
        _global_pool(low, node, v, axes[0], axes[1], keepdims=keepdims)
    else:
        _reduce_any_axes(low, node, v, axes, keepdims)


@lowers("QLinearGlobalAveragePool", domain="com.microsoft")
def lower_qlinear_global_average_pool(low: Lowering, node) -> None:
    lower_qlinear_unary(low, node, "GlobalAveragePool", lower_global_pool)


@lowers("QLinearAveragePool", domain="com.microsoft")
def lower_qlinear_average_pool(low: Lowering, node) -> None:
    """Rounds in the codes' own domain: onnxruntime's uint8 rewrite of int8 QDQ pairs is made on
    the graph itself (passes/qdq.py), so an int8 tensor here is int8 in onnxruntime too."""
    lower_qlinear_unary(low, node, "AveragePool", lower_pool)

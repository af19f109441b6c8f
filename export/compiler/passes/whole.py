"""A fixed-shape graph run as one sample: the rewrite behind a fixed-batch graph whose nodes
treat the batch axis as data (a Transpose or Reshape that moves it, a Softmax over it, ...).

The native runtime works per sample: the first axis of the graph input is the batch and no node
may mix samples. A graph whose input has a fixed batch (ONNX's node tests, most TFLite exports)
does not need that: the whole input can be one sample. This pass gives every runtime tensor a
new leading axis of size 1 and shifts each node's axes past it, so the compiler's batch is that
axis and the graph's own first axis becomes per-sample data. Only nodes whose axis arithmetic is
known here are rewritten (elementwise ops, Softmax, Concat, Transpose, Reshape, Flatten,
Squeeze, Unsqueeze, MatMul, Gemm, Pad, Reduce*, Quantize/DequantizeLinear); a graph with any
other node on a runtime tensor is left to the normal lowering and its message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import onnx

UNCHANGED = {
    "Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Identity", "Dropout", "Clip", "Cast",
    "Add", "Sub", "Mul", "Div", "MatMul", "PRelu",
}  # fmt: skip
AXIS_ATTR = {"Softmax", "Concat", "QuantizeLinear", "DequantizeLinear"}
AXES = {"Squeeze", "Unsqueeze", "ReduceMean", "ReduceMax"}


class _Rewrite:
    def __init__(self, model: onnx.ModelProto):
        self.onnx = require("onnx")
        self.model = model
        graph = model.graph
        self.consts = {t.name: self.onnx.numpy_helper.to_array(t) for t in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.consts[node.output[0]] = self.onnx.numpy_helper.to_array(node.attribute[0].t)
        inferred = self.onnx.shape_inference.infer_shapes(model)
        self.shapes = {}
        for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
            dims = vi.type.tensor_type.shape.dim
            if all(d.HasField("dim_value") for d in dims):
                self.shapes[vi.name] = tuple(d.dim_value for d in dims)
        self.new_inits: list = []
        self.counter = 0

    def const(self, array, hint: str) -> str:
        self.counter += 1
        name = f"{hint}__unit_batch_{self.counter}"
        self.new_inits.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def shape(self, name: str):
        return self.shapes.get(name)


def _set_attr(onnx, node, name: str, value) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    node.attribute.append(onnx.helper.make_attribute(name, value))


def _attr(onnx, node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _shifted(axes, rank: int) -> list:
    """Non-negative axes of the original rank, moved past the new leading axis."""
    return [(a + rank if a < 0 else a) + 1 for a in axes]


def _node(rw: _Rewrite, node, opset: int) -> list | None:
    """The rewritten node(s), or None when this pass does not know the op."""
    onnx = rw.onnx
    op = node.op_type
    new = onnx.NodeProto()
    new.CopyFrom(node)
    in_shape = rw.shape(node.input[0]) if node.input else None
    if op == "MatMul":
        return _matmul(rw, node, new, opset)
    if op in UNCHANGED:
        return [new]
    if in_shape is None:
        return None
    rank = len(in_shape)
    if op in AXIS_ATTR:
        default = -1 if op == "Softmax" and opset >= 13 else 1
        if op == "Concat":
            default = _attr(onnx, node, "axis")
        axis = _attr(onnx, node, "axis", default)
        _set_attr(onnx, new, "axis", _shifted([axis], rank)[0])
        if op == "Concat":  # its constant inputs take the new leading axis too (equal ranks)
            for i, name in enumerate(node.input):
                if name in rw.consts:
                    new.input[i] = rw.const(rw.consts[name][None], name)
        return [new]
    if op == "Transpose":
        perm = _attr(onnx, node, "perm", list(reversed(range(rank))))
        _set_attr(onnx, new, "perm", [0, *(p + 1 for p in perm)])
        return [new]
    if op == "Reshape":
        if node.input[1] not in rw.consts or _attr(onnx, node, "allowzero", 0):
            return None
        target = [int(d) for d in rw.consts[node.input[1]].reshape(-1)]
        new.input[1] = rw.const(np.array([1, *target], np.int64), node.input[1])
        return [new]
    if op == "Flatten":
        out = rw.shape(node.output[0])
        if out is None:
            return None
        reshape = onnx.helper.make_node(
            "Reshape", [node.input[0], rw.const(np.array([1, *out], np.int64), "flatten")], list(node.output), node.name
        )
        return [reshape]
    if op in AXES:
        out_rank = len(rw.shape(node.output[0]) or ()) if op == "Unsqueeze" else rank
        axes = _attr(onnx, node, "axes")
        from_input = axes is None and len(node.input) > 1 and node.input[1]
        if from_input:
            if node.input[1] not in rw.consts:
                return None
            axes = [int(a) for a in rw.consts[node.input[1]].reshape(-1)]
        if axes == [] and op.startswith("Reduce") and not _attr(onnx, node, "noop_with_empty_axes", 0):
            axes = None  # empty axes: every axis (of the original rank, not the new leading one)
        if axes is None:
            if op == "Squeeze":
                axes = [i for i, d in enumerate(in_shape) if d == 1]
            elif op.startswith("Reduce") and not _attr(onnx, node, "noop_with_empty_axes", 0):
                axes = list(range(rank))
            else:
                return None
        shifted = _shifted(axes, out_rank)
        if from_input or (op in ("Squeeze", "Unsqueeze") and opset >= 13) or (op.startswith("Reduce") and opset >= 18):
            while len(new.input) < 2:
                new.input.append("")
            new.input[1] = rw.const(np.array(shifted, np.int64), "axes")
            for i, a in enumerate(new.attribute):
                if a.name == "axes":
                    del new.attribute[i]
                    break
        else:
            _set_attr(onnx, new, "axes", shifted)
        return [new]
    if op == "Pad":
        if _attr(onnx, node, "pads") is not None:
            pads = list(_attr(onnx, node, "pads"))
            half = len(pads) // 2
            _set_attr(onnx, new, "pads", [0, *pads[:half], 0, *pads[half:]])
            return [new]
        if len(node.input) > 3 and node.input[3]:
            return None  # explicit axes: left to the normal lowering
        if node.input[1] not in rw.consts:
            return None
        pads = [int(p) for p in rw.consts[node.input[1]].reshape(-1)]
        half = len(pads) // 2
        new.input[1] = rw.const(np.array([0, *pads[:half], 0, *pads[half:]], np.int64), "pads")
        return [new]
    if op == "Gemm":
        return _gemm(rw, node)
    return None


def _matmul(rw: _Rewrite, node, new, opset: int) -> list | None:
    """MatMul by a constant B. The new leading axis broadcasts as numpy does when B's stack is no
    deeper than A's; a vector A (a matrix of one row once the axis is added) is first given as
    many unit axes as B's stack, its row then squeezed out."""
    onnx = rw.onnx
    a_shape, b = rw.shape(node.input[0]), rw.consts.get(node.input[1])
    if a_shape is None or b is None:
        return None
    if b.ndim <= max(len(a_shape), 2):
        return [new]
    if len(a_shape) != 1:
        return None
    rows = node.input[0] + "__unit_batch_rows"
    target = rw.const(np.array([1] * (b.ndim - 1) + [1, a_shape[0]], np.int64), "matmul_rows")
    product = node.output[0] + "__unit_batch_mm"
    return [
        onnx.helper.make_node("Reshape", [node.input[0], target], [rows]),
        onnx.helper.make_node("MatMul", [rows, node.input[1]], [product]),
        onnx.helper.make_node("Squeeze", [product, rw.const(np.array([-2], np.int64), "axes")], [node.output[0]])
        if opset >= 13
        else onnx.helper.make_node("Squeeze", [product], [node.output[0]], axes=[-2]),
    ]


def _gemm(rw: _Rewrite, node) -> list | None:
    """Gemm (2-D only) on a [1, M, K] tensor: MatMul by the constant B (transB folded into it),
    Mul alpha, then Add beta * C (the order of ONNX's alpha * (A B) + beta * C)."""
    onnx = rw.onnx
    if len(node.input) < 2 or node.input[1] not in rw.consts:
        return None
    alpha, beta = _attr(onnx, node, "alpha", 1.0), _attr(onnx, node, "beta", 1.0)
    b = rw.consts[node.input[1]].astype(np.float32)
    if _attr(onnx, node, "transB", 0):
        b = b.T
    nodes, a = [], node.input[0]
    if _attr(onnx, node, "transA", 0):
        nodes.append(onnx.helper.make_node("Transpose", [a], [a + "__unit_batch_t"], perm=[0, 2, 1]))
        a = a + "__unit_batch_t"
    has_c = len(node.input) > 2 and node.input[2]
    if has_c and node.input[2] not in rw.consts:
        return None
    product = node.output[0] + "__unit_batch_mm" if has_c or alpha != 1.0 else node.output[0]
    nodes.append(onnx.helper.make_node("MatMul", [a, rw.const(np.ascontiguousarray(b), "gemm_b")], [product]))
    if alpha != 1.0:  # alpha * (A @ B) rounds otherwise than A @ (alpha * B): a Mul after
        scaled = node.output[0] + "__unit_batch_alpha" if has_c else node.output[0]
        nodes.append(onnx.helper.make_node("Mul", [product, rw.const(np.float32([alpha]), "gemm_alpha")], [scaled]))
        product = scaled
    if has_c:
        c = rw.consts[node.input[2]].astype(np.float32)
        if beta != 1.0:
            c = (np.float32(beta) * c).astype(np.float32)
        nodes.append(onnx.helper.make_node("Add", [product, rw.const(c, "gemm_c")], [node.output[0]]))
    return nodes


def with_unit_batch(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """The model with a leading axis of size 1 on every runtime tensor (the graph input's fixed
    shape becomes one sample), or None when a node on a runtime tensor is not one this pass knows."""
    onnx = require("onnx")
    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initialized]
    if len(inputs) != 1 or len(graph.output) != 1:
        return None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    try:
        rw = _Rewrite(model)
    except Exception:  # shape inference is best effort: no rewrite
        return None
    runtime = {inputs[0].name}
    nodes = []
    for node in graph.node:
        if not any(n in runtime for n in node.input if n):
            nodes.append(node)  # constants: folded by the compiler as before
            continue
        if node.domain not in ("", "ai.onnx"):
            return None
        rewritten = _node(rw, node, opset)
        if rewritten is None:
            return None
        nodes.extend(rewritten)
        runtime.update(o for n in rewritten for o in n.output)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    out.graph.initializer.extend(rw.new_inits)
    for value in [out.graph.input[[i.name for i in out.graph.input].index(inputs[0].name)], out.graph.output[0]]:
        dims = value.type.tensor_type.shape.dim
        old = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if any(d is None for d in old):
            if value is out.graph.output[0] and graph.output[0].name in rw.shapes:
                old = list(rw.shapes[graph.output[0].name])
            else:
                return None
        del dims[:]
        for d in [1, *old]:
            dims.add().dim_value = d
    del out.graph.value_info[:]
    return out


def lower_as_one_sample(model: onnx.ModelProto):
    """The Lowering of `with_unit_batch(model)` when the graph input has a fixed batch and that
    rewrite compiles, else None (the caller reports the normal lowering's error)."""
    from edgecnn.export.compiler.errors import CompileError
    from edgecnn.export.compiler.graph import Lowering

    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initialized]
    if len(inputs) != 1:
        return None
    dims = inputs[0].type.tensor_type.shape.dim
    if not dims or not all(d.HasField("dim_value") for d in dims):
        return None  # a free batch: the graph must work per sample
    rewritten = with_unit_batch(model)
    if rewritten is None:
        return None
    low = Lowering(rewritten)
    try:
        low.run()
    except CompileError:
        return None
    return low

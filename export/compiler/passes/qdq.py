"""QDQ -> QOperator: fuse the DequantizeLinear / QuantizeLinear pairs of an int8 QDQ model
(`edgecnn quantize`, onnxruntime `quantize_static`) the way onnxruntime's graph optimizer does
at its default level, so that the lowering sees the ops onnxruntime runs:

- DQ(x) -> Conv(DQ(W), DQ(B)) -> Q becomes QLinearConv, Gemm becomes com.microsoft.QGemm
  (int32 bias inside), MatMul becomes QLinearMatMul;
- DQ -> MaxPool/Transpose/Reshape/Flatten/Relu/... -> Q with unchanged scale and zero point
  becomes the op on the int8 values (a DQ -> op -> Q round trip is exact for these: (k * s) / s
  rounds back to k);
- Add, Mul, GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu, Concat between DQs and a Q
  become com.microsoft QLinear* nodes where onnxruntime fuses them (`_fuse_qlinear` says when).

First the int8 QuantizeLinear -> DequantizeLinear pairs onnxruntime rewrites to uint8 codes on
x86 (QDQS8ToU8, `_s8_to_u8`) are rewritten the same way: which pairs are uint8 decides what
onnxruntime fuses, and QLinearAdd and QLinearAveragePool round differently on int8 and uint8
codes. The groups onnxruntime leaves unfused run DQ -> float op -> Q, the float op in
onnxruntime's own order (passes/ort_float.py; docs/numerics.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgecnn.export.compiler.passes.node_index import NodeIndex, with_nodes
from edgecnn.export.compiler.passes.ort_float import rewrite_float_convs, rewrite_float_gemms, value_shapes
from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import onnx

# Float ops between DequantizeLinear and QuantizeLinear that onnxruntime (x86, default level)
# fuses into com.microsoft QLinear* kernels; _fuse_qlinear says when.
_QLINEAR_OPS = ("Add", "Mul", "GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu", "Concat", "Softmax")

# Ops that only move or select values: with the same quantization on both sides,
# DQ -> op -> Q is the op applied to the int8 codes.
_MOVE_OPS = ("MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Relu", "Pad")
_INT8_TYPES = (np.int8, np.uint8)


def qdq_to_qoperator(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fuse DQ/Q pairs of a QDQ model into QOperator nodes; other models are returned unchanged."""
    onnx = require("onnx")
    graph = model.graph
    if not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in graph.node):
        return model
    model = _s8_to_u8(model)
    shapes = value_shapes(model)
    graph = model.graph
    index = NodeIndex(graph)
    inits, consumers, graph_outputs, dq_of = index.inits, index.readers, index.outputs, index.dequantize_of

    def only_q(name):
        """The QuantizeLinear that is the single consumer of `name`, if so."""
        users = consumers.get(name, [])
        if name in graph_outputs or len(users) != 1 or users[0].op_type != "QuantizeLinear":
            return None
        return users[0]

    def qparams(n):
        """(scale, zero point) arrays of a Q/DQ node (zero point default: uint8 0)."""
        scale = inits.get(n.input[1])
        zp = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else np.zeros((), np.uint8)
        return scale, zp

    def same_params(a, b) -> bool:
        (sa, za), (sb, zb) = qparams(a), qparams(b)
        return (
            sa is not None
            and sb is not None
            and za is not None
            and zb is not None
            and za.dtype == zb.dtype
            and sa.size == 1
            and sb.size == 1
            and np.array_equal(sa, sb)
            and np.array_equal(za, zb)
        )

    def output_q(node):
        """(QuantizeLinear after node, Relu / Clip between them or None): onnxruntime drops a Relu
        when the Q's zero point is the dtype's minimum (ReluQuantFusion) and a Clip whose range
        the Q's codes do not exceed (ClipQuantFusion); the Q's saturation is then the clamp."""
        q = only_q(node.output[0])
        if q is not None or len(consumers.get(node.output[0], [])) != 1 or node.output[0] in graph_outputs:
            return q, None
        relu = consumers[node.output[0]][0]
        q = only_q(relu.output[0]) if relu.op_type in ("Relu", "Clip") else None
        scale, zp = qparams(q) if q is not None else (None, None)
        if scale is None or zp is None or scale.size != 1 or zp.size != 1:
            return None, None
        if relu.op_type == "Relu":
            return (q, relu) if int(zp.reshape(-1)[0]) == np.iinfo(zp.dtype).min else (None, None)
        return (q, relu) if _clip_within_codes(relu, scale, zp, inits) else (None, None)

    def inputs_of(n):
        """(data, scale, zero point) input names of a Q/DQ node ('' for an absent zero point)."""
        return n.input[0], n.input[1], n.input[2] if len(n.input) > 2 else ""

    replaced = {}  # id(node) -> replacement node (or None: removed)
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or not node.input:
            continue
        if node.op_type in ("Conv", "Gemm", "MatMul"):
            bias_add = _bias_add(node, consumers, graph_outputs, dq_of, inits)
            fused = _fuse_linear(node, dq_of, output_q, inputs_of, inits, bias_add)
            if fused is not None and bias_add is not None:
                replaced[id(bias_add)] = None
        elif node.op_type in _QLINEAR_OPS:
            fused = _fuse_qlinear(node, dq_of, output_q, qparams, inputs_of)
        elif node.op_type in _MOVE_OPS:
            dx, q = dq_of(node.input[0], False), only_q(node.output[0])
            if dx is None or q is None or not same_params(dx, q):
                continue
            new = onnx.NodeProto()
            new.CopyFrom(node)
            new.input[0] = dx.input[0]
            del new.output[:]
            new.output.extend([q.output[0], *list(node.output[1:])])
            fused = new, q, None
        else:
            continue
        if fused is not None:
            new, q, relu = fused
            replaced[id(node)], replaced[id(q)] = new, None
            if relu is not None:
                replaced[id(relu)] = None
    if not replaced:
        return _float_groups(model, shapes)

    nodes = [replaced.get(id(n), n) for n in graph.node]
    nodes = [n for n in nodes if n is not None]
    # DequantizeLinear nodes nothing reads any more (their consumers were fused) go too.
    while True:
        used = {i for n in nodes for i in n.input} | graph_outputs
        kept = [n for n in nodes if n.op_type != "DequantizeLinear" or any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    return _float_groups(with_nodes(model, nodes, domain="com.microsoft"), shapes)


def _float_groups(model: onnx.ModelProto, shapes: dict) -> onnx.ModelProto:
    """The Conv / Gemm / MatMul layers left unfused run in float: in onnxruntime's order (ort_float.py)."""
    return rewrite_float_convs(rewrite_float_gemms(model, shapes), shapes)


def _s8_to_u8(model: onnx.ModelProto) -> onnx.ModelProto:
    """onnxruntime's QDQS8ToU8 rewrite (x86): an int8 QuantizeLinear -> DequantizeLinear pair
    whose Q feeds only that DQ, and the DQ at most one node, carries uint8 codes with zero point
    + 128 (the same real values), also with Transposes between them. Pairs read twice (a residual branch: onnxruntime first gives
    each reader its own DQ), the graph input and output, and a Q feeding a layout op stay int8. The
    dtype decides what onnxruntime fuses (int8 activations meet no QLinearConv / QGemm on x86)
    and how the non-shift-invariant kernels round (QLinearAdd, QLinearAveragePool), so the
    compiler rewrites the same pairs before fusing."""
    onnx = require("onnx")
    graph = model.graph
    index = NodeIndex(graph)
    inits, readers, graph_outputs = index.inits, index.readers, index.outputs

    def int8_scalar(node):
        scale = inits.get(node.input[1])
        zp = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        ok = scale is not None and zp is not None and scale.size == 1 and zp.size == 1 and zp.dtype == np.int8
        return (scale.reshape(-1)[0], int(zp.reshape(-1)[0])) if ok else None

    converted = {}  # zero point initializer name -> its uint8 twin
    rewrites = []
    for q in graph.node:
        if q.op_type != "QuantizeLinear" or q.domain not in ("", "ai.onnx") or q.output[0] in graph_outputs:
            continue
        users = readers.get(q.output[0], [])
        # onnxruntime's transpose optimizer first moves a Transpose between them out of the way
        while len(users) == 1 and users[0].op_type == "Transpose" and users[0].output[0] not in graph_outputs:
            users = readers.get(users[0].output[0], [])
        if len(users) != 1 or users[0].op_type != "DequantizeLinear" or users[0].domain not in ("", "ai.onnx"):
            continue
        dq = users[0]
        if len(readers.get(dq.output[0], [])) > 1:
            continue
        qp, dqp = int8_scalar(q), int8_scalar(dq)
        if qp is None or qp != dqp:
            continue
        rewrites.append((q, dq))
    if not rewrites:
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    nodes = {id(n): i for i, n in enumerate(graph.node)}
    for q, dq in rewrites:
        for node in (q, dq):
            zp_name = node.input[2]
            if zp_name not in converted:
                twin = zp_name + "_u8"
                zp = inits[zp_name].astype(np.int32) + 128
                out.graph.initializer.append(onnx.numpy_helper.from_array(zp.astype(np.uint8), twin))
                converted[zp_name] = twin
            out.graph.node[nodes[id(node)]].input[2] = converted[zp_name]
    return out


def _clip_within_codes(clip, scale, zp, inits) -> bool:
    """onnxruntime's ClipQuantFusion drops a Clip before a QuantizeLinear whose codes cover no
    more than the Clip's range (a TFLite ReLU6 with scale 6/255): min - lower <= eps and
    upper - max <= eps in float32, lower and upper the reals of the dtype's end codes."""
    if clip.domain not in ("", "ai.onnx"):
        return False
    bounds = []
    for i, default in ((1, -np.inf), (2, np.inf)):
        name = clip.input[i] if len(clip.input) > i else ""
        if name and (name not in inits or inits[name].size != 1):
            return False  # a bound computed at run time: onnxruntime keeps the Clip
        bounds.append(np.float32(inits[name].reshape(-1)[0]) if name else np.float32(default))
    for a in clip.attribute:  # opset < 11: min / max attributes
        if a.name in ("min", "max"):
            bounds[0 if a.name == "min" else 1] = np.float32(a.f)
    info = np.iinfo(zp.dtype)
    s, z = np.float32(scale.reshape(-1)[0]), int(zp.reshape(-1)[0])
    lower, upper = np.float32(s * np.float32(info.min - z)), np.float32(s * np.float32(info.max - z))
    eps = np.finfo(np.float32).eps
    with np.errstate(invalid="ignore", over="ignore"):
        return not (eps < np.float32(bounds[0] - lower) or eps < np.float32(upper - bounds[1]))


def _zero_point_dtype(node, inits):
    """The code dtype of a Q / DQ node (no zero point: uint8, as ONNX says)."""
    has_zp = len(node.input) > 2 and node.input[2]
    return inits[node.input[2]].dtype if has_zp and node.input[2] in inits else np.dtype(np.uint8)


def _bias_add(node, consumers, graph_outputs, dq_of, inits):
    """The Add of an int32 bias (a DQ of a 1-D initializer) that is the sole reader of a MatMul:
    onnxruntime fuses MatMul + Add into one Gemm, then into QGemm (tf2onnx writes a TFLite
    FullyConnected this way)."""
    users = consumers.get(node.output[0], [])
    if node.op_type != "MatMul" or node.output[0] in graph_outputs or len(users) != 1 or users[0].op_type != "Add":
        return None
    other = [i for i in users[0].input if i != node.output[0]]
    db = dq_of(other[0], True) if len(other) == 1 else None
    return (
        users[0] if db is not None and inits[db.input[0]].dtype == np.int32 and inits[db.input[0]].ndim == 1 else None
    )


def _fuse_linear(node, dq_of, output_q, inputs_of, inits, bias_add=None):
    """(QLinearConv / com.microsoft QGemm / QLinearMatMul node, the Q node, the Relu before it or
    None) for DQ(x) -> Conv / Gemm / MatMul(DQ(W), DQ(B int32)) -> [Relu ->] Q, or None.
    A MatMul with a `bias_add` becomes a QGemm with that bias."""
    from onnx import helper

    dx = dq_of(node.input[0], False)
    q, relu = output_q(bias_add or node)  # a Relu before the Q is the clamp of the Q's zero point
    dw = dq_of(node.input[1], True) if len(node.input) > 1 else None
    has_bias = (len(node.input) > 2 and bool(node.input[2])) or bias_add is not None
    bias_name = next(i for i in bias_add.input if i != node.output[0]) if bias_add is not None else None
    db = dq_of(bias_name or node.input[2], True) if has_bias else None
    if dx is None or dw is None or q is None or (has_bias and (db is None or inits[db.input[0]].dtype != np.int32)):
        return None
    # What onnxruntime (x86) fuses, else it runs DQ -> float op -> Q: QLinearConv and
    # QLinearMatMul on uint8 activations only, QGemm (a Gemm, or a MatMul with its bias Add) on
    # uint8 or int8 ones, the same dtype in and out.
    dtypes = {_zero_point_dtype(n, inits) for n in (dx, q)}
    gemm = node.op_type == "Gemm" or bias_add is not None
    if len(dtypes) != 1 or (dtypes.pop() != np.uint8 and not gemm):
        return None
    x, w, (_, y_s, y_z) = list(inputs_of(dx)), list(inputs_of(dw)), inputs_of(q)
    bias = [db.input[0]] if has_bias else []
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    name = node.name or node.output[0]
    if bias_add is not None:
        new = helper.make_node(
            "QGemm", x + w + bias + [y_s, y_z], [q.output[0]], name=name, domain="com.microsoft", alpha=1.0
        )
    elif node.op_type == "Conv":
        new = helper.make_node("QLinearConv", x + w + [y_s, y_z] + bias, [q.output[0]], name=name, **attrs)
    elif node.op_type == "Gemm":
        if has_bias and float(attrs.get("beta", 1.0)) != 1.0:
            return None  # onnxruntime leaves it unfused too: the int32 bias cannot absorb beta
        attrs.pop("beta", None)
        new = helper.make_node(
            "QGemm", x + w + (bias or [""]) + [y_s, y_z], [q.output[0]], name=name, domain="com.microsoft", **attrs
        )
    else:
        new = helper.make_node("QLinearMatMul", x + w + [y_s, y_z], [q.output[0]], name=name)
    return new, q, relu


def _fuse_qlinear(node, dq_of, output_q, qparams, inputs_of):
    """The com.microsoft QLinear* node onnxruntime runs for DQ -> `node` -> Q, with the Q node
    and a Relu dropped between them (or None), or None when onnxruntime leaves the pattern in
    float (checked on onnxruntime 1.32, x86-64):

    - every data input from a DequantizeLinear of a runtime tensor, the output into one
      QuantizeLinear, every scale and zero point a per-tensor constant of one dtype;
    - Add / Mul (two runtime tensors, or one and a quantized constant) only on uint8: with int8
      activations onnxruntime runs DQ -> Add -> Q in float
      (its QLinearAdd is not shift invariant, so the uint8 rewrite would change results); that
      float path is what this compiler emits when it does not fuse (DEQUANTIZE, ADD, QUANTIZE).
    - GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu, Concat, Softmax on either dtype
      (QLinearSoftmax is then refused by its handler: its exp() table is not reproduced).
    """
    from onnx import helper

    dqs = [dq_of(i, False) if i else None for i in node.input]
    if node.op_type in ("GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu", "Softmax"):
        dqs = dqs[:1]
    elif node.op_type in ("Add", "Mul") and len(dqs) == 2 and (dqs[0] is None) != (dqs[1] is None):
        # one operand a quantized constant (DQ of an initializer): onnxruntime fuses that too (uint8)
        dqs = [d or dq_of(i, True) for d, i in zip(dqs, node.input)]
    q, relu = output_q(node)
    if q is None or not dqs or any(d is None for d in dqs):
        return None
    params = [qparams(n) for n in [*dqs, q]]
    if any(s is None or z is None or s.size != 1 or z.size != 1 or s.dtype != np.float32 for s, z in params):
        return None
    dtypes = {z.dtype for _, z in params}
    if len(dtypes) != 1 or dtypes.pop() not in _INT8_TYPES:
        return None
    if node.op_type in ("Add", "Mul") and (len(dqs) != 2 or params[-1][1].dtype != np.uint8):
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    name = node.name or node.output[0]
    out = [q.output[0]]
    y_s, y_z = inputs_of(q)[1:]
    if node.op_type == "Concat":
        inputs = [y_s, y_z] + [i for d in dqs for i in inputs_of(d)]
        new = helper.make_node("QLinearConcat", inputs, out, name=name, domain="com.microsoft", **attrs)
    elif node.op_type in ("Add", "Mul"):
        inputs = list(inputs_of(dqs[0])) + list(inputs_of(dqs[1])) + [y_s, y_z]
        new = helper.make_node("QLinear" + node.op_type, inputs, out, name=name, domain="com.microsoft", **attrs)
    else:
        if node.op_type == "AveragePool" and any(d != 1 for d in attrs.pop("dilations", [])):
            return None  # QLinearAveragePool has no dilations
        inputs = [*inputs_of(dqs[0]), y_s, y_z]
        new = helper.make_node("QLinear" + node.op_type, inputs, out, name=name, domain="com.microsoft", **attrs)
    return new, q, relu

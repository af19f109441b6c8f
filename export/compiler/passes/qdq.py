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

Activations stay int8 or uint8 as the model says: onnxruntime runs int8 activations of QDQ
models as uint8 with zero point + 128 on x86, the same numbers except where a kernel rounds
after adding a zero point in float (AVG_POOL_2D: marked UINT8_ROUNDING here) or is not shift
invariant (QLinearAdd: fused for uint8 only, as onnxruntime does).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import onnx

# Float ops between DequantizeLinear and QuantizeLinear that onnxruntime (x86, default level)
# fuses into com.microsoft QLinear* kernels; _fuse_qlinear says when.
_QLINEAR_OPS = ("Add", "Mul", "GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu", "Concat", "Softmax")

# Attribute qdq_to_qoperator puts on a QLinearAveragePool it fused from int8 QDQ: onnxruntime
# (x86) rewrites int8 QDQ to uint8 codes and this op's rounding depends on the domain
# (docs/file-format.md AVG_POOL_2D, bit 1 of count_include_pad). Not an onnxruntime attribute.
UINT8_ROUNDING = "edgecnn_uint8_rounding"

# Ops that only move or select values: with the same quantization on both sides,
# DQ -> op -> Q is the op applied to the int8 codes.
_MOVE_OPS = ("MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Relu", "Pad")
_INT8_TYPES = (np.int8, np.uint8)


def qdq_to_qoperator(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fuse DQ/Q pairs of a QDQ model into QOperator nodes; other models are returned unchanged."""
    onnx = require("onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    graph = model.graph
    if not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in graph.node):
        return model
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers = defaultdict(list)
    for n in graph.node:
        for i in n.input:
            consumers[i].append(n)
    graph_outputs = {o.name for o in graph.output}

    def dq_of(name, const: bool):
        """The DequantizeLinear producing `name` from an initializer (const) or a runtime tensor."""
        n = producer.get(name)
        if n is None or n.op_type != "DequantizeLinear" or n.domain not in ("", "ai.onnx"):
            return None
        return n if (n.input[0] in inits) == const else None

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
        """(QuantizeLinear after node, Relu between them or None); a Relu is taken only when the
        Q's zero point is the dtype's minimum (onnxruntime's ReluQuantFusion drops it then)."""
        q = only_q(node.output[0])
        if q is not None or len(consumers.get(node.output[0], [])) != 1 or node.output[0] in graph_outputs:
            return q, None
        relu = consumers[node.output[0]][0]
        q = only_q(relu.output[0]) if relu.op_type == "Relu" else None
        zp = qparams(q)[1] if q is not None else None
        if zp is None or int(zp.reshape(-1)[0]) != np.iinfo(zp.dtype).min:
            return None, None
        return q, relu

    def inputs_of(n):
        """(data, scale, zero point) input names of a Q/DQ node ('' for an absent zero point)."""
        return n.input[0], n.input[1], n.input[2] if len(n.input) > 2 else ""

    replaced = {}  # id(node) -> replacement node (or None: removed)
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or not node.input:
            continue
        if node.op_type in ("Conv", "Gemm", "MatMul"):
            fused = _fuse_linear(node, dq_of, output_q, inputs_of, inits)
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
        return model

    nodes = [replaced.get(id(n), n) for n in graph.node]
    nodes = [n for n in nodes if n is not None]
    # DequantizeLinear nodes nothing reads any more (their consumers were fused) go too.
    while True:
        used = {i for n in nodes for i in n.input} | graph_outputs
        kept = [n for n in nodes if n.op_type != "DequantizeLinear" or any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    if not any(o.domain == "com.microsoft" for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return out


def _fuse_linear(node, dq_of, output_q, inputs_of, inits):
    """(QLinearConv / com.microsoft QGemm / QLinearMatMul node, the Q node, the Relu before it or
    None) for DQ(x) -> Conv / Gemm / MatMul(DQ(W), DQ(B int32)) -> [Relu ->] Q, or None."""
    from onnx import helper

    dx = dq_of(node.input[0], False)
    q, relu = output_q(node)  # a Relu before the Q is the clamp of the Q's zero point
    dw = dq_of(node.input[1], True) if len(node.input) > 1 else None
    has_bias = len(node.input) > 2 and bool(node.input[2])
    db = dq_of(node.input[2], True) if has_bias else None
    if dx is None or dw is None or q is None or (has_bias and (db is None or inits[db.input[0]].dtype != np.int32)):
        return None
    x, w, (_, y_s, y_z) = list(inputs_of(dx)), list(inputs_of(dw)), inputs_of(q)
    bias = [db.input[0]] if has_bias else []
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    name = node.name or node.output[0]
    if node.op_type == "Conv":
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
        if node.op_type == "AveragePool" and params[-1][1].dtype == np.int8:
            attrs[UINT8_ROUNDING] = 1  # onnxruntime's x86 graph runs it on uint8 codes (QDQS8ToU8)
        inputs = [*list(inputs_of(dqs[0])), y_s, y_z]
        new = helper.make_node("QLinear" + node.op_type, inputs, out, name=name, domain="com.microsoft", **attrs)
    return new, q, relu

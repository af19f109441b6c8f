"""Int8 part of the ONNX -> .ecnn compiler (export/compiler.py calls in here).

Two input formats, one lowering:

- **QDQ** models (`edgecnn quantize`, onnxruntime `quantize_static`): float ops wrapped in
  DequantizeLinear / QuantizeLinear pairs. `qdq_to_qoperator` first fuses them the way
  onnxruntime's graph optimizer does at its default level, into QOperator nodes:
  DQ(x) -> Conv(DQ(W), DQ(B)) -> Q  becomes QLinearConv, Gemm becomes com.microsoft.QGemm
  (int32 bias inside), MatMul becomes QLinearMatMul, and DQ -> MaxPool/Transpose/Reshape/
  Flatten/Relu/... -> Q with unchanged scale and zero point becomes the op on the int8
  values (a DQ -> op -> Q round trip is exact for these: (k * s) / s rounds back to k).
  Add, Mul, GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu, Concat between DQs and a Q
  become com.microsoft QLinear* nodes where onnxruntime fuses them (`_fuse_qlinear` says when).
- **QOperator** models (QLinearConv, QLinearMatMul, com.microsoft QGemm / QLinearAdd /
  QLinearMul / QLinearAveragePool / QLinearGlobalAveragePool / QLinearSigmoid /
  QLinearLeakyRelu / QLinearConcat, QuantizeLinear, DequantizeLinear) go straight to the
  handlers below.

Native ops: QUANTIZE (float -> int8/uint8), int8 CONV_2D and FULLY_CONNECTED (weights int8
with per-channel scales, int32 bias; the requantization scale (x_scale * w_scale[c]) / y_scale
is computed by the C kernel from the quantization parameters stored with the tensors),
int8 MAX_POOL_2D, RESHAPE, TRANSPOSE and PAD on the codes, int8 ADD / MUL / AVG_POOL_2D /
ACTIVATION (lookup tables) / CONCAT with onnxruntime's x86 arithmetic (native/FORMAT.md),
DEQUANTIZE (int8 -> float), then float ops (Softmax). A Relu between a quantized op and its
output quantization is fused into the op: on quantized values it is max(q, zero_point), which
the kernel applies as its lower clamp. Activations stay int8 or uint8 as the model says:
onnxruntime runs int8 activations of QDQ models as uint8 with zero point + 128 on x86, the
same numbers except where a kernel rounds after adding a zero point in float (AVG_POOL_2D:
the compiler marks those, UINT8_ROUNDING) or is not shift invariant (QLinearAdd: fused for
uint8 only, as onnxruntime does).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from edgecnn.runtime.errors import require

# Float ops between DequantizeLinear and QuantizeLinear that onnxruntime (x86, default level)
# fuses into com.microsoft QLinear* kernels; _fuse_qlinear says when.
_QLINEAR_OPS = ("Add", "Mul", "GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu", "Concat", "Softmax")

# Attribute qdq_to_qoperator puts on a QLinearAveragePool it fused from int8 QDQ: onnxruntime
# (x86) rewrites int8 QDQ to uint8 codes and this op's rounding depends on the domain
# (FORMAT.md AVG_POOL_2D, bit 1 of count_include_pad). Not an onnxruntime attribute.
UINT8_ROUNDING = "edgecnn_uint8_rounding"

# Ops that only move or select values: with the same quantization on both sides,
# DQ -> op -> Q is the op applied to the int8 codes.
_MOVE_OPS = ("MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Relu", "Pad")
_INT8_TYPES = (np.int8, np.uint8)


def qdq_to_qoperator(model):
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
        return (sa is not None and sb is not None and za is not None and zb is not None and za.dtype == zb.dtype
                and sa.size == 1 and sb.size == 1 and np.array_equal(sa, sb) and np.array_equal(za, zb))

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
            dx, q = dq_of(node.input[0], False), only_q(node.output[0])
            relu = None
            if q is None and len(consumers.get(node.output[0], [])) == 1 and node.output[0] not in graph_outputs:
                # Conv -> Relu -> Q whose zero point is the dtype's minimum: the clamp is the Relu
                # (onnxruntime's ReluQuantFusion drops it, then fuses the rest).
                relu = consumers[node.output[0]][0]
                q = only_q(relu.output[0]) if relu.op_type == "Relu" else None
                zp = qparams(q)[1] if q is not None else None
                if zp is None or int(zp.reshape(-1)[0]) != np.iinfo(zp.dtype).min:
                    q = None
            dw = dq_of(node.input[1], True) if len(node.input) > 1 else None
            has_bias = len(node.input) > 2 and bool(node.input[2])
            db = dq_of(node.input[2], True) if has_bias else None
            if dx is None or dw is None or q is None or (has_bias and (db is None or inits[db.input[0]].dtype != np.int32)):
                continue
            x_s, x_z = dx.input[1], dx.input[2] if len(dx.input) > 2 else ""
            w_s, w_z = dw.input[1], dw.input[2] if len(dw.input) > 2 else ""
            y_s, y_z = q.input[1], q.input[2] if len(q.input) > 2 else ""
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            name = node.name or node.output[0]
            if node.op_type == "Conv":
                inputs = [dx.input[0], x_s, x_z, dw.input[0], w_s, w_z, y_s, y_z] + ([db.input[0]] if has_bias else [])
                new = helper.make_node("QLinearConv", inputs, [q.output[0]], name=name, **attrs)
            elif node.op_type == "Gemm":
                if has_bias and float(attrs.get("beta", 1.0)) != 1.0:
                    continue  # onnxruntime leaves it unfused too: the int32 bias cannot absorb beta
                attrs.pop("beta", None)
                inputs = [dx.input[0], x_s, x_z, dw.input[0], w_s, w_z, db.input[0] if has_bias else "", y_s, y_z]
                new = helper.make_node("QGemm", inputs, [q.output[0]], name=name, domain="com.microsoft", **attrs)
            else:
                inputs = [dx.input[0], x_s, x_z, dw.input[0], w_s, w_z, y_s, y_z]
                new = helper.make_node("QLinearMatMul", inputs, [q.output[0]], name=name)
            replaced[id(node)], replaced[id(q)] = new, None
            if relu is not None:
                replaced[id(relu)] = None
        elif node.op_type in _QLINEAR_OPS:
            fused = _fuse_qlinear(node, dq_of, output_q, qparams, inputs_of)
            if fused is None:
                continue
            new, q, relu = fused
            replaced[id(node)], replaced[id(q)] = new, None
            if relu is not None:
                replaced[id(relu)] = None
        elif node.op_type in _MOVE_OPS:
            dx, q = dq_of(node.input[0], False), only_q(node.output[0])
            if dx is None or q is None or not same_params(dx, q):
                continue
            new = onnx.NodeProto()
            new.CopyFrom(node)
            new.input[0] = dx.input[0]
            del new.output[:]
            new.output.extend([q.output[0]] + list(node.output[1:]))
            replaced[id(node)], replaced[id(q)] = new, None
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


def _fuse_qlinear(node, dq_of, output_q, qparams, inputs_of):
    """The com.microsoft QLinear* node onnxruntime runs for DQ -> `node` -> Q, with the Q node
    and a Relu dropped between them (or None), or None when onnxruntime leaves the pattern in
    float. Checked on onnxruntime 1.32, x86-64 (notes: /work/notes/issue6-ops.md, int8 section):

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
    params = [qparams(n) for n in dqs + [q]]
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
        inputs = list(inputs_of(dqs[0])) + [y_s, y_z]
        new = helper.make_node("QLinear" + node.op_type, inputs, out, name=name, domain="com.microsoft", **attrs)
    return new, q, relu


# ---------------------------------------------------------------------------------------
# Lowering of QOperator nodes (called by compiler._Lowering.lower with the lowering object)


def _dtype_code(zero_point: np.ndarray) -> int:
    from edgecnn.export.compiler import DTYPE_I8, DTYPE_U8

    return DTYPE_I8 if zero_point.dtype == np.int8 else DTYPE_U8


def _qparams(low, node, scale_index: int, zp_index: int, what: str, per_channel_size: int | None = None):
    """(scales float32 (n,), zero points (n,) in their integer dtype) of a node's quantization inputs."""
    scale = np.asarray(low.const_input(node, scale_index, f"{what} scale"))
    has_zp = len(node.input) > zp_index and node.input[zp_index]
    zp = np.asarray(low.const_input(node, zp_index, f"{what} zero point")) if has_zp else np.zeros_like(scale, np.uint8)
    if scale.dtype != np.float32:
        raise low.fail(f"{what} scale is {scale.dtype}; only float32 scales are supported")
    if zp.dtype not in _INT8_TYPES:
        raise low.fail(f"{what} zero point is {zp.dtype}; only int8 and uint8 quantization is supported")
    sizes = (1,) if per_channel_size is None else (1, per_channel_size)
    if scale.size not in sizes or zp.size != scale.size:
        kind = "per tensor" if per_channel_size is None else f"per tensor or per channel ({per_channel_size})"
        raise low.fail(f"{what} has {scale.size} scales and {zp.size} zero points; expected {kind}")
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise low.fail(f"{what} scale must be finite and > 0, got {scale.reshape(-1)[:4]}")
    return scale.reshape(-1), zp.reshape(-1)


def _quant(scales, zero_points, axis: int = 0):
    from edgecnn.export.compiler import Quant

    return Quant(np.asarray(scales, np.float32), np.asarray(zero_points, np.int32), axis)


def _quantized_input(low, node, index: int, scale_index: int, zp_index: int, what: str):
    """The runtime int8/uint8 input `index` as a View, checked against the node's scale / zero point."""
    view = low.view_input(node, index)
    tensor = low.tensors[view.tensor]
    scale, zp = _qparams(low, node, scale_index, zp_index, what)
    if tensor.quant is None:
        raise low.fail(f"{what} ('{node.input[index]}') is a float tensor; a QuantizeLinear must produce it")
    if tensor.dtype != _dtype_code(zp) or not _quant(scale, zp).same(tensor.quant):
        raise low.fail(f"the scale / zero point given for {what} differ from those its producer quantized it with")
    return view


def _check_weights(low, node, weight, what):
    if weight.dtype not in _INT8_TYPES:
        raise low.fail(f"{what} is {weight.dtype}; expected int8 or uint8 quantized weights")


def lower_quantize_linear(low, node):
    from edgecnn.export.compiler import KIND_ACTIVATION, OP_QUANTIZE, DTYPE_F32, View

    view = low.view_input(node, 0)
    if low.tensors[view.tensor].dtype != DTYPE_F32:
        raise low.fail("input is already quantized; QuantizeLinear needs a float32 tensor")
    scale, zp = _qparams(low, node, 1, 2, "QuantizeLinear output")
    x = view.tensor
    y = low.new_tensor(KIND_ACTIVATION, low.tensors[x].dims, dtype=_dtype_code(zp), quant=_quant(scale, zp))
    low.emit(OP_QUANTIZE, [x], [y], [])
    low.values[node.output[0]] = View(y, view.shape, view.perm)


def lower_dequantize_linear(low, node):
    from edgecnn.export.compiler import KIND_ACTIVATION, OP_DEQUANTIZE, View

    view = _quantized_input(low, node, 0, 1, 2, "DequantizeLinear input")
    y = low.new_tensor(KIND_ACTIVATION, low.tensors[view.tensor].dims)
    low.emit(OP_DEQUANTIZE, [view.tensor], [y], [])
    low.values[node.output[0]] = View(y, view.shape, view.perm)


def _set_output(low, node, tensor: int, scale_index: int, zp_index: int):
    scale, zp = _qparams(low, node, scale_index, zp_index, "output")
    low.tensors[tensor].dtype = _dtype_code(zp)
    low.tensors[tensor].quant = _quant(scale, zp)


def lower_qlinear_conv(low, node):
    """QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B): the float Conv lowering on the int8 values, then quantization."""
    onnx = require("onnx")
    if any(a.name == "channels_last" and a.i for a in node.attribute):
        raise low.fail("channels_last=1 QLinearConv (an onnxruntime-internal form) is not supported")
    _quantized_input(low, node, 0, 1, 2, "input x")
    weight = low.const_input(node, 3, "the weight w")
    _check_weights(low, node, weight, "the weight w")
    ws, wz = _qparams(low, node, 4, 5, "weight w", per_channel_size=weight.shape[0])
    if wz.dtype != weight.dtype:
        raise low.fail(f"weight zero point is {wz.dtype} but the weight is {weight.dtype}")
    has_bias = len(node.input) > 8 and node.input[8]
    if has_bias and np.asarray(low.const_input(node, 8, "the bias B")).dtype != np.int32:
        raise low.fail("bias B must be int32 (quantized with scale x_scale * w_scale)")
    conv = onnx.helper.make_node("Conv", [node.input[0], node.input[3]] + ([node.input[8]] if has_bias else []),
                                 [node.output[0]], name=node.name, **{
                                     a.name: onnx.helper.get_attribute_value(a) for a in node.attribute
                                     if a.name != "channels_last"})
    low.lower_Conv(conv)  # the float Conv's geometry and layout code; the weight stays int8
    op = low.ops[-1]
    low.tensors[op.inputs[1]].quant = _quant(ws, wz, axis=0)  # OHWI: output channel first
    _set_output(low, node, op.outputs[0], 6, 7)


def _lower_fully_connected(low, node, x_index, ws_index, wz_index, weight_ok, bias, y_scale, y_zp):
    _quantized_input(low, node, x_index, x_index + 1, x_index + 2, "input A")
    ws, wz = _qparams(low, node, ws_index, wz_index, "weight B", per_channel_size=weight_ok.shape[0])
    if wz.dtype != weight_ok.dtype:
        raise low.fail(f"weight zero point is {wz.dtype} but the weight is {weight_ok.dtype}")
    low._fully_connected(node, low.view_input(node, x_index), np.ascontiguousarray(weight_ok), bias)
    op = low.ops[-1]
    low.tensors[op.inputs[1]].quant = _quant(ws, wz, axis=0)  # [O, K]: output feature first
    _set_output(low, node, op.outputs[0], y_scale, y_zp)


def lower_qgemm(low, node):
    """com.microsoft.QGemm(A, as, az, B, bs, bz, C, ys, yz): alpha must be 1 (the int32 bias cannot absorb it)."""
    a = {x.name: require("onnx").helper.get_attribute_value(x) for x in node.attribute}
    if a.get("transA", 0):
        raise low.fail("transA=1 is not supported")
    if float(a.get("alpha", 1.0)) != 1.0:
        raise low.fail(f"alpha={a.get('alpha')} is not supported (only 1.0)")
    if len(node.input) < 8 or not node.input[7]:
        raise low.fail("QGemm without y_scale (float output) is not supported")
    w = low.const_input(node, 3, "B")
    _check_weights(low, node, w, "B")
    if w.ndim != 2:
        raise low.fail(f"B has shape {w.shape}; expected a matrix")
    w_ok = w if a.get("transB", 0) else w.T
    bias = None
    if len(node.input) > 6 and node.input[6]:
        bias = np.asarray(low.const_input(node, 6, "C"))
        if bias.dtype != np.int32 or bias.size != w_ok.shape[0]:
            raise low.fail(f"C must be an int32 per-output bias of {w_ok.shape[0]} values, got {bias.dtype} {bias.shape}")
        bias = bias.reshape(-1)
    _lower_fully_connected(low, node, 0, 4, 5, w_ok, bias, 7, 8)


def lower_qlinear_matmul(low, node):
    w = low.const_input(node, 3, "the second operand b")
    _check_weights(low, node, w, "the second operand b")
    if w.ndim != 2:
        raise low.fail(f"b has shape {w.shape}; only (K, O) constant matrices are supported")
    _lower_fully_connected(low, node, 0, 4, 5, w.T, None, 6, 7)


def _quantized_output(low, node, tensor: int, scale_index: int, zp_index: int, x_tensor: int):
    """Give `tensor` the node's output quantization; it must keep the input's dtype (the int8
    kernels of ADD, AVG_POOL_2D, ACTIVATION and CONCAT read and write one dtype)."""
    _set_output(low, node, tensor, scale_index, zp_index)
    if low.tensors[tensor].dtype != low.tensors[x_tensor].dtype:
        raise low.fail("input and output mix int8 and uint8; onnxruntime's kernel needs one dtype")


def _float_twin(node, op_type: str, inputs, drop=("channels_last",)):
    """A float ONNX node with the QLinear node's attributes: the float lowering does the geometry."""
    helper = require("onnx").helper
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name not in drop}
    return helper.make_node(op_type, list(inputs), [node.output[0]], name=node.name, **attrs)


def _no_channels_last(low, node):
    if any(a.name == "channels_last" and a.i for a in node.attribute):
        raise low.fail(f"channels_last=1 {node.op_type} (an onnxruntime-internal form) is not supported")


def _constant_operand(low, node, k_index: int, view):
    """The quantized constant operand of a QLinearAdd / QLinearMul as a native i8/u8 CONSTANT of
    [C] (per channel of one non-batch axis of `view`) or [1] (a scalar), and the axis order that
    stores that axis innermost (where the kernel indexes it)."""
    k = np.asarray(low.const_input(node, k_index, "the constant operand"))
    scale, zp = _qparams(low, node, k_index + 1, k_index + 2, "the constant operand")
    if k.dtype not in _INT8_TYPES or k.dtype != zp.dtype:
        raise low.fail(f"the constant operand is {k.dtype} with a {zp.dtype} zero point; expected int8/uint8 codes")
    full = view.full_shape()
    kfull = (1,) * (view.rank - k.ndim) + k.shape
    axes = [ax for ax, d in enumerate(kfull) if d != 1]
    if k.ndim > view.rank or len(axes) > 1 or (axes and (axes[0] == 0 or kfull[axes[0]] != full[axes[0]])):
        raise low.fail(f"constant of shape {k.shape} does not broadcast per channel over {full} (only scalars and "
                       "constants varying along one non-batch axis are supported)")
    perm = view.perm
    if axes and perm[-1] != axes[0]:
        perm = tuple(p for p in perm if p != axes[0]) + (axes[0],)
    tid = low.const_tensor(np.ascontiguousarray(k).reshape(-1))
    low.tensors[tid].quant = _quant(scale, zp)
    return tid, perm


def lower_qlinear_binary(low, node):
    """com.microsoft QLinearAdd / QLinearMul(A, As, Az, B, Bs, Bz, Cs, Cz): int8 ADD / MUL of two
    runtime tensors of one shape, or of a runtime tensor A and a quantized constant B per channel
    or scalar (onnxruntime's x86 kernel arithmetic, kernels_i8.h). A constant first operand: Mul
    swaps it (its arithmetic is symmetric); Add is refused (onnxruntime's scalar-A kernel rounds
    its fixed part in another order)."""
    from edgecnn.export.compiler import ACT_NONE, KIND_ACTIVATION, OP_ADD, OP_MUL, Const, View

    const = [isinstance(low.value(node.input[i]), Const) for i in (0, 3)]
    if all(const):
        raise low.fail(f"{node.op_type} of two constants should have been folded")
    a_i, b_i = (3, 0) if const[0] else (0, 3)
    if const[0] and node.op_type == "QLinearAdd":
        raise low.fail("QLinearAdd with the constant as its first operand is not supported (onnxruntime's kernel "
                       "for a constant A rounds differently; put the runtime tensor first)")
    a = _quantized_input(low, node, a_i, a_i + 1, a_i + 2, "the runtime operand")
    if const[0] or const[1]:
        kt, perm = _constant_operand(low, node, b_i, a)
        xa, xb = low.materialize(a, perm), kt
        if low.tensors[xb].dtype != low.tensors[xa].dtype:
            raise low.fail(f"{node.op_type} of an int8 and a uint8 tensor")
    else:
        b = _quantized_input(low, node, 3, 4, 5, "input B")
        perm = a.perm
        if a.shape != b.shape:
            # one operand (N, 1, .., C, .., 1) per sample (a squeeze-and-excitation gate): it must be B,
            # whose broadcast kernel onnxruntime shares with the elementwise one; for Mul the order
            # does not change the arithmetic, for Add it does (the scalar-A kernel)
            def fits(v, big):
                return (v.rank == big.rank and all(d in (1, e) for d, e in zip(v.shape, big.shape))
                        and sum(d != 1 for d in v.shape) <= 1)

            if not fits(b, a) and fits(a, b) and node.op_type == "QLinearMul":
                a, b = b, a
            if not fits(b, a):
                raise low.fail(f"{node.op_type} of shapes {a.full_shape()} and {b.full_shape()}: only equal shapes, or "
                               "the second operand broadcast along one axis, e.g. (N, C, 1, 1)")
            axes = [ax for ax, d in enumerate(b.full_shape()) if ax and d != 1]
            if axes and a.perm[-1] != axes[0]:
                perm = tuple(p for p in a.perm if p != axes[0]) + (axes[0],)
        xa, xb = low.materialize(a, perm), low.materialize(b, perm)
        if low.tensors[xa].dtype != low.tensors[xb].dtype:
            raise low.fail(f"{node.op_type} of an int8 and a uint8 tensor")
    y = low.new_tensor(KIND_ACTIVATION, low.tensors[xa].dims)
    _quantized_output(low, node, y, 6, 7, xa)
    low.emit(OP_ADD if node.op_type == "QLinearAdd" else OP_MUL, [xa, xb], [y], [ACT_NONE, 0.0, 0.0])
    low.values[node.output[0]] = View(y, a.shape, perm)


def _lower_qlinear_unary(low, node, op_type: str, lower, drop=("channels_last",)):
    """QLinear{GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu}(X, xs, xz, ys, yz): the float
    op's lowering on the int8 view, then the output quantization."""
    _no_channels_last(low, node)
    view = _quantized_input(low, node, 0, 1, 2, "input X")
    lower(_float_twin(node, op_type, [node.input[0]], drop=drop))
    op = low.ops[-1]
    _quantized_output(low, node, op.outputs[0], 3, 4, view.tensor)


def lower_qlinear_global_average_pool(low, node):
    _lower_qlinear_unary(low, node, "GlobalAveragePool", low.lower_GlobalAveragePool)


def lower_qlinear_average_pool(low, node):
    from edgecnn.export.compiler import DTYPE_I8

    helper = require("onnx").helper
    uint8_rounding = any(a.name == UINT8_ROUNDING and helper.get_attribute_value(a) for a in node.attribute)
    _lower_qlinear_unary(low, node, "AveragePool", low.lower_AveragePool, drop=("channels_last", UINT8_ROUNDING))
    op = low.ops[-1]
    if uint8_rounding and low.tensors[op.inputs[0]].dtype == DTYPE_I8:
        op.params[10] |= 2


def lower_qlinear_sigmoid(low, node):
    _lower_qlinear_unary(low, node, "Sigmoid", low.lower_Sigmoid)


def lower_qlinear_leaky_relu(low, node):
    _lower_qlinear_unary(low, node, "LeakyRelu", low.lower_LeakyRelu)


def lower_qlinear_concat(low, node):
    """com.microsoft QLinearConcat(Y_scale, Y_zp, X1, s1, z1, ...): CONCAT, each input requantized
    to Y's quantization as onnxruntime's lookup tables do (a copy where they are equal)."""
    from edgecnn.export.compiler import OP_CONCAT

    if len(node.input) < 5 or (len(node.input) - 2) % 3:
        raise low.fail("QLinearConcat needs Y_scale, Y_zero_point and (X, scale, zero point) per input")
    views = [_quantized_input(low, node, i, i + 1, i + 2, f"input {(i - 2) // 3}") for i in range(2, len(node.input), 3)]
    first = len(low.ops)
    low.lower_Concat(_float_twin(node, "Concat", node.input[2::3], drop=()))
    for op in low.ops[first:]:
        if op.op_type == OP_CONCAT:  # every link of a chain of CONCATs ends in Y's quantization
            _quantized_output(low, node, op.outputs[0], 0, 1, views[0].tensor)


def lower_qlinear_softmax(low, node):
    """Refused: onnxruntime's QLinearSoftmax looks its exponentials up in a table it builds with
    the C library's exp(), whose last bits differ between libm versions (numerics.md)."""
    raise low.fail("Softmax on int8 values (onnxruntime's QLinearSoftmax, whose exp() table depends on the C "
                   "library) is not supported: quantize with the Softmax left in float (quantize_static "
                   "nodes_to_exclude, as `edgecnn quantize` does)")


def lower_pad(low, node):
    """Pad: the float lowering; on an int8 tensor (a DQ -> Pad -> Q with one quantization, which
    onnxruntime runs as float Pad between them) the fill value becomes its code, Q(value)."""
    from edgecnn.export.compiler import OP_PAD

    low.lower_Pad(node)
    op = low.ops[-1]
    quant = low.tensors[op.inputs[0]].quant
    if op.op_type == OP_PAD and quant is not None:
        dtype = np.int8 if low.tensors[op.inputs[0]].dtype == _dtype_code(np.zeros(1, np.int8)) else np.uint8
        info = np.iinfo(dtype)
        scale, zp = np.float32(quant.scales[0]), int(quant.zero_points[0])
        v = np.float32(np.float32(op.params[10]) / scale)  # QuantizeLinear: a true division, clamp, rne
        v = min(max(v, np.float32(info.min - zp)), np.float32(info.max - zp))
        op.params[10] = int(np.rint(v)) + zp


HANDLERS = {
    ("", "Pad"): lower_pad,
    ("com.microsoft", "QLinearAdd"): lower_qlinear_binary,
    ("com.microsoft", "QLinearMul"): lower_qlinear_binary,
    ("com.microsoft", "QLinearGlobalAveragePool"): lower_qlinear_global_average_pool,
    ("com.microsoft", "QLinearAveragePool"): lower_qlinear_average_pool,
    ("com.microsoft", "QLinearSigmoid"): lower_qlinear_sigmoid,
    ("com.microsoft", "QLinearLeakyRelu"): lower_qlinear_leaky_relu,
    ("com.microsoft", "QLinearConcat"): lower_qlinear_concat,
    ("com.microsoft", "QLinearSoftmax"): lower_qlinear_softmax,
    ("", "QuantizeLinear"): lower_quantize_linear,
    ("", "DequantizeLinear"): lower_dequantize_linear,
    ("", "QLinearConv"): lower_qlinear_conv,
    ("", "QLinearMatMul"): lower_qlinear_matmul,
    ("com.microsoft", "QGemm"): lower_qgemm,
}


def check_native_ops(tensors, ops) -> None:
    """After fusion: int8 tensors may only meet the ops the int8 kernels implement."""
    from edgecnn.export.compiler import (ACT_CLIP, ACT_LEAKY_RELU, ACT_NAMES, ACT_NONE, ACT_RELU, ACT_SIGMOID,
                                         DTYPE_F32, KIND_CONSTANT, OP_ACTIVATION, OP_ADD, OP_AVG_POOL_2D, OP_CONCAT,
                                         OP_CONV_2D, OP_DEQUANTIZE, OP_FULLY_CONNECTED, OP_MAX_POOL_2D, OP_MUL, OP_NAMES,
                                         OP_PAD, OP_QUANTIZE, OP_RESHAPE, OP_TRANSPOSE, CompileError)

    int8_ops = (OP_CONV_2D, OP_FULLY_CONNECTED, OP_MAX_POOL_2D, OP_RESHAPE, OP_QUANTIZE, OP_DEQUANTIZE, OP_ADD,
                OP_MUL, OP_AVG_POOL_2D, OP_ACTIVATION, OP_CONCAT, OP_PAD, OP_TRANSPOSE)
    # ACTIVATION on int8: a 256-entry table of these functions (onnxruntime's QLinearLookupBase)
    table_acts = (ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP, ACT_SIGMOID)
    for op in ops:
        quantized = any(t is not None and tensors[t].dtype != DTYPE_F32 and tensors[t].kind != KIND_CONSTANT
                        for t in op.inputs + op.outputs)
        if not quantized:
            continue
        where = " + ".join(op.names)
        if op.op_type not in int8_ops:
            raise CompileError(f"node '{where}': {OP_NAMES[op.op_type]} on int8 values is not supported; "
                               "dequantize before it")
        data = [t for t in op.inputs[:1] + op.outputs if t is not None]
        if op.op_type in (OP_ADD, OP_MUL, OP_CONCAT):
            data = [t for t in op.inputs + op.outputs if t is not None]
        elif op.op_type in (OP_CONV_2D, OP_FULLY_CONNECTED):
            data.append(op.inputs[1])
        if op.op_type not in (OP_QUANTIZE, OP_DEQUANTIZE) and any(tensors[t].dtype == DTYPE_F32 for t in data):
            raise CompileError(f"node '{where}': {OP_NAMES[op.op_type]} mixes float and int8 tensors (its inputs, "
                               "weights and output must all be quantized)")
        if op.op_type in (OP_CONV_2D, OP_FULLY_CONNECTED) and op.params[-3] not in (ACT_NONE, ACT_RELU):
            raise CompileError(f"node '{where}': only Relu can be fused into an int8 op")
        if op.op_type in (OP_ADD, OP_MUL) and op.params[0] != ACT_NONE:
            raise CompileError(f"node '{where}': no activation can be fused into an int8 {OP_NAMES[op.op_type]}")
        if op.op_type == OP_ACTIVATION and op.params[0] not in table_acts:
            raise CompileError(f"node '{where}': {ACT_NAMES.get(op.params[0], op.params[0])} on int8 values is not "
                               "supported (onnxruntime runs it in float: dequantize before it)")


# ---------------------------------------------------------------------------------------
# Comparing quantized values with onnxruntime (edgecnn verify)


def nodes_feeding(model, tensor: str):
    """A copy of `model` keeping only the nodes that `tensor` depends on (outputs left to the caller)."""
    onnx = require("onnx")
    producer = {o: n for n in model.graph.node for o in n.output}
    needed, stack = set(), [tensor]
    while stack:
        node = producer.get(stack.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(i for i in node.input if i)
    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    del cut.graph.node[:]
    cut.graph.node.extend(n for n in model.graph.node if id(n) in needed)
    return cut


def quantized_output_model(model):
    """(model, scale, zero_point): a copy of an int8 model cut right after its last
    DequantizeLinear (the float tail, e.g. Softmax, removed), and that DequantizeLinear's
    per-tensor scale and zero point.

    Its float output is (q - zero_point) * scale of the last quantized tensor q, so two
    runtimes agree on q exactly when they agree on these floats bit for bit, and
    round(output / scale) + zero_point recovers q (exact: |q - zero_point| <= 255). Cutting
    after the DequantizeLinear, not before, matters: onnxruntime fuses the last Gemm into
    QGemm only when a DequantizeLinear follows its QuantizeLinear (checked on onnxruntime
    1.32; with the int8 tensor as graph output it runs that Gemm in float).
    Raises CompileError when the output does not come from a DequantizeLinear through
    single-input float ops.
    """
    from edgecnn.export.compiler import CompileError

    onnx = require("onnx")
    graph = model.graph
    if len(graph.output) != 1:
        raise CompileError(f"the graph has {len(graph.output)} outputs; expected one")
    producer = {o: n for n in graph.node for o in n.output}
    inits = {t.name: t for t in graph.initializer}
    name = graph.output[0].name
    while True:
        node = producer.get(name)
        if node is None:
            raise CompileError(f"no DequantizeLinear found before the output '{graph.output[0].name}': not an int8 model?")
        if node.op_type == "DequantizeLinear" and node.input[0] not in inits:
            break
        runtime_inputs = [i for i in node.input if i and i not in inits]
        if len(runtime_inputs) != 1:
            raise CompileError(f"node '{node.name}' ({node.op_type}) between the last DequantizeLinear and the output "
                               "has several runtime inputs; cannot cut the float tail off")
        name = runtime_inputs[0]
    scale = onnx.numpy_helper.to_array(inits[node.input[1]]) if node.input[1] in inits else None
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    zp = onnx.numpy_helper.to_array(inits[zp_name]) if zp_name in inits else np.zeros((), np.uint8)
    if scale is None or scale.size != 1 or zp.size != 1:
        raise CompileError("the last DequantizeLinear is not per tensor with constant scale and zero point")
    out = nodes_feeding(model, name)
    del out.graph.output[:]
    out.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return out, np.float32(scale.reshape(-1)[0]), int(zp.reshape(-1)[0])

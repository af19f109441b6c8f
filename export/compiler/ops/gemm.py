"""MatMul and Gemm with a constant weight (FULLY_CONNECTED, or a 1x1 CONV_2D for a MatMul of
a feature map), and their int8 forms QLinearMatMul and QGemm (com.microsoft)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, identity, lowers, optional_input
from edgecnn.export.compiler.ir import DType, Kind, act_attrs
from edgecnn.export.compiler.ops.conv import adopt_graph_input_quant, conv_attrs
from edgecnn.export.compiler.ops.quantize import check_weights, quantized_input, set_output, weight_quant
from edgecnn.export.compiler.passes.ort_float import EDGECNN_DOMAIN, GEMM_BATCH1


def fully_connected(low: Lowering, node, x_view: View, weight_ok: np.ndarray, bias) -> None:
    """FULLY_CONNECTED of a (batch, K) view; weight_ok: [O, K] already in native orientation."""
    if x_view.rank != 2:  # ONNX MatMul/Gemm of a (batch, K) matrix
        raise low.fail(f"input has shape {x_view.full_shape()}; only 2-D (batch, features) inputs are supported")
    # FULLY_CONNECTED reads any tensor in ONNX (row-major) order as a flat vector: no reshape needed.
    x = x_view.tensor if x_view.compatible(identity(x_view.rank)) else low.materialize(x_view, (0, 1))
    o, k = weight_ok.shape
    if k != x_view.shape[0]:
        raise low.fail(f"weight has {k} input features, the input has {x_view.shape[0]}")
    wt = low.const_tensor(weight_ok)
    bt = None if bias is None else low.const_tensor(bias)
    y = low.new_tensor(Kind.ACTIVATION, (o,))
    low.emit("FULLY_CONNECTED", [x, wt, bt], [y], act_attrs())
    low.values[node.output[0]] = View(y, (o,), (0, 1))


def _matmul_rows(low: Lowering, node, v: View, w: np.ndarray) -> None:
    """MatMul of a (N, ..., K) runtime tensor by a constant (K, O) (Keras Dense on a feature map,
    a per-position linear layer): every row of K is one pixel of a 1x1 CONV_2D over [rows, 1, K]."""
    k, o = w.shape
    if v.shape[-1] != k:
        raise low.fail(f"weight has {k} input features, the input's last axis has {v.shape[-1]}")
    if low.tensors[v.tensor].dtype != DType.F32:
        raise low.fail("MatMul of an int8 tensor of rank > 2 is not supported")
    perm = v.innermost(v.rank - 1)
    stored = v.storage_dims(perm)  # (..., K)
    # [H, W, K] with H the first stored axis: a rank-4 view needs no reshape on either side
    hw = (stored[0], int(np.prod(stored[1:-1], dtype=np.int64)))
    x = low.materialize(View(low.materialize(v, perm), (*hw, k), identity(4)))
    wt = low.const_tensor(np.ascontiguousarray(w.T).reshape(o, 1, 1, k))
    y = low.new_tensor(Kind.ACTIVATION, (*hw, o))
    low.emit("CONV_2D", [x, wt, None], [y], conv_attrs((1, 1), (0, 0, 0, 0), (1, 1), 1))
    low.values[node.output[0]] = View(y, (*v.shape[:-1], o), perm)


def _matmul_stack(low: Lowering, node, v: View, w: np.ndarray) -> View:
    """MatMul of a (N, ..., M, K) runtime tensor by a constant stack (..., K, O), broadcast over
    the axes before M, K as numpy does: one grouped 1x1 CONV_2D over [M, 1, G*K]. The axes along
    which the runtime tensor varies are the G groups (each its own (K, O) matrix); those where
    only the constant varies multiply the output channels of each group."""
    full = v.full_shape()
    r = v.rank
    if r < 3 or w.ndim - 2 > r - 3:
        raise low.fail(
            f"MatMul of {full} by a constant of shape {w.shape}: the constant's stack must not be "
            "deeper than the runtime tensor's axes between the batch and its last two"
        )
    k, o = w.shape[-2:]
    if full[-1] != k:
        raise low.fail(f"weight has {k} input features, the input's last axis has {full[-1]}")
    if low.tensors[v.tensor].dtype != DType.F32:
        raise low.fail("MatMul of an int8 tensor by a stack of matrices is not supported")
    wb = w.reshape((1,) * (r - w.ndim) + w.shape)  # aligned with the axes of `full`
    groups, outs, ones = [], [], []
    for ax in range(1, r - 2):
        a_d, b_d = full[ax], wb.shape[ax]
        if a_d == b_d or b_d == 1:
            (groups if a_d > 1 else ones).append(ax)
        elif a_d == 1:
            outs.append(ax)
        else:
            raise low.fail(f"MatMul of {full} by a constant of shape {w.shape}: axis {ax} does not broadcast")
    m_ax, k_ax = r - 2, r - 1
    n_groups = int(np.prod([full[ax] for ax in groups], dtype=np.int64))
    out_shape = (*(max(full[ax], wb.shape[ax]) for ax in range(1, r - 2)), full[m_ax], o)
    # the stack broadcast to the output's axes, as [group..., out..., O, K] rows of the weight
    stack = np.broadcast_to(wb[0], (*out_shape[:-2], k, o))
    order = [ax - 1 for ax in (*ones, *groups, *outs)] + [r - 2, r - 3]
    weight = np.ascontiguousarray(stack.transpose(order), dtype=np.float32).reshape(-1, 1, 1, k)
    in_order = (0, *ones, *outs, m_ax, *groups, k_ax)  # `outs` and `ones` have size 1 in v
    x = low.materialize(View(low.materialize(v, in_order), (full[m_ax], 1, n_groups * k), identity(4)))
    y = low.new_tensor(Kind.ACTIVATION, (full[m_ax], 1, weight.shape[0]))
    low.emit("CONV_2D", [x, low.const_tensor(weight), None], [y], conv_attrs((1, 1), (0, 0, 0, 0), (1, 1), n_groups))
    return View(y, out_shape, (0, *ones, m_ax, *groups, *outs, k_ax))


@lowers("MatMul", note="by a constant matrix, vector or stack of matrices")
def lower_matmul(low: Lowering, node) -> None:
    x = low.view_input(node, 0)
    w = low.const_input(node, 1, "the second MatMul operand").astype(np.float32)
    if w.ndim == 1 and x.rank == 2:  # (batch, K) by a vector: one value per sample
        fully_connected(low, node, x, w[None, :], None)
        low.values[node.output[0]] = View(low.values[node.output[0]].tensor, (), (0,))
        return
    if w.ndim == 1 or w.ndim > 2:  # a vector: a (K, 1) matrix whose output axis is then dropped
        y = _matmul_stack(low, node, x, w[:, None] if w.ndim == 1 else w)
        if w.ndim == 1:
            y = View(y.tensor, y.shape[:-1], tuple(p for p in y.perm if p != len(y.shape)))
        low.values[node.output[0]] = y
        return
    if x.rank > 2:
        _matmul_rows(low, node, x, w)
        return
    fully_connected(low, node, x, np.ascontiguousarray(w.T), None)


@lowers("Gemm", note="B and C constants")
def lower_gemm(low: Lowering, node) -> None:
    a = attrs(node)
    if a.get("transA", 0):
        raise low.fail(
            "transA=1 is not supported: it would move the batch axis of the runtime input A "
            "(only A untransposed, B a constant)"
        )
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    x = low.view_input(node, 0)
    w = low.const_input(node, 1, "B").astype(np.float32)
    if w.ndim != 2:
        raise low.fail(f"B has shape {w.shape}; expected a matrix")
    w_ok = w if a.get("transB", 0) else w.T
    if alpha != 1.0:  # alpha * (A B) = A (alpha B): folded into the weights
        w_ok = (w_ok * np.float32(alpha)).astype(np.float32)
    bias = None
    if optional_input(node, 2):
        c = low.const_input(node, 2, "C").astype(np.float32)
        o = w_ok.shape[0]
        if c.size == 1:
            c = np.full(o, c.reshape(-1)[0], np.float32)
        elif c.shape not in ((o,), (1, o)):
            raise low.fail(f"C has shape {c.shape}; only a per-output bias ({o},) or (1, {o}) is supported")
        bias = (c.reshape(-1) * np.float32(beta)).astype(np.float32) if beta != 1.0 else c.reshape(-1)
    fully_connected(low, node, x, np.ascontiguousarray(w_ok), bias)


def _quantized_fully_connected(low: Lowering, node, weight_ok: np.ndarray, bias, y_scale: int, y_zp: int) -> None:
    """The int8 FULLY_CONNECTED of input A (inputs 0..2) and weight B (scale and zero point at 4, 5)."""
    quantized_input(low, node, 0, 1, 2, "input A")
    wq = weight_quant(low, node, 4, 5, "weight B", weight_ok)
    fully_connected(low, node, low.view_input(node, 0), np.ascontiguousarray(weight_ok), bias)
    op = low.ops[-1]
    low.tensors[op.inputs[1]].quant = wq  # [O, K]: output feature first
    set_output(low, node, op.outputs[0], y_scale, y_zp)


@lowers("QGemm", domain="com.microsoft")
def lower_qgemm(low: Lowering, node) -> None:
    """com.microsoft.QGemm(A, as, az, B, bs, bz, C, ys, yz): alpha must be 1 (the int32 bias cannot absorb it)."""
    a = attrs(node)
    if a.get("transA", 0):
        raise low.fail("transA=1 is not supported")
    if float(a.get("alpha", 1.0)) != 1.0:
        raise low.fail(f"alpha={a.get('alpha')} is not supported (only 1.0)")
    if not optional_input(node, 7):
        raise low.fail("QGemm without y_scale (float output) is not supported")
    w = low.const_input(node, 3, "B")
    check_weights(low, node, w, "B")
    if w.ndim != 2:
        raise low.fail(f"B has shape {w.shape}; expected a matrix")
    w_ok = w if a.get("transB", 0) else w.T
    bias = None
    if optional_input(node, 6):
        bias = np.asarray(low.const_input(node, 6, "C"))
        if bias.dtype != np.int32 or bias.size != w_ok.shape[0]:
            raise low.fail(
                f"C must be an int32 per-output bias of {w_ok.shape[0]} values, got {bias.dtype} {bias.shape}"
            )
        bias = bias.reshape(-1)
    _quantized_fully_connected(low, node, w_ok, bias, 7, 8)


@lowers("QLinearMatMul", note="by a constant matrix")
def lower_qlinear_matmul(low: Lowering, node) -> None:
    adopt_graph_input_quant(low, node, 0, 1, 2)
    w = low.const_input(node, 3, "the second operand b")
    check_weights(low, node, w, "the second operand b")
    if w.ndim != 2:
        raise low.fail(f"b has shape {w.shape}; only (K, O) constant matrices are supported")
    _quantized_fully_connected(low, node, w.T, None, 6, 7)


@lowers(GEMM_BATCH1, domain=EDGECNN_DOMAIN, listed=False)
def lower_gemm_batch1(low: Lowering, node) -> None:
    """A float layer of an int8 graph (passes/ort_float.py): Gemm(A, B, C) summed as onnxruntime's
    batch-1 SGEMM sums it, FULLY_CONNECTED_G4."""
    x = low.view_input(node, 0)
    w = low.const_input(node, 1, "B").astype(np.float32)
    w_ok = w if attrs(node).get("transB", 0) else w.T
    bias = low.const_input(node, 2, "C").astype(np.float32).reshape(-1) if optional_input(node, 2) else None
    if bias is not None and bias.size != w_ok.shape[0]:
        raise low.fail(f"C has {bias.size} values; expected one per output ({w_ok.shape[0]})")
    fully_connected(low, node, x, np.ascontiguousarray(w_ok), bias)
    low.ops[-1].op = "FULLY_CONNECTED_G4"

"""Add, Sub, Mul, Div: with a constant operand, CHANNEL_ARITH (one value per channel or a
scalar); of two runtime tensors, ADD / MUL (Sub as ADD of the negation); and the int8 forms
QLinearAdd / QLinearMul (com.microsoft)."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Const, Lowering, View, lowers
from edgecnn.export.compiler.ir import Arith, DType, Kind, act_attrs
from edgecnn.export.compiler.ops.quantize import INT8_TYPES, qparams, quant, quantized_input, quantized_output


def channel_arith(low: Lowering, v: View, axis: int | None, k: np.ndarray, func: Arith, const_first: bool) -> View:
    """v op k with k a scalar (axis None, k of 1 value) or one value per index of logical
    `axis`: CHANNEL_ARITH on the last stored axis (a TRANSPOSE first when `axis` is stored elsewhere)."""
    x = v.tensor
    perm = v.perm
    if axis is not None and perm[-1] != axis:
        perm = v.innermost(axis)
        x = low.materialize(v, perm)
    elif axis is not None and low.tensors[x].dims[-1] != v.full_shape()[axis]:
        x = low.materialize(v)  # the last dim of the buffer must be the channel count
    kt = low.const_tensor(np.ascontiguousarray(k, dtype=np.float32).reshape(-1))
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[x].dims)
    low.emit("CHANNEL_ARITH", [x, kt], [y], {"func": func, "const_first": int(const_first)})
    return View(y, v.shape, perm)


def whole_sample_arith(low: Lowering, v: View, k: np.ndarray, func: Arith, const_first: bool) -> View:
    """v op k with k any constant that broadcasts over one sample of v (a full-shape constant,
    or one varying along several non-batch axes): CHANNEL_ARITH over the sample as one [n]
    vector, k broadcast to the sample and laid out in the order the buffer stores it."""
    kfull = k.reshape((1,) * (v.rank - k.ndim) + k.shape)
    if kfull.shape[0] != 1 or any(d not in (1, e) for d, e in zip(kfull.shape[1:], v.shape)):
        raise low.fail(f"constant of shape {k.shape} does not broadcast over one sample of {v.full_shape()}")
    sample = np.broadcast_to(kfull[0], v.shape).transpose([p - 1 for p in v.perm[1:]])
    x = low.materialize(View(low.materialize(v), (sample.size,), (0, 1)))  # the sample as one vector
    kt = low.const_tensor(np.ascontiguousarray(sample, dtype=np.float32).reshape(-1))
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[x].dims)
    low.emit("CHANNEL_ARITH", [x, kt], [y], {"func": func, "const_first": int(const_first)})
    return View(y, v.shape, v.perm)


def broadcast_axis(low: Lowering, v: View, k_shape: tuple) -> int | None:
    """The one non-batch axis of `v` along which a constant of `k_shape` varies (None: a scalar)."""
    full = v.full_shape()
    kfull = (1,) * (v.rank - len(k_shape)) + tuple(k_shape)
    axes = [ax for ax, d in enumerate(kfull) if d != 1]
    if len(k_shape) > v.rank or len(axes) > 1 or (axes and (axes[0] == 0 or kfull[axes[0]] != full[axes[0]])):
        raise low.fail(
            f"constant of shape {tuple(k_shape)} does not broadcast per channel over {full} (only scalars "
            "and constants varying along one non-batch axis are supported)"
        )
    return axes[0] if axes else None


def _broadcast_perm(low: Lowering, node, a: View, b: View, swap: bool) -> tuple[View, View, tuple]:
    """(a, b, axis order) for an elementwise op of two runtime tensors: equal shapes, or one
    (N, 1, .., C, .., 1) per sample (a squeeze-and-excitation gate) as b, whose varying axis is
    then stored innermost. swap: the operands may be exchanged to put the full-size one first."""
    if a.shape == b.shape:
        return a, b, a.perm

    def fits(v, big):  # v broadcasts over big along at most one non-batch axis
        return (
            v.rank == big.rank
            and all(d in (1, e) for d, e in zip(v.shape, big.shape))
            and sum(d != 1 for d in v.shape) <= 1
        )

    if swap and not fits(b, a) and fits(a, b):
        a, b = b, a
    if not fits(b, a):
        what = "runtime tensors of shapes" if node.op_type in ("Add", "Sub", "Mul") else "shapes"
        tail = (
            "only equal shapes, or one broadcast along a single axis, e.g. (N, C, 1, 1)"
            if what != "shapes"
            else "only equal shapes, or the second operand broadcast along one axis, e.g. (N, C, 1, 1)"
        )
        raise low.fail(f"{node.op_type} of {what} {a.full_shape()} and {b.full_shape()}: {tail}")
    axes = [ax for ax, d in enumerate(b.full_shape()) if ax and d != 1]
    return a, b, (a.innermost(axes[0]) if axes else a.perm)


def _binary(low: Lowering, node, a: View, b: View) -> None:
    """Add / Sub / Mul of two runtime tensors: ADD / MUL, elementwise or broadcast per sample."""
    op = {"Add": "ADD", "Sub": "ADD", "Mul": "MUL"}.get(node.op_type)
    if op is None:
        raise low.fail(
            f"{node.op_type} of two runtime tensors is not supported; only Add, Sub and Mul "
            "(Div needs a constant operand)"
        )
    if node.op_type == "Sub":  # a - b == a + (-b) exactly (negation is exact): CHANNEL_ARITH mul -1, ADD
        b = channel_arith(low, b, None, np.float32([-1.0]), Arith.MUL, False)
    a, b, perm = _broadcast_perm(low, node, a, b, swap=True)  # Add and Mul commute exactly
    xa = low.materialize(a, perm)
    xb = low.materialize(b, perm)
    if low.tensors[xa].dtype != DType.F32 or low.tensors[xb].dtype != DType.F32:
        raise low.fail(f"{node.op_type} of int8 tensors is not supported in this build")
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[xa].dims)
    low.emit(op, [xa, xb], [y], act_attrs())
    low.values[node.output[0]] = View(y, a.shape, perm)


@lowers("Div", note="with a constant operand")
@lowers("Add", "Sub", "Mul", note="of two tensors, or with a constant")
def lower_arith(low: Lowering, node) -> None:
    a, b = (low.value(n) for n in node.input[:2])
    if isinstance(a, View) and isinstance(b, View):
        _binary(low, node, a, b)
        return
    const_first = isinstance(a, Const)
    v, k = (b, a) if const_first else (a, b)
    if not k.static:
        raise low.fail("the constant operand depends on the batch size")
    k = np.asarray(k.value, dtype=np.float32)
    if k.ndim > v.rank:
        raise low.fail(f"constant of shape {k.shape} broadcasts the tensor {v.full_shape()} to a higher rank")
    func = Arith[node.op_type.upper()]
    kfull = (1,) * (v.rank - k.ndim) + k.shape
    if sum(d != 1 for d in kfull[1:]) > 1:  # varies along several non-batch axes
        low.values[node.output[0]] = whole_sample_arith(low, v, k, func, const_first)
        return
    axis = broadcast_axis(low, v, k.shape)
    low.values[node.output[0]] = channel_arith(low, v, axis, k, func, const_first)


def _constant_operand(low: Lowering, node, k_index: int, view: View) -> tuple[int, tuple]:
    """The quantized constant operand of a QLinearAdd / QLinearMul as a native i8/u8 CONSTANT of
    [C] (per channel of one non-batch axis of `view`) or [1] (a scalar), and the axis order that
    stores that axis innermost (where the kernel indexes it)."""
    k = np.asarray(low.const_input(node, k_index, "the constant operand"))
    scale, zp = qparams(low, node, k_index + 1, k_index + 2, "the constant operand")
    if k.dtype not in INT8_TYPES or k.dtype != zp.dtype:
        raise low.fail(f"the constant operand is {k.dtype} with a {zp.dtype} zero point; expected int8/uint8 codes")
    axis = broadcast_axis(low, view, k.shape)
    perm = view.perm if axis is None else view.innermost(axis)
    tid = low.const_tensor(np.ascontiguousarray(k).reshape(-1))
    low.tensors[tid].quant = quant(scale, zp)
    return tid, perm


@lowers("QLinearAdd", "QLinearMul", domain="com.microsoft")
def lower_qlinear_binary(low: Lowering, node) -> None:
    """com.microsoft QLinearAdd / QLinearMul(A, As, Az, B, Bs, Bz, Cs, Cz): int8 ADD / MUL of two
    runtime tensors of one shape, or of a runtime tensor A and a quantized constant B per channel
    or scalar (onnxruntime's x86 kernel arithmetic, kernels_i8.h). A constant first operand: Mul
    swaps it (its arithmetic is symmetric); Add is refused (onnxruntime's scalar-A kernel rounds
    its fixed part in another order)."""
    const = [isinstance(low.value(node.input[i]), Const) for i in (0, 3)]
    if all(const):
        raise low.fail(f"{node.op_type} of two constants should have been folded")
    a_i, b_i = (3, 0) if const[0] else (0, 3)
    if const[0] and node.op_type == "QLinearAdd":
        raise low.fail(
            "QLinearAdd with the constant as its first operand is not supported (onnxruntime's kernel "
            "for a constant A rounds differently; put the runtime tensor first)"
        )
    a = quantized_input(low, node, a_i, a_i + 1, a_i + 2, "the runtime operand")
    if const[0] or const[1]:
        kt, perm = _constant_operand(low, node, b_i, a)
        xa, xb = low.materialize(a, perm), kt
    else:
        b = quantized_input(low, node, 3, 4, 5, "input B")
        # a broadcast operand must be B, whose kernel onnxruntime shares with the elementwise one;
        # for Mul the order does not change the arithmetic, for Add it does (the scalar-A kernel)
        a, b, perm = _broadcast_perm(low, node, a, b, swap=node.op_type == "QLinearMul")
        xa, xb = low.materialize(a, perm), low.materialize(b, perm)
    if low.tensors[xb].dtype != low.tensors[xa].dtype:
        raise low.fail(f"{node.op_type} of an int8 and a uint8 tensor")
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[xa].dims)
    quantized_output(low, node, y, 6, 7, xa)
    low.emit("ADD" if node.op_type == "QLinearAdd" else "MUL", [xa, xb], [y], act_attrs())
    low.values[node.output[0]] = View(y, a.shape, perm)

"""Folds on the native graph: zero pads into convolutions, transposes into dense weights,
Keras' hard sigmoid, hard swish and swish into one activation, a float activation between a dequantize
and a quantize into one int8 activation, activations, bias adds and per-channel scales into the
op before them, a residual ADD into the convolution before it, a batch norm left over (mul,
add, Relu) into one CHANNEL_ARITH."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.ir import FUSABLE_OPS, Act, Arith, DType, Kind, NOp, NTensor, act_attrs


def consumers(ops: list[NOp], tid: int) -> list[int]:
    return [i for i, op in enumerate(ops) if tid in op.inputs]


def sole_reader(ops: list[NOp], tid: int) -> NOp | None:
    """The op that is the only reader of tensor tid (what a fold may merge into), else None."""
    users = consumers(ops, tid)
    return ops[users[0]] if len(users) == 1 else None


def _append_const(tensors: list[NTensor], array: np.ndarray) -> int:
    tensors.append(NTensor(Kind.CONSTANT, array.shape, data=array))
    return len(tensors) - 1


def _float_op_and_reader(tensors: list[NTensor], ops: list[NOp], name: str):
    """(op, reader) for every float `name` op whose output one op alone reads."""
    for op in list(ops):
        if op.op != name or tensors[op.outputs[0]].dtype != DType.F32:
            continue
        reader = sole_reader(ops, op.outputs[0])
        if reader is not None:
            yield op, reader


def fold_channel_arith(tensors: list[NTensor], ops: list[NOp], op: NOp, arith: NOp) -> bool:
    """Fold a per-output-channel (or scalar) constant Mul / Add / Sub that follows a float
    CONV_2D or FULLY_CONNECTED without activation into its weights and bias (a batch norm that
    tf2onnx or BatchNormalization lowering left as Mul + Add, a MatMul's bias). True if folded."""
    if (
        op.op not in ("CONV_2D", "FULLY_CONNECTED")
        or op.attrs["act"] != Act.NONE
        or tensors[op.inputs[1]].dtype != DType.F32
        or arith.inputs[0] != op.outputs[0]
        or len(consumers(ops, op.inputs[1])) != 1
    ):
        return False
    func, const_first = arith.attrs["func"], arith.attrs["const_first"]
    k = tensors[arith.inputs[1]].data.astype(np.float32)
    o = tensors[op.outputs[0]].dims[-1]
    if k.size not in (1, o) or not (func in (Arith.ADD, Arith.MUL) or (func == Arith.SUB and not const_first)):
        return False
    k = np.broadcast_to(k.reshape(-1), (o,)).astype(np.float32)
    bias = None if op.inputs[2] is None else tensors[op.inputs[2]].data.astype(np.float32)
    if func == Arith.MUL:
        w = tensors[op.inputs[1]]
        w.data = (w.data.reshape(o, -1) * k[:, None]).astype(np.float32).reshape(-1)
        if bias is not None:
            op.inputs[2] = _append_const(tensors, (bias * k).astype(np.float32))
    else:
        k = k if func == Arith.ADD else -k
        # no bias yet: the constant becomes it (exactly ONNX's MatMul + Add)
        op.inputs[2] = _append_const(tensors, k if bias is None else (bias + k).astype(np.float32))
    return True


def fold_pads(tensors: list[NTensor], ops: list[NOp]) -> None:
    """A zero PAD of the two spatial axes read only by a float CONV_2D becomes the convolution's
    own padding (Keras ZeroPadding2D before a strided depthwise conv): the same zeros, no copy."""
    for pad, conv in _float_op_and_reader(tensors, ops, "PAD"):
        before, after = list(pad.attrs["before"]), list(pad.attrs["after"])
        if (
            conv.op != "CONV_2D"
            or conv.inputs[0] != pad.outputs[0]
            or float(pad.attrs["value"]) != 0.0
            or before[2:] != [0, 0, 0]
            or after[2:] != [0, 0, 0]
            or len(tensors[pad.outputs[0]].dims) != 3
        ):
            continue
        conv.inputs[0] = pad.inputs[0]
        conv.attrs["pad_top"] += before[0]
        conv.attrs["pad_left"] += before[1]
        conv.attrs["pad_bottom"] += after[0]
        conv.attrs["pad_right"] += after[1]
        conv.names = pad.names + conv.names
        ops.remove(pad)


def fold_transposes(tensors: list[NTensor], ops: list[NOp]) -> None:
    """A TRANSPOSE read only by a float FULLY_CONNECTED (PyTorch's flatten of an NCHW tensor
    stored NHWC) disappears: the weight columns are permuted instead, so the layer reads the
    values in their stored order."""
    for tr, fc in _float_op_and_reader(tensors, ops, "TRANSPOSE"):
        if (
            fc.op != "FULLY_CONNECTED"
            or fc.inputs[0] != tr.outputs[0]
            or fc.inputs[1] == tr.outputs[0]
            or tensors[fc.inputs[1]].dtype != DType.F32
            or len(consumers(ops, fc.inputs[1])) != 1
        ):
            continue
        src = tensors[tr.inputs[0]].dims
        # Transposed element j is source element order[j]: weight column j moves to order[j].
        perm = list(tr.attrs["perm"][: len(src)])
        order = np.arange(int(np.prod(src, dtype=np.int64))).reshape(src).transpose(perm).reshape(-1)
        w = tensors[fc.inputs[1]]
        o, k = w.dims
        permuted = np.empty((o, k), np.float32)
        permuted[:, order] = w.data.reshape(o, k)
        w.data = permuted.reshape(-1)
        fc.inputs[0] = tr.inputs[0]
        fc.names = tr.names + fc.names
        ops.remove(tr)


def fold_hard_activations(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """Keras' hard_sigmoid relu6(x + 3) / 6 (tf2onnx: Add 3, Clip 0..6, Mul 1/6) becomes one
    ACTIVATION(hard_sigmoid 1/6, 1/2), and x * hard_sigmoid(x) (hard_swish, MobileNetV3) one
    ACTIVATION(hard_swish): four passes over the tensor become one (results differ from the
    op-by-op rounding by about an ulp, within the float contract)."""

    def only_reader(t, name):
        nxt = sole_reader(ops, t) if t != output_tensor else None
        return nxt if nxt is not None and nxt.op == name and nxt.inputs[0] == t else None

    def scalar(arith, func, value):
        k = tensors[arith.inputs[1]].data
        return arith.attrs["func"] == func and k.size == 1 and np.float32(k.reshape(-1)[0]) == np.float32(value)

    for add in list(ops):
        if add.op != "CHANNEL_ARITH" or tensors[add.inputs[0]].dtype != DType.F32 or not scalar(add, Arith.ADD, 3.0):
            continue
        clip = only_reader(add.outputs[0], "ACTIVATION")
        if clip is None or clip.act() != (Act.CLIP, 0.0, 6.0):
            continue
        mul = only_reader(clip.outputs[0], "CHANNEL_ARITH")
        if mul is None or not scalar(mul, Arith.MUL, 1.0 / 6.0):
            continue
        x, h = add.inputs[0], mul.outputs[0]
        gate = sole_reader(ops, h) if h != output_tensor else None
        if (
            gate is not None
            and gate.op == "MUL"
            and set(gate.inputs) == {x, h}
            and gate.attrs["act"] == Act.NONE
            and tensors[x].dims == tensors[h].dims
        ):
            fused = NOp(
                "ACTIVATION",
                [x],
                list(gate.outputs),
                act_attrs(Act.HARD_SWISH),
                add.names + clip.names + mul.names + gate.names,
            )
            ops[ops.index(gate)] = fused
        else:
            fused = NOp(
                "ACTIVATION",
                [x],
                [h],
                act_attrs(Act.HARD_SIGMOID, float(np.float32(1.0 / 6.0)), 0.5),
                add.names + clip.names + mul.names,
            )
            ops[ops.index(mul)] = fused
        for dead in (add, clip, mul):
            if dead in ops:
                ops.remove(dead)


def fold_swish(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """x * sigmoid(x) (Swish / SiLU: Keras' swish, EfficientNet, YOLO; tf2onnx writes a Sigmoid
    and a Mul) becomes one ACTIVATION(swish): the same two float operations per element, in one
    pass over the tensor instead of two, and no tensor for the Sigmoid's output."""
    for sig in list(ops):
        if sig.op != "ACTIVATION" or sig.attrs["act"] != Act.SIGMOID:
            continue
        x, s = sig.inputs[0], sig.outputs[0]
        mul = sole_reader(ops, s) if s != output_tensor else None
        if (
            mul is None
            or mul.op != "MUL"
            or sorted(mul.inputs) != sorted([x, s])
            or mul.attrs["act"] != Act.NONE
            or tensors[x].dtype != DType.F32
            or tensors[x].dims != tensors[s].dims
        ):
            continue
        ops[ops.index(mul)] = NOp("ACTIVATION", [x], list(mul.outputs), act_attrs(Act.SWISH), sig.names + mul.names)
        ops.remove(sig)


def fold_dequantized_activations(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """DEQUANTIZE -> float ACTIVATION -> QUANTIZE (how onnxruntime runs an activation it has no
    int8 kernel for) becomes one int8 ACTIVATION: its table applies the same float operations to
    each of the 256 codes, so every output code is the one the three ops give, without the float
    tensors in the arena."""
    for dq in list(ops):
        if dq.op != "DEQUANTIZE" or dq.outputs[0] == output_tensor:
            continue
        act = sole_reader(ops, dq.outputs[0])
        if act is None or act.op != "ACTIVATION" or act.outputs[0] == output_tensor:
            continue
        q = sole_reader(ops, act.outputs[0])
        if q is None or q.op != "QUANTIZE" or tensors[q.outputs[0]].dtype != tensors[dq.inputs[0]].dtype:
            continue
        ops[ops.index(q)] = NOp(
            "ACTIVATION", [dq.inputs[0]], list(q.outputs), dict(act.attrs), dq.names + act.names + q.names
        )
        ops.remove(dq)
        ops.remove(act)


CODE_MIN = {DType.I8: -128, DType.U8: 0}


def _same_grid(a: NTensor, b: NTensor) -> bool:
    """Every code of a's dtype is, after dequantization, a value b quantizes exactly (one scale
    per tensor, the same; the codes shifted by a constant that keeps them in range)."""
    qa, qb = a.quant, b.quant
    return (
        qa is not None
        and qb is not None
        and qa.scales.size == 1
        and qb.scales.size == 1
        and float(qa.scales[0]) == float(qb.scales[0]) > 0
        and int(qa.zero_points[0]) - CODE_MIN[a.dtype] == int(qb.zero_points[0]) - CODE_MIN[b.dtype]
    )


def fold_dequantized_max_pools(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """DEQUANTIZE -> float MAX_POOL_2D -> QUANTIZE, and the same with onnxruntime's int8 -> uint8
    requantization after it (QUANTIZE int8 -> DEQUANTIZE -> QUANTIZE uint8, same scale), back to
    the codes it started from becomes MAX_POOL_2D on the codes: dequantization is monotonic, the
    maximum is one of the window's values, and quantizing a dequantized code with the same scale
    gives the code back (|code - zero point| <= 255: the float error is far below half a step)."""
    for dq in list(ops):
        if dq.op != "DEQUANTIZE" or dq not in ops or dq.outputs[0] == output_tensor:
            continue
        pool = sole_reader(ops, dq.outputs[0])
        if pool is None or pool.op != "MAX_POOL_2D" or pool.outputs[0] == output_tensor:
            continue
        chain = [dq, pool]
        q = sole_reader(ops, pool.outputs[0])
        while q is not None and q.op == "QUANTIZE":
            chain.append(q)
            x, y = tensors[dq.inputs[0]], tensors[q.outputs[0]]
            if not _same_grid(x, y):
                break
            if y.dtype == x.dtype and y.quant.same(x.quant):
                ops[ops.index(q)] = NOp(
                    "MAX_POOL_2D",
                    [dq.inputs[0]],
                    list(q.outputs),
                    dict(pool.attrs),
                    [n for o in chain for n in o.names],
                )
                for o in chain[:-1]:
                    ops.remove(o)
                break
            if q.outputs[0] == output_tensor:
                break
            dq2 = sole_reader(ops, q.outputs[0])
            if dq2 is None or dq2.op != "DEQUANTIZE" or dq2.outputs[0] == output_tensor:
                break
            chain.append(dq2)
            q = sole_reader(ops, dq2.outputs[0])


def _int8_relu_fuses(tensors: list[NTensor], op: NOp, y: int, act: NOp) -> bool:
    """An int8 ACTIVATION is a lookup table from its input's quantization to its output's; only
    a Relu with both the same (max(q, zero point)) folds into an int8 CONV_2D / FULLY_CONNECTED."""
    return (
        op.op in ("CONV_2D", "FULLY_CONNECTED")
        and act.attrs["act"] == Act.RELU
        and tensors[y].quant is not None
        and tensors[y].quant.same(tensors[act.outputs[0]].quant)
    )


def fold_residual_adds(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """A float ADD of a float CONV_2D's output (no activation of its own) and a tensor computed
    before the convolution (a ResNet's shortcut) becomes the convolution's residual input R:
    the op adds R to each tile once the kernel has stored it, then runs the ADD's activation
    (docs/file-format.md, CONV_2D). The same IEEE additions, one pass over memory fewer."""
    for conv in list(ops):
        y = conv.outputs[0]
        if (
            conv.op != "CONV_2D"
            or len(conv.inputs) != 3
            or conv.attrs["act"] != Act.NONE
            or tensors[y].dtype != DType.F32
            or tensors[conv.inputs[0]].dtype != DType.F32
            or y == output_tensor
        ):
            continue
        add = sole_reader(ops, y)
        if add is None or add.op != "ADD" or tensors[add.outputs[0]].dtype != DType.F32 or add.inputs.count(y) != 1:
            continue
        other = add.inputs[1] if add.inputs[0] == y else add.inputs[0]
        made_at = [i for i, op in enumerate(ops) if other in op.outputs]
        if (
            tensors[other].kind == Kind.CONSTANT
            or tensors[other].dims != tensors[y].dims
            or tensors[other].dtype != DType.F32
            or (made_at and made_at[0] > ops.index(conv))  # not ready when the conv runs
        ):
            continue
        conv.inputs.append(other)
        conv.attrs.update(act=add.attrs["act"], act_p0=add.attrs["act_p0"], act_p1=add.attrs["act_p1"])
        conv.outputs[0] = add.outputs[0]
        conv.names += add.names
        ops.remove(add)


def fold_scale_shifts(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> None:
    """A float CHANNEL_ARITH add, with the CHANNEL_ARITH mul before it whose output only it reads
    (a batch norm that could not fold into a convolution: after a Concat, DenseNet style) and/or
    the Relu after it, becomes one CHANNEL_ARITH(mul_add) / (mul_add_relu): x * K, rounded, + B,
    rounded, as the two ops compute it (no fused multiply-add), then max(., 0); one pass over
    the tensor instead of two or three. Without a mul (an int8 graph's add between a dequantize
    and its Relu), K is 1: x * 1 is x exactly. IEEE multiplication and addition commute, so
    either operand order folds."""

    def reader(t, name):
        nxt = sole_reader(ops, t) if t != output_tensor else None
        return nxt if nxt is not None and nxt.op == name and nxt.inputs[0] == t else None

    for add in list(ops):
        if add.op != "CHANNEL_ARITH" or add.attrs["func"] != Arith.ADD or tensors[add.inputs[0]].dtype != DType.F32:
            continue
        made = [o for o in ops if add.inputs[0] in o.outputs]
        mul = made[0] if made and made[0].op == "CHANNEL_ARITH" and made[0].attrs["func"] == Arith.MUL else None
        if mul is not None and reader(mul.outputs[0], "CHANNEL_ARITH") is not add:
            mul = None
        relu = reader(add.outputs[0], "ACTIVATION")
        if relu is not None and relu.act() != (Act.RELU, 0.0, 0.0):
            relu = None
        if mul is None and relu is None:
            continue
        b_id = add.inputs[1]
        k_id = mul.inputs[1] if mul is not None else _append_const(tensors, np.ones(1, np.float32))
        n = max(tensors[k_id].data.size, tensors[b_id].data.size)
        # K and B of one size: a scalar one broadcast to the other's channels
        k_id, b_id = (
            t
            if tensors[t].data.size == n
            else _append_const(tensors, np.full(n, tensors[t].data.reshape(-1)[0], np.float32))
            for t in (k_id, b_id)
        )
        chain = [o for o in (mul, add, relu) if o is not None]
        ops[ops.index(chain[-1])] = NOp(
            "CHANNEL_ARITH",
            [chain[0].inputs[0], k_id, b_id],
            list(chain[-1].outputs),
            {"func": Arith.MUL_ADD if relu is None else Arith.MUL_ADD_RELU, "const_first": 0},
            [name for o in chain for name in o.names],
        )
        for dead in chain[:-1]:
            ops.remove(dead)


def fuse(tensors: list[NTensor], ops: list[NOp], output_tensor: int) -> list[NOp]:
    """Fold activations, bias adds and per-channel scales into the preceding op; drop zero
    pads and transposes the next op can absorb."""
    fold_pads(tensors, ops)
    fold_transposes(tensors, ops)
    fold_hard_activations(tensors, ops, output_tensor)
    fold_swish(tensors, ops, output_tensor)
    fold_dequantized_activations(tensors, ops, output_tensor)
    fold_dequantized_max_pools(tensors, ops, output_tensor)
    changed = True
    while changed:
        changed = False
        for op in ops:
            if op.op not in FUSABLE_OPS:
                continue
            y = op.outputs[0]
            if y == output_tensor:
                continue
            nxt = sole_reader(ops, y)
            if nxt is None:
                continue
            if nxt.op == "CHANNEL_ARITH" and fold_channel_arith(tensors, ops, op, nxt):
                pass
            elif (
                nxt.op == "ACTIVATION"
                and op.attrs["act"] == Act.NONE
                and (tensors[y].dtype == DType.F32 or _int8_relu_fuses(tensors, op, y, nxt))
            ):
                op.attrs.update(nxt.attrs)
            else:
                continue
            op.outputs[0] = nxt.outputs[0]
            op.names += nxt.names
            ops.remove(nxt)
            changed = True
            break
    fold_residual_adds(tensors, ops, output_tensor)
    fold_scale_shifts(tensors, ops, output_tensor)
    return ops

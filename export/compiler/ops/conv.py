"""Conv (float) and QLinearConv (int8): CONV_2D over NHWC with OHWI weights. The window
geometry helpers (`pads_2d`, `window_steps`, `spatial_input`, `stride_pad_dilation_attrs`) are
shared with pool.py."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, lowers, optional_input, weights
from edgecnn.export.compiler.ir import DType, Kind, Quant, act_attrs
from edgecnn.export.compiler.ops.quantize import (
    check_weights,
    dtype_code,
    float_twin,
    no_channels_last,
    qparams,
    quant,
    quantized_input,
    set_output,
    weight_quant,
)
from edgecnn.export.compiler.passes.ort_float import CONV_SLICED, EDGECNN_DOMAIN


def pads_2d(low: Lowering, a: dict, in_hw, k, strides, dilations) -> tuple:
    """(top, left, bottom, right) from `pads` or `auto_pad`."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4 or min(pads) < 0:
            raise low.fail(f"pads {pads} not supported (need 4 non-negative values)")
        return pads[0], pads[1], pads[2], pads[3]
    if auto == "VALID":
        return 0, 0, 0, 0
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        out = []
        for i in range(2):
            o = -(-in_hw[i] // strides[i])
            total = max(0, (o - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - in_hw[i])
            small, big = total // 2, total - total // 2
            out.append((small, big) if auto == "SAME_UPPER" else (big, small))
        return out[0][0], out[1][0], out[0][1], out[1][1]
    raise low.fail(f"auto_pad={auto} is not supported")


def spatial_input(low: Lowering, node) -> tuple[View, int]:
    """Input 0 as an NCHW view and the native tensor holding it NHWC."""
    v = low.view_input(node, 0)
    if v.rank != 4:
        raise low.fail(f"input has rank {v.rank}; only 2-D {node.op_type} on NCHW (rank 4) inputs is supported")
    return v, low.materialize(v, (0, 2, 3, 1))


def window_steps(low: Lowering, a: dict) -> tuple[tuple, tuple]:
    """A 2-D window's `strides` and `dilations` (default 1), or the refusal naming them."""
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    if len(strides) != 2 or len(dilations) != 2 or min(strides) < 1 or min(dilations) < 1:
        raise low.fail(f"strides {strides} / dilations {dilations} not supported")
    return strides, dilations


def stride_pad_dilation_attrs(strides, pads, dilations) -> dict:
    """The stride, padding and dilation fields of every windowed native op (convolutions, pools)."""
    pt, pl, pb, pr = pads
    return {
        "stride_h": strides[0],
        "stride_w": strides[1],
        "pad_top": pt,
        "pad_left": pl,
        "pad_bottom": pb,
        "pad_right": pr,
        "dilation_h": dilations[0],
        "dilation_w": dilations[1],
    }


def window_attrs(strides, pads, dilations, group: int) -> dict:
    """The window parameters of CONV_2D and CONV_INTEGER_2D."""
    return {**stride_pad_dilation_attrs(strides, pads, dilations), "group": group}


def conv_attrs(strides, pads, dilations, group: int) -> dict:
    return {**window_attrs(strides, pads, dilations, group), **act_attrs()}


def conv_geometry(low: Lowering, a: dict, chw: tuple, weight_shape: tuple) -> tuple:
    """A Conv's (group, strides, pads, dilations, oh, ow) for input (C, H, W) and OIHW weights,
    or the refusal naming what does not fit (Conv, QLinearConv and ConvInteger share it)."""
    c, h, w_ = chw
    if len(weight_shape) != 4:
        raise low.fail(f"weight has shape {weight_shape}; only 2-D convolution (OIHW weights) is supported")
    o, cg, kh, kw = weight_shape
    group = int(a.get("group", 1))
    if group < 1 or c % group or o % group or cg * group != c:
        raise low.fail(f"group={group} does not fit {c} input channels and weight {weight_shape}")
    if tuple(a.get("kernel_shape", (kh, kw))) != (kh, kw):
        raise low.fail(f"kernel_shape {a['kernel_shape']} differs from the weight shape {weight_shape}")
    strides, dilations = window_steps(low, a)
    pads = pads_2d(low, a, (h, w_), (kh, kw), strides, dilations)
    pt, pl, pb, pr = pads
    oh = (h + pt + pb - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w_ + pl + pr - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    if oh < 1 or ow < 1:
        raise low.fail(f"the kernel does not fit the {h}x{w_} input")
    return group, strides, pads, dilations, oh, ow


@lowers("Conv", note="2-D")
def lower_conv(low: Lowering, node) -> None:
    conv(low, node, "CONV_2D", {})


@lowers(CONV_SLICED, domain=EDGECNN_DOMAIN, listed=False)
def lower_conv_sliced(low: Lowering, node) -> None:
    """A float layer of an int8 graph (passes/ort_float.py): Conv summed in onnxruntime's MLAS
    order, K in slices of `k_slice` terms: CONV_2D_SLICED."""
    k_slice = int(attrs(node).get("k_slice", 0))
    if k_slice < 1:
        raise low.fail(f"k_slice {k_slice} is not a positive number of terms")
    conv(low, node, "CONV_2D_SLICED", {"k_slice": k_slice})


def conv(low: Lowering, node, op: str, extra: dict) -> None:
    """Conv(X, W, B) as the native convolution `op` (CONV_2D or CONV_2D_SLICED, whose extra
    parameters `extra` gives): NHWC, OHWI weights."""
    a = attrs(node)
    v, x = spatial_input(low, node)
    weight = weights(low.const_input(node, 1, "the weight W"))
    float_conv = low.tensors[x].dtype == DType.F32  # (QLinearConv reuses this with int8 weights)
    if float_conv and weight.dtype != np.float32:
        raise low.fail(f"weight W has dtype {weight.dtype}; a float Conv needs float weights")
    group, strides, pads, dilations, oh, ow = conv_geometry(low, a, v.shape, weight.shape)
    o = weight.shape[0]
    wt = low.const_tensor(weight.transpose(0, 2, 3, 1))  # OIHW -> OHWI
    bias = None
    if optional_input(node, 2):
        b = weights(low.const_input(node, 2, "the bias B")).reshape(-1)
        if float_conv and b.dtype != np.float32:
            raise low.fail(f"bias B has dtype {b.dtype}; a float Conv needs a float bias")
        if b.shape != (o,):
            raise low.fail(f"bias has {b.size} values, expected {o}")
        bias = low.const_tensor(b)
    y = low.new_tensor(Kind.ACTIVATION, (oh, ow, o))
    low.emit(op, [x, wt, bias], [y], {**conv_attrs(strides, pads, dilations, group), **extra})
    low.values[node.output[0]] = View(y, (o, oh, ow), (0, 2, 3, 1))


RAW_CODES = Quant(np.float32([1.0]), np.int32([0]))  # a uint8/int8 graph input as read (graph.py)
QLINEAR_READERS = {"QLinearConv", "QLinearMatMul"}


def adopt_graph_input_quant(low: Lowering, node, index: int, scale_index: int, zp_index: int) -> None:
    """A QLinear op reading the raw uint8/int8 graph input directly gives those codes their
    meaning: the input takes the op's scale and zero point, when only such ops read it."""
    view = low.view_input(node, index)
    tensor = low.tensors[view.tensor]
    if tensor.kind != Kind.INPUT or not RAW_CODES.same(tensor.quant):
        return
    if set(low.readers.get(node.input[index], [])) - QLINEAR_READERS:
        return  # another reader (a Cast, ...) takes the codes as plain numbers
    scale, zp = qparams(low, node, scale_index, zp_index, "input")
    if tensor.dtype == dtype_code(zp):
        tensor.quant = quant(scale, zp)


@lowers("QLinearConv")
def lower_qlinear_conv(low: Lowering, node) -> None:
    """QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B): the float Conv lowering on the int8 values, then quantization."""
    no_channels_last(low, node)
    adopt_graph_input_quant(low, node, 0, 1, 2)
    quantized_input(low, node, 0, 1, 2, "input x")
    weight = low.const_input(node, 3, "the weight w")
    check_weights(low, node, weight, "the weight w")
    wq = weight_quant(low, node, 4, 5, "weight w", weight)
    has_bias = optional_input(node, 8)
    if has_bias and np.asarray(low.const_input(node, 8, "the bias B")).dtype != np.int32:
        raise low.fail("bias B must be int32 (quantized with scale x_scale * w_scale)")
    conv = float_twin(node, "Conv", [node.input[0], node.input[3]] + ([node.input[8]] if has_bias else []))
    lower_conv(low, conv)  # the float Conv's geometry and layout code; the weight stays int8
    op = low.ops[-1]
    low.tensors[op.inputs[1]].quant = wq  # OHWI: output channel first
    set_output(low, node, op.outputs[0], 6, 7)


def _transpose_pads(low: Lowering, a: dict, in_hw, k, strides, dilations) -> tuple:
    """ConvTranspose's (top, left, bottom, right) pads and (h, w) output padding, as the ONNX
    reference computes them: `output_shape` with auto_pad SAME_* splits the total padding
    (SAME_UPPER: the smaller half first); with explicit pads it only adds output padding."""
    full = [strides[i] * (in_hw[i] - 1) + dilations[i] * (k[i] - 1) + 1 for i in range(2)]
    out_pad = list(a.get("output_padding", [0, 0]))
    if len(out_pad) != 2 or min(out_pad) < 0:
        raise low.fail(f"output_padding {out_pad} not supported (need 2 non-negative values)")
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    shape = list(a.get("output_shape", []))[-2:]
    if shape and len(shape) != 2:
        raise low.fail(f"output_shape {a['output_shape']} not supported (need the 2 spatial sizes)")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        shape = shape or [in_hw[i] * strides[i] for i in range(2)]
        begin, end = [], []
        for i in range(2):
            total = full[i] + out_pad[i] - shape[i]
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
    elif auto in ("NOTSET", "", "VALID"):
        pads = [0, 0, 0, 0] if auto == "VALID" else list(a.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            raise low.fail(f"pads {pads} not supported (need 4 values)")
        begin, end = pads[:2], pads[2:]
        if shape:  # the output is cut to, or extended with output padding up to, output_shape
            end = [full[i] + out_pad[i] - begin[i] - shape[i] for i in range(2)]
    else:
        raise low.fail(f"auto_pad={auto} is not supported")
    if min(begin) < 0:
        raise low.fail(f"a negative leading pad ({begin}) is not supported")
    for i in range(2):  # a negative trailing pad is output padding
        if end[i] < 0:
            out_pad[i] -= end[i]
            end[i] = 0
    return (begin[0], begin[1], end[0], end[1]), out_pad


@lowers("ConvTranspose", note="1-D and 2-D, float")
def lower_conv_transpose(low: Lowering, node) -> None:
    a = attrs(node)
    weight = np.asarray(low.const_input(node, 1, "the weight W"))
    rank = low.view_input(node, 0).rank
    if rank not in (3, 4):
        raise low.fail(f"input has rank {rank}: only ConvTranspose over one or two spatial axes is supported")
    one_d = rank == 3
    if one_d:  # [N, C, L] as an image of height 1: [N, C, 1, L]
        v = low.view_input(node, 0)
        x = low.materialize(View(low.materialize(v, (0, 2, 1)), (1, v.shape[1], v.shape[0]), (0, 1, 2, 3)))
        c, h, w_ = v.shape[0], 1, v.shape[1]
        weight = weight[:, :, None, :] if weight.ndim == 3 else weight
        a = _height_one(a)
    else:
        v, x = spatial_input(low, node)
        c, h, w_ = v.shape
    if low.tensors[x].dtype != DType.F32:
        raise low.fail("ConvTranspose of int8 values is not supported; dequantize before it")
    if weight.dtype != np.float32 or weight.ndim != 4:
        raise low.fail(f"weight W is {weight.dtype} {weight.shape}; need float32 [C, O/group, KH, KW]")
    wc, og, kh, kw = weight.shape
    group = int(a.get("group", 1))
    if group < 1 or wc != c or c % group:
        raise low.fail(f"group={group} and weight {weight.shape} do not fit {c} input channels")
    if tuple(a.get("kernel_shape", (kh, kw))) != (kh, kw):
        raise low.fail(f"kernel_shape {a['kernel_shape']} differs from the weight shape {weight.shape}")
    strides, dilations = window_steps(low, a)
    pads, out_pad = _transpose_pads(low, a, (h, w_), (kh, kw), strides, dilations)
    pt, pl, pb, pr = pads
    oh = strides[0] * (h - 1) + out_pad[0] + dilations[0] * (kh - 1) + 1 - pt - pb
    ow = strides[1] * (w_ - 1) + out_pad[1] + dilations[1] * (kw - 1) + 1 - pl - pr
    if oh < 1 or ow < 1:
        raise low.fail(f"the padding leaves an empty {oh}x{ow} output")
    o, cg = og * group, c // group
    # [C, O/g, KH, KW] = [g, C/g, O/g, KH, KW] -> [g, O/g, KH, KW, C/g] = OHWI of O = g * O/g outputs
    ohwi = weight.reshape(group, cg, og, kh, kw).transpose(0, 2, 3, 4, 1).reshape(o, kh, kw, cg)
    bias = None
    if optional_input(node, 2):
        b = np.asarray(low.const_input(node, 2, "the bias B")).reshape(-1)
        if b.dtype != np.float32 or b.shape != (o,):
            raise low.fail(f"bias B is {b.dtype} with {b.size} values; need float32 with {o}")
        bias = low.const_tensor(b)
    y = low.new_tensor(Kind.ACTIVATION, (oh, ow, o))
    params = conv_attrs(strides, pads, dilations, group)
    params = {k: params[k] for k in params if not k.startswith("act")}
    params.update(output_pad_h=out_pad[0], output_pad_w=out_pad[1])
    low.emit("CONV_TRANSPOSE_2D", [x, low.const_tensor(np.ascontiguousarray(ohwi)), bias], [y], params)
    if one_d:  # stored [1, OW, O]: the logical [O, OW] in order (0, 2, 1)
        low.values[node.output[0]] = View(low.materialize(View(y, (ow, o), (0, 1, 2))), (o, ow), (0, 2, 1))
    else:
        low.values[node.output[0]] = View(y, (o, oh, ow), (0, 2, 3, 1))


def _height_one(a: dict) -> dict:
    """1-D ConvTranspose attributes as those of a 2-D one over an input of height 1."""
    out = dict(a)
    for name, height in (("strides", 1), ("dilations", 1), ("kernel_shape", 1), ("output_padding", 0)):
        if name in a:
            out[name] = [height, *a[name]]
    if "pads" in a:
        out["pads"] = [0, a["pads"][0], 0, a["pads"][1]] if len(a["pads"]) == 2 else a["pads"]
    if "output_shape" in a:
        out["output_shape"] = [1, *list(a["output_shape"])[-1:]]
    return out

"""Int8 forms of the ops against onnxruntime, bit for bit, on QDQ models as quantize_static writes
them.

Each case builds a small FLOAT model with onnx.helper, quantizes it with onnxruntime's
`quantize_static` (QDQ, int8 weights per channel, reduce range, the settings of
export/quantize.py) and compiles it. export/quantize.py itself is not used: it takes
(N, 28, 28, 1) images only and int8 activations, and with int8 activations onnxruntime 1.32
fuses nothing around a tensor read twice (a residual Add or a Concat runs as DequantizeLinear
-> float Conv -> QuantizeLinear, see test_int8_activations_leave_branches_unfused), so the
branching cases use uint8 activations, as onnxruntime runs QDQ int8 models on x86 (docs/numerics.md).

The native output is compared with onnxruntime at its default optimisation level, and the
test checks which kernel onnxruntime fused (QLinearAdd, QLinearGlobalAveragePool, ...) so it
knows what it compared with. Outputs are the DequantizeLinear of the last quantized tensor:
equal floats mean equal int8 codes. Shapes and attributes come from hypothesis (odd sizes,
padding, ceil_mode, strides larger than the kernel). The exact rules on the QLinear ops
themselves: test_ops_int8_rules.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ort_compare import INT8_OPSET, assert_bit_exact, make_model, node, optimized_ops, run_native

from edgecnn.export.compiler import CompileError, compile_model

F32 = np.float32
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CALIBRATION_SAMPLES = 16


def quantized_model(rng, nodes, inits: dict, in_shape, op_types, *, uint8: bool = True, qoperator: bool = False):
    """The float model of `nodes` quantized by onnxruntime's quantize_static, QDQ (or QOperator:
    com.microsoft QLinear* nodes written by the quantizer itself), with export/quantize.py's
    weight settings, calibrated on CALIBRATION_SAMPLES inputs(rng, in_shape)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = make_model(nodes, in_shape, inits, opset=INT8_OPSET)
    calibration = inputs(rng, in_shape, CALIBRATION_SAMPLES)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": calibration[i : i + 8]} for i in range(0, len(calibration), 8)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "f.onnx", Path(tmp) / "q.onnx"
        onnx.save(model, src)
        quantize_static(
            str(src),
            str(dst),
            Reader(),
            op_types_to_quantize=list(op_types),
            quant_format=QuantFormat.QOperator if qoperator else QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8 if uint8 else QuantType.QInt8,
            weight_type=QuantType.QInt8,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )
        return onnx.load(dst)


def inputs(rng, shape, n=6) -> np.ndarray:
    """Random inputs, a few far outside the calibrated range (saturation at both ends)."""
    x = rng.standard_normal((n, *shape)).astype(F32)
    x[0] *= 4.0
    return x


def conv_node(x, w, y, **attrs):
    return node("Conv", [x, w], [y], **attrs)


def weights(rng, o, c, k=3):
    return (rng.standard_normal((o, c, k, k)) * 0.4).astype(F32)


def residual_block(rng, c, relu_after: bool):
    """(nodes, weights) of conv -> relu -> conv, added to the first relu's output (a ResNet block)."""
    nodes = [
        conv_node("x", "w1", "a", pads=[1, 1, 1, 1]),
        node("Relu", ["a"], ["r"]),
        conv_node("r", "w2", "b", pads=[1, 1, 1, 1]),
        node("Add", ["r", "b"], ["s" if relu_after else "y"]),
    ]
    if relu_after:
        nodes.append(node("Relu", ["s"], ["y"]))
    return nodes, {"w1": weights(rng, c, c), "w2": weights(rng, c, c)}


@PROPERTY
@given(
    c=st.integers(1, 5), h=st.integers(1, 9), w=st.integers(1, 9), relu_after=st.booleans(), seed=st.integers(0, 999)
)
def test_residual_add(c, h, w, relu_after, seed):
    rng = np.random.default_rng(seed)
    model = quantized_model(rng, *residual_block(rng, c, relu_after), (c, h, w), ["Conv", "Relu", "Add"])
    ops = optimized_ops(model)
    assert ops["QLinearAdd"] == 1 and ops["QLinearConv"] == 2, f"onnxruntime did not fuse the block: {ops}"
    assert_bit_exact(model, inputs(rng, (c, h, w)), f"residual add c={c} {h}x{w}")


def test_int8_activations_leave_branches_unfused():
    """Why the branching cases use uint8: with int8 activations onnxruntime 1.32 (x86) runs a
    residual block in float (DequantizeLinear -> Conv -> QuantizeLinear), which no int8 kernel
    matches bit for bit. If this starts failing, onnxruntime changed: revisit the notes."""
    rng = np.random.default_rng(3)
    model = quantized_model(rng, *residual_block(rng, 3, False), (3, 5, 5), ["Conv", "Relu", "Add"], uint8=False)
    ops = optimized_ops(model)
    assert ops["Conv"] == 2 and ops["Add"] == 1 and not ops["QLinearConv"], ops


@PROPERTY
@given(c=st.integers(1, 6), h=st.integers(1, 9), w=st.integers(1, 9), uint8=st.booleans(), seed=st.integers(0, 999))
def test_global_average_pool(c, h, w, uint8, seed):
    rng = np.random.default_rng(seed)
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node("GlobalAveragePool", ["a"], ["y"])]
    model = quantized_model(
        rng, nodes, {"w1": weights(rng, c, 2)}, (2, h, w), ["Conv", "GlobalAveragePool"], uint8=uint8
    )
    assert optimized_ops(model)["QLinearGlobalAveragePool"] == 1, optimized_ops(model)
    assert_bit_exact(model, inputs(rng, (2, h, w), 64), f"global average pool c={c} {h}x{w}")


@st.composite
def pool_geometry(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pads = [draw(st.integers(0, k - 1)) for k in (kh, kw, kh, kw)]
    h = draw(st.integers(max(1, kh - pads[0] - pads[2]), 9))
    w = draw(st.integers(max(1, kw - pads[1] - pads[3]), 9))
    strides = [draw(st.integers(1, 5)), draw(st.integers(1, 5))]  # strides larger than the kernel too
    return dict(
        kernel_shape=[kh, kw],
        pads=pads,
        strides=strides,
        ceil_mode=draw(st.integers(0, 1)),
        count_include_pad=draw(st.integers(0, 1)),
    ), (h, w)


@PROPERTY
@given(geometry=pool_geometry(), uint8=st.booleans(), seed=st.integers(0, 999))
def test_average_pool(geometry, uint8, seed):
    attrs, (h, w) = geometry
    rng = np.random.default_rng(seed)
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node("AveragePool", ["a"], ["y"], **attrs)]
    model = quantized_model(rng, nodes, {"w1": weights(rng, 3, 2)}, (2, h, w), ["Conv", "AveragePool"], uint8=uint8)
    ops = optimized_ops(model)
    assert ops["QLinearAveragePool"] == 1, ops
    assert_bit_exact(model, inputs(rng, (2, h, w), 32), f"average pool {attrs} on {h}x{w}")


@PROPERTY
@given(
    c=st.integers(1, 4),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    op=st.sampled_from(["Sigmoid", "LeakyRelu"]),
    uint8=st.booleans(),
    seed=st.integers(0, 999),
)
def test_lookup_table_activations(c, h, w, op, uint8, seed):
    rng = np.random.default_rng(seed)
    attrs = {"alpha": float(rng.uniform(0.01, 0.5))} if op == "LeakyRelu" else {}
    nodes = [conv_node("x", "w1", "a", pads=[0, 1, 2, 1]), node(op, ["a"], ["y"], **attrs)]
    model = quantized_model(rng, nodes, {"w1": weights(rng, c, 2)}, (2, h, w), ["Conv", op], uint8=uint8)
    ops = optimized_ops(model)
    assert ops["QLinear" + op] == 1, ops
    assert_bit_exact(model, inputs(rng, (2, h, w)), f"{op} {attrs} c={c} {h}x{w}")


@PROPERTY
@given(c1=st.integers(1, 5), c2=st.integers(1, 5), h=st.integers(1, 8), w=st.integers(1, 8), seed=st.integers(0, 999))
def test_concat_requantizes_each_input(c1, c2, h, w, seed):
    """Two convs of one input joined on channels: their quantizations differ, QLinearConcat
    requantizes each to the output's."""
    rng = np.random.default_rng(seed)
    nodes = [
        conv_node("x", "w1", "a", pads=[1, 1, 1, 1]),
        conv_node("x", "w2", "b", pads=[1, 1, 1, 1]),
        node("Concat", ["a", "b"], ["y"], axis=1),
    ]
    inits = {"w1": weights(rng, c1, 3), "w2": (weights(rng, c2, 3) * 3).astype(F32)}
    model = quantized_model(rng, nodes, inits, (3, h, w), ["Conv", "Concat"])
    ops = optimized_ops(model)
    assert ops["QLinearConcat"] == 1, ops
    assert_bit_exact(model, inputs(rng, (3, h, w)), f"concat {c1}+{c2} {h}x{w}")


@PROPERTY
@given(
    c=st.integers(1, 4),
    mult=st.integers(1, 2),
    groups_of=st.integers(1, 3),
    h=st.integers(3, 9),
    w=st.integers(3, 9),
    stride=st.integers(1, 2),
    uint8=st.booleans(),
    seed=st.integers(0, 999),
)
def test_grouped_and_depthwise_conv(c, mult, groups_of, h, w, stride, uint8, seed):
    """group = C / groups_of input channels per group (groups_of 1: depthwise), mult outputs per group."""
    rng = np.random.default_rng(seed)
    cin = c * groups_of
    nodes = [conv_node("x", "w1", "y", group=c, pads=[1, 1, 1, 1], strides=[stride, stride])]
    model = quantized_model(rng, nodes, {"w1": weights(rng, c * mult, groups_of)}, (cin, h, w), ["Conv"], uint8=uint8)
    assert optimized_ops(model)["QLinearConv"] == 1
    assert_bit_exact(model, inputs(rng, (cin, h, w)), f"conv group={c} cin={cin} out={c * mult} {h}x{w}")


@pytest.mark.parametrize("uint8", [True, False])
def test_relu6_clip_folds_into_the_output_range(uint8):
    """Conv -> Clip(0, 6): the quantizer calibrates [0, 6] and drops the Clip; the output
    quantization's saturation is the clip."""
    rng = np.random.default_rng(7)
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node("Clip", ["a", "lo", "hi"], ["y"])]
    inits = {"w1": (weights(rng, 4, 3) * 4).astype(F32), "lo": F32(0), "hi": F32(6)}
    model = quantized_model(rng, nodes, inits, (3, 6, 7), ["Conv", "Clip"], uint8=uint8)
    ops = optimized_ops(model)
    assert ops["QLinearConv"] == 1 and not ops["Clip"], ops
    y = run_native(model, inputs(rng, (3, 6, 7)))
    assert y.min() >= 0 and y.max() <= 6.0 + 1e-6 and y.max() > 5.9
    assert_bit_exact(model, inputs(rng, (3, 6, 7)), "conv + relu6")


@PROPERTY
@given(
    pads=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    uint8=st.booleans(),
    seed=st.integers(0, 999),
)
def test_pad_on_codes(pads, h, w, uint8, seed):
    """onnxruntime runs DQ -> Pad -> Q in float: the codes move, the padding is Q(0)."""
    rng = np.random.default_rng(seed)
    all_pads = np.array([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], np.int64)
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node("Pad", ["a", "p"], ["b"]), conv_node("b", "w2", "y")]
    inits = {"w1": weights(rng, 3, 2), "w2": weights(rng, 2, 3, k=1), "p": all_pads}
    model = quantized_model(rng, nodes, inits, (2, h, w), ["Conv", "Pad"], uint8=uint8)
    assert optimized_ops(model)["QLinearConv"] == 2
    assert_bit_exact(model, inputs(rng, (2, h, w)), f"pad {pads} on {h}x{w}")


@PROPERTY
@given(c=st.integers(1, 5), h=st.integers(1, 8), w=st.integers(1, 8), seed=st.integers(0, 999))
def test_mul_of_two_branches(c, h, w, seed):
    """conv(x) * conv'(x) (e.g. a gate): QLinearMul."""
    rng = np.random.default_rng(seed)
    nodes = [
        conv_node("x", "w1", "a", pads=[1, 1, 1, 1]),
        conv_node("x", "w2", "b", pads=[1, 1, 1, 1]),
        node("Mul", ["a", "b"], ["y"]),
    ]
    model = quantized_model(
        rng, nodes, {"w1": weights(rng, c, 2), "w2": weights(rng, c, 2)}, (2, h, w), ["Conv", "Mul"]
    )
    ops = optimized_ops(model)
    assert ops["QLinearMul"] == 1, ops
    assert_bit_exact(model, inputs(rng, (2, h, w)), f"mul c={c} {h}x{w}")


@pytest.mark.parametrize("op", ["Add", "Mul"])
@pytest.mark.parametrize("const_first", [False, True])
@pytest.mark.parametrize("per_channel", [True, False])
def test_add_mul_by_a_constant(op, const_first, per_channel):
    """conv(x) + k / conv(x) * k with k per channel (1, C, 1, 1) or a scalar: onnxruntime fuses
    QLinearAdd / QLinearMul with a constant operand (uint8). A constant FIRST operand of Add is
    refused with a clear error: onnxruntime's scalar-A kernel rounds its fixed part differently."""
    rng = np.random.default_rng(17)
    k = rng.uniform(-2, 2, (1, 4, 1, 1) if per_channel else ()).astype(F32)
    ins = ["k", "a"] if const_first else ["a", "k"]
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node(op, ins, ["y"])]
    model = quantized_model(rng, nodes, {"w1": weights(rng, 4, 3), "k": k}, (3, 5, 6), ["Conv", op])
    ops = optimized_ops(model)
    assert ops["QLinear" + op] == 1, ops
    what = f"{op} by a {'per-channel' if per_channel else 'scalar'} constant{' (first)' if const_first else ''}"
    if op == "Add" and const_first:
        with pytest.raises(CompileError, match="constant as its first operand"):
            run_native(model, inputs(rng, (3, 5, 6)))
        return
    assert_bit_exact(model, inputs(rng, (3, 5, 6), 16), what)


@PROPERTY
@given(
    c=st.integers(1, 5),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    op=st.sampled_from(["Mul", "Add"]),
    gate_first=st.booleans(),
    seed=st.integers(0, 999),
)
def test_squeeze_excitation_broadcast(c, h, w, op, gate_first, seed):
    """x * sigmoid(conv(GAP(x))): the gate (N, C, 1, 1) broadcast per sample (QLinearMul; also
    Add). A gate as the FIRST operand of an Add is refused (onnxruntime's scalar-A kernel)."""
    rng = np.random.default_rng(seed)
    ins = ["g", "a"] if gate_first else ["a", "g"]
    nodes = [
        conv_node("x", "w1", "a", pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["a"], ["p"]),
        conv_node("p", "w2", "q"),
        node("Sigmoid", ["q"], ["g"]),
        node(op, ins, ["y"]),
    ]
    inits = {"w1": weights(rng, c, 2), "w2": weights(rng, c, c, k=1)}
    model = quantized_model(rng, nodes, inits, (2, h, w), ["Conv", "GlobalAveragePool", "Sigmoid", op])
    ops = optimized_ops(model)
    assert ops["QLinear" + op] == 1, ops
    if op == "Add" and gate_first and h * w > 1:
        with pytest.raises(CompileError, match="second operand broadcast"):
            run_native(model, inputs(rng, (2, h, w)))
        return
    assert_bit_exact(model, inputs(rng, (2, h, w)), f"{op} gate c={c} {h}x{w} gate_first={gate_first}")


def test_int8_softmax_is_refused_clearly():
    """DQ -> Softmax -> Q: onnxruntime runs QLinearSoftmax (an exp() table that depends on the C
    library): refused with a message saying to keep the Softmax in float."""
    rng = np.random.default_rng(15)
    nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node("Softmax", ["a"], ["y"], axis=1)]
    model = quantized_model(rng, nodes, {"w1": weights(rng, 4, 2)}, (2, 4, 4), ["Conv", "Softmax"])
    assert optimized_ops(model)["QLinearSoftmax"] == 1
    with pytest.raises(CompileError, match=r"Softmax on int8 values.*nodes_to_exclude"):
        run_native(model, inputs(rng, (2, 4, 4)))


@pytest.mark.parametrize("uint8", [True, False])
def test_qoperator_format_network(uint8):
    """quantize_static in QOperator format writes the com.microsoft QLinear* nodes itself: a
    residual block, a channel concat, Sigmoid, AveragePool and GlobalAveragePool."""
    rng = np.random.default_rng(16)
    nodes = [
        conv_node("x", "w1", "a", pads=[1, 1, 1, 1]),
        node("Relu", ["a"], ["r"]),
        conv_node("r", "w2", "b", pads=[1, 1, 1, 1]),
        node("Add", ["r", "b"], ["s"]),
        conv_node("s", "w3", "c", pads=[1, 1, 1, 1]),
        node("Concat", ["s", "c"], ["cc"], axis=1),
        node("Sigmoid", ["cc"], ["g"]),
        node("AveragePool", ["g"], ["p"], kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
        node("GlobalAveragePool", ["p"], ["y"]),
    ]
    inits = {"w1": weights(rng, 4, 3), "w2": weights(rng, 4, 4), "w3": weights(rng, 2, 4)}
    ops = ["Conv", "Relu", "Add", "Concat", "Sigmoid", "AveragePool", "GlobalAveragePool"]
    model = quantized_model(rng, nodes, inits, (3, 7, 6), ops, uint8=uint8, qoperator=True)
    written = {n.op_type for n in model.graph.node}
    assert {
        "QLinearConv",
        "QLinearAdd",
        "QLinearConcat",
        "QLinearSigmoid",
        "QLinearAveragePool",
        "QLinearGlobalAveragePool",
    } <= written, written
    assert_bit_exact(model, inputs(rng, (3, 7, 6)), f"QOperator network uint8={uint8}")


@pytest.mark.parametrize("op", ["HardSigmoid", "HardSwish", "Tanh"])
def test_activations_onnxruntime_runs_in_float(op):
    """onnxruntime keeps these between DequantizeLinear and QuantizeLinear in float (HardSwish as
    HardSigmoid * x); the compiler folds the three into one int8 ACTIVATION whose table applies the
    same float operations to each code. HardSigmoid / HardSwish are the same float32 operations as
    onnxruntime's; Tanh uses tanhf where onnxruntime uses MLAS's polynomial, so equality of the
    codes is checked, not proven."""
    compared = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        nodes = [conv_node("x", "w1", "a", pads=[1, 1, 1, 1]), node(op, ["a"], ["y"])]
        model = quantized_model(
            rng, nodes, {"w1": (weights(rng, 4, 2) * 3).astype(F32)}, (2, 9, 11), ["Conv", op], uint8=bool(seed % 2)
        )
        ops = optimized_ops(model)
        assert ops["QLinearConv"] == 1 and not any(k.startswith("QLinear" + op) for k in ops), ops
        native_ops = [row.op for row in compile_model(model)[1].layers]
        assert native_ops.count("DEQUANTIZE") == 1 and any(
            row.startswith("ACTIVATION") and row.endswith("int8") for row in native_ops
        ), native_ops
        compared += assert_bit_exact(model, inputs(rng, (2, 9, 11), 32), f"{op} seed={seed}")
    assert compared == 4 * 32 * 4 * 9 * 11

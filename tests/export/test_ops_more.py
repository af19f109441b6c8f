"""PRelu, ConvTranspose, Resize, ConvInteger and MatMulInteger (issue 17's op coverage): each
compiled to .ecnn and run by the native runtime, against onnxruntime on tiny graphs drawn by
hypothesis (floats within 1e-5 of onnxruntime relative to the output's scale, as
tests/ort_compare.check_float; the integer ops' int32 outputs identical); then the ONNX backend
node cases of these ops, built in memory by `onnx.backend.test.case.node.collect_testcases()`:
every case compiles and matches the case's expected output at the case's tolerance, or is
refused with the message listed in REFUSED."""

import numpy as np
import pytest
from needs import need

onnx = need("onnx")
ort = need("onnxruntime")
hypothesis = need("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
from onnx_backend import claimed_cases, run_case  # noqa: E402
from ort_compare import FLOAT_SETTINGS as SETTINGS  # noqa: E402
from ort_compare import assert_bit_exact, assert_onnxruntime_agrees, grouped_convs, make_model, rand  # noqa: E402
from ort_compare import check_float as check  # noqa: E402

from edgecnn.export.artifacts import ort_session  # noqa: E402
from edgecnn.export.compiler import CompileError, compile_model  # noqa: E402
from edgecnn.runtime import Model  # noqa: E402

# ---------------------------------------------------------------------------------------
# PRelu


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    slope_kind=st.sampled_from(["scalar", "channel", "trailing", "full"]),
)
def test_prelu(shape, slope_kind):
    c = shape[0]
    slope_shape = {
        "scalar": (1,),
        "channel": (c,) + (1,) * (len(shape) - 1),
        "trailing": (shape[-1],),
        "full": tuple(shape),
    }[slope_kind]
    model = make_model([helper.make_node("PRelu", ["x", "s"], ["y"])], tuple(shape), [("s", rand(slope_shape, 1))])
    check(model, rand((2, *shape), 2), reference=True)


def test_prelu_after_conv_runs_on_the_nhwc_layout():
    """A per-channel slope on a conv output (stored NHWC) is one value per innermost channel."""
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node("PRelu", ["c", "s"], ["y"])]
    inits = [("W", rand((4, 3, 3, 3), 1)), ("s", rand((4, 1, 1), 2))]
    _, report = check(make_model(nodes, (3, 6, 6), inits), rand((2, 3, 6, 6), 3), reference=True)
    assert "PRELU" in [r.op for r in report.layers]


def test_prelu_refuses_a_runtime_slope():
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["s"]), helper.make_node("PRelu", ["x", "s"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    with pytest.raises(CompileError, match=r"PRelu.*the slope \(input 1.*must be a constant"):
        compile_model(model)


# ---------------------------------------------------------------------------------------
# ConvTranspose


@SETTINGS
@given(
    data=st.data(),
    conv=grouped_convs(size=6, groups=3, kernel=4, stride=3, dilation=2),
    form=st.sampled_from(["pads", "SAME_UPPER", "SAME_LOWER", "VALID", "output_shape"]),
    bias=st.booleans(),
)
def test_conv_transpose(data, conv, form, bias):
    h, w, groups, cg, og, kh, kw, sh, sw, dh, dw = conv
    c, o = groups * cg, groups * og
    attrs = dict(strides=[sh, sw], dilations=[dh, dw], group=groups)
    full = (sh * (h - 1) + dh * (kh - 1) + 1, sw * (w - 1) + dw * (kw - 1) + 1)
    # onnxruntime needs output_padding < stride or < dilation
    out_pad = [data.draw(st.integers(0, max(sh, dh) - 1)), data.draw(st.integers(0, max(sw, dw) - 1))]
    if form == "pads":
        pads = [data.draw(st.integers(0, 3)) for _ in range(4)]
        hypothesis.assume(
            full[0] + out_pad[0] - pads[0] - pads[2] >= 1 and full[1] + out_pad[1] - pads[1] - pads[3] >= 1
        )
        attrs.update(pads=pads, output_padding=out_pad)
    elif form == "output_shape":  # with explicit (zero) pads: the output is cut or extended at the end
        attrs["output_shape"] = [full[0] + out_pad[0], full[1] + out_pad[1]]
    elif form.startswith("SAME"):
        attrs["auto_pad"] = form
        hypothesis.assume(full[0] >= h * sh and full[1] >= w * sw)  # no negative leading pad
    else:
        attrs["auto_pad"] = form
    inputs = ["x", "W"] + (["B"] if bias else [])
    inits = [("W", rand((c, og, kh, kw), 1))] + ([("B", rand((o,), 2))] if bias else [])
    model = make_model([helper.make_node("ConvTranspose", inputs, ["y"], **attrs)], (c, h, w), inits)
    check(model, rand((2, c, h, w), 3), reference=True)


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"strides": [3], "pads": [1, 2], "output_padding": [1], "dilations": [2], "group": 2},
        {"auto_pad": "SAME_UPPER", "strides": [2]},
        {"auto_pad": "SAME_LOWER", "strides": [2]},
        {"output_shape": [14], "strides": [2]},
    ],
)
def test_conv_transpose_1d(attrs):
    group = attrs.get("group", 1)
    inits = [("W", rand((4, 3, 3), 1)), ("B", rand((3 * group,), 2))]
    model = make_model([helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], **attrs)], (4, 6), inits)
    check(model, rand((2, 4, 6), 3), reference=True)


def test_conv_transpose_refuses_int_weights():
    inits = [("W", np.ones((2, 2, 3, 3), np.int8))]
    model = make_model([helper.make_node("ConvTranspose", ["x", "W"], ["y"])], (2, 4, 4), inits)
    with pytest.raises(CompileError, match=r"ConvTranspose.*need float32"):
        compile_model(model)


# ---------------------------------------------------------------------------------------
# Resize

COORDS = [
    "half_pixel",
    "align_corners",
    "asymmetric",
    "pytorch_half_pixel",
    "half_pixel_symmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


@SETTINGS
@given(
    data=st.data(),
    c=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    mode=st.sampled_from(["nearest", "linear", "cubic"]),
    coord=st.sampled_from(COORDS),
    nearest_mode=st.sampled_from(NEAREST_MODES),
    by_sizes=st.booleans(),
)
def test_resize(data, c, h, w, mode, coord, nearest_mode, by_sizes):
    attrs = dict(mode=mode, coordinate_transformation_mode=coord, nearest_mode=nearest_mode)
    if mode == "cubic":
        attrs.update(
            cubic_coeff_a=data.draw(st.sampled_from([-0.75, -0.5])), exclude_outside=data.draw(st.integers(0, 1))
        )
    roi = [("roi", np.float32([0, 0, 0.2, 0.1, 1, 1, 0.9, 1.2]))] if coord == "tf_crop_and_resize" else []
    if roi:
        attrs["extrapolation_value"] = 7.0
    if by_sizes:
        # constant sizes name the batch too: a batch-1 model (a dynamic batch gets scales or computed sizes)
        sizes = np.int64([1, c, data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))])
        inputs, inits = ["x", "roi" if roi else "", "", "sizes"], [("sizes", sizes), *roi]
    else:
        scales = [data.draw(st.sampled_from([0.5, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0])) for _ in range(2)]
        if coord == "align_corners":  # a fractional output size is refused (see test_resize_refusals)
            hypothesis.assume(all(float(np.float32(s) * np.float32(n)).is_integer() for s, n in zip(scales, (h, w))))
        hypothesis.assume(int(np.float32(scales[0]) * h) >= 1 and int(np.float32(scales[1]) * w) >= 1)
        inputs, inits = ["x", "roi" if roi else "", "scales"], [("scales", np.float32([1, 1, *scales])), *roi]
    if coord == "tf_half_pixel_for_nn":  # one axis of scale 1 is refused (see test_resize_refusals)
        kept = sizes[2:] == (h, w) if by_sizes else np.float32(scales) == 1
        hypothesis.assume(not any(kept) or all(kept))
    batch = 1 if by_sizes else "N"
    model = make_model([helper.make_node("Resize", inputs, ["y"], **attrs)], (c, h, w), inits, batch=batch)
    check(model, rand((1 if by_sizes else 2, c, h, w), 3), reference=True)


@SETTINGS
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    scales=st.tuples(st.sampled_from([0.5, 1.5, 2.0, 3.0]), st.sampled_from([0.5, 1.0, 2.5])),
    coord=st.sampled_from(COORDS[:-1]),
    nearest_mode=st.sampled_from(NEAREST_MODES),
    zp_type=st.sampled_from([np.uint8, np.int8]),
)
def test_resize_nearest_on_int8_codes(h, w, scales, coord, nearest_mode, zp_type):
    """Between QuantizeLinear and DequantizeLinear, nearest Resize selects codes: bit for bit."""
    hypothesis.assume(int(np.float32(scales[0]) * h) >= 1 and int(np.float32(scales[1]) * w) >= 1)
    if coord == "align_corners":
        hypothesis.assume(all(float(np.float32(s) * np.float32(n)).is_integer() for s, n in zip(scales, (h, w))))
    if coord == "tf_half_pixel_for_nn":
        hypothesis.assume(1.0 not in scales)
    attrs = dict(mode="nearest", coordinate_transformation_mode=coord, nearest_mode=nearest_mode)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("Resize", ["q", "", "scales"], ["r"], **attrs),
        helper.make_node("DequantizeLinear", ["r", "s", "z"], ["y"]),
    ]
    inits = [("s", np.float32(0.05)), ("z", zp_type(3)), ("scales", np.float32([1, 1, *scales]))]
    model = make_model(nodes, (2, h, w), inits, opset=17)
    _, report = compile_model(model)
    assert any(r.op.startswith("RESIZE_2D") and r.op.endswith(np.dtype(zp_type).name) for r in report.layers)
    assert_bit_exact(model, rand((2, 2, h, w), 1), "nearest Resize on codes")


def test_resize_linear_on_int8_codes_is_refused():
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("Resize", ["q", "", "scales"], ["r"], mode="linear"),
        helper.make_node("DequantizeLinear", ["r", "s", "z"], ["y"]),
    ]
    inits = [("s", np.float32(0.05)), ("z", np.uint8(3)), ("scales", np.float32([1, 1, 2, 2]))]
    with pytest.raises(CompileError, match="Resize linear of int8 values is not supported"):
        compile_model(make_model(nodes, (2, 4, 4), inits, opset=17))


@pytest.mark.parametrize(
    ("attrs", "scales", "message"),
    [
        ({"mode": "cubic", "antialias": 1}, [1, 1, 0.5, 0.5], "antialias when downsampling is not supported"),
        ({"coordinate_transformation_mode": "tf_crop_and_resize"}, [1, 1, 2, 2], "needs the roi input"),
        ({}, [1, 2, 2, 2], "change the batch or channel axis"),
        ({"coordinate_transformation_mode": "tf_half_pixel_for_nn"}, [1, 1, 1, 2], "disagree"),
        ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, [1, 1, 0.6, 0.6], "disagree"),
    ],
)
def test_resize_refusals(attrs, scales, message):
    inits = [("scales", np.float32(scales))]
    model = make_model([helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)], (2, 4, 4), inits)
    with pytest.raises(CompileError, match=message):
        compile_model(model)


# ---------------------------------------------------------------------------------------
# ConvInteger, MatMulInteger (integer ops: identical to onnxruntime)

CODE_TYPES = {np.uint8: onnx.TensorProto.UINT8, np.int8: onnx.TensorProto.INT8}


def codes(shape, dtype, seed):
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max + 1, shape).astype(dtype)


def check_integer(nodes, x, inits, oracle="onnxruntime"):
    """Compile, run natively, and compare element for element (int32 output) with the ONNX
    reference implementation (exact integer sums), and that with onnxruntime (oracle
    "onnxruntime"; not for what it does not run: ConvInteger with a zero point per output
    channel), which is exact where its u8 x s8 kernels do not saturate."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", CODE_TYPES[x.dtype.type], ["N", *x.shape[1:]])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, None)],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    from onnx.reference import ReferenceEvaluator

    want = ReferenceEvaluator(model).run(None, {"x": x})[0]  # int32 sums: exact integer math
    if oracle == "onnxruntime":
        assert_onnxruntime_agrees(ort_session(model).run(None, {"x": x})[0], want, nodes[0].op_type)
    blob, _ = compile_model(model)
    for reference in (False, True):
        got = Model.from_bytes(blob).predict(x, reference=reference)
        assert got.dtype == np.int32 and got.shape == want.shape, (got.dtype, got.shape, want.shape)
        np.testing.assert_array_equal(got, want)


@SETTINGS
@given(
    data=st.data(),
    conv=grouped_convs(size=7, groups=2, kernel=3, stride=3, dilation=2),
    x_type=st.sampled_from([np.uint8, np.int8]),
    w_type=st.sampled_from([np.uint8, np.int8]),
    w_zp_per_channel=st.booleans(),
)
def test_conv_integer(data, conv, x_type, w_type, w_zp_per_channel):
    h, w, groups, cg, og, kh, kw, sh, sw, dh, dw = conv
    c, o = groups * cg, groups * og
    pads = [data.draw(st.integers(0, 2)) for _ in range(4)]
    hypothesis.assume(dh * (kh - 1) + 1 <= h + pads[0] + pads[2] and dw * (kw - 1) + 1 <= w + pads[1] + pads[3])
    attrs = dict(pads=pads, strides=[sh, sw], dilations=[dh, dw], group=groups)
    inits = [
        ("w", codes((o, cg, kh, kw), w_type, 1)),
        ("xz", codes((), x_type, 2)),
        ("wz", codes((o,) if w_zp_per_channel else (), w_type, 3)),
    ]
    node = helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], **attrs)
    oracle = "onnx.reference" if w_zp_per_channel else "onnxruntime"  # onnxruntime: per-tensor only
    check_integer([node], codes((2, c, h, w), x_type, 4), inits, oracle)


@SETTINGS
@given(
    rows=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    k=st.integers(1, 40),
    n=st.integers(1, 9),
    a_type=st.sampled_from([np.uint8, np.int8]),
    b_type=st.sampled_from([np.uint8, np.int8]),
    zero_points=st.sampled_from(["none", "scalar", "per_column"]),
)
def test_matmul_integer(rows, k, n, a_type, b_type, zero_points):
    inputs, inits = ["x", "b"], [("b", codes((k, n), b_type, 1))]
    if zero_points != "none":
        inputs += ["az", "bz"]
        inits += [("az", codes((), a_type, 2)), ("bz", codes((n,) if zero_points == "per_column" else (), b_type, 3))]
    node = helper.make_node("MatMulInteger", inputs, ["y"])
    check_integer([node], codes((2, *rows, k), a_type, 4), inits)


def test_matmul_integer_refuses_a_per_row_zero_point():
    inits = [("b", codes((4, 3), np.uint8, 1)), ("az", codes((5,), np.uint8, 2))]
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "b", "az"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.UINT8, ["N", 5, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, None)],
        initializer=[numpy_helper.from_array(a, n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(CompileError, match=r"a_zero_point .* need one uint8 value"):
        compile_model(model)


# ---------------------------------------------------------------------------------------
# QLinearConv / QLinearMatMul reading the raw uint8/int8 graph input


def qlinear_on_graph_input(op: str, x_type, extra_reader: bool = False):
    """x (uint8/int8 graph input) -> op with its own x scale / zero point -> y (x's dtype)."""
    if op == "QLinearConv":
        shape, w = ["N", 3, 6, 6], codes((4, 3, 3, 3), np.int8, 1)
        inits = [("xs", np.float32(0.02)), ("xz", x_type(5)), ("w", w), ("ws", np.float32([0.01, 0.02, 0.03, 0.04]))]
        inits += [("wz", np.zeros(4, np.int8)), ("ys", np.float32(0.05)), ("yz", x_type(3))]
        node = helper.make_node(op, ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], pads=[1, 1, 1, 1])
    else:
        shape, w = ["N", 7], codes((7, 4), np.int8, 1)
        inits = [("xs", np.float32(0.02)), ("xz", x_type(5)), ("w", w), ("ws", np.float32(0.01))]
        inits += [("wz", np.int8(0)), ("ys", np.float32(0.05)), ("yz", x_type(3))]
        node = helper.make_node(op, ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"])
    nodes = [node]
    if extra_reader:  # the codes also read as plain numbers
        node.output[0] = "q"
        nodes += [
            helper.make_node("Cast", ["x"], ["f"], to=onnx.TensorProto.FLOAT),
            helper.make_node("DequantizeLinear", ["q", "ys", "yz"], ["d"]),
            helper.make_node("ReduceMean", ["f"], ["m"], keepdims=1),
            helper.make_node("Add", ["d", "m"], ["y"]),
        ]
    out_type = onnx.TensorProto.FLOAT if extra_reader else CODE_TYPES[x_type]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", CODE_TYPES[x_type], shape)],
        [helper.make_tensor_value_info("y", out_type, None)],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model, [2, *shape[1:]]


@pytest.mark.parametrize("op", ["QLinearConv", "QLinearMatMul"])
@pytest.mark.parametrize("x_type", [np.uint8, np.int8])
def test_qlinear_op_on_the_raw_graph_input(op, x_type):
    """The graph input takes the op's scale and zero point: bit for bit with onnxruntime."""
    model, shape = qlinear_on_graph_input(op, x_type)
    x = codes(shape, x_type, 2)
    want = qlinear_exact(model, x)
    assert_onnxruntime_agrees(ort_session(model).run(None, {"x": x})[0], want, op)
    got = Model.from_bytes(compile_model(model)[0]).predict(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def qlinear_exact(model, x: np.ndarray) -> np.ndarray:
    """tests/int8_reference.py's QLinearConv / QLinearMatMul on the one node of `model`."""
    import int8_reference as ref

    (node,) = model.graph.node
    value = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    xs, xz, w, ws, wz, ys, yz = (value[name] for name in node.input[1:])
    if node.op_type == "QLinearConv":
        pads = list(helper.get_attribute_value(next(a for a in node.attribute if a.name == "pads")))
        return ref.qlinear_conv(x, xs, xz, w, ws, wz, ys, yz, pads=(pads[0], pads[1], pads[2], pads[3]))
    return ref.qgemm(x, xs, xz, w, ws, wz, ys, yz)


def test_qlinear_op_on_a_graph_input_other_nodes_read_is_refused():
    """A Cast also reading the codes as plain numbers: the input cannot take the op's scale."""
    model, _ = qlinear_on_graph_input("QLinearConv", np.uint8, extra_reader=True)
    with pytest.raises(CompileError, match="differ from those its producer quantized it with"):
        compile_model(model)


# ---------------------------------------------------------------------------------------
# Threads and the load-time checks of the new native ops


def test_new_ops_give_the_same_bits_for_any_thread_count():
    """Each output row is computed whole by one tile: 1, 2, 3 and 7 threads give the same bytes."""
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W", "B"], ["t"], strides=[2, 2], pads=[1, 1, 0, 0]),
        helper.make_node("PRelu", ["t", "s"], ["p"]),
        helper.make_node("Resize", ["p", "", "scales"], ["y"], mode="cubic"),
    ]
    inits = [("W", rand((4, 6, 3, 3), 1)), ("B", rand((6,), 2)), ("s", rand((6, 1, 1), 3))]
    inits.append(("scales", np.float32([1, 1, 1.5, 1.5])))
    float_model = make_model(nodes, (4, 12, 12), inits)
    check(float_model, rand((2, 4, 12, 12), 4))
    conv_integer = helper.make_node("ConvInteger", ["x", "w", "xz"], ["y"], pads=[1, 1, 1, 1])
    integer_inits = [("w", codes((8, 4, 3, 3), np.int8, 1)), ("xz", np.uint8(9))]
    integer_graph = helper.make_graph(
        [conv_integer],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.UINT8, ["N", 4, 20, 20])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, None)],
        initializer=[numpy_helper.from_array(a, n) for n, a in integer_inits],
    )
    integer_model = helper.make_model(integer_graph, opset_imports=[helper.make_opsetid("", 13)])
    for model, x in [(float_model, rand((64, 4, 12, 12), 5)), (integer_model, codes((64, 4, 20, 20), np.uint8, 6))]:
        blob, _ = compile_model(model)
        for batch in (1, 7, 64):
            want = Model.from_bytes(blob, threads=1).predict(x[:batch])
            for threads in (2, 3, 7):
                got = Model.from_bytes(blob, threads=threads).predict(x[:batch])
                assert got.tobytes() == want.tobytes(), f"batch {batch}, {threads} threads"


def test_report_names_the_new_ops_and_counts_their_macs():
    nodes = [
        helper.make_node("ConvTranspose", ["x", "W"], ["t"], strides=[2, 2]),
        helper.make_node("PRelu", ["t", "s"], ["p"]),
        helper.make_node("Resize", ["p", "", "scales"], ["y"], mode="linear"),
    ]
    inits = [("W", rand((4, 3, 3, 3), 1)), ("s", rand((3, 1, 1), 2)), ("scales", np.float32([1, 1, 2, 2]))]
    _, report = compile_model(make_model(nodes, (4, 6, 6), inits))
    rows = {r.op: r for r in report.layers}
    assert {"CONV_TRANSPOSE_2D", "PRELU", "RESIZE_2D(linear)"} <= set(rows)
    assert rows["CONV_TRANSPOSE_2D"].macs == 6 * 6 * 4 * 3 * 3 * 3  # input pixels x taps x outputs
    assert rows["PRELU"].macs == 13 * 13 * 3


def with_param(blob: bytes, op_name: str, field: str, value: int) -> bytes:
    """The model with parameter `field` of its first `op_name` op set to the u32 `value` (CRC fixed)."""
    import struct
    import zlib

    from edgecnn.runtime.optable import OPS

    spec = OPS[op_name]
    data = bytearray(blob)
    num_ops, ops_offset = struct.unpack_from("<II", data, 28)
    pos = ops_offset
    for _ in range(num_ops):
        op_type, size, n_in, n_out = struct.unpack_from("<HHBB", data, pos)
        if op_type == spec.code:
            word = [f.name for f in spec.fields].index(field)
            struct.pack_into("<I", data, pos + 12 + 4 * ((n_in + n_out + 1) // 2) + 4 * word, value)
            struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
            return bytes(data)
        pos += size
    raise AssertionError(f"no {op_name} op")


@pytest.mark.parametrize(
    ("op_type", "op_name", "field", "value", "message"),
    [
        ("ConvTranspose", "CONV_TRANSPOSE_2D", "stride_h", 0, "stride, dilation and group must be >= 1"),
        ("ConvTranspose", "CONV_TRANSPOSE_2D", "output_pad_h", 3, "output height/width do not match"),
        ("ConvTranspose", "CONV_TRANSPOSE_2D", "group", 3, "weight shape does not match channels and group"),
        ("Resize", "RESIZE_2D", "mode", 7, "mode, coord, nearest_mode or exclude_outside out of range"),
        ("Resize", "RESIZE_2D", "scale_h", 0, "scales must be positive and finite"),
        ("ConvInteger", "CONV_INTEGER_2D", "x_zero_point", 300, "x_zero_point outside X's dtype"),
        ("ConvInteger", "CONV_INTEGER_2D", "pad_top", 1, "output height/width do not match"),
    ],
)
def test_corrupt_parameters_are_refused_at_load(op_type, op_name, field, value, message):
    from edgecnn.runtime.errors import EdgecnnError

    if op_type == "ConvTranspose":
        node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2])
        blob, _ = compile_model(make_model([node], (2, 4, 4), [("W", rand((2, 3, 3, 3), 1))]))
    elif op_type == "Resize":
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"])
        blob, _ = compile_model(make_model([node], (2, 4, 4), [("scales", np.float32([1, 1, 2, 2]))]))
    else:
        graph = helper.make_graph(
            [helper.make_node("ConvInteger", ["x", "w"], ["y"])],
            "g",
            [helper.make_tensor_value_info("x", onnx.TensorProto.UINT8, ["N", 2, 4, 4])],
            [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, None)],
            initializer=[numpy_helper.from_array(codes((3, 2, 2, 2), np.uint8, 1), "w")],
        )
        blob, _ = compile_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    Model.from_bytes(blob)  # the model as compiled loads
    with pytest.raises(EdgecnnError, match=message):
        Model.from_bytes(with_param(blob, op_name, field, value))


# ---------------------------------------------------------------------------------------
# The ONNX backend node cases of these ops (tests/onnx_backend.py runs them; the whole list,
# every claimed op, is docs/backend-tests.md)

BACKEND_OPS = ("PRelu", "ConvTranspose", "Resize", "ConvInteger", "MatMulInteger")
ANTIALIAS = "antialias when downsampling is not supported"
# Cases refused, with (a part of) the message; the reasons are in docs/models.md.
REFUSED = {
    "test_convtranspose_3d": "only ConvTranspose over one or two spatial axes",
    "test_resize_downsample_scales_linear_align_corners": "disagree",
    "test_resize_downsample_scales_cubic_align_corners": "disagree",
    "test_resize_downsample_scales_linear_antialias": ANTIALIAS,
    "test_resize_downsample_sizes_linear_antialias": ANTIALIAS,
    "test_resize_downsample_scales_cubic_antialias": ANTIALIAS,
    "test_resize_downsample_sizes_cubic_antialias": ANTIALIAS,
}
CASES = [(op, case) for op, case in claimed_cases() if op in BACKEND_OPS]


@pytest.mark.parametrize(("op", "case"), CASES, ids=[case.name for _, case in CASES])
def test_backend_case(op, case):
    outcome = run_case(op, case)
    if case.name in REFUSED:
        assert outcome.result == "refused" and REFUSED[case.name] in outcome.detail, outcome
    else:
        assert outcome.result == "passed", outcome


def test_backend_case_list_is_current():
    """Each op has backend cases, and every listed refusal names one of them (no stale entry)."""
    assert {op for op, _ in CASES} == set(BACKEND_OPS)
    assert set(REFUSED) <= {case.name for _, case in CASES}, set(REFUSED) - {case.name for _, case in CASES}

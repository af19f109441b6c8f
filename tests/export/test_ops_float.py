"""Float operator coverage (issue 6): each ONNX op and attribute compiled to .ecnn and run by the
native runtime, against onnxruntime on the same tiny graph (built here with onnx.helper).

Tolerance: |native - onnxruntime| <= 1e-5 * max(1, max|onnxruntime|) (relative to the output's
scale; the largest difference is printed on failure). Hypothesis generates shapes and attributes
(odd sizes, padding larger than the kernel, strides larger than the kernel, ceil_mode edge cases,
groups / depthwise, auto_pad variants)."""

import numpy as np
import pytest
from needs import need

onnx = need("onnx")
ort = need("onnxruntime")
hypothesis = need("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgecnn.export.compiler import CompileError, compile_model, explain_model  # noqa: E402
from edgecnn.runtime import Model  # noqa: E402

RTOL = 1e-5
OPSET = 19  # AveragePool dilations (opset 19) and the newest forms of the other ops
# Enough examples to reach the edge cases, few enough to keep the file well under a minute;
# derandomized so CI sees the same cases every run (300-example random runs were clean too).
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
ort.set_default_logger_severity(3)  # errors are asserted on, not logged


def same_pads_ok(size, stride, kernel, dilation=1):
    """onnxruntime refuses auto_pad SAME_* when the needed padding is negative (stride > kernel span)."""
    return (-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size >= 0


def make_model(nodes, in_shape, inits=(), batch="N", opset=OPSET, out_shape=None):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, *in_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    return model


def onnxruntime_run(model, x):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def check(model, x, reference=False):
    """Compile, run natively (fast and reference kernels), compare with onnxruntime; returns the model."""
    blob, report = compile_model(model)
    native = Model.from_bytes(blob)
    want = onnxruntime_run(model, x)
    results = []
    for ref in (False, True) if reference else (False,):
        got = native.predict(x, reference=ref)
        assert got.shape == want.shape, (got.shape, want.shape)
        diff = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
        assert diff <= RTOL * scale, f"largest |native - onnxruntime| = {diff:.3g} (limit {RTOL * scale:.3g})"
        results.append(got)
    if reference:  # the fast kernels sum in the reference order: bit-identical (docs/file-format.md)
        assert np.array_equal(results[0], results[1]), "fast and reference kernels differ"
    return native, report


def rand(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Conv


@SETTINGS
@given(
    data=st.data(),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    groups=st.integers(1, 3),
    cg=st.integers(1, 3),
    og=st.integers(1, 3),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 5),
    sw=st.integers(1, 5),
    dh=st.integers(1, 3),
    dw=st.integers(1, 3),
    auto_pad=st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]),
    bias=st.booleans(),
)
def test_conv_attributes(data, h, w, groups, cg, og, kh, kw, sh, sw, dh, dw, auto_pad, bias):
    c, o = groups * cg, groups * og
    attrs = dict(strides=[sh, sw], dilations=[dh, dw], group=groups)
    if auto_pad == "NOTSET":
        attrs["pads"] = data.draw(st.lists(st.integers(0, 5), min_size=4, max_size=4), "pads")  # may exceed the kernel
        span_h, span_w = h + attrs["pads"][0] + attrs["pads"][2], w + attrs["pads"][1] + attrs["pads"][3]
    else:
        attrs["auto_pad"] = auto_pad
        span_h, span_w = (h, w) if auto_pad == "VALID" else (10**6, 10**6)
    hypothesis.assume(dh * (kh - 1) + 1 <= span_h and dw * (kw - 1) + 1 <= span_w)
    if auto_pad.startswith("SAME"):
        hypothesis.assume(dh == 1 and dw == 1)  # onnxruntime refuses SAME padding with dilation
        hypothesis.assume(same_pads_ok(h, sh, kh) and same_pads_ok(w, sw, kw))
    inputs = ["x", "W"] + (["B"] if bias else [])
    inits = [("W", rand((o, cg, kh, kw), 1))] + ([("B", rand((o,), 2))] if bias else [])
    model = make_model([helper.make_node("Conv", inputs, ["y"], **attrs)], (c, h, w), inits)
    check(model, rand((2, c, h, w), 3), reference=True)


def test_depthwise_conv_with_relu6():
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], group=8, pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Clip", ["c", "lo", "hi"], ["y"]),
    ]
    inits = [("W", rand((8, 1, 3, 3), 1)), ("B", rand((8,), 2)), ("lo", np.float32(0)), ("hi", np.float32(6))]
    native, report = check(make_model(nodes, (8, 7, 7), inits), rand((3, 8, 7, 7), 3) * 4, reference=True)
    assert [r.op for r in report.layers][-2:] == ["CONV_2D+clip", "TRANSPOSE"]
    assert native.input_shape == (8, 7, 7) and native.output_shape == (8, 4, 4)


# ---------------------------------------------------------------------------------------
# Pooling


def _pool_case(data, op, kh, kw, sh, sw, ceil_mode, auto_pad):
    """Attributes and an input size (h, w) that onnxruntime accepts: pads smaller than the
    kernel, the (dilated) window fits the padded input."""
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw])
    if op == "MaxPool" or data.draw(st.booleans(), "dilated"):
        attrs["dilations"] = [data.draw(st.integers(1, 3), "dh"), data.draw(st.integers(1, 3), "dw")]
    dh, dw = attrs.get("dilations", [1, 1])
    pads = [0, 0, 0, 0]
    if auto_pad == "NOTSET":
        pads = [data.draw(st.integers(0, k - 1), "pad") for k in (kh, kw, kh, kw)]
        attrs["pads"] = pads
        attrs["ceil_mode"] = ceil_mode
    else:
        attrs["auto_pad"] = auto_pad
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = data.draw(st.integers(max(1, span_h - pads[0] - pads[2]), span_h + 6), "h")
    w = data.draw(st.integers(max(1, span_w - pads[1] - pads[3]), span_w + 6), "w")
    if auto_pad.startswith("SAME"):
        hypothesis.assume(dh == 1 and dw == 1 and same_pads_ok(h, sh, kh) and same_pads_ok(w, sw, kw))
    if op == "AveragePool":
        attrs["count_include_pad"] = data.draw(st.integers(0, 1), "count_include_pad")
    return attrs, h, w


@SETTINGS
@given(
    data=st.data(),
    op=st.sampled_from(["MaxPool", "AveragePool"]),
    c=st.integers(1, 5),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 5),
    sw=st.integers(1, 5),
    ceil_mode=st.integers(0, 1),
    auto_pad=st.sampled_from(["NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]),
)
def test_pool_attributes(data, op, c, kh, kw, sh, sw, ceil_mode, auto_pad):
    attrs, h, w = _pool_case(data, op, kh, kw, sh, sw, ceil_mode, auto_pad)
    model = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], (c, h, w))
    try:
        compile_model(model)
    except CompileError as exc:
        # The one refused case: a window wholly in the padding (onnxruntime pools over nothing there).
        assert "entirely in the padding" in str(exc), str(exc)
        return
    check(model, rand((2, c, h, w), 3), reference=True)


@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_average_pool_ceil_mode_window_past_the_padding(count_include_pad):
    # 6 wide, kernel 3, stride 3, pads 1: with ceil_mode the last window [5, 8) runs past the
    # padded area [-1, 7); onnxruntime divides by the positions up to it.
    node = helper.make_node(
        "AveragePool",
        ["x"],
        ["y"],
        kernel_shape=[1, 3],
        strides=[1, 3],
        pads=[0, 1, 0, 1],
        ceil_mode=1,
        count_include_pad=count_include_pad,
    )
    x = np.arange(12, dtype=np.float32).reshape(1, 2, 1, 6) + 1
    native, _ = check(make_model([node], (2, 1, 6)), x)
    assert native.output_shape == (2, 1, 3)


def test_global_average_pool_then_gemm():
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "W", "B"], ["y"], transB=1, alpha=0.5, beta=2.0),
    ]
    inits = [("W", rand((4, 6), 1)), ("B", rand((4,), 2))]
    _, report = check(make_model(nodes, (6, 5, 7), inits), rand((3, 6, 5, 7), 3), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "AVG_POOL_2D", "FULLY_CONNECTED"]  # NCHW input


@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("op, native_op", [("ReduceMean", "AVG_POOL_2D"), ("ReduceMax", "MAX_POOL_2D")])
def test_reduce_over_nhwc_spatial_axes_is_global_pooling(keepdims, op, native_op):
    # tf2onnx's Keras GlobalAveragePooling2D / GlobalMaxPooling2D: ReduceMean / ReduceMax axes
    # [1, 2] on an NHWC tensor (opset 18: axes as an input).
    nodes = [helper.make_node(op, ["x", "axes"], ["y"], keepdims=keepdims)]
    inits = [("axes", np.array([1, 2], np.int64))]
    native, report = check(make_model(nodes, (5, 4, 3), inits), rand((2, 5, 4, 3)))
    assert [r.op for r in report.layers] == [native_op] + (["RESHAPE"] if not keepdims else [])
    assert native.output_shape == ((1, 1, 3) if keepdims else (3,))


def test_global_max_pool():
    check(make_model([helper.make_node("GlobalMaxPool", ["x"], ["y"])], (3, 5, 4)), rand((2, 3, 5, 4)))


# ---------------------------------------------------------------------------------------
# Elementwise, normalisation, activations


@pytest.mark.parametrize(
    "op, attrs",
    [
        ("Relu", {}),
        ("Sigmoid", {}),
        ("Tanh", {}),
        ("LeakyRelu", {"alpha": 0.2}),
        ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
        ("HardSwish", {}),
        ("Clip", {}),
    ],
)
def test_activations(op, attrs):
    inputs = ["x", "lo", "hi"] if op == "Clip" else ["x"]
    inits = [("lo", np.float32(-0.5)), ("hi", np.float32(6.0))] if op == "Clip" else []
    model = make_model([helper.make_node(op, inputs, ["y"], **attrs)], (3, 5, 4), inits)
    check(model, rand((2, 3, 5, 4)) * 5, reference=True)


def test_batch_norm_folds_into_the_conv():
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], epsilon=1e-3),
    ]
    inits = [
        ("W", rand((4, 3, 3, 3), 1)),
        ("s", rand((4,), 2)),
        ("b", rand((4,), 3)),
        ("m", rand((4,), 4)),
        ("v", np.abs(rand((4,), 5)) + 0.5),
    ]
    _, report = check(make_model(nodes, (3, 6, 6), inits), rand((2, 3, 6, 6), 6))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "TRANSPOSE"]  # NCHW in and out


def test_batch_norm_with_two_readers_runs_as_channel_arith():
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"]),
        helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
        helper.make_node("Add", ["n", "c"], ["y"]),
    ]
    inits = [
        ("W", rand((4, 3, 1, 1), 1)),
        ("s", rand((4,), 2)),
        ("b", rand((4,), 3)),
        ("m", rand((4,), 4)),
        ("v", np.abs(rand((4,), 5)) + 0.5),
    ]
    _, report = check(make_model(nodes, (3, 5, 5), inits), rand((2, 3, 5, 5), 6), reference=True)
    assert [r.op for r in report.layers] == [
        "TRANSPOSE",
        "CONV_2D",
        "CHANNEL_ARITH(mul)",
        "CHANNEL_ARITH(add)",
        "ADD",
        "TRANSPOSE",
    ]


def test_residual_block_add_relu_and_arena_lifetimes():
    # x -> conv1 -> relu -> conv2 -> (+ x) -> relu: x must survive until the add.
    nodes = [
        helper.make_node("Conv", ["x", "W1", "B1"], ["a"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Conv", ["r", "W2", "B2"], ["b"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["b", "x2"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    pre = [helper.make_node("Conv", ["x", "W0"], ["x2"])]
    inits = [
        ("W0", rand((4, 4, 1, 1), 0)),
        ("W1", rand((4, 4, 3, 3), 1)),
        ("B1", rand((4,), 2)),
        ("W2", rand((4, 4, 3, 3), 3)),
        ("B2", rand((4,), 4)),
    ]
    nodes[0].input[0] = "x2"
    _native, report = check(make_model(pre + nodes, (4, 6, 6), inits), rand((3, 4, 6, 6), 5), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "CONV_2D+relu", "CONV_2D", "ADD+relu", "TRANSPOSE"]
    # x2 (6*6*4 floats) is live across the two convs: three buffers of 576 bytes at the peak.
    assert report.arena_bytes_per_sample == 3 * 576


@pytest.mark.parametrize("op", ["Add", "Mul"])
def test_two_tensor_add_mul_with_different_layouts(op):
    # One operand NHWC-stored (after Conv), the other in ONNX order (the input): the compiler
    # transposes one to match.
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node(op, ["x", "c"], ["y"])]
    check(make_model(nodes, (3, 4, 5), [("W", rand((3, 3, 1, 1), 1))]), rand((2, 3, 4, 5), 2), reference=True)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_per_channel_constant_on_nchw_input(op):
    # A (C, 1, 1) constant on an NCHW input stored in ONNX order: the channel is not the
    # innermost axis, so the compiler transposes before CHANNEL_ARITH.
    nodes = [helper.make_node(op, ["x", "k"], ["y"])]
    check(make_model(nodes, (3, 4, 5), [("k", rand((3, 1, 1), 1) + 2)]), rand((2, 3, 4, 5), 2))


# ---------------------------------------------------------------------------------------
# Layout ops


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_transpose_any_permutation(shape, data):
    perm = [0] + [p + 1 for p in data.draw(st.permutations(range(len(shape))), "perm")]
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=perm), helper.make_node("Relu", ["t"], ["y"])]
    check(make_model(nodes, tuple(shape)), rand((2, *shape)))


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_pad_constant(shape, data):
    rank = len(shape) + 1
    begins, ends = (data.draw(st.lists(st.integers(0, 3), min_size=rank - 1, max_size=rank - 1)) for _ in range(2))
    pads = [0, *begins, 0, *ends]
    nodes = [helper.make_node("Pad", ["x", "pads", "v"], ["y"], mode="constant")]
    inits = [("pads", np.array(pads, np.int64)), ("v", np.float32(data.draw(st.sampled_from([0.0, -1.5, 3.0]))))]
    check(make_model(nodes, tuple(shape), inits), rand((2, *shape)))


def test_pad_then_conv_on_nchw():
    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"]), helper.make_node("Conv", ["p", "W"], ["y"])]
    inits = [("pads", np.array([0, 0, 2, 1, 0, 0, 0, 3], np.int64)), ("W", rand((2, 3, 3, 3), 1))]
    check(make_model(nodes, (3, 5, 4), inits), rand((2, 3, 5, 4), 2))


@pytest.mark.parametrize("parts", [2, 3, 9])
def test_concat_on_channels(parts):
    # Conv outputs (NHWC) joined on the ONNX channel axis 1; 9 inputs need a chain of CONCATs.
    nodes, inits = [], []
    for i in range(parts):
        nodes.append(helper.make_node("Conv", ["x", f"W{i}"], [f"c{i}"]))
        inits.append((f"W{i}", rand((i % 3 + 1, 2, 1, 1), i)))
    nodes.append(helper.make_node("Concat", [f"c{i}" for i in range(parts)], ["y"], axis=1))
    _, report = check(make_model(nodes, (2, 3, 4), inits), rand((2, 2, 3, 4), 9), reference=True)
    assert sum(r.op == "CONCAT" for r in report.layers) == (1 if parts <= 7 else 2)


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_concat_of_inputs_in_onnx_order(axis):
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Concat", ["x", "r", "x"], ["y"], axis=axis)]
    check(make_model(nodes, (3, 4)), rand((2, 3, 4)))


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1])
def test_flatten_axes(axis):
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=axis), helper.make_node("Relu", ["f"], ["y"])]
    model = make_model(nodes, (1, 1, 12), batch=1)
    check(model, rand((1, 1, 1, 12)))


def test_flatten_that_merges_the_batch_is_refused():
    model = make_model([helper.make_node("Flatten", ["x"], ["y"], axis=2)], (2, 3))
    with pytest.raises(CompileError, match="merges the batch"):
        compile_model(model)


@pytest.mark.parametrize("axis", [1, 2, 3, -1])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_any_axis(axis, opset):
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=axis)]
    check(make_model(nodes, (3, 4, 5), opset=opset), rand((2, 3, 4, 5)) * 3)


def test_softmax_over_channels_after_conv_needs_no_extra_transpose():
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node("Softmax", ["c"], ["y"], axis=1)]
    _, report = check(make_model(nodes, (3, 4, 5), [("W", rand((6, 3, 1, 1), 1))]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "SOFTMAX", "TRANSPOSE"]


def test_matmul_identity_dropout_reshape():
    nodes = [
        helper.make_node("Identity", ["x"], ["i"]),
        helper.make_node("Dropout", ["i"], ["d"]),
        helper.make_node("Reshape", ["d", "shape"], ["r"]),
        helper.make_node("MatMul", ["r", "W"], ["y"]),
    ]
    inits = [("shape", np.array([-1, 12], np.int64)), ("W", rand((12, 5), 1))]
    check(make_model(nodes, (3, 4), inits), rand((4, 3, 4)))


# ---------------------------------------------------------------------------------------
# Model I/O: NCHW input and output, fixed batch, explain


def test_nchw_model_input_and_output_shapes():
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    model = make_model(nodes, (3, 8, 6), [("W", rand((5, 3, 3, 3), 1))], batch=1)
    native, report = check(model, rand((1, 3, 8, 6), 2))
    assert native.input_shape == (3, 8, 6) and native.output_shape == (5, 8, 6)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D+relu", "TRANSPOSE"]
    # a single sample without the batch axis is accepted too
    assert native.predict(rand((3, 8, 6), 2)).shape == (1, 5, 8, 6)


def test_explain_lists_every_unsupported_node():
    nodes = [
        helper.make_node("Sin", ["x"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="fine"),
        helper.make_node("Div", ["b", "a"], ["c"], name="second"),
        helper.make_node("Cos", ["c"], ["y"], name="third"),
    ]
    model = make_model(nodes, (4,))
    found = explain_model(model)
    assert found.nodes == 4 and found.unchecked == []
    assert [(p.node, p.op_type) for p in found.problems] == [("first", "Sin"), ("second", "Div"), ("third", "Cos")]
    assert "Div of two runtime tensors" in found.problems[1].reason
    with pytest.raises(CompileError, match="--explain"):
        compile_model(model)


def test_explain_command(tmp_path, capsys):
    from edgecnn.cli import main

    bad = make_model([helper.make_node("Sin", ["x"], ["y"], name="s")], (4,))
    good = make_model([helper.make_node("Relu", ["x"], ["y"])], (4,))
    onnx.save(bad, tmp_path / "bad.onnx")
    onnx.save(good, tmp_path / "good.onnx")
    assert main(["compile", "--explain", str(tmp_path / "bad.onnx")]) == 1
    out = capsys.readouterr().out
    assert "s  Sin:" in out and "1 of 1 nodes not supported" in out
    assert main(["compile", "--explain", str(tmp_path / "good.onnx")]) == 0
    assert "all 1 nodes supported" in capsys.readouterr().out
    assert not (tmp_path / "good.ecnn").exists()  # --explain writes nothing


# ---------------------------------------------------------------------------------------
# Compile-time folds: each checked against onnxruntime and by the ops left in the file


def test_tf2onnx_batch_norm_mul_add_and_zero_pad_fold_into_the_depthwise_conv():
    # Keras MobileNet block as tf2onnx writes it (NHWC input): ZeroPadding2D -> Pad, depthwise
    # conv, BatchNormalization -> Mul + Add per channel, ReLU6 -> Clip.
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Pad", ["t", "pads"], ["p"]),
        helper.make_node("Conv", ["p", "W"], ["c"], group=4, strides=[2, 2]),
        helper.make_node("Transpose", ["c"], ["ct"], perm=[0, 2, 3, 1]),
        helper.make_node("Mul", ["ct", "s"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    inits = [
        ("pads", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64)),
        ("W", rand((4, 1, 3, 3), 1)),
        ("s", rand((4,), 2)),
        ("b", rand((4,), 3)),
        ("lo", np.float32(0)),
        ("hi", np.float32(6)),
    ]
    _, report = check(make_model(nodes, (7, 7, 4), inits), rand((2, 7, 7, 4), 4) * 3, reference=True)
    assert [r.op for r in report.layers] == ["CONV_2D+clip"]


def test_flatten_of_nchw_feature_map_permutes_the_dense_weights_instead_of_transposing():
    # PyTorch: conv -> flatten (C, H, W order) -> linear. The conv output is stored NHWC.
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Flatten", ["s"], ["f"]),
        helper.make_node("Gemm", ["f", "F", "B"], ["y"], transB=1),
    ]
    inits = [("W", rand((3, 2, 2, 2), 1)), ("F", rand((5, 3 * 3 * 4), 2)), ("B", rand((5,), 3))]
    _, report = check(make_model(nodes, (2, 4, 5), inits), rand((2, 2, 4, 5), 4), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D+sigmoid", "FULLY_CONNECTED"]


def test_verify_random_inputs_for_a_colour_nchw_model(tmp_path, capsys):
    """`edgecnn verify --random N`: models that do not take the Fashion-MNIST images (here a
    colour NCHW model with a 4-D output of logits above 1) are compared on random inputs, with
    the tolerance relative to the output's scale."""
    import json

    from edgecnn.cli import main

    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    model = make_model(nodes, (3, 5, 6), [("W", rand((4, 3, 3, 3), 1) * 10)])
    onnx.save(model, tmp_path / "m.onnx")
    assert main(["compile", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "m.ecnn")]) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "m.onnx"), str(tmp_path / "m.ecnn"), "--random", "7", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["samples"] == 7 and result["passed"] and result["tolerance"] > 1e-5
    assert result["max_abs_diff"] <= result["tolerance"]
    assert main(["verify", str(tmp_path / "m.onnx"), str(tmp_path / "m.ecnn")]) == 2  # images do not fit
    assert "--random" in capsys.readouterr().err


def test_uint8_pixels_only_for_image_inputs():
    from edgecnn.runtime.model import InputError

    image = Model.from_bytes(compile_model(make_model([helper.make_node("Relu", ["x"], ["y"])], (3, 4, 4)))[0])
    pixels = np.arange(48, dtype=np.uint8).reshape(1, 3, 4, 4)
    assert np.array_equal(image.predict(pixels), pixels.astype(np.float32) / np.float32(255.0))
    vector = Model.from_bytes(compile_model(make_model([helper.make_node("Relu", ["x"], ["y"])], (6,)))[0])
    with pytest.raises(InputError, match="not an image"):
        vector.predict(np.zeros((2, 6), np.uint8))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["Relu", "Sigmoid", "Conv", "Add", "Mul", "Concat", "Softmax"]),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_branching_graphs_plan_the_arena_by_lifetimes(steps):
    """Random DAGs (fan-out, residual Add/Mul of any two earlier values, Concat + 1x1 conv): every
    earlier value may be read again later, so the arena plan must keep it; the loader re-checks
    the plan and the result must match onnxruntime."""
    c, nodes, inits, values = 3, [], [], ["x"]
    for i, (op, a, b) in enumerate(steps):
        va, vb, out = values[a % len(values)], values[b % len(values)], f"v{i}"
        if op in ("Relu", "Sigmoid"):
            nodes.append(helper.make_node(op, [va], [out]))
        elif op == "Softmax":
            nodes.append(helper.make_node(op, [va], [out], axis=1))
        elif op == "Conv":
            inits.append((f"w{i}", rand((c, c, 1, 1), i)))
            nodes.append(helper.make_node("Conv", [va, f"w{i}"], [out]))
        elif op == "Concat":
            inits.append((f"w{i}", rand((c, 2 * c, 1, 1), i)))
            nodes.append(helper.make_node("Concat", [va, vb], [f"cat{i}"], axis=1))
            nodes.append(helper.make_node("Conv", [f"cat{i}", f"w{i}"], [out]))
        else:
            nodes.append(helper.make_node(op, [va, vb], [out]))
        values.append(out)
    # the output reads the last value and the first computed one (alive across the whole graph)
    nodes.append(helper.make_node("Add", [values[-1], values[1]], ["y"]))
    check(make_model(nodes, (c, 4, 5), inits), rand((2, c, 4, 5), 7), reference=True)


@pytest.mark.parametrize("op", ["Mul", "Add"])
@pytest.mark.parametrize("gate_first", [False, True])
def test_squeeze_excitation_broadcast_of_a_runtime_tensor(op, gate_first):
    # x * sigmoid(conv(global_avg_pool(x))): the gate (N, C, 1, 1) broadcasts over H, W.
    nodes = [
        helper.make_node("Conv", ["x", "W0"], ["f"], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["f"], ["g"]),
        helper.make_node("Conv", ["g", "W1", "B1"], ["h"]),
        helper.make_node("Sigmoid", ["h"], ["s"]),
        helper.make_node(op, ["s", "f"] if gate_first else ["f", "s"], ["y"]),
    ]
    inits = [("W0", rand((4, 3, 3, 3), 1)), ("W1", rand((4, 4, 1, 1), 2)), ("B1", rand((4,), 3))]
    _, report = check(make_model(nodes, (3, 5, 6), inits), rand((2, 3, 5, 6), 4), reference=True)
    assert f"{op.upper()}" in [r.op for r in report.layers]


def test_broadcast_along_an_axis_that_is_not_innermost():
    # x (N, 3, 4, 5) in ONNX order times a (N, 1, 4, 1) gate: H is moved innermost first.
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3]),  # (N, 4, 3, 5)
        helper.make_node("GlobalAveragePool", ["t"], ["g"]),  # (N, 4, 1, 1): per H of x
        helper.make_node("Transpose", ["g"], ["gt"], perm=[0, 2, 1, 3]),  # (N, 1, 4, 1)
        helper.make_node("Mul", ["x", "gt"], ["y"]),
    ]
    check(make_model(nodes, (3, 4, 5)), rand((2, 3, 4, 5), 5), reference=True)


def test_two_runtime_tensors_broadcasting_along_two_axes_is_refused():
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Reshape", ["f", "shape"], ["r"]),
        helper.make_node("Mul", ["x", "r"], ["y"]),
    ]
    model = make_model(nodes, (4, 3, 5), [("shape", np.array([-1, 2, 2, 1], np.int64))])
    with pytest.raises(CompileError, match="broadcast along a single axis"):
        compile_model(model)


def test_pad_is_stored_the_way_its_readers_read_it():
    # Read by a Relu: padded in the stored (ONNX) order, no transpose; read by a Conv: folded.
    pads = ("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))
    relu = [helper.make_node("Pad", ["x", "pads"], ["p"]), helper.make_node("Relu", ["p"], ["y"])]
    _, report = check(make_model(relu, (3, 4, 5), [pads]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["PAD", "ACTIVATION(relu)"]
    conv = [helper.make_node("Pad", ["x", "pads"], ["p"]), helper.make_node("Conv", ["p", "W"], ["y"])]
    _, report = check(make_model(conv, (3, 4, 5), [pads, ("W", rand((2, 3, 3, 3), 1))]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "TRANSPOSE"]


@pytest.mark.parametrize("shape", [(3, 4, 5), (6, 5), (2, 3, 4, 5)])
def test_matmul_of_a_higher_rank_tensor_is_a_per_row_dense_layer(shape):
    # Keras Dense on a feature map (tf2onnx: MatMul + Add on the NHWC tensor): a 1x1 convolution.
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Add", ["m", "B"], ["a"]),
        helper.make_node("Relu", ["a"], ["y"]),
    ]
    inits = [("W", rand((shape[-1], 7), 1)), ("B", rand((7,), 2))]
    _, report = check(make_model(nodes, shape, inits), rand((2, *shape), 3), reference=True)
    # (rank 3: RESHAPEs copy the graph input to [rows, 1, K] and the result to the declared dims)
    assert [r.op for r in report.layers] == (
        ["CONV_2D+relu"] if len(shape) == 3 else ["RESHAPE", "CONV_2D+relu", "RESHAPE"]
    )


def test_matmul_over_the_channels_of_an_nchw_map():
    # MatMul on (N, H, W, C) reached from NCHW via Transpose: the rows are stored NHWC already.
    nodes = [
        helper.make_node("Conv", ["x", "K"], ["c"]),
        helper.make_node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["t", "W"], ["y"]),
    ]
    inits = [("K", rand((4, 3, 1, 1), 1)), ("W", rand((4, 6), 2))]
    _, report = check(make_model(nodes, (3, 5, 2), inits), rand((2, 3, 5, 2), 3), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "CONV_2D"]


@pytest.mark.parametrize("gated", [False, True])
def test_keras_hard_sigmoid_and_hard_swish_patterns_become_one_activation(gated):
    # tf2onnx's Keras hard_sigmoid relu6(x + 3) / 6, and hard_swish x * hard_sigmoid(x) (MobileNetV3).
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"]),
        helper.make_node("Add", ["c", "three"], ["a"]),
        helper.make_node("Clip", ["a", "zero", "six"], ["r"]),
        helper.make_node("Mul", ["r", "sixth"], ["h"]),
    ]
    nodes.append(helper.make_node("Mul", ["c", "h"], ["y"]) if gated else helper.make_node("Identity", ["h"], ["y"]))
    inits = [
        ("W", rand((4, 3, 1, 1), 1)),
        ("three", np.float32(3)),
        ("zero", np.float32(0)),
        ("six", np.float32(6)),
        ("sixth", np.float32(1 / 6)),
    ]
    _, report = check(make_model(nodes, (3, 5, 4), inits), rand((2, 3, 5, 4), 2) * 4, reference=True)
    assert [r.op for r in report.layers] == [
        "TRANSPOSE",
        "CONV_2D+" + ("hard_swish" if gated else "hard_sigmoid"),
        "TRANSPOSE",
    ]


def test_explain_names_the_nodes_it_could_not_check():
    # A custom-domain op: ONNX cannot infer its output shape, so the node after it is not checked.
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="ok"),
        helper.make_node("Mystery", ["r"], ["m"], name="custom", domain="example.com"),
        helper.make_node("Relu", ["m"], ["y"], name="after"),
    ]
    model = make_model(nodes, (4,))
    model.opset_import.append(helper.make_opsetid("example.com", 1))
    found = explain_model(model)
    assert [(p.node, p.op_type) for p in found.problems] == [("custom", "Mystery")]
    assert "domain 'example.com'" in found.problems[0].reason
    assert found.unchecked == ["after"]


@pytest.mark.parametrize("small_first", [False, True])
def test_sub_of_two_runtime_tensors(small_first):
    # x - mean(x) per channel (and mean - x): a negation (exact) and an ADD, broadcast or not.
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["m"]),
        helper.make_node("Sub", ["m", "x"] if small_first else ["x", "m"], ["d"]),
        helper.make_node("Sub", ["d", "x"], ["y"]),
    ]
    check(make_model(nodes, (3, 4, 5)), rand((2, 3, 4, 5)), reference=True)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC", "HW"])
def test_edgecnn_run_takes_the_declared_grayscale_layout(layout, tmp_path):
    """native/build/edgecnn-run (the C tool, no Python) on a model whose input is [1, H, W]
    (PyTorch), [H, W, 1] (Keras) or [H, W]: the same PGM pixels, onnxruntime's outputs."""
    import subprocess
    from pathlib import Path

    import edge_golden

    binary = Path(__file__).resolve().parents[2] / "native" / "build" / "edgecnn-run"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with `make -C native`", pytrace=False)
    shape = {"NCHW": (1, 6, 5), "NHWC": (6, 5, 1), "HW": (6, 5)}[layout]
    nodes = [
        helper.make_node("Reshape", ["x", "flat"], ["f"]),
        helper.make_node("Gemm", ["f", "W", "B"], ["g"]),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    inits = [("flat", np.array([-1, 30], np.int64)), ("W", rand((30, 4), 1)), ("B", rand((4,), 2))]
    model = make_model(nodes, shape, inits)
    (tmp_path / "m.ecnn").write_bytes(compile_model(model)[0])
    pixels = np.random.default_rng(3).integers(0, 256, (2, 6, 5), dtype=np.uint8)
    for i, image in enumerate(pixels):
        edge_golden.write_pgm(tmp_path / f"{i}.pgm", image)
    result = subprocess.run(
        [str(binary), "--raw", "m.ecnn", "0.pgm", "1.pgm"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    got = edge_golden.parse_raw(result.stdout, 2)
    want = onnxruntime_run(model, (pixels.astype(np.float32) / np.float32(255)).reshape(2, *shape))
    assert np.max(np.abs(got - want)) <= RTOL, np.max(np.abs(got - want))

"""Float Conv and pooling against onnxruntime (tests/ort_compare.py: within 1e-5 of the output's
scale, fast kernels bit-identical to the reference ones). Hypothesis generates shapes and
attributes: odd sizes, padding larger than the kernel, strides larger than the kernel, ceil_mode
edge cases, groups / depthwise, dilations, auto_pad variants."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from ort_compare import (
    FLOAT_SETTINGS,
    check_float,
    grouped_convs,
    make_model,
    node,
    rand,
    run_onnxruntime,
    same_pads_ok,
)

from edgecnn.export.compiler import CompileError, compile_model


@FLOAT_SETTINGS
@given(
    data=st.data(),
    conv=grouped_convs(size=9, groups=3, kernel=4, stride=5, dilation=3),
    auto_pad=st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]),
    bias=st.booleans(),
)
def test_conv_attributes(data, conv, auto_pad, bias):
    h, w, groups, cg, og, kh, kw, sh, sw, dh, dw = conv
    c, o = groups * cg, groups * og
    attrs = dict(strides=[sh, sw], dilations=[dh, dw], group=groups)
    if auto_pad == "NOTSET":
        attrs["pads"] = data.draw(st.lists(st.integers(0, 5), min_size=4, max_size=4), "pads")  # may exceed the kernel
        span_h, span_w = h + attrs["pads"][0] + attrs["pads"][2], w + attrs["pads"][1] + attrs["pads"][3]
    else:
        attrs["auto_pad"] = auto_pad
        span_h, span_w = (h, w) if auto_pad == "VALID" else (10**6, 10**6)
    assume(dh * (kh - 1) + 1 <= span_h and dw * (kw - 1) + 1 <= span_w)
    if auto_pad.startswith("SAME"):
        assume(dh == 1 and dw == 1)  # onnxruntime refuses SAME padding with dilation
        assume(same_pads_ok(h, sh, kh) and same_pads_ok(w, sw, kw))
    inputs = ["x", "W"] + (["B"] if bias else [])
    inits = [("W", rand((o, cg, kh, kw), 1))] + ([("B", rand((o,), 2))] if bias else [])
    model = make_model([node("Conv", inputs, ["y"], **attrs)], (c, h, w), inits)
    check_float(model, rand((2, c, h, w), 3), reference=True)


def test_depthwise_conv_with_relu6():
    nodes = [
        node("Conv", ["x", "W", "B"], ["c"], group=8, pads=[1, 1, 1, 1], strides=[2, 2]),
        node("Clip", ["c", "lo", "hi"], ["y"]),
    ]
    inits = [("W", rand((8, 1, 3, 3), 1)), ("B", rand((8,), 2)), ("lo", np.float32(0)), ("hi", np.float32(6))]
    native, report = check_float(make_model(nodes, (8, 7, 7), inits), rand((3, 8, 7, 7), 3) * 4, reference=True)
    assert [r.op for r in report.layers][-2:] == ["CONV_2D+clip", "TRANSPOSE"]
    assert native.input_shape == (8, 7, 7) and native.output_shape == (8, 4, 4)


def test_tf2onnx_batch_norm_mul_add_and_zero_pad_fold_into_the_depthwise_conv():
    # Keras MobileNet block as tf2onnx writes it (NHWC input): ZeroPadding2D -> Pad, depthwise
    # conv, BatchNormalization -> Mul + Add per channel, ReLU6 -> Clip.
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        node("Pad", ["t", "pads"], ["p"]),
        node("Conv", ["p", "W"], ["c"], group=4, strides=[2, 2]),
        node("Transpose", ["c"], ["ct"], perm=[0, 2, 3, 1]),
        node("Mul", ["ct", "s"], ["m"]),
        node("Add", ["m", "b"], ["a"]),
        node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    inits = [
        ("pads", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64)),
        ("W", rand((4, 1, 3, 3), 1)),
        ("s", rand((4,), 2)),
        ("b", rand((4,), 3)),
        ("lo", np.float32(0)),
        ("hi", np.float32(6)),
    ]
    _, report = check_float(make_model(nodes, (7, 7, 4), inits), rand((2, 7, 7, 4), 4) * 3, reference=True)
    assert [r.op for r in report.layers] == ["CONV_2D+clip"]


@st.composite
def pool_cases(draw, rank):
    """(op, attributes, input shape (C, H, W) or, rank 1, (C, W)) of a MaxPool or AveragePool that
    onnxruntime accepts: pads smaller than the kernel, the (dilated) window fits the padded input.
    A rank-1 case is drawn as a 2-D one over an H of 1, then its W half kept."""
    op = draw(st.sampled_from(["MaxPool", "AveragePool"]))
    c = draw(st.integers(1, 5))
    kh, sh = (draw(st.integers(1, 4)), draw(st.integers(1, 5))) if rank == 2 else (1, 1)
    kw, sw = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]))
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw])
    if op == "MaxPool" or draw(st.booleans()):
        attrs["dilations"] = [draw(st.integers(1, 3)) if rank == 2 else 1, draw(st.integers(1, 3))]
    dh, dw = attrs.get("dilations", [1, 1])
    pads = [0, 0, 0, 0]
    if auto_pad == "NOTSET":
        pads = [draw(st.integers(0, k - 1)) for k in (kh, kw, kh, kw)]
        attrs["pads"] = pads
        attrs["ceil_mode"] = draw(st.integers(0, 1))
    else:
        attrs["auto_pad"] = auto_pad
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - pads[0] - pads[2]), span_h + 6)) if rank == 2 else 1
    w = draw(st.integers(max(1, span_w - pads[1] - pads[3]), span_w + 6))
    if auto_pad.startswith("SAME"):
        assume(dh == 1 and dw == 1 and same_pads_ok(h, sh, kh) and same_pads_ok(w, sw, kw))
    if op == "AveragePool":
        attrs["count_include_pad"] = draw(st.integers(0, 1))
    if rank == 2:
        return op, attrs, (c, h, w)
    for name in ("kernel_shape", "strides", "dilations"):
        if name in attrs:
            attrs[name] = attrs[name][1:]
    if "pads" in attrs:
        attrs["pads"] = [attrs["pads"][1], attrs["pads"][3]]
    return op, attrs, (c, w)


@pytest.mark.parametrize("rank", [2, 1])
@FLOAT_SETTINGS
@given(data=st.data())
def test_pool_attributes(rank, data):
    op, attrs, shape = data.draw(pool_cases(rank), "case")
    model = make_model([node(op, ["x"], ["y"], **attrs)], shape)
    try:
        compile_model(model)
    except CompileError as exc:
        # The one refused case: a window wholly in the padding (onnxruntime pools over nothing there).
        assert "entirely in the padding" in str(exc), str(exc)
        return
    check_float(model, rand((2, *shape), 3), reference=True)


@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_average_pool_ceil_mode_window_past_the_padding(count_include_pad):
    # 6 wide, kernel 3, stride 3, pads 1: with ceil_mode the last window [5, 8) runs past the
    # padded area [-1, 7); onnxruntime divides by the positions up to it.
    pool = node(
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
    native, _ = check_float(make_model([pool], (2, 1, 6)), x)
    assert native.output_shape == (2, 1, 3)


def test_global_average_pool_then_gemm():
    nodes = [
        node("GlobalAveragePool", ["x"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Gemm", ["f", "W", "B"], ["y"], transB=1, alpha=0.5, beta=2.0),
    ]
    inits = [("W", rand((4, 6), 1)), ("B", rand((4,), 2))]
    _, report = check_float(make_model(nodes, (6, 5, 7), inits), rand((3, 6, 5, 7), 3), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "AVG_POOL_2D", "FULLY_CONNECTED"]  # NCHW input


@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("op, native_op", [("ReduceMean", "AVG_POOL_2D"), ("ReduceMax", "MAX_POOL_2D")])
def test_reduce_over_nhwc_spatial_axes_is_global_pooling(keepdims, op, native_op):
    # tf2onnx's Keras GlobalAveragePooling2D / GlobalMaxPooling2D: ReduceMean / ReduceMax axes
    # [1, 2] on an NHWC tensor (opset 18: axes as an input).
    nodes = [node(op, ["x", "axes"], ["y"], keepdims=keepdims)]
    inits = [("axes", np.array([1, 2], np.int64))]
    native, report = check_float(make_model(nodes, (5, 4, 3), inits), rand((2, 5, 4, 3)))
    assert [r.op for r in report.layers] == [native_op] + (["RESHAPE"] if not keepdims else [])
    assert native.output_shape == ((1, 1, 3) if keepdims else (3,))


def test_global_max_pool():
    check_float(make_model([node("GlobalMaxPool", ["x"], ["y"])], (3, 5, 4)), rand((2, 3, 5, 4)))


@FLOAT_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_reduce_over_any_non_batch_axes(shape, data):
    # Any set of non-batch axes (or none given: all of them), keepdims 0 or 1: the reduced axes
    # stored first, one pooling window over them (opset 18: axes as an input).
    op = data.draw(st.sampled_from(["ReduceMean", "ReduceMax"]), "op")
    axes = sorted(data.draw(st.sets(st.integers(1, len(shape)), max_size=len(shape)), "axes"))
    keepdims = data.draw(st.integers(0, 1), "keepdims")
    if not axes:  # every axis, the fixed batch of 2 included: the input runs as one sample
        from edgecnn.runtime.session import InferenceSession

        empty = data.draw(st.booleans(), "an empty axes input")  # also every axis (opset 18)
        inputs, inits = (["r", "axes"], [("axes", np.zeros(0, np.int64))]) if empty else (["r"], [])
        nodes = [node("Relu", ["x"], ["r"]), node(op, inputs, ["y"], keepdims=keepdims)]
        model, x = make_model(nodes, tuple(shape), inits, batch=2), rand((2, *shape), 4)
        (got,) = InferenceSession(compile_model(model)[0]).run(None, {"x": x})
        want = run_onnxruntime(model, x)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * max(1.0, float(np.abs(want).max())))
        return
    axes = [a - len(shape) - 1 if data.draw(st.booleans(), f"negative {a}") else a for a in axes]
    nodes = [node("Relu", ["x"], ["r"]), node(op, ["r", "axes"], ["y"], keepdims=keepdims)]
    model = make_model(nodes, tuple(shape), [("axes", np.array(axes, np.int64))])
    check_float(model, rand((2, *shape), 4), reference=True)


def test_reduce_over_the_batch_axis_of_a_free_batch_is_refused():
    nodes = [node("ReduceMean", ["x", "axes"], ["y"])]
    model = make_model(nodes, (3, 4), [("axes", np.array([0, 2], np.int64))])
    with pytest.raises(CompileError, match="reduces the batch axis"):
        compile_model(model)

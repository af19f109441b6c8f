"""Each native float32 kernel against onnxruntime, on single-node ONNX graphs.

The graphs are built here with onnx.helper the way tf2onnx lays out a Keras model:
NHWC input -> Transpose to NCHW -> the op -> Transpose back, so the compiler has to
absorb the layout changes as it does for real models. Shapes and attributes come from
hypothesis. Outputs must match onnxruntime within ABS_TOL * (1 + |reference|): the
only difference allowed is float summation order.
"""

import numpy as np
import ort_compare
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ort_compare import onnx, run_native, run_onnxruntime

from edgecnn.export.compiler import compile_model

helper = onnx.helper

ABS_TOL = 1e-5
OPSET = 17
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_model(nodes, input_shape, output_shape, initializers=()):
    """A float32 model with one dynamic-batch input and output; shapes without the batch."""
    float32 = [(name, np.asarray(a, np.float32)) for name, a in initializers]
    model = ort_compare.make_model(nodes, input_shape, float32, opset=OPSET, out_shape=["N", *output_shape])
    onnx.checker.check_model(model)
    return model


def run_both(model, x):
    """(native output, onnxruntime output) for input x."""
    return run_native(model, x), run_onnxruntime(model, x)


def assert_close(got, want):
    assert got.shape == want.shape, f"shape {got.shape} != onnxruntime {want.shape}"
    err = np.abs(got.astype(np.float64) - want) / (1.0 + np.abs(want))
    assert err.max() <= ABS_TOL, f"largest relative difference {err.max():.3g} (abs {np.abs(got - want).max():.3g})"


def nhwc_wrapped(op_node, out_nchw_name="z"):
    """x (NHWC) -> Transpose -> op (reads 't', writes out_nchw_name) -> Transpose -> y (NHWC)."""
    return [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        op_node,
        helper.make_node("Transpose", [out_nchw_name], ["y"], perm=[0, 2, 3, 1]),
    ]


def out_size(n, k, stride, pad_a, pad_b, dilation, ceil=False):
    span = dilation * (k - 1) + 1
    num = n + pad_a + pad_b - span
    if num < 0:
        return 0
    out = (-(-num // stride) if ceil else num // stride) + 1
    if ceil and (out - 1) * stride >= n + pad_a:
        out -= 1
    return out


@st.composite
def conv_cases(draw):
    group = draw(st.sampled_from([1, 1, 2, 3]))
    cin = group * draw(st.integers(1, 3))
    cout = group * draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    dil = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    pads = [draw(st.integers(0, 2)) for _ in range(4)]
    oh = out_size(h, kh, strides[0], pads[0], pads[2], dil[0])
    ow = out_size(w, kw, strides[1], pads[1], pads[3], dil[1])
    assume(oh >= 1 and ow >= 1)
    return dict(
        group=group,
        cin=cin,
        cout=cout,
        h=h,
        w=w,
        k=(kh, kw),
        strides=strides,
        dil=dil,
        pads=pads,
        oh=oh,
        ow=ow,
        bias=draw(st.booleans()),
        batch=draw(st.integers(1, 3)),
        act=draw(st.sampled_from([None, "Relu", "LeakyRelu", "Clip"])),
        seed=draw(st.integers(0, 2**31)),
    )


@SETTINGS
@given(conv_cases())
def test_conv_matches_onnxruntime(case):
    rng = np.random.default_rng(case["seed"])
    weight = rng.normal(size=(case["cout"], case["cin"] // case["group"], *case["k"])).astype(np.float32)
    inits = [("W", weight)]
    inputs = ["t", "W"]
    if case["bias"]:
        inits.append(("B", rng.normal(size=case["cout"])))
        inputs.append("B")
    conv_out = "c" if case["act"] else "z"
    nodes = nhwc_wrapped(
        helper.make_node(
            "Conv",
            inputs,
            [conv_out],
            kernel_shape=list(case["k"]),
            strides=case["strides"],
            dilations=case["dil"],
            pads=case["pads"],
            group=case["group"],
        )
    )
    if case["act"] == "Relu":
        nodes.insert(2, helper.make_node("Relu", ["c"], ["z"]))
    elif case["act"] == "LeakyRelu":
        nodes.insert(2, helper.make_node("LeakyRelu", ["c"], ["z"], alpha=0.1))
    elif case["act"] == "Clip":
        inits += [("lo", np.float32(-0.5)), ("hi", np.float32(0.75))]
        nodes.insert(2, helper.make_node("Clip", ["c", "lo", "hi"], ["z"]))
    model = make_model(nodes, (case["h"], case["w"], case["cin"]), (case["oh"], case["ow"], case["cout"]), inits)
    x = rng.normal(size=(case["batch"], case["h"], case["w"], case["cin"])).astype(np.float32)
    assert_close(*run_both(model, x))


def windows_see_input(out, n, pad, k, stride, dilation):
    return all(any(0 <= o * stride - pad + j * dilation < n for j in range(k)) for o in range(out))


@st.composite
def pool_cases(draw):
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strides = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    dil = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    # onnxruntime requires each pad to be smaller than the kernel
    pads = [
        draw(st.integers(0, kh - 1)),
        draw(st.integers(0, kw - 1)),
        draw(st.integers(0, kh - 1)),
        draw(st.integers(0, kw - 1)),
    ]
    ceil = draw(st.booleans())
    oh = out_size(h, kh, strides[0], pads[0], pads[2], dil[0], ceil)
    ow = out_size(w, kw, strides[1], pads[1], pads[3], dil[1], ceil)
    assume(oh >= 1 and ow >= 1)
    # every window must see the input (the compiler refuses the rest: test_pool_window_in_padding_is_refused)
    assume(windows_see_input(oh, h, pads[0], kh, strides[0], dil[0]))
    assume(windows_see_input(ow, w, pads[1], kw, strides[1], dil[1]))
    return dict(
        h=h,
        w=w,
        c=draw(st.integers(1, 4)),
        k=[kh, kw],
        strides=strides,
        dil=dil,
        pads=pads,
        ceil=ceil,
        oh=oh,
        ow=ow,
        batch=draw(st.integers(1, 3)),
        seed=draw(st.integers(0, 2**31)),
    )


@SETTINGS
@given(pool_cases(), st.booleans())
def test_maxpool_matches_onnxruntime(case, in_arena):
    """in_arena: activations around the pool put its input and output in the arena, where the
    compiler runs it in place when there is no top/left padding."""
    rng = np.random.default_rng(case["seed"])
    pool = helper.make_node(
        "MaxPool",
        ["a" if in_arena else "t"],
        ["p" if in_arena else "z"],
        kernel_shape=case["k"],
        strides=case["strides"],
        dilations=case["dil"],
        pads=case["pads"],
        ceil_mode=int(case["ceil"]),
    )
    nodes = nhwc_wrapped(pool)
    if in_arena:
        nodes[1:1] = [helper.make_node("LeakyRelu", ["t"], ["a"], alpha=0.5)]
        nodes.insert(3, helper.make_node("LeakyRelu", ["p"], ["z"], alpha=0.25))
    model = make_model(nodes, (case["h"], case["w"], case["c"]), (case["oh"], case["ow"], case["c"]))
    x = rng.normal(size=(case["batch"], case["h"], case["w"], case["c"])).astype(np.float32)
    got, want = run_both(model, x)
    np.testing.assert_array_equal(got, want)  # max is exact


@SETTINGS
@given(
    k=st.integers(1, 300),
    o=st.integers(1, 40),
    batch=st.integers(1, 9),
    form=st.sampled_from(["matmul", "matmul+add", "gemm", "gemm-transB", "gemm-bias2d", "gemm-beta"]),
    act=st.sampled_from([None, "Relu", "LeakyRelu"]),
    seed=st.integers(0, 2**31),
)
def test_fully_connected_matches_onnxruntime(k, o, batch, form, act, seed):
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(k, o)).astype(np.float32) / np.sqrt(k)
    bias = rng.normal(size=o).astype(np.float32)
    out = "f" if act else "y"
    if form == "matmul":
        nodes, inits = [helper.make_node("MatMul", ["x", "W"], [out])], [("W", weight)]
    elif form == "matmul+add":
        nodes = [helper.make_node("MatMul", ["x", "W"], ["m"]), helper.make_node("Add", ["m", "B"], [out])]
        inits = [("W", weight), ("B", bias)]
    else:
        trans = form == "gemm-transB"
        b_init = bias.reshape(1, o) if form == "gemm-bias2d" else bias
        attrs = {"transB": 1} if trans else {}
        if form == "gemm-beta":
            attrs["beta"] = 0.5
        nodes = [helper.make_node("Gemm", ["x", "W", "B"], [out], **attrs)]
        inits = [("W", weight.T.copy() if trans else weight), ("B", b_init)]
    if act == "Relu":
        nodes.append(helper.make_node("Relu", ["f"], ["y"]))
    elif act == "LeakyRelu":
        nodes.append(helper.make_node("LeakyRelu", ["f"], ["y"], alpha=0.2))
    model = make_model(nodes, (k,), (o,), inits)
    x = rng.normal(size=(batch, k)).astype(np.float32)
    assert_close(*run_both(model, x))


@SETTINGS
@given(
    c=st.integers(1, 50), batch=st.integers(1, 5), scale=st.sampled_from([0.1, 1.0, 30.0]), seed=st.integers(0, 2**31)
)
def test_softmax_matches_onnxruntime(c, batch, scale, seed):
    rng = np.random.default_rng(seed)
    model = make_model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], (c,), (c,))
    x = (rng.normal(size=(batch, c)) * scale).astype(np.float32)
    got, want = run_both(model, x)
    assert np.abs(got - want).max() <= ABS_TOL


@SETTINGS
@given(
    op=st.sampled_from(["Add", "Sub", "Mul", "Div"]),
    const_first=st.booleans(),
    per_channel=st.booleans(),
    c=st.integers(1, 5),
    hw=st.integers(1, 6),
    seed=st.integers(0, 2**31),
)
def test_channel_arith_matches_onnxruntime(op, const_first, per_channel, c, hw, seed):
    rng = np.random.default_rng(seed)
    shape = (1, 1, 1, c) if per_channel else (1, 1, 1, 1)
    k = (rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)).astype(np.float32)
    x = rng.uniform(0.5, 2.0, size=(2, hw, hw, c)).astype(np.float32)  # away from 0: Div is well defined
    inputs = ["K", "x"] if const_first else ["x", "K"]
    model = make_model([helper.make_node(op, inputs, ["y"])], (hw, hw, c), (hw, hw, c), [("K", k)])
    got, want = run_both(model, x)
    np.testing.assert_array_equal(got, want)  # one IEEE operation per element: bit exact


def test_pool_window_in_padding_is_refused():
    from edgecnn.export.compiler import CompileError

    nodes = nhwc_wrapped(
        helper.make_node("MaxPool", ["t"], ["z"], kernel_shape=[1, 2], dilations=[1, 2], pads=[0, 1, 0, 1], name="pool")
    )
    with pytest.raises(CompileError, match=r"node 'pool' .MaxPool.: a pooling window lies entirely in the padding"):
        compile_model(make_model(nodes, (1, 1, 1), (1, 1, 1)))


def test_standalone_activation_after_pool_matches_onnxruntime():
    """LeakyRelu that cannot be fused (it follows MaxPool) runs as its own in-place op."""
    rng = np.random.default_rng(0)
    nodes = nhwc_wrapped(helper.make_node("MaxPool", ["t"], ["p"], kernel_shape=[2, 2]))
    nodes.insert(2, helper.make_node("LeakyRelu", ["p"], ["z"], alpha=0.3))
    model = make_model(nodes, (5, 5, 3), (4, 4, 3))
    x = rng.normal(size=(4, 5, 5, 3)).astype(np.float32)
    got, want = run_both(model, x)
    np.testing.assert_array_equal(got, want)


def test_maxpool_runs_in_place_and_still_matches_onnxruntime():
    """Unpadded float max pooling writes over its input: the arena holds one tensor only."""
    rng = np.random.default_rng(1)
    nodes = nhwc_wrapped(helper.make_node("MaxPool", ["a"], ["p"], kernel_shape=[3, 2], strides=[1, 2]))
    nodes[1:1] = [helper.make_node("LeakyRelu", ["t"], ["a"], alpha=0.5)]
    nodes.insert(3, helper.make_node("LeakyRelu", ["p"], ["z"], alpha=0.25))
    model = make_model(nodes, (9, 8, 4), (7, 4, 4))
    _, report = compile_model(model)
    assert report.arena_bytes_per_sample == 9 * 8 * 4 * 4  # the pool input only: everything runs in place
    assert report.activation_bytes == 9 * 8 * 4 * 4 + 7 * 4 * 4 * 4  # LeakyRelu and pool outputs
    x = rng.normal(size=(3, 9, 8, 4)).astype(np.float32)
    got, want = run_both(model, x)
    np.testing.assert_array_equal(got, want)

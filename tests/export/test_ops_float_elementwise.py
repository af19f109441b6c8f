"""Float activations, normalisation and two-tensor arithmetic against onnxruntime (within 1e-5,
tests/ort_compare.py): the patterns the compiler folds into one op, the layouts and broadcasts
it must reconcile, and what it refuses."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ort_compare import FLOAT_SETTINGS, check_float, make_model, node, rand, run_native, run_onnxruntime

from edgecnn.export.compiler import CompileError, compile_model


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
    model = make_model([node(op, inputs, ["y"], **attrs)], (3, 5, 4), inits)
    check_float(model, rand((2, 3, 5, 4)) * 5, reference=True)


def _every_float_class() -> np.ndarray:
    """NaN (both signs, payloads), +-Inf, +-0, subnormals, the largest floats, Sigmoid's and Tanh's
    clamp bounds (+-18, +-9) and their neighbours, the inputs where MLAS's logistic gives
    1 + 2^-23, and one float32 in 65,537 over all 2^32 bit patterns (every exponent, both signs)."""
    special = [0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFA5A5A5, 0x7F800000, 0xFF800000, 0, 0x80000000]
    special += [0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF]
    special += [0x418BDB45, 0x418D0C5A, 0x418FF2CC]  # logistic 1 + 2^-23 (17.482065, 17.631031, 17.993553)
    for bound in (18.0, 9.0):
        b = int(np.float32(bound).view(np.uint32))
        special += [sign | (b + d) for sign in (0, 0x80000000) for d in (-1, 0, 1)]
    sweep = np.arange(0, 1 << 32, 65537, dtype=np.uint64).astype(np.uint32)
    bits = np.concatenate([np.array(special, np.uint32), sweep])
    bits = np.concatenate([bits, np.zeros((-bits.size) % 64, np.uint32)])
    return bits.view(np.float32).reshape(-1, 64)


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh"])
def test_sigmoid_and_tanh_equal_onnxruntime_on_every_float_class(op):
    # Both are MLAS's rational approximations (kernels/act.h): equal to onnxruntime's bit for bit,
    # NaN where it gives NaN, with the fast kernels and the reference ones (0 ulp, within 1e-5 by far).
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    model = make_model([node(op, ["x"], ["y"])], (64,))
    x = _every_float_class()
    want = run_onnxruntime(model, x, optimize=False)
    native = Model.from_bytes(compile_model(model)[0])
    for reference in (False, True):
        got = native.predict(x, reference=reference, check_finite=False)
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan), f"{op}: NaN where onnxruntime has none, or the reverse"
        differ = got.view(np.uint32)[~nan] != want.view(np.uint32)[~nan]
        assert not differ.any(), f"{op} (reference={reference}): {int(differ.sum())} of {x.size} values differ"


@pytest.mark.parametrize("gated", [False, True])
def test_keras_hard_sigmoid_and_hard_swish_patterns_become_one_activation(gated):
    # tf2onnx's Keras hard_sigmoid relu6(x + 3) / 6, and hard_swish x * hard_sigmoid(x) (MobileNetV3).
    nodes = [
        node("Conv", ["x", "W"], ["c"]),
        node("Add", ["c", "three"], ["a"]),
        node("Clip", ["a", "zero", "six"], ["r"]),
        node("Mul", ["r", "sixth"], ["h"]),
    ]
    nodes.append(node("Mul", ["c", "h"], ["y"]) if gated else node("Identity", ["h"], ["y"]))
    inits = [
        ("W", rand((4, 3, 1, 1), 1)),
        ("three", np.float32(3)),
        ("zero", np.float32(0)),
        ("six", np.float32(6)),
        ("sixth", np.float32(1 / 6)),
    ]
    _, report = check_float(make_model(nodes, (3, 5, 4), inits), rand((2, 3, 5, 4), 2) * 4, reference=True)
    assert [r.op for r in report.layers] == [
        "TRANSPOSE",
        "CONV_2D+" + ("hard_swish" if gated else "hard_sigmoid"),
        "TRANSPOSE",
    ]


@pytest.mark.parametrize("sigmoid_first", [False, True])
def test_swish_pattern_becomes_one_activation(sigmoid_first):
    # Keras' swish as tf2onnx writes it, x * sigmoid(x), either operand order of the Mul.
    mul_inputs = ["s", "c"] if sigmoid_first else ["c", "s"]
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Sigmoid", ["c"], ["s"]), node("Mul", mul_inputs, ["y"])]
    _, report = check_float(make_model(nodes, (3, 5, 4), [("W", rand((4, 3, 1, 1), 1))]), rand((2, 3, 5, 4), 2) * 6)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D+swish", "TRANSPOSE"]


def test_swish_equals_onnxruntime_on_every_float_class():
    # ACTIVATION(swish) is onnxruntime's Sigmoid, then its Mul: bit for bit with the graph as
    # written, fast kernels and reference. onnxruntime's own optimiser fuses the pair into one
    # kernel (QuickGelu) that differs by an ulp where MLAS's logistic gives 1 + 2^-23 (x near
    # 17.48, 17.63, 17.99): within the float contract, so that comparison is to the ulp.
    from edgecnn.runtime import Model

    model = make_model([node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], (64,))
    x = _every_float_class()
    blob, report = compile_model(model)
    assert [r.op for r in report.layers] == ["ACTIVATION(swish)"]
    native = Model.from_bytes(blob)
    as_written, fused = run_onnxruntime(model, x, optimize=False), run_onnxruntime(model, x, optimize=True)
    nan = np.isnan(as_written)
    for reference in (False, True):
        got = native.predict(x, reference=reference, check_finite=False)
        assert np.array_equal(np.isnan(got), nan), "swish: NaN where onnxruntime has none, or the reverse"
        differ = got.view(np.uint32)[~nan] != as_written.view(np.uint32)[~nan]
        assert not differ.any(), f"reference={reference}: {int(differ.sum())} of {x.size} values differ"
        ulps = np.abs(got.view(np.int32)[~nan].astype(np.int64) - fused.view(np.int32)[~nan])
        assert ulps.max() <= 1, f"{int((ulps > 1).sum())} values more than an ulp from onnxruntime's fused kernel"


def test_a_sigmoid_read_elsewhere_too_stays_a_sigmoid():
    # The Sigmoid's output is also a graph output: nothing to fold.
    nodes = [node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["m"]), node("Add", ["m", "s"], ["y"])]
    _, report = check_float(make_model(nodes, (8,)), rand((2, 8), 3) * 4)
    assert [r.op for r in report.layers] == ["ACTIVATION(sigmoid)", "MUL", "ADD"]


@pytest.mark.parametrize(
    "op, attrs", [("Sigmoid", {}), ("Tanh", {}), ("LeakyRelu", {"alpha": 0.01}), ("HardSwish", {})]
)
def test_activations_fused_into_conv_and_gemm_equal_the_reference_at_any_thread_count(op, attrs):
    # The op runs these after the kernel, over each tile's outputs (ecnn_act_after_rows): tiles of
    # whole rows and tiles of some channels (40 outputs split at 16) give the reference's values.
    from edgecnn.runtime import Model

    nodes = [
        node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
        node(op, ["c"], ["a"], **attrs),
        node("Flatten", ["a"], ["f"]),
        node("Gemm", ["f", "G", "GB"], ["g"], transB=1),
        node(op, ["g"], ["y"], **attrs),
    ]
    inits = [
        ("W", rand((40, 3, 3, 3), 1)),
        ("B", rand((40,), 2)),
        ("G", rand((36, 40 * 6 * 5), 3)),
        ("GB", rand((36,), 4)),
    ]
    model = make_model(nodes, (3, 6, 5), inits)
    x = rand((4, 3, 6, 5), 5) * 3
    _, report = check_float(model, x, reference=True)
    fused = {"Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu", "HardSwish": "hard_swish"}[op]
    assert [r.op for r in report.layers] == ["TRANSPOSE", f"CONV_2D+{fused}", f"FULLY_CONNECTED+{fused}"]
    blob = compile_model(model)[0]
    want = Model.from_bytes(blob, threads=1).predict(x, reference=True)
    for threads in (1, 2, 3, 7):
        got = Model.from_bytes(blob, threads=threads).predict(x)
        assert np.array_equal(got, want), f"{op}, {threads} threads: differs from the reference"


def batch_norm_inits(channels):
    """The scale s, bias b, mean m and (positive) variance v of a BatchNormalization."""
    s, b, m, v = (rand((channels,), seed) for seed in (2, 3, 4, 5))
    return [("s", s), ("b", b), ("m", m), ("v", np.abs(v) + 0.5)]


def test_batch_norm_folds_into_the_conv():
    nodes = [
        node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], epsilon=1e-3),
    ]
    inits = [("W", rand((4, 3, 3, 3), 1)), *batch_norm_inits(4)]
    _, report = check_float(make_model(nodes, (3, 6, 6), inits), rand((2, 3, 6, 6), 6))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "TRANSPOSE"]  # NCHW in and out


def test_batch_norm_with_two_readers_runs_as_channel_arith():
    nodes = [
        node("Conv", ["x", "W"], ["c"]),
        node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
        node("Add", ["n", "c"], ["y"]),
    ]
    inits = [("W", rand((4, 3, 1, 1), 1)), *batch_norm_inits(4)]
    _, report = check_float(make_model(nodes, (3, 5, 5), inits), rand((2, 3, 5, 5), 6), reference=True)
    assert [r.op for r in report.layers] == [
        "TRANSPOSE",
        "CONV_2D",
        "CHANNEL_ARITH(mul+add)",
        "ADD",
        "TRANSPOSE",
    ]


def _dense_block(tail: str):
    """x -> Conv -> Concat(x, conv) -> BatchNormalization [-> Relu | -> Relu -> Conv]: a batch
    norm no convolution absorbs (DenseNet style)."""
    nodes = [
        node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
        node("Concat", ["x", "c"], ["cat"], axis=1),
        node("BatchNormalization", ["cat", "s", "b", "m", "v"], ["n" if tail else "y"], epsilon=1e-3),
    ]
    if tail:
        nodes.append(node("Relu", ["n"], ["r" if tail == "relu+conv" else "y"]))
    if tail == "relu+conv":
        nodes.append(node("Conv", ["r", "W2"], ["y"]))
    inits = [("W", rand((5, 3, 3, 3), 1)), ("W2", rand((4, 8, 1, 1), 7)), *batch_norm_inits(8)]
    return make_model(nodes, (3, 6, 6), [i for i in inits if tail == "relu+conv" or i[0] != "W2"])


@pytest.mark.parametrize(
    "tail, fused",
    [
        ("", "CHANNEL_ARITH(mul+add)"),
        ("relu", "CHANNEL_ARITH(mul+add+relu)"),
        ("relu+conv", "CHANNEL_ARITH(mul+add+relu)"),
    ],
)
def test_batch_norm_after_concat_runs_as_one_op(tail, fused, monkeypatch):
    # The mul, the add and a Relu after them: one CHANNEL_ARITH, within onnxruntime's tolerance,
    # the fast kernels equal to the reference ones, and bit for bit what the ops did unfused.
    import edgecnn.export.compiler.passes.fuse as fuse_pass
    from edgecnn.runtime import Model

    model = _dense_block(tail)
    x = rand((3, 3, 6, 6), 6) * 3  # negative values for the Relu
    native, report = check_float(model, x, reference=True)
    ops = [r.op for r in report.layers]
    assert fused in ops, ops
    assert not any(o in ops for o in ("CHANNEL_ARITH(mul)", "CHANNEL_ARITH(add)", "ACTIVATION(relu)")), ops
    monkeypatch.setattr(fuse_pass, "fold_scale_shifts", lambda *a: None)
    unfused, report = compile_model(model)
    assert "CHANNEL_ARITH(mul)" in [r.op for r in report.layers]
    want = Model.from_bytes(unfused).predict(x, reference=True)
    assert np.array_equal(native.predict(x).view(np.uint32), want.view(np.uint32))


def test_add_relu_runs_as_mul_add_relu_with_k_one():
    # An add and its Relu alone (an int8 graph's batch norm shift between a dequantize and a
    # quantize): K = 1, and x * 1 is x exactly, so the result is the unfused ops' bit for bit.
    nodes = [node("Add", ["x", "b"], ["u"]), node("Relu", ["u"], ["y"])]
    model = make_model(nodes, (5, 4), [("b", rand((4,), 2))])
    x = rand((2, 5, 4), 3) * 2
    _, report = check_float(model, x, reference=True)
    assert [r.op for r in report.layers] == ["CHANNEL_ARITH(mul+add+relu)"]
    assert np.array_equal(run_native(model, x), np.maximum(x + rand((4,), 2), np.float32(0)))


def test_mul_add_relu_with_scalar_and_per_channel_constants():
    # tf2onnx's form of a batch norm (Mul, Add) with a scalar shift: B broadcast to K's channels.
    nodes = [
        node("Mul", ["x", "k"], ["t"]),
        node("Add", ["t", "b"], ["u"]),
        node("Relu", ["u"], ["y"]),
    ]
    inits = [("k", rand((4,), 2)), ("b", np.float32(0.25))]
    model = make_model(nodes, (5, 4), inits)
    _, report = check_float(model, rand((2, 5, 4), 3) * 2, reference=True)
    assert [r.op for r in report.layers] == ["CHANNEL_ARITH(mul+add+relu)"]


def test_residual_block_add_relu_and_arena_lifetimes():
    # x -> conv1 -> relu -> conv2 -> (+ x) -> relu: x must survive until the add.
    nodes = [
        node("Conv", ["x", "W1", "B1"], ["a"], pads=[1, 1, 1, 1]),
        node("Relu", ["a"], ["r"]),
        node("Conv", ["r", "W2", "B2"], ["b"], pads=[1, 1, 1, 1]),
        node("Add", ["b", "x2"], ["s"]),
        node("Relu", ["s"], ["y"]),
    ]
    pre = [node("Conv", ["x", "W0"], ["x2"])]
    inits = [
        ("W0", rand((4, 4, 1, 1), 0)),
        ("W1", rand((4, 4, 3, 3), 1)),
        ("B1", rand((4,), 2)),
        ("W2", rand((4, 4, 3, 3), 3)),
        ("B2", rand((4,), 4)),
    ]
    nodes[0].input[0] = "x2"
    _native, report = check_float(make_model(pre + nodes, (4, 6, 6), inits), rand((3, 4, 6, 6), 5), reference=True)
    # The Add and its Relu run in the second conv (its residual input x2).
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "CONV_2D+relu", "CONV_2D+add+relu", "TRANSPOSE"]
    # x2 (6*6*4 floats) is live across the two convs: three buffers of 576 bytes at the peak.
    assert report.arena_bytes_per_sample == 3 * 576


@pytest.mark.parametrize("act", [None, "Relu", "Sigmoid"])
def test_residual_add_folds_into_the_conv_computed_last_and_equals_the_reference_at_any_thread_count(act):
    # Add(a, b) of two convs of x: the Add folds into the conv that runs second (its other operand
    # must exist when the conv runs). 40 outputs: tiles of whole rows and of some channels.
    from edgecnn.runtime import Model

    nodes = [
        node("Conv", ["x", "W1", "B1"], ["a"], pads=[1, 1, 1, 1]),
        node("Conv", ["x", "W2", "B2"], ["b"], pads=[1, 1, 1, 1]),
        node("Add", ["a", "b"], ["s" if act else "y"]),
    ]
    if act:
        nodes.append(node(act, ["s"], ["y"]))
    inits = [
        ("W1", rand((40, 3, 3, 3), 1)),
        ("B1", rand((40,), 2)),
        ("W2", rand((40, 3, 3, 3), 3)),
        ("B2", rand((40,), 4)),
    ]
    model = make_model(nodes, (3, 7, 5), inits)
    x = rand((5, 3, 7, 5), 5) * 3
    _, report = check_float(model, x, reference=True)
    suffix = {None: "", "Relu": "+relu", "Sigmoid": "+sigmoid"}[act]
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", f"CONV_2D+add{suffix}", "TRANSPOSE"]
    blob = compile_model(model)[0]
    want = Model.from_bytes(blob, threads=1).predict(x, reference=True)
    for threads in (1, 2, 3, 7):
        got = Model.from_bytes(blob, threads=threads).predict(x, batch_size=2)
        assert np.array_equal(got, want), f"{act}, {threads} threads: differs from the reference"


def test_the_loader_refuses_a_residual_of_another_shape(monkeypatch):
    # A file whose CONV_2D residual is the (smaller) input tensor: refused at load, by name.
    import edgecnn.export.compiler as compiler
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import EdgecnnError

    def wrong_residual(tensors, ops, output_tensor):
        conv = next(op for op in ops if op.op == "CONV_2D")
        conv.inputs.append(conv.inputs[0])  # X: 4x4x3, Y: 4x4x8

    monkeypatch.setattr(compiler, "fuse", lambda t, o, out: (wrong_residual(t, o, out), o)[1])
    model = make_model([node("Conv", ["x", "W"], ["y"], pads=[1, 1, 1, 1])], (3, 4, 4), [("W", rand((8, 3, 3, 3), 1))])
    with pytest.raises(EdgecnnError, match="CONV_2D residual is not float32 of Y's shape"):
        Model.from_bytes(compile_model(model)[0])


def test_an_add_whose_other_operand_comes_later_or_is_read_twice_stays_an_add():
    # c is read by the Add and by the Mul: no fold into the conv that makes c.
    nodes = [
        node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
        node("Add", ["c", "x"], ["s"]),
        node("Mul", ["s", "c"], ["y"]),
    ]
    _, report = check_float(make_model(nodes, (3, 4, 4), [("W", rand((3, 3, 3, 3), 1))]), rand((2, 3, 4, 4), 2))
    assert "ADD" in [r.op for r in report.layers]


@pytest.mark.parametrize("op", ["Add", "Mul"])
def test_two_tensor_add_mul_with_different_layouts(op):
    # One operand NHWC-stored (after Conv), the other in ONNX order (the input): the compiler
    # transposes one to match.
    nodes = [node("Conv", ["x", "W"], ["c"]), node(op, ["x", "c"], ["y"])]
    check_float(make_model(nodes, (3, 4, 5), [("W", rand((3, 3, 1, 1), 1))]), rand((2, 3, 4, 5), 2), reference=True)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_per_channel_constant_on_nchw_input(op):
    # A (C, 1, 1) constant on an NCHW input stored in ONNX order: the channel is not the
    # innermost axis, so the compiler transposes before CHANNEL_ARITH.
    nodes = [node(op, ["x", "k"], ["y"])]
    check_float(make_model(nodes, (3, 4, 5), [("k", rand((3, 1, 1), 1) + 2)]), rand((2, 3, 4, 5), 2))


@pytest.mark.parametrize("op", ["Mul", "Add"])
@pytest.mark.parametrize("gate_first", [False, True])
def test_squeeze_excitation_broadcast_of_a_runtime_tensor(op, gate_first):
    # x * sigmoid(conv(global_avg_pool(x))): the gate (N, C, 1, 1) broadcasts over H, W.
    nodes = [
        node("Conv", ["x", "W0"], ["f"], pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["f"], ["g"]),
        node("Conv", ["g", "W1", "B1"], ["h"]),
        node("Sigmoid", ["h"], ["s"]),
        node(op, ["s", "f"] if gate_first else ["f", "s"], ["y"]),
    ]
    inits = [("W0", rand((4, 3, 3, 3), 1)), ("W1", rand((4, 4, 1, 1), 2)), ("B1", rand((4,), 3))]
    _, report = check_float(make_model(nodes, (3, 5, 6), inits), rand((2, 3, 5, 6), 4), reference=True)
    assert f"{op.upper()}" in [r.op for r in report.layers]


def test_broadcast_along_an_axis_that_is_not_innermost():
    # x (N, 3, 4, 5) in ONNX order times a (N, 1, 4, 1) gate: H is moved innermost first.
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3]),  # (N, 4, 3, 5)
        node("GlobalAveragePool", ["t"], ["g"]),  # (N, 4, 1, 1): per H of x
        node("Transpose", ["g"], ["gt"], perm=[0, 2, 1, 3]),  # (N, 1, 4, 1)
        node("Mul", ["x", "gt"], ["y"]),
    ]
    check_float(make_model(nodes, (3, 4, 5)), rand((2, 3, 4, 5), 5), reference=True)


def test_two_runtime_tensors_broadcasting_along_two_axes_is_refused():
    nodes = [
        node("GlobalAveragePool", ["x"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Reshape", ["f", "shape"], ["r"]),
        node("Mul", ["x", "r"], ["y"]),
    ]
    model = make_model(nodes, (4, 3, 5), [("shape", np.array([-1, 2, 2, 1], np.int64))])
    with pytest.raises(CompileError, match="broadcast along a single axis"):
        compile_model(model)


@pytest.mark.parametrize("small_first", [False, True])
def test_sub_of_two_runtime_tensors(small_first):
    # x - mean(x) per channel (and mean - x): a negation (exact) and an ADD, broadcast or not.
    nodes = [
        node("GlobalAveragePool", ["x"], ["m"]),
        node("Sub", ["m", "x"] if small_first else ["x", "m"], ["d"]),
        node("Sub", ["d", "x"], ["y"]),
    ]
    check_float(make_model(nodes, (3, 4, 5)), rand((2, 3, 4, 5)), reference=True)


@FLOAT_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_constant_varying_along_several_axes(shape, data):
    # Any constant that broadcasts over one sample (the full sample shape, or some of its axes
    # kept): one CHANNEL_ARITH over the sample as a vector, exact per element as onnxruntime.
    op = data.draw(st.sampled_from(["Add", "Sub", "Mul", "Div"]), "op")
    kshape = [d if data.draw(st.booleans(), f"keep axis {i}") else 1 for i, d in enumerate(shape)]
    kshape = kshape[data.draw(st.integers(0, len(kshape) - 1), "dropped leading axes") :]
    k = rand(kshape, 1) + 2  # away from 0: Div
    inputs = ["k", "x"] if data.draw(st.booleans(), "constant first") else ["x", "k"]
    nodes = [node(op, inputs, ["y"])]
    check_float(make_model(nodes, tuple(shape), [("k", k)]), rand((2, *shape), 2))


@pytest.mark.parametrize("op", ["Add", "Div"])
def test_full_shape_constant_on_an_nhwc_stored_tensor(op):
    # The Conv output is stored NHWC: the constant is laid out in that order.
    nodes = [node("Conv", ["x", "W"], ["c"]), node(op, ["c", "k"], ["y"])]
    inits = [("W", rand((3, 2, 1, 1), 1)), ("k", rand((3, 4, 5), 3) + 2)]
    check_float(make_model(nodes, (2, 4, 5), inits), rand((2, 2, 4, 5), 2), reference=True)


def test_constant_varying_along_the_batch():
    # A fixed batch of 2: the whole input is one sample (passes/whole.py) and the constant fits it;
    # a free batch: refused, the constant has no value for a third sample.
    from edgecnn.runtime.session import InferenceSession

    nodes = [node("Sub", ["x", "k"], ["y"])]
    model, x = make_model(nodes, (3, 4), [("k", rand((2, 3, 4), 1))], batch=2), rand((2, 3, 4), 2)
    (got,) = InferenceSession(compile_model(model)[0]).run(None, {"x": x})
    np.testing.assert_allclose(got, run_onnxruntime(model, x), rtol=0, atol=1e-5)
    with pytest.raises(CompileError, match="does not broadcast"):
        compile_model(make_model(nodes, (3, 4), [("k", rand((2, 3, 4), 1))]))

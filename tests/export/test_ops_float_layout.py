"""Float layout ops against onnxruntime (within 1e-5, tests/ort_compare.py): Transpose, Pad,
Concat, Flatten, Reshape, Softmax and MatMul, on ONNX-ordered and NHWC-stored tensors, and the
transposes the compiler saves by storing a tensor the way its readers read it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ort_compare import FLOAT_SETTINGS, check_float, make_model, node, rand

from edgecnn.export.compiler import CompileError, compile_model


@FLOAT_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_transpose_any_permutation(shape, data):
    perm = [0] + [p + 1 for p in data.draw(st.permutations(range(len(shape))), "perm")]
    nodes = [node("Transpose", ["x"], ["t"], perm=perm), node("Relu", ["t"], ["y"])]
    check_float(make_model(nodes, tuple(shape)), rand((2, *shape)))


@FLOAT_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_pad_constant(shape, data):
    rank = len(shape) + 1
    begins, ends = (data.draw(st.lists(st.integers(0, 3), min_size=rank - 1, max_size=rank - 1)) for _ in range(2))
    pads = [0, *begins, 0, *ends]
    nodes = [node("Pad", ["x", "pads", "v"], ["y"], mode="constant")]
    inits = [("pads", np.array(pads, np.int64)), ("v", np.float32(data.draw(st.sampled_from([0.0, -1.5, 3.0]))))]
    check_float(make_model(nodes, tuple(shape), inits), rand((2, *shape)))


def test_pad_then_conv_on_nchw():
    nodes = [node("Pad", ["x", "pads"], ["p"]), node("Conv", ["p", "W"], ["y"])]
    inits = [("pads", np.array([0, 0, 2, 1, 0, 0, 0, 3], np.int64)), ("W", rand((2, 3, 3, 3), 1))]
    check_float(make_model(nodes, (3, 5, 4), inits), rand((2, 3, 5, 4), 2))


def test_pad_is_stored_the_way_its_readers_read_it():
    # Read by a Relu: padded in the stored (ONNX) order, no transpose; read by a Conv: folded.
    pads = ("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))
    relu = [node("Pad", ["x", "pads"], ["p"]), node("Relu", ["p"], ["y"])]
    _, report = check_float(make_model(relu, (3, 4, 5), [pads]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["PAD", "ACTIVATION(relu)"]
    conv = [node("Pad", ["x", "pads"], ["p"]), node("Conv", ["p", "W"], ["y"])]
    _, report = check_float(make_model(conv, (3, 4, 5), [pads, ("W", rand((2, 3, 3, 3), 1))]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "TRANSPOSE"]


@pytest.mark.parametrize("parts", [2, 3, 9])
def test_concat_on_channels(parts):
    # Conv outputs (NHWC) joined on the ONNX channel axis 1; 9 inputs need a chain of CONCATs.
    nodes, inits = [], []
    for i in range(parts):
        nodes.append(node("Conv", ["x", f"W{i}"], [f"c{i}"]))
        inits.append((f"W{i}", rand((i % 3 + 1, 2, 1, 1), i)))
    nodes.append(node("Concat", [f"c{i}" for i in range(parts)], ["y"], axis=1))
    _, report = check_float(make_model(nodes, (2, 3, 4), inits), rand((2, 2, 3, 4), 9), reference=True)
    assert sum(r.op == "CONCAT" for r in report.layers) == (1 if parts <= 7 else 2)


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_concat_of_inputs_in_onnx_order(axis):
    nodes = [node("Relu", ["x"], ["r"]), node("Concat", ["x", "r", "x"], ["y"], axis=axis)]
    check_float(make_model(nodes, (3, 4)), rand((2, 3, 4)))


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1])
def test_flatten_axes(axis):
    nodes = [node("Flatten", ["x"], ["f"], axis=axis), node("Relu", ["f"], ["y"])]
    model = make_model(nodes, (1, 1, 12), batch=1)
    check_float(model, rand((1, 1, 1, 12)))


def test_flatten_that_merges_the_batch_is_refused():
    model = make_model([node("Flatten", ["x"], ["y"], axis=2)], (2, 3))
    with pytest.raises(CompileError, match="merges the batch"):
        compile_model(model)


def test_flatten_of_nchw_feature_map_permutes_the_dense_weights_instead_of_transposing():
    # PyTorch: conv -> flatten (C, H, W order) -> linear. The conv output is stored NHWC.
    nodes = [
        node("Conv", ["x", "W"], ["c"]),
        node("Sigmoid", ["c"], ["s"]),
        node("Flatten", ["s"], ["f"]),
        node("Gemm", ["f", "F", "B"], ["y"], transB=1),
    ]
    inits = [("W", rand((3, 2, 2, 2), 1)), ("F", rand((5, 3 * 3 * 4), 2)), ("B", rand((5,), 3))]
    _, report = check_float(make_model(nodes, (2, 4, 5), inits), rand((2, 2, 4, 5), 4), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D+sigmoid", "FULLY_CONNECTED"]


@pytest.mark.parametrize("axis", [1, 2, 3, -1])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_any_axis(axis, opset):
    nodes = [node("Softmax", ["x"], ["y"], axis=axis)]
    check_float(make_model(nodes, (3, 4, 5), opset=opset), rand((2, 3, 4, 5)) * 3)


def test_softmax_over_channels_after_conv_needs_no_extra_transpose():
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Softmax", ["c"], ["y"], axis=1)]
    _, report = check_float(make_model(nodes, (3, 4, 5), [("W", rand((6, 3, 1, 1), 1))]), rand((2, 3, 4, 5)))
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "SOFTMAX", "TRANSPOSE"]


def test_matmul_identity_dropout_reshape():
    nodes = [
        node("Identity", ["x"], ["i"]),
        node("Dropout", ["i"], ["d"]),
        node("Reshape", ["d", "shape"], ["r"]),
        node("MatMul", ["r", "W"], ["y"]),
    ]
    inits = [("shape", np.array([-1, 12], np.int64)), ("W", rand((12, 5), 1))]
    check_float(make_model(nodes, (3, 4), inits), rand((4, 3, 4)))


@pytest.mark.parametrize("shape", [(3, 4, 5), (6, 5), (2, 3, 4, 5)])
def test_matmul_of_a_higher_rank_tensor_is_a_per_row_dense_layer(shape):
    # Keras Dense on a feature map (tf2onnx: MatMul + Add on the NHWC tensor): a 1x1 convolution.
    nodes = [
        node("MatMul", ["x", "W"], ["m"]),
        node("Add", ["m", "B"], ["a"]),
        node("Relu", ["a"], ["y"]),
    ]
    inits = [("W", rand((shape[-1], 7), 1)), ("B", rand((7,), 2))]
    _, report = check_float(make_model(nodes, shape, inits), rand((2, *shape), 3), reference=True)
    # (rank 3: RESHAPEs copy the graph input to [rows, 1, K] and the result to the declared dims)
    assert [r.op for r in report.layers] == (
        ["CONV_2D+relu"] if len(shape) == 3 else ["RESHAPE", "CONV_2D+relu", "RESHAPE"]
    )


def test_matmul_over_the_channels_of_an_nchw_map():
    # MatMul on (N, H, W, C) reached from NCHW via Transpose: the rows are stored NHWC already.
    nodes = [
        node("Conv", ["x", "K"], ["c"]),
        node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
        node("MatMul", ["t", "W"], ["y"]),
    ]
    inits = [("K", rand((4, 3, 1, 1), 1)), ("W", rand((4, 6), 2))]
    _, report = check_float(make_model(nodes, (3, 5, 2), inits), rand((2, 3, 5, 2), 3), reference=True)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D", "CONV_2D"]


@FLOAT_SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_concat_with_constant_inputs(shape, data):
    # Constants of one sample copied into every sample next to the runtime tensor, in any order.
    axis = data.draw(st.integers(1, len(shape)), "axis")
    parts = data.draw(st.lists(st.booleans(), min_size=1, max_size=4), "constant before/after")
    inits, names = [], []
    for i, before in enumerate(parts):
        kshape = [1, *shape]
        kshape[axis] = i + 1
        inits.append((f"k{i}", rand(kshape, i + 1)))
        names = [f"k{i}", *names] if before else [*names, f"k{i}"]
    inputs = [n for n in names if parts[int(n[1:])]] + ["r"] + [n for n in names if not parts[int(n[1:])]]
    nodes = [node("Relu", ["x"], ["r"]), node("Concat", inputs, ["y"], axis=axis)]
    check_float(make_model(nodes, tuple(shape), inits, batch=1), rand((1, *shape), 9))


def test_concat_of_a_constant_and_a_conv_output_on_channels():
    # The Conv output is stored NHWC: the constant is stored in that order too.
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Concat", ["k", "c"], ["y"], axis=1)]
    inits = [("W", rand((3, 2, 1, 1), 1)), ("k", rand((1, 2, 4, 5), 2))]
    check_float(make_model(nodes, (2, 4, 5), inits, batch=1), rand((1, 2, 4, 5), 3), reference=True)


@FLOAT_SETTINGS
@given(data=st.data(), m=st.integers(1, 4), k=st.integers(1, 5), o=st.integers(1, 4))
def test_matmul_by_a_stack_of_matrices(data, m, k, o):
    # (N, ..., M, K) by a constant (..., K, O) broadcast as numpy does (each stack axis: the
    # tensor's, the constant's, or both): a grouped 1x1 convolution; a vector B drops its axis.
    depth = data.draw(st.integers(1, 2), "stack axes")
    a_stack, b_stack = [], []
    for i in range(depth):
        d = data.draw(st.integers(2, 3), f"axis {i}")
        a_d, b_d = data.draw(st.sampled_from([(d, d), (d, 1), (1, d), (1, 1)]), f"broadcast {i}")
        a_stack.append(a_d)
        b_stack.append(b_d)
    b_stack = b_stack[data.draw(st.integers(0, depth), "constant stack axes dropped") :]
    vector = data.draw(st.booleans(), "B a vector")
    b = rand((k,), 1) if vector else rand((*b_stack, k, o), 1)
    nodes = [node("Relu", ["x"], ["r"]), node("MatMul", ["r", "W"], ["y"])]
    check_float(make_model(nodes, (*a_stack, m, k), [("W", b)]), rand((2, *a_stack, m, k), 2), reference=True)


def test_matmul_by_a_stack_of_an_nhwc_stored_tensor():
    # A Conv output (stored NHWC) as the (N, C, H, W) tensor of a stack over C.
    nodes = [node("Conv", ["x", "K"], ["c"]), node("MatMul", ["c", "W"], ["y"])]
    inits = [("K", rand((3, 2, 1, 1), 1)), ("W", rand((3, 5, 2), 3))]
    check_float(make_model(nodes, (2, 4, 5), inits), rand((2, 2, 4, 5), 2), reference=True)


def test_matmul_whose_constant_stack_is_deeper_than_the_tensor_is_refused():
    nodes = [node("MatMul", ["x", "W"], ["y"])]
    with pytest.raises(CompileError, match="must not be deeper"):
        compile_model(make_model(nodes, (3, 4), [("W", rand((2, 2, 4, 2), 1))]))


def test_matmul_of_rows_by_a_vector():
    # (N, K) by (K,): one value per sample.
    nodes = [node("Relu", ["x"], ["r"]), node("MatMul", ["r", "W"], ["y"])]
    check_float(make_model(nodes, (4,), [("W", rand((4,), 1))]), rand((3, 4), 2))

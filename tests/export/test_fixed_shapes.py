"""Shapes as real models have them: a fixed batch (1 from TFLite, or N) compiles and runs that
batch, a free batch runs any batch, and rank-1, rank-2 and rank-3 inputs compile; every result
against onnxruntime (floats within 1e-5, relative above magnitude 1)."""

import itertools

import numpy as np
import pytest
from needs import need
from onnx import TensorProto, helper, numpy_helper

TOLERANCE = 1e-5


def _model(nodes, in_shape, out_shape, inits=()):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _fc_autoencoder(batch):
    """The MLPerf Tiny anomaly-detection shape: 640 -> 128 -> 8 -> 128 -> 640, Relu between."""
    rng = np.random.default_rng(3)
    widths = [640, 128, 8, 128, 640]
    nodes, inits, prev = [], [], "x"
    for i, (k, o) in enumerate(itertools.pairwise(widths)):
        inits += [(f"W{i}", rng.normal(0, k**-0.5, (k, o)).astype(np.float32)), (f"B{i}", np.zeros(o, np.float32))]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [f"g{i}"]))
        prev = f"g{i}"
        if i < 3:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes[-1].output[0] = "y"
    return _model(nodes, [batch, 640], [batch, 640], inits)


def _keyword_conv(batch):
    """A keyword-spotting front end on [batch, 49, 10, 1] (NHWC as TFLite gives it): transpose to
    NCHW, conv, relu, global average pool, flatten, dense, softmax."""
    rng = np.random.default_rng(4)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t", "W", "B"], ["c"], kernel_shape=[10, 4], strides=[2, 2], pads=[5, 1, 4, 2]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "D", "E"], ["g"]),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    inits = [
        ("W", rng.normal(0, 0.2, (8, 1, 10, 4)).astype(np.float32)),
        ("B", rng.normal(0, 0.1, 8).astype(np.float32)),
        ("D", rng.normal(0, 0.5, (8, 12)).astype(np.float32)),
        ("E", np.zeros(12, np.float32)),
    ]
    return _model(nodes, [batch, 49, 10, 1], [batch, 12], inits)


def _gemm_trans_a(**attrs):
    """A case of Gemm with transA on a fixed [4, 3] input (its first axis is K, not a batch)."""
    inits = [("W", np.random.default_rng(8).normal(size=(4, 5)).astype(np.float32)), ("B", np.ones(5, np.float32))]
    node = helper.make_node("Gemm", ["x", "W", "B"], ["y"], transA=1, **attrs)
    return _model([node], [4, 3], [3, 5], inits), (4, 3), [(3, 4)]


CASES = {
    # name: (model, input shape run, shapes run refused)
    "rank-1 fixed": (_model([helper.make_node("Relu", ["x"], ["y"])], [6], [6]), (6,), [(5,)]),
    "rank-1 free": (_model([helper.make_node("Sigmoid", ["x"], ["y"])], ["N"], ["N"]), (7,), [(7, 1)]),
    "rank-2 FC autoencoder batch 1": (_fc_autoencoder(1), (1, 640), [(2, 640), (640,)]),
    "rank-2 FC autoencoder free batch": (_fc_autoencoder("N"), (5, 640), [(5, 64)]),
    "rank-3 softmax batch 1": (
        _model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], [1, 49, 10], [1, 49, 10]),
        (1, 49, 10),
        [(2, 49, 10)],
    ),
    "rank-4 keyword model batch 1": (_keyword_conv(1), (1, 49, 10, 1), [(4, 49, 10, 1)]),
    "rank-4 keyword model batch 3": (_keyword_conv(3), (3, 49, 10, 1), [(1, 49, 10, 1)]),
    "rank-2 MatMul batch 3": (
        _model(
            [helper.make_node("MatMul", ["x", "W"], ["y"])],
            [3, 5],
            [3, 4],
            [("W", np.random.default_rng(5).normal(size=(5, 4)).astype(np.float32))],
        ),
        (3, 5),
        [(2, 5)],
    ),
    # fixed-shape graphs whose nodes treat the first axis as data: run as one sample (passes/whole.py)
    "transpose moving the fixed batch": (
        _model([helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2])], [2, 3, 4], [3, 2, 4]),
        (2, 3, 4),
        [(1, 3, 4), (3, 4)],
    ),
    "softmax over the fixed batch": (
        _model([helper.make_node("Softmax", ["x"], ["y"], axis=0)], [3, 4], [3, 4]),
        (3, 4),
        [(4,)],
    ),
    "flatten merging the fixed batch": (
        _model(
            [helper.make_node("Flatten", ["x"], ["f"], axis=2), helper.make_node("Relu", ["f"], ["y"])],
            [2, 3, 4],
            [6, 4],
        ),
        (2, 3, 4),
        [(6, 4)],
    ),
    "gemm transA": _gemm_trans_a(),
    "gemm transA, alpha and beta": _gemm_trans_a(alpha=0.25, beta=0.35),
    "matmul of a vector by a stack of matrices": (
        _model(
            [helper.make_node("MatMul", ["x", "W"], ["y"])],
            [4],
            [2, 3],
            [("W", np.random.default_rng(9).normal(size=(2, 4, 3)).astype(np.float32))],
        ),
        (4,),
        [(5,)],
    ),
}


def test_a_free_batch_graph_that_moves_the_batch_is_still_refused():
    from edgecnn.export.compiler import CompileError, compile_model

    model = _model([helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2])], ["N", 3, 4], [3, "N", 4])
    with pytest.raises(CompileError, match="moves the batch axis"):
        compile_model(model)


@pytest.mark.parametrize("name", list(CASES))
def test_shape_compiles_runs_and_matches_onnxruntime(name):
    ort = need("onnxruntime")
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import InferenceSession
    from edgecnn.runtime.errors import InputError

    model, shape, refused = CASES[name]
    session = InferenceSession(compile_model(model)[0], threads=1)
    declared = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert session.get_inputs()[0].shape == declared
    x = np.random.default_rng(6).normal(size=shape).astype(np.float32)
    (got,) = session.run(None, {"x": x})
    (want,) = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert got.shape == want.shape and got.dtype == want.dtype
    diff = float((np.abs(got - want) / np.maximum(1, np.abs(want))).max())
    assert diff <= TOLERANCE, f"largest difference {diff:.3g}"
    for bad in refused:
        with pytest.raises(InputError, match=r"the model takes \("):
            session.run(None, {"x": np.zeros(bad, np.float32)})


ZOO_FLOAT = [
    "ic_resnet8",
    "kws_dscnn",
    "vww_mobilenetv1",
    "ad_fc_autoencoder",
    "block_mbv2",
    "block_resnet_bottleneck",
    "block_se",
    "block_dense_concat",
    "block_xception",
]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", ZOO_FLOAT)
def test_tiny_zoo_float_model_at_a_fixed_batch(tiny_zoo, name, batch):
    """The float tiny zoo models (tf2onnx from their .tflite) with the batch fixed, as TFLite has it
    (1) and at 3: each compiles, runs exactly that batch and matches onnxruntime."""
    import onnx

    ort = need("onnxruntime")
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import InferenceSession

    model = onnx.load(str(tiny_zoo.onnx(name, "float")))
    for value in [*model.graph.input, *model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_value = batch
    session = InferenceSession(compile_model(model)[0], threads=1)
    assert session.model.batch == batch
    arg = session.get_inputs()[0]
    x = np.random.default_rng(7).random(arg.shape, dtype=np.float32)
    (got,) = session.run(None, {arg.name: x})
    (want,) = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {arg.name: x}
    )
    diff = float((np.abs(got - want) / np.maximum(1, np.abs(want))).max())
    assert got.shape == want.shape and diff <= TOLERANCE, f"{name} batch {batch}: largest difference {diff:.3g}"

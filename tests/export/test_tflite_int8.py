"""int8 graphs as TFLite makes them (full-integer TFLite -> tf2onnx), against onnxruntime bit for bit.

A full-integer TFLite model converted with tf2onnx takes and returns int8: a DequantizeLinear
reads the graph input (after a layout change), a QuantizeLinear writes the graph output, and
between them every op sits in a DequantizeLinear -> op -> QuantizeLinear group. onnxruntime
(x86, default level) rewrites the int8 pairs read once to uint8 (QDQS8ToU8), fuses the uint8
groups into its integer kernels and runs the rest in float: the first layer (it reads the int8
input), the last (it writes the int8 output), every layer reading a tensor that two ops read
(a residual branch), and the pooling and Softmax whose input and output pairs differ in dtype.
The compiler makes the same choices (export/compiler/passes/qdq.py, docs/numerics.md).

Two kinds of cases:
- every tiny-zoo model's int8 ONNX (the tiny_zoo fixture, tests/tiny_zoo.py): compiled, run on the zoo's own kind of
  inputs (images or standardised features, quantized with the TFLite input's scale and zero
  point) and compared with onnxruntime run one sample at a time, as TFLite runs them;
- small graphs built with onnx.helper, one per QDQ pattern, in the form tf2onnx writes them.

Integers compare exactly; a failure says how many values differ and where the first one is.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from needs import need

from edgecnn.train.tiny_models import NAMES

SAMPLES = 24
SEED = 404  # apart from the zoo's calibration, check and test seeds
OPSET = 15  # what tf2onnx writes for a .tflite (edgecnn.export.tflite.TFLITE_OPSET)


def run_ort_per_sample(model, x: np.ndarray, *, exact: bool = True) -> np.ndarray:
    """onnxruntime one sample at a time (batch 1, as TFLite runs the model), in its exact mode
    (exact=False: its default mode)."""
    need("onnxruntime")
    from edgecnn.export.artifacts import ort_session

    session = ort_session(model, threads=1, exact=exact)
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])


def run_native(model, x: np.ndarray) -> np.ndarray:
    """The compiled model's output, checked to be the same on one thread and on four (each
    output computed by one tile, the same way whatever the tiling)."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, _ = compile_model(model)
    y = Model.from_bytes(blob, threads=1).predict(x)
    np.testing.assert_array_equal(Model.from_bytes(blob, threads=4).predict(x), y)
    return y


def assert_identical(native: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert native.dtype == expected.dtype, f"{what}: native {native.dtype}, onnxruntime {expected.dtype}"
    assert native.shape == expected.shape, f"{what}: native {native.shape}, onnxruntime {expected.shape}"
    differ = np.flatnonzero(native.reshape(-1) != expected.reshape(-1))
    if differ.size:
        i = differ[0]
        steps = np.abs(native.astype(np.int32) - expected.astype(np.int32)).max()
        raise AssertionError(
            f"{what}: {differ.size} of {native.size} values differ from onnxruntime by up to {steps} "
            f"(first at flat index {i}: native {native.reshape(-1)[i]}, onnxruntime {expected.reshape(-1)[i]})"
        )


# ---------------------------------------------------------------------------------------
# the tiny zoo


@pytest.mark.parametrize("name", NAMES)
def test_zoo_int8_model_matches_onnxruntime(tiny_zoo, name):
    """The int8 ONNX compiles, takes int8 and returns int8, and every output integer is onnxruntime's."""
    import onnx

    from edgecnn.export.tflite import quantize_inputs, tflite_io
    from edgecnn.train.tiny_models import sample_inputs

    tflite_in, _ = tflite_io(tiny_zoo.tflite(name, "int8"))
    x = quantize_inputs(sample_inputs(name, SAMPLES, SEED), tflite_in)
    assert x.dtype == np.int8
    model = onnx.load(str(tiny_zoo.onnx(name, "int8")))
    expected = run_ort_per_sample(model, x)
    native = run_native(model, x)
    assert native.dtype == np.int8
    assert_identical(native, expected, f"{name} int8")


@pytest.mark.parametrize("name", NAMES)
def test_zoo_int8_model_every_quantized_tensor_matches_onnxruntime(tiny_zoo, name):
    """Every QuantizeLinear inside the model, made the output (a DequantizeLinear after it: equal
    floats are equal codes): the output alone is a weak witness (a Softmax of 10 classes hides
    a one-step difference inside), the tensors inside are not. The cut graph is a model of its
    own, which onnxruntime and the compiler both fuse as they would any model; the last
    QuantizeLinear (the graph output) is the test above."""
    import onnx
    from onnx import helper

    from edgecnn.export.compiler.passes.cut import nodes_feeding
    from edgecnn.export.tflite import quantize_inputs, tflite_io
    from edgecnn.train.tiny_models import sample_inputs

    tflite_in, _ = tflite_io(tiny_zoo.tflite(name, "int8"))
    x = quantize_inputs(sample_inputs(name, 6, SEED + 1), tflite_in)
    model = onnx.load(str(tiny_zoo.onnx(name, "int8")))
    outputs = {o.name for o in model.graph.output}
    probes = [n for n in model.graph.node if n.op_type == "QuantizeLinear" and n.output[0] not in outputs]
    assert probes, f"{name}: no QuantizeLinear inside the model"
    compared = 0
    for q in probes:
        cut = nodes_feeding(model, q.output[0])
        del cut.graph.output[:]
        cut.graph.node.append(helper.make_node("DequantizeLinear", [q.output[0], *q.input[1:3]], ["probe"]))
        cut.graph.output.append(helper.make_tensor_value_info("probe", onnx.TensorProto.FLOAT, None))
        native, expected = run_native(cut, x), run_ort_per_sample(cut, x)
        assert_identical(native, expected, f"{name}: the tensor quantized by '{q.name or q.output[0]}'")
        compared += native.size
    assert compared > 0


# ---------------------------------------------------------------------------------------
# hand-built QDQ graphs, as tf2onnx writes them


class QDQGraph:
    """A QDQ graph under construction: NCHW float ops between DequantizeLinear and QuantizeLinear,
    int8 weights per output channel, int32 biases, as tf2onnx writes a full-integer TFLite model."""

    def __init__(self, rng, in_shape, dtype=np.int8, scale=0.02, zero_point=-3, nhwc_input=True):
        from onnx import helper

        self.rng, self.nodes, self.inits, self.count = rng, [], {}, 0
        self.in_shape, self.dtype = tuple(in_shape), np.dtype(dtype)
        self.input = helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(self.dtype), ["N", *in_shape])
        x = "x"
        if nhwc_input and len(in_shape) == 3:  # tf2onnx: NHWC input, Transpose to NCHW before the DQ
            x = self.node("Transpose", [x], perm=[0, 3, 1, 2])
        self.x = self.dq(x, scale, zero_point)
        self.x_quant = (scale, zero_point)

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, value, stem="c") -> str:
        name = self.name(stem)
        self.inits[name] = np.asarray(value)
        return name

    def node(self, op, inputs, **attrs) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out, **attrs))
        return out

    def dq(self, x, scale, zero_point, axis=None) -> str:
        attrs = {} if axis is None else {"axis": axis}
        zp = self.const(np.asarray(zero_point, self.dtype))
        return self.node("DequantizeLinear", [x, self.const(np.float32(scale)), zp], **attrs)

    def q(self, x, scale, zero_point, dtype=None) -> str:
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        return self.node(
            "QuantizeLinear", [x, self.const(np.float32(scale)), self.const(np.asarray(zero_point, dtype))]
        )

    def qdq(self, x, scale, zero_point) -> str:
        """Q -> DQ: the activation is quantized here."""
        return self.dq(self.q(x, scale, zero_point), scale, zero_point)

    def conv(self, x, c, o, k=3, group=1, act=None, out=(0.05, 5), **attrs) -> str:
        """DQ(W int8 per channel) and DQ(B int32) -> Conv [-> Relu / Clip(0, 6)] -> Q -> DQ."""
        w = self.rng.integers(-127, 128, (o, c // group, k, k), dtype=np.int8)
        w_scale = (self.rng.random(o, dtype=np.float32) * 0.01 + 0.002).astype(np.float32)
        x_scale = np.float32(self.x_quant[0])
        b = self.rng.integers(-2000, 2000, o, dtype=np.int32)
        wq = self.node(
            "DequantizeLinear", [self.const(w), self.const(w_scale), self.const(np.zeros(o, np.int8))], axis=0
        )
        bq = self.node(
            "DequantizeLinear",
            [self.const(b), self.const((w_scale * x_scale).astype(np.float32)), self.const(np.zeros(o, np.int32))],
            axis=0,
        )
        pads = attrs.pop("pads", [k // 2] * 4)
        y = self.node("Conv", [x, wq, bq], kernel_shape=[k, k], pads=pads, group=group, **attrs)
        if act == "relu":
            y = self.node("Relu", [y])
        elif act == "relu6":
            y = self.node("Clip", [y, self.const(np.float32(0)), self.const(np.float32(6))])
        self.x_quant = out
        return self.qdq(y, *out)

    def model(self, y, out_dtype=None):
        """The model whose output is y quantized (QuantizeLinear -> graph output, TFLite's int8 output)."""
        from onnx import helper, numpy_helper

        scale, zp = self.x_quant
        dtype = self.dtype if out_dtype is None else np.dtype(out_dtype)
        self.node("QuantizeLinear", [y, self.const(np.float32(scale)), self.const(np.asarray(zp, dtype))])
        self.nodes[-1].output[0] = "y"
        graph = helper.make_graph(
            self.nodes,
            "qdq",
            [self.input],
            [helper.make_tensor_value_info("y", helper.np_dtype_to_tensor_dtype(dtype), None)],
            [numpy_helper.from_array(v, k) for k, v in self.inits.items()],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model

    def inputs(self, n=6) -> np.ndarray:
        info = np.iinfo(self.dtype)
        return self.rng.integers(info.min, info.max + 1, (n, *self.in_shape), dtype=self.dtype)


def optimized_ops(model, *, exact: bool = False) -> collections.Counter:
    """The op types onnxruntime runs (its optimized graph, default level), Q/DQ and Transposes aside."""
    from ort_compare import optimized_ops as all_ops

    ops = all_ops(model, exact=exact)
    return collections.Counter(
        {k: v for k, v in ops.items() if k not in ("QuantizeLinear", "DequantizeLinear", "Transpose")}
    )


def check(model, x, what, runs: dict) -> None:
    """Native == onnxruntime, after checking that onnxruntime runs the ops `runs` names (so the
    case exercises the integer kernel or the float path it claims to).

    The compiler mirrors onnxruntime's default mode. Its exact mode (x86 without VNNI) can run a
    group with other kernels: an int8-input QGemm as a float Gemm, its u8 x u8 kernels taking no
    int8 activations. Such a case is compared with the default mode, whose s8 x s8 kernel is exact."""
    ops = optimized_ops(model)
    assert ops == collections.Counter(runs), f"{what}: onnxruntime runs {ops}"
    exact = optimized_ops(model, exact=True) == ops
    assert_identical(run_native(model, x), run_ort_per_sample(model, x, exact=exact), what)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_dequantize_on_the_graph_input_and_quantize_to_the_graph_output(dtype):
    """int8 / uint8 graph input read by a DequantizeLinear (its scale and zero point become the
    input's), QuantizeLinear to the graph output, a per-channel Conv between them."""
    g = QDQGraph(np.random.default_rng(1), (9, 7, 3), dtype=dtype, zero_point=-3 if dtype == np.int8 else 121)
    y = g.conv(g.x, 3, 8, out=(0.07, -4 if dtype == np.int8 else 130))
    runs = {"Conv": 1} if dtype == np.int8 else {"QLinearConv": 1}  # no int8 QLinearConv on x86
    check(g.model(y), g.inputs(), f"{np.dtype(dtype).name} input", runs)


def test_float_first_layer_then_fused_layers_with_relu_and_relu6():
    """DQ(int8 input) -> Conv runs in float (no int8 QLinearConv on x86); the uint8 pairs after it
    fuse; Relu with the dtype's minimum zero point and a ReLU6 Clip whose range covers the codes
    fold into the requantisation; a Relu with another zero point stays an op."""
    g = QDQGraph(np.random.default_rng(2), (10, 8, 3))
    y = g.conv(g.x, 3, 16, act="relu", out=(0.04, -128))
    y = g.conv(y, 16, 16, k=3, group=16, act="relu6", out=(np.float32(6 / 255), -128))  # depthwise, ReLU6
    y = g.conv(y, 16, 8, k=1, act="relu", out=(0.05, -20))  # Relu, zero point not the minimum
    y = g.conv(y, 8, 8, k=3, out=(0.06, 7))
    # float first and last layers, the depthwise ReLU6 fused, the Relu with zero point -20 a FusedConv
    check(g.model(y), g.inputs(), "conv chain", {"Conv": 2, "QLinearConv": 1, "FusedConv": 1})


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_residual_add(dtype):
    """A tensor read by a Conv and by an Add: int8 pairs read twice stay int8 and onnxruntime runs
    the Add (and the Conv reading it) in float; uint8 ones become QLinearAdd."""
    zp = (lambda z: z) if dtype == np.int8 else (lambda z: z + 128)
    g = QDQGraph(np.random.default_rng(3), (8, 8, 4), dtype=dtype, zero_point=zp(0))
    a = g.conv(g.x, 4, 8, act="relu", out=(0.03, zp(-128)))
    b = g.conv(a, 8, 8, out=(0.05, zp(-10)))
    g.x_quant = (0.06, zp(-128))
    y = g.qdq(g.node("Relu", [g.node("Add", [a, b])]), 0.06, zp(-128))
    y = g.conv(y, 8, 4, k=1, out=(0.04, zp(3)))
    runs = {"Conv": 3, "Add": 1} if dtype == np.int8 else {"QLinearConv": 3, "QLinearAdd": 1}
    check(g.model(y), g.inputs(), f"residual {np.dtype(dtype).name}", runs)


def test_concat_pooling_reshape_and_softmax():
    """Concat of two branches, AveragePool, GlobalAveragePool, Reshape / Squeeze and a Softmax to
    the int8 output (scale 1/256, zero point -128, as TFLite quantizes it)."""
    g = QDQGraph(np.random.default_rng(4), (12, 12, 3))
    a = g.conv(g.x, 3, 6, act="relu", out=(0.03, -128))
    b = g.conv(a, 6, 6, k=1, out=(0.04, -5))
    c = g.conv(a, 6, 4, k=3, out=(0.04, -5))
    y = g.qdq(g.node("Concat", [b, c], axis=1), 0.04, -5)
    y = g.qdq(g.node("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2]), 0.04, -5)
    g.x_quant = (0.04, -5)
    y = g.conv(y, 10, 12, k=3, act="relu", out=(0.05, -128))
    y = g.qdq(g.node("GlobalAveragePool", [y]), 0.05, -128)
    y = g.qdq(g.node("Squeeze", [y, g.const(np.int64([2, 3]))]), 0.05, -128)
    y = g.qdq(g.node("Reshape", [y, g.const(np.int64([-1, 12]))]), 0.05, -128)
    y = g.node("Softmax", [y], axis=-1)
    g.x_quant = (np.float32(1 / 256), -128)
    runs = {
        "Conv": 3,
        "QLinearConv": 1,
        "QLinearConcat": 1,
        "QLinearAveragePool": 1,
        "QLinearGlobalAveragePool": 1,
        "Squeeze": 1,
        "Reshape": 1,
        "Softmax": 1,
    }
    check(g.model(y), g.inputs(), "concat / pool / reshape / softmax", runs)


def test_float_conv_wider_than_one_sgemm_slice():
    """A float Conv over 32 channels (it reads the int8 input): K = 288 is summed as MLAS sums it,
    channel-major in slices 128 + 128 + 32, the bias last (export/compiler/passes/ort_float.py).
    Enough values that a different order shows: with the native pixel-major order, some of these
    outputs round the other way."""
    g = QDQGraph(np.random.default_rng(5), (16, 16, 32), scale=0.05)
    y = g.conv(g.x, 32, 16, k=3, out=(0.6, 2))
    check(g.model(y), g.inputs(32), "float conv, K = 288", {"Conv": 1})


SLICED_CONVS = {
    # name: (input HWC, C, O, kernel, Conv attributes); K = C / group * kernel^2 against MLAS's slice
    "5x5_stride_2x1_uneven_pads": ((9, 11, 20), 20, 24, 5, {"strides": [2, 1], "pads": [2, 1, 0, 2]}),
    "3x3_dilated_2_groups": ((10, 9, 12), 12, 20, 3, {"group": 2, "dilations": [2, 2]}),
    "1x1_over_300_channels": ((16, 16, 300), 300, 8, 1, {"pads": [0, 0, 0, 0]}),
    "3x3_40_outputs_masked_lanes": ((7, 13, 24), 24, 40, 3, {}),
}


@pytest.mark.parametrize("name", sorted(SLICED_CONVS))
def test_float_conv_in_mlas_order_runs_as_one_sliced_op(name):
    """Float Convs whose MLAS order is not the native CONV_2D's (padding past the kernel centre,
    strides, dilations, groups, a 1x1 conv over more than one K slice, output channels that
    end in a partial vector) compile to one CONV_2D_SLICED each and match onnxruntime."""
    from edgecnn.export.compiler import compile_model

    in_shape, c, o, k, attrs = SLICED_CONVS[name]
    g = QDQGraph(np.random.default_rng(7), in_shape, scale=0.05)
    y = g.conv(g.x, c, o, k=k, act="relu", out=(0.3, -100), **attrs)
    model = g.model(y)
    ops = [layer.op for layer in compile_model(model)[1].layers]
    assert ops.count("CONV_2D_SLICED+relu") == 1, f"{name}: compiled to {ops}"
    check(model, g.inputs(8), f"float conv {name}", {"FusedConv": 1})  # onnxruntime's Conv + Relu


@pytest.mark.parametrize("k", [300, 301, 302, 303])
def test_float_gemm_in_onnxruntimes_batch1_order(k):
    """MatMul + bias Add on the int8 input (one float Gemm for onnxruntime): at batch 1 MLAS starts
    at the bias and adds groups of four unfused products, then a pair, then a single k (K mod 4
    = 0..3), FULLY_CONNECTED_G4; the native FULLY_CONNECTED's fused chain differs in a few of
    these outputs. Its weights are packed (FC_PANEL16) and run the level's fast G4 kernel, on 512
    samples (tiles of samples, K in blocks)."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    g = QDQGraph(np.random.default_rng(6), (k,), scale=0.05)
    w = g.rng.integers(-127, 128, (k, 64), dtype=np.int8)
    w_scale = (g.rng.random(64, dtype=np.float32) * 0.01 + 0.002).astype(np.float32)
    wq = g.node("DequantizeLinear", [g.const(w), g.const(w_scale), g.const(np.zeros(64, np.int8))], axis=1)
    bias = g.rng.integers(-500, 500, 64, dtype=np.int32)
    b_scale = (w_scale * np.float32(0.05)).astype(np.float32)
    b = g.node("DequantizeLinear", [g.const(bias), g.const(b_scale), g.const(np.zeros(64, np.int32))], axis=0)
    y = g.node("Add", [g.node("MatMul", [g.x, wq]), b])
    g.x_quant = (0.05, 132)  # int8 in, uint8 out: no QGemm
    model = g.model(y, out_dtype=np.uint8)
    kernels = [layer.kernel for layer in Model.from_bytes(compile_model(model)[0]).layers]
    assert any(name.startswith("fc_g4_f32_panel16_") for name in kernels), f"K = {k}: kernels {kernels}"
    check(model, g.inputs(512), f"float gemm, K = {k}", {"Gemm": 1})


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_dense_layer_on_the_graph_input(dtype, bias):
    """A TFLite FullyConnected as tf2onnx writes it (MatMul, then the bias Add) from the graph input
    to the graph output: onnxruntime makes MatMul + Add a QGemm on int8 or uint8 codes alike, a
    MatMul without bias a QLinearMatMul on uint8 only (in float on int8)."""
    zp = 3 if dtype == np.int8 else 131
    g = QDQGraph(np.random.default_rng(7), (40,), dtype=dtype, scale=0.05, zero_point=zp)
    w = g.rng.integers(-127, 128, (40, 24), dtype=np.int8)
    w_scale = (g.rng.random(24, dtype=np.float32) * 0.01 + 0.002).astype(np.float32)
    wq = g.node("DequantizeLinear", [g.const(w), g.const(w_scale), g.const(np.zeros(24, np.int8))], axis=1)
    y = g.node("MatMul", [g.x, wq])
    if bias:
        b_scale = (w_scale * np.float32(0.05)).astype(np.float32)
        bq = [g.const(g.rng.integers(-900, 900, 24, dtype=np.int32)), g.const(b_scale), g.const(np.zeros(24, np.int32))]
        y = g.node("Add", [y, g.node("DequantizeLinear", bq, axis=0)])
    g.x_quant = (0.08, zp - 5)
    runs = {"QGemm": 1} if bias else {"MatMul": 1} if dtype == np.int8 else {"QLinearMatMul": 1}
    check(g.model(y), g.inputs(64), f"{np.dtype(dtype).name} dense, bias {bias}", runs)

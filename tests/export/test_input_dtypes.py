"""Models whose ONNX input is uint8 or int8 (issue 6): raw pixels fed as they are, the model
scales them itself (Cast(to=FLOAT) -> Div 255 / Mul / Sub mean -> Conv ...). The input stays
u8/i8 in the .ecnn file and the Cast is a DEQUANTIZE with scale 1, zero point 0 (exact, as
onnxruntime's Cast). Each graph is compared with onnxruntime on the same input."""

import json

import numpy as np
import pytest
from needs import need

onnx = need("onnx")
ort = need("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgecnn.export.artifacts import ort_session  # noqa: E402
from edgecnn.export.compiler import CompileError, compile_model  # noqa: E402
from edgecnn.runtime import Model  # noqa: E402
from edgecnn.runtime.errors import InputError  # noqa: E402

RTOL = 1e-5
ort.set_default_logger_severity(3)
ONNX_DTYPE = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}


def pixel_model(in_dtype=np.uint8, scaling="div", nchw_input=False, elem_type=None):
    """input (N,28,28,1) or (N,1,28,28) of in_dtype -> Cast(float) -> scaling -> [Transpose] -> Conv 3x3
    -> Relu -> Flatten -> Gemm -> Softmax."""
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.3, (4, 1, 3, 3)).astype(np.float32)
    b = rng.normal(0, 0.1, 4).astype(np.float32)
    fc = rng.normal(0, 0.05, (4 * 26 * 26, 10)).astype(np.float32)
    inits = [("w", w), ("b", b), ("fc", fc)]
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT)]
    if scaling == "div":
        inits.append(("k", np.float32(255.0)))
        nodes.append(helper.make_node("Div", ["xf", "k"], ["xs"]))
    elif scaling == "mul":
        inits.append(("k", np.float32(1.0 / 255.0)))
        nodes.append(helper.make_node("Mul", ["xf", "k"], ["xs"]))
    else:  # "sub": subtract a mean, then scale
        inits += [("m", np.float32(72.9)), ("k", np.float32(90.0))]
        nodes += [helper.make_node("Sub", ["xf", "m"], ["xc"]), helper.make_node("Div", ["xc", "k"], ["xs"])]
    if nchw_input:
        shape, conv_in = [1, 28, 28], "xs"
    else:
        shape, conv_in = [28, 28, 1], "xt"
        nodes.append(helper.make_node("Transpose", ["xs"], ["xt"], perm=[0, 3, 1, 2]))
    nodes += [
        helper.make_node("Conv", [conv_in, "w", "b"], ["c"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("MatMul", ["f", "fc"], ["l"]),
        helper.make_node("Softmax", ["l"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", elem_type or ONNX_DTYPE[in_dtype], ["N", *shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model, tuple(shape)


def onnxruntime_run(model, x):
    session = ort_session(model, optimize=False)
    return session.run(None, {"x": x})[0]


def raw_inputs(dtype, shape, n=16, seed=0):
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, (n, *shape), endpoint=True).astype(dtype)


@pytest.mark.parametrize(
    "in_dtype,scaling,nchw",
    [
        (np.uint8, "div", False),
        (np.uint8, "mul", False),
        (np.uint8, "sub", True),
        (np.int8, "div", True),
    ],
)
def test_raw_integer_input_matches_onnxruntime(in_dtype, scaling, nchw):
    model, shape = pixel_model(in_dtype, scaling, nchw)
    blob, report = compile_model(model)
    ops = [row.op for row in report.layers]
    # Div stays a division (onnxruntime computes x / 255, not x * (1 / 255))
    assert ops[0] == "DEQUANTIZE" and f"CHANNEL_ARITH({'mul' if scaling == 'mul' else 'div'})" in ops, ops
    native = Model.from_bytes(blob)
    assert native.input_dtype == np.dtype(in_dtype) and native.input_shape == shape
    x = raw_inputs(in_dtype, shape)
    want = onnxruntime_run(model, x)
    fast, ref = native.predict(x), native.predict(x, reference=True)
    diff = float(np.max(np.abs(fast.astype(np.float64) - want)))
    assert diff <= RTOL * max(1.0, float(np.abs(want).max())), f"largest |native - onnxruntime| = {diff:.3g}"
    assert np.array_equal(fast, ref), "fast and reference kernels differ"


def test_cast_is_an_exact_dequantize():
    """The Cast alone: the float values of every uint8 code, bit for bit as onnxruntime's Cast."""
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, ["N", 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    blob, report = compile_model(model)
    assert [row.op for row in report.layers] == ["DEQUANTIZE"]
    x = np.arange(256, dtype=np.uint8)[np.newaxis]
    got = Model.from_bytes(blob).predict(x)
    assert np.array_equal(got, onnxruntime_run(model, x))


def test_float_input_to_a_uint8_model_is_refused():
    model, shape = pixel_model(np.uint8)
    native = Model.from_bytes(compile_model(model)[0])
    with pytest.raises(InputError, match=r"float32.*uint8"):
        native.predict(np.zeros((2, *shape), np.float32))
    with pytest.raises(InputError, match=r"int8.*uint8"):
        native.predict(np.zeros((2, *shape), np.int8))


@pytest.mark.parametrize("elem_type,name", [(TensorProto.FLOAT16, "FLOAT16"), (TensorProto.INT64, "INT64")])
def test_unsupported_input_dtype_is_a_clear_compile_error(elem_type, name):
    model, _ = pixel_model(np.uint8, elem_type=elem_type)
    with pytest.raises(CompileError, match=f"graph input 'x' is {name}.*float32, uint8 or int8"):
        compile_model(model)


def test_verify_random_on_a_uint8_model(tmp_path, capsys):
    from edgecnn.cli import main

    model, _ = pixel_model(np.uint8)
    onnx_path, ecnn_path = tmp_path / "u8.onnx", tmp_path / "u8.ecnn"
    onnx.save(model, onnx_path)
    ecnn_path.write_bytes(compile_model(model)[0])
    assert main(["verify", str(onnx_path), str(ecnn_path), "--random", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["samples"] == 20 and result["max_abs_diff"] <= RTOL


def test_predict_command_feeds_raw_pixels_to_a_uint8_model(tmp_path, capsys):
    from edgecnn.cli import main
    from edgecnn.runtime.data import FASHION_MNIST_CLASSES

    model, shape = pixel_model(np.uint8)
    ecnn_path, pgm = tmp_path / "u8.ecnn", tmp_path / "img.pgm"
    ecnn_path.write_bytes(compile_model(model)[0])
    pixels = raw_inputs(np.uint8, shape, n=1, seed=3)
    pgm.write_bytes(b"P5\n28 28\n255\n" + pixels.tobytes())
    assert main(["predict", str(ecnn_path), str(pgm)]) == 0
    want = onnxruntime_run(model, pixels)[0]
    top = int(np.argmax(want))
    assert capsys.readouterr().out.startswith(f"{pgm}: {FASHION_MNIST_CLASSES[top]} {want[top]:.4f}")


@pytest.mark.parametrize("in_dtype", [np.uint8, np.int8])
def test_edgecnn_run_feeds_raw_pixels(in_dtype, tmp_path):
    """The C tool on a PGM: u8 models get the pixels, i8 models the pixels minus 128."""
    import subprocess
    from pathlib import Path

    native_dir = Path(__file__).resolve().parents[2] / "native"
    built = subprocess.run(["make", "-s", "-C", str(native_dir), "build/edgecnn-run"], capture_output=True, text=True)
    assert built.returncode == 0, f"building edgecnn-run failed:\n{built.stderr}"
    model, shape = pixel_model(in_dtype)
    ecnn_path, pgm = tmp_path / "m.ecnn", tmp_path / "img.pgm"
    ecnn_path.write_bytes(compile_model(model)[0])
    pixels = raw_inputs(np.uint8, shape, n=1, seed=4)
    pgm.write_bytes(b"P5\n28 28\n255\n" + pixels.tobytes())
    result = subprocess.run(
        [str(native_dir / "build" / "edgecnn-run"), "--raw", str(ecnn_path), str(pgm)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    got = np.float32(result.stdout.split(":", 1)[1].split())
    x = pixels if in_dtype == np.uint8 else (pixels.astype(np.int16) - 128).astype(np.int8)
    want = onnxruntime_run(model, x)[0]
    assert float(np.max(np.abs(got.astype(np.float64) - want))) <= RTOL


def test_int8_qdq_of_a_uint8_input_model_is_bit_exact(tmp_path, capsys):
    """quantize_static (QDQ, int8) of the uint8-input model: Cast and Div stay float, a QuantizeLinear
    follows; `edgecnn verify --random` finds every int8 logit identical to onnxruntime's.
    reduce_range=True: on AVX2 without VNNI onnxruntime's u8s8 kernel saturates at int16 otherwise
    (docs/numerics.md), and it, not edgecnn, would leave exact integer math."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from edgecnn.cli import main

    model, shape = pixel_model(np.uint8)
    for i, node in enumerate(model.graph.node):
        node.name = f"{node.op_type}_{i}"
    float_path, onnx_path, ecnn_path = tmp_path / "u8.onnx", tmp_path / "u8_int8.onnx", tmp_path / "u8_int8.ecnn"
    onnx.save(model, float_path)

    class Calibration(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": raw_inputs(np.uint8, shape, n=8, seed=s)} for s in range(4)])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(
        str(float_path),
        str(onnx_path),
        Calibration(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        reduce_range=True,
        nodes_to_exclude=[n.name for n in model.graph.node if n.op_type == "Softmax"],
    )
    blob, report = compile_model(onnx.load(onnx_path))
    ops = [row.op for row in report.layers]
    # int8 codes become uint8 (zero point + 128) where onnxruntime rewrites them so (QDQS8ToU8)
    assert ops[:3] == ["DEQUANTIZE", "CHANNEL_ARITH(div)", "QUANTIZE uint8"], ops
    ecnn_path.write_bytes(blob)
    assert main(["verify", str(onnx_path), str(ecnn_path), "--random", "50", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    logits = result["extra"]["int8_logits"]
    assert result["kind"] == "int8" and logits["identical"] == logits["values"] == 500, logits

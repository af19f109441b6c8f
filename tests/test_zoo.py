"""Issue 6, whole models: three small CNNs nobody in this project wrote (tests/model_zoo.py:
a Keras-example ResNet-8, keras.applications' MobileNetV2, a PyTorch BatchNorm LeNet in NCHW),
compiled float and int8 and run natively, against onnxruntime (default optimisation level,
1 thread): float within 1e-5 of the output's scale, int8 bit for bit.

The zoo is built once per session (about a minute: Keras, tf2onnx, torch.onnx.export,
onnxruntime quantization). An op the compiler or the C library does not support yet makes
its test fail with the compiler's own message, naming the node: nothing here is skipped.
"""
import re

import numpy as np
import pytest

from model_zoo import ZOO, build_zoo, ort_run, sample_inputs

SAMPLES = 16  # inputs per comparison (uniform in [0, 1], a seed apart from calibration's)
INPUT_SEED = 7
FLOAT_TOLERANCE = 1e-5  # max |native - onnxruntime| / max |onnxruntime|
# Op types that mean onnxruntime ran part of the int8 model in float (an unfused QDQ group).
FLOAT_COMPUTE_OPS = {"Conv", "Gemm", "MatMul", "Add", "AveragePool", "GlobalAveragePool", "Sigmoid"}


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    from edgecnn.runtime.errors import EdgecnnError, require

    missing = []
    for module, extra in (("tensorflow", "train"), ("tf2onnx", "train"), ("onnxruntime", "train"),
                          ("torch", "dev"), ("onnxscript", "dev")):
        try:
            require(module, extra)
        except EdgecnnError as exc:
            missing.append(str(exc))
    if missing:
        pytest.fail("the model zoo needs: " + "; ".join(missing), pytrace=False)
    return build_zoo(tmp_path_factory.mktemp("zoo"))


def _inputs(model) -> np.ndarray:
    return sample_inputs(model.input_shape, SAMPLES, INPUT_SEED)


def _compile(path):
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, report = compile_model(path)
    return Model.from_bytes(blob), report


@pytest.mark.parametrize("name", ZOO)
def test_float_model_matches_onnxruntime(zoo, name):
    m = zoo[name]
    model, report = _compile(m.float_path)
    assert model.input_shape == m.input_shape, f"{name}: native input {model.input_shape}, ONNX declares {m.input_shape}"
    x = _inputs(m)
    want = ort_run(m.float_path, x)
    assert model.output_shape == want.shape[1:]
    scale = float(np.abs(want).max())
    for kernels, got in (("fast", model.predict(x)), ("reference", model.predict(x, reference=True))):
        assert got.shape == want.shape
        diff = float(np.abs(got.astype(np.float64) - want).max())
        assert diff <= FLOAT_TOLERANCE * scale, (
            f"{name} float ({kernels} kernels): native differs from onnxruntime by up to {diff:.3g} "
            f"(limit {FLOAT_TOLERANCE:g} x {scale:.3g}); layers:\n{report.format_table()}")
    assert np.array_equal(model.predict(x).argmax(1), want.argmax(1))


@pytest.mark.parametrize("name", ZOO)
def test_int8_model_bit_identical_to_onnxruntime(zoo, name):
    import onnx

    from edgecnn.export.compiler_int8 import quantized_output_model
    from edgecnn.runtime.verify_int8 import match_codes

    m = zoo[name]
    # The premise: onnxruntime runs every quantized op as an integer kernel (model_zoo's docstring).
    unfused = FLOAT_COMPUTE_OPS & set(m.ort_int8_ops)
    assert not unfused, f"{name}: onnxruntime runs {sorted(unfused)} in float: {m.ort_int8_ops}"
    x = _inputs(m)

    # The int8 part: the model up to its last DequantizeLinear; equal floats = equal int8 codes.
    cut, scale, zero_point = quantized_output_model(onnx.load(str(m.int8_path)))
    native_cut, _ = _compile(cut)
    codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zero_point  # noqa: E731
    for kernels, got in (("fast", native_cut.predict(x)), ("reference", native_cut.predict(x, reference=True))):
        match = match_codes("last quantized tensor", "int8", codes(got), codes(ort_run(cut, x)))
        assert match.identical == match.values, (
            f"{name} int8 ({kernels} kernels): {match.values - match.identical} of {match.values} codes differ "
            f"from onnxruntime, by up to {match.max_step_diff} steps (first at input #{match.first_sample})")

    # The whole model (the float Softmax after the int8 logits).
    model, _ = _compile(m.int8_path)
    assert model.input_shape == m.input_shape
    got, want = model.predict(x), ort_run(m.int8_path, x)
    assert got.shape == want.shape
    assert np.array_equal(got.argmax(1), want.argmax(1))
    assert float(np.abs(got - want).max()) <= 1e-5


def test_nchw_input_is_taken_as_declared(zoo):
    """The PyTorch model takes NCHW (N, 1, 28, 28) as exported; a NHWC batch is refused by name."""
    from edgecnn.runtime.model import InputError

    m = zoo["lenet_bn"]
    model, _ = _compile(m.float_path)
    x = _inputs(m)
    assert model.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(model.predict(x[:1]), model.predict(x[0]))  # one sample, no batch axis
    with pytest.raises(InputError, match=r"\(N, 1, 28, 28\)"):
        model.predict(x.transpose(0, 2, 3, 1))


def _write_pgm(path, image_uint8):
    h, w = image_uint8.shape
    path.write_bytes(b"P5\n%d %d\n255\n" % (w, h) + image_uint8.tobytes())


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_cli_compile_predict_verify_on_the_pytorch_model(zoo, tmp_path, capsys, data_dir, kind):
    """`edgecnn compile`, `predict` and `verify` on the NCHW PyTorch model (grayscale 28x28 fits it)."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model
    from edgecnn.runtime.cli import main

    m = zoo["lenet_bn"]
    onnx_path = m.float_path if kind == "float" else m.int8_path
    ecnn = tmp_path / "lenet.ecnn"
    status = main(["compile", str(onnx_path), "--out", str(ecnn)])
    assert status == 0, capsys.readouterr().err
    assert ecnn.read_bytes() == compile_model(onnx_path)[0]
    capsys.readouterr()

    image = (np.random.default_rng(3).random((28, 28)) * 255).astype(np.uint8)
    pgm = tmp_path / "image.pgm"
    _write_pgm(pgm, image)
    status = main(["predict", str(ecnn), str(pgm)])
    printed, errors = capsys.readouterr()
    assert status == 0, errors
    probabilities = Model.load(ecnn).predict((image.astype(np.float32) / np.float32(255.0))[np.newaxis])[0]
    top = int(probabilities.argmax())
    first = re.search(r": (.+?) (\d\.\d{4})", printed)
    assert first, printed
    assert float(first.group(2)) == pytest.approx(float(probabilities[top]), abs=1e-4), printed

    status = main(["verify", str(onnx_path), str(ecnn), "--data", str(data_dir), "--samples", "200"])
    printed, errors = capsys.readouterr()
    assert status == 0, printed + errors
    assert f"{kind} comparison on 200 images" in printed and "PASS" in printed, printed


def test_grayscale_images_go_to_the_declared_layout():
    """predict/verify read grayscale (N, H, W); NHWC and NCHW models get them their way, others a clear error."""
    from edgecnn.runtime.errors import EdgecnnError
    from edgecnn.runtime.images import to_model_layout

    images = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(to_model_layout(images, (3, 4, 1), "x"), images[..., None])
    np.testing.assert_array_equal(to_model_layout(images, (1, 3, 4), "x"), images[:, None])
    with pytest.raises(EdgecnnError, match=r"image.pgm: images are 4x3 grayscale; the model takes \(32, 32, 3\)"):
        to_model_layout(images, (32, 32, 3), "image.pgm")
    with pytest.raises(EdgecnnError, match="the model takes"):
        to_model_layout(images, (4, 3, 1), "image.pgm")  # transposed size

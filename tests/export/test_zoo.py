"""Issue 6, whole models: small CNNs nobody in this project wrote (tests/model_zoo.py: a
Keras-example ResNet-8, keras.applications' MobileNetV2 and MobileNetV3Small, and from PyTorch,
in NCHW, a BatchNorm LeNet and torchvision's SqueezeNet 1.1), compiled float and int8 and run
natively, against onnxruntime (default optimisation level, 1 thread): float within 1e-5 of the
output's scale, int8 bit for bit.

The zoo is built once per session (about a minute: Keras, tf2onnx, torch.onnx.export,
onnxruntime quantization). An op the compiler or the C library does not support yet makes
its test fail with the compiler's own message, naming the node: nothing here is skipped.
"""

import re

import numpy as np
import pytest
from model_zoo import ZOO, build_zoo, compare_float, compare_inputs, compare_int8, ort_run

FLOAT_TOLERANCE = 1e-5  # max |native - onnxruntime| / max |onnxruntime|
# Op types that mean onnxruntime ran part of the int8 model in float (an unfused QDQ group).
FLOAT_COMPUTE_OPS = {"Conv", "Gemm", "MatMul", "Add", "AveragePool", "GlobalAveragePool", "Sigmoid"}


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    from edgecnn.runtime.errors import EdgecnnError, require

    missing = []
    for module, extra in (
        ("tensorflow", "train"),
        ("tf2onnx", "train"),
        ("onnxruntime", "train"),
        ("torch", "dev"),
        ("onnxscript", "dev"),
    ):
        try:
            require(module, extra)
        except EdgecnnError as exc:
            missing.append(str(exc))
    if missing:
        pytest.fail("the model zoo needs: " + "; ".join(missing), pytrace=False)
    return build_zoo(tmp_path_factory.mktemp("zoo"))


@pytest.mark.parametrize("name", ZOO)
def test_float_model_matches_onnxruntime(zoo, name):
    m = zoo[name]
    r = compare_float(m, compare_inputs(m))
    assert r["native_input_shape"] == m.input_shape, f"{name}: native {r['native_input_shape']}, ONNX {m.input_shape}"
    assert r["native_output_shape"] == r["onnxruntime_output_shape"]
    for kernels, diff in r["max_abs_diff"].items():
        assert diff <= FLOAT_TOLERANCE * r["scale"], (
            f"{name} float ({kernels} kernels): native differs from onnxruntime by up to {diff:.3g} "
            f"(limit {FLOAT_TOLERANCE:g} x {r['scale']:.3g}); layers:\n{r['layers']}"
        )
    assert r["same_top1"]


@pytest.mark.parametrize("name", ZOO)
def test_int8_model_bit_identical_to_onnxruntime(zoo, name):
    m = zoo[name]
    # The premise: onnxruntime runs every quantized op as an integer kernel (model_zoo's docstring).
    unfused = FLOAT_COMPUTE_OPS & set(m.ort_int8_ops)
    assert not unfused, f"{name}: onnxruntime runs {sorted(unfused)} in float: {m.ort_int8_ops}"
    r = compare_int8(m, compare_inputs(m))
    assert r["native_input_shape"] == m.input_shape
    for kernels, match in r["codes"].items():
        assert match.identical == match.values, (
            f"{name} int8 ({kernels} kernels): {match.values - match.identical} of {match.values} codes differ "
            f"from onnxruntime, by up to {match.max_step_diff} steps (first at input #{match.first_sample}); "
            f"layers:\n{r['layers']}"
        )
    # The whole model: the float Softmax after the int8 logits.
    assert r["same_top1"]
    assert r["probabilities_max_abs_diff"] <= 1e-5


def test_nchw_input_is_taken_as_declared(zoo):
    """The PyTorch model takes NCHW (N, 1, 28, 28) as exported; a NHWC batch is refused by name."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import InputError

    m = zoo["lenet_bn"]
    model = Model.from_bytes(compile_model(m.float_path)[0])
    x = compare_inputs(m)
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
    from edgecnn.cli import main
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

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

    layers = ["--layers"] if kind == "int8" else []  # every quantized tensor, int8 codes
    status = main(["verify", str(onnx_path), str(ecnn), "--data", str(data_dir), "--samples", "200", *layers])
    printed, errors = capsys.readouterr()
    assert status == 0, printed + errors
    assert f"{kind} comparison on 200 images" in printed and "PASS" in printed, printed
    if kind == "int8":
        assert "int8 logits bit-identical to onnxruntime: 2,000 of 2,000 values" in printed, printed
        assert "no layer drifts" in printed, printed


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


@pytest.mark.parametrize("kind", ["float", "int8"])
@pytest.mark.parametrize("name", ZOO)
def test_compile_explain_finds_nothing_unsupported(zoo, name, kind, capsys):
    """`edgecnn compile --explain` on models it compiles: every node supported, exit status 0."""
    from edgecnn.cli import main

    path = zoo[name].float_path if kind == "float" else zoo[name].int8_path
    status = main(["compile", str(path), "--explain"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert re.search(rf"{re.escape(str(path))}: all \d+ nodes supported", printed), printed


def test_model_exported_with_a_fixed_batch_of_one(zoo):
    """The PyTorch LeNet exported without a dynamic batch (input (1, 1, 28, 28)): it compiles, and
    one native call runs any number of samples, each as onnxruntime runs it alone."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    m = zoo["lenet_bn"]
    model = Model.from_bytes(compile_model(m.fixed_batch_path)[0])
    assert model.input_shape == (1, 28, 28) and model.output_shape == (10,)
    x = compare_inputs(m)
    got = model.predict(x)
    want = np.concatenate([ort_run(m.fixed_batch_path, x[i : i + 1]) for i in range(len(x))])
    diff = float(np.abs(got.astype(np.float64) - want).max())
    assert diff <= FLOAT_TOLERANCE * float(np.abs(want).max()), f"fixed-batch lenet_bn differs by {diff:.3g}"


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_cli_verify_random_inputs_on_a_colour_model(zoo, tmp_path, capsys, kind):
    """`edgecnn verify --random N` on the Keras ResNet (NHWC 32x32x3: no Fashion-MNIST image fits it)."""
    from edgecnn.cli import main

    m = zoo["resnet8"]
    onnx_path = m.float_path if kind == "float" else m.int8_path
    ecnn = tmp_path / "resnet8.ecnn"
    assert main(["compile", str(onnx_path), "--out", str(ecnn)]) == 0
    capsys.readouterr()
    status = main(["verify", str(onnx_path), str(ecnn), "--random", "20"])
    printed, errors = capsys.readouterr()
    assert status == 0, printed + errors
    assert "PASS" in printed, printed
    if kind == "int8":
        assert "int8 logits bit-identical to onnxruntime: 200 of 200 values" in printed, printed

"""`edgecnn compile model.tflite` / `model.keras` / a SavedModel folder: converted with tf2onnx, the
ONNX model kept beside the output, then compiled; results against the source framework (Keras) or
onnxruntime on the converted file. Without the train extra the error names the pip install."""

import subprocess
import sys

import numpy as np
import pytest
from needs import need

TOLERANCE = 1e-5


def _compile(argv):
    from edgecnn.cli import main

    assert main(["compile", *map(str, argv)]) == 0


def _close(got, want, what):
    diff = float((np.abs(got - want) / np.maximum(1, np.abs(want))).max())
    assert diff <= TOLERANCE, f"{what}: largest difference {diff:.3g}"


def _inputs(shape, n=3):
    return np.random.default_rng(0).random((n, *shape), dtype=np.float32)


@pytest.mark.parametrize("name", ["kws_dscnn", "ad_fc_autoencoder"])
def test_tflite_compiles_through_tf2onnx(tiny_zoo, tmp_path, name, capsys):
    from edgecnn.export.artifacts import ort_session
    from edgecnn.runtime import Model

    out = tmp_path / f"{name}.ecnn"
    _compile([tiny_zoo.tflite(name, "float"), "--out", out])
    onnx_path = out.with_suffix(".onnx")
    assert onnx_path.is_file() and out.is_file()
    assert f"wrote {onnx_path}" in capsys.readouterr().out
    model = Model.load(out, threads=1)
    x = _inputs(model.input_shape)
    session = ort_session(onnx_path, threads=1)
    want = np.concatenate([session.run(None, {session.get_inputs()[0].name: x[i : i + 1]})[0] for i in range(len(x))])
    _close(model.predict(x), want, name)


def test_keras_file_compiles_and_matches_keras(tiny_zoo, tmp_path):
    keras = need("keras")
    from edgecnn.runtime import Model

    source = tiny_zoo.path("ic_resnet8", "model.keras")
    _compile([source, "--out", tmp_path / "resnet8.ecnn"])
    assert (tmp_path / "resnet8.onnx").is_file()
    model = Model.load(tmp_path / "resnet8.ecnn", threads=1)
    x = _inputs(model.input_shape)
    _close(model.predict(x), keras.models.load_model(source, compile=False).predict(x, verbose=0), "ic_resnet8")


def test_saved_model_folder_compiles_and_matches_keras(tiny_zoo, tmp_path):
    keras = need("keras")
    from edgecnn.runtime import Model

    net = keras.models.load_model(tiny_zoo.path("kws_dscnn", "model.keras"), compile=False)
    folder = tmp_path / "saved"
    net.export(str(folder))  # a TensorFlow SavedModel with a serving_default signature
    _compile([folder, "--out", tmp_path / "kws.ecnn"])
    assert (tmp_path / "kws.onnx").is_file()
    model = Model.load(tmp_path / "kws.ecnn", threads=1)
    x = _inputs(model.input_shape)
    _close(model.predict(x), net.predict(x, verbose=0), "kws_dscnn SavedModel")


def test_without_the_train_extra_the_error_names_the_pip_install(tmp_path):
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
    blocked = "import sys\nfor m in ('tensorflow', 'tf2onnx', 'keras'): sys.modules[m] = None\n"
    script = blocked + f"from edgecnn.cli import main\nsys.exit(main(['compile', {str(tflite)!r}]))\n"
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 2, ran.stderr
    assert "pip install 'edgecnn[train]'" in ran.stderr, ran.stderr
    assert not tflite.with_suffix(".onnx").exists()


@pytest.mark.parametrize(
    "name, message",
    [("model.pb", "unknown model type '.pb'"), ("folder", "not a TensorFlow SavedModel")],
)
def test_what_is_not_a_model_is_named(tmp_path, name, message):
    from edgecnn.export.direct_import import to_onnx
    from edgecnn.runtime.errors import EdgecnnError

    path = tmp_path / name
    path.mkdir() if name == "folder" else path.write_bytes(b"x")
    with pytest.raises(EdgecnnError, match=message):
        to_onnx(path, None)

"""Keras -> ONNX export: outputs match Keras within 1e-5, the input contract, the CLI and its errors."""

import json

import numpy as np
import pytest

from edgecnn.cli import main as edgecnn_main

TOLERANCE = 1e-5
SHAPES = [
    pytest.param("relu", 4, (32, 16), id="relu-4-32x16"),
    pytest.param("leaky_relu", 4, (32, 16), id="leaky-4-32x16"),
    pytest.param("relu", 8, (24, 12), id="relu-8-24x12"),
    pytest.param("leaky_relu", 2, (10, 10), id="leaky-2-10x10"),
]


def run_cli(capsys, *argv):
    """Run `edgecnn ARGV` in-process; return (exit status, stdout, stderr)."""
    status = edgecnn_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def ort_run(path, images):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": images})[0]


def test_cli_defaults_equal_module_constants():
    # export/cli.py repeats the defaults as literals so `edgecnn --help` imports nothing heavy.
    from edgecnn.cli import build_parser
    from edgecnn.export import onnx_export, quantize

    parser = build_parser()
    export_args = parser.parse_args(["export", "m.keras", "--out", "m.onnx"])
    quantize_args = parser.parse_args(["quantize", "m.onnx", "--out", "q.onnx"])
    assert export_args.opset == onnx_export.DEFAULT_OPSET
    assert quantize_args.samples == quantize.DEFAULT_CALIBRATION_SAMPLES
    assert quantize_args.calibration == quantize.CALIBRATION_METHODS[0]
    assert quantize_args.per_channel is True and quantize_args.full_range_weights is False


@pytest.mark.parametrize("activation, filters, dense_units", SHAPES)
def test_onnx_matches_keras(tiny_model_factory, fashion_test_subset, activation, filters, dense_units):
    from edgecnn.export.onnx_export import max_abs_difference
    from edgecnn.runtime.data import to_model_input

    model, onnx_path = tiny_model_factory(activation, filters, dense_units)
    images = to_model_input(fashion_test_subset[0][:300])
    diff = max_abs_difference(model, onnx_path, images)
    assert diff <= TOLERANCE, f"largest |ONNX - Keras| = {diff:.3g} > {TOLERANCE}"


def test_onnx_input_contract_and_dynamic_batch(tiny_model_factory, fashion_test_subset):
    import onnx

    from edgecnn.runtime.data import to_model_input

    _model, onnx_path = tiny_model_factory("relu")
    graph = onnx.load(str(onnx_path)).graph
    (graph_input,) = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == "input"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [28, 28, 1]
    assert [o.name for o in graph.output] == ["probabilities"]
    images = to_model_input(fashion_test_subset[0][:7])
    batched = ort_run(onnx_path, images)
    one_by_one = np.concatenate([ort_run(onnx_path, images[i : i + 1]) for i in range(len(images))])
    assert batched.shape == (7, 10)
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=TOLERANCE)


def test_reference_onnx_matches_reference_keras(reference_keras_model, reference_onnx_path, fashion_test_subset):
    from edgecnn.export.onnx_export import max_abs_difference
    from edgecnn.runtime.data import to_model_input

    diff = max_abs_difference(reference_keras_model, reference_onnx_path, to_model_input(fashion_test_subset[0]))
    assert diff <= TOLERANCE, f"largest |ONNX - Keras| = {diff:.3g} > {TOLERANCE}"


def test_mismatch_fails_and_leaves_no_file(tiny_model_factory, fashion_test_subset, tmp_path, monkeypatch):
    from edgecnn.export import onnx_export
    from edgecnn.runtime.data import to_model_input

    model, _ = tiny_model_factory("relu")
    real_predict = onnx_export.keras_predict
    # Simulate a converter bug: "Keras" answers 1e-3 away from what the ONNX graph computes.
    monkeypatch.setattr(onnx_export, "keras_predict", lambda *a, **k: real_predict(*a, **k) + 1e-3)
    out = tmp_path / "model.onnx"
    with pytest.raises(onnx_export.ExportMismatchError, match=r"differ by up to 0.001"):
        onnx_export.export_onnx(model, out, check_images=to_model_input(fashion_test_subset[0][:20]))
    assert list(tmp_path.iterdir()) == [], "a failed export must leave nothing behind"


def test_export_cli_writes_model_and_sidecar(tiny_model_factory, data_dir, tmp_path, capsys):
    model, _ = tiny_model_factory("leaky_relu")
    keras_path = tmp_path / "tiny.keras"
    model.save(keras_path)
    out = tmp_path / "out" / "tiny.onnx"
    status, stdout, stderr = run_cli(
        capsys, "export", keras_path, "--out", out, "--data", data_dir, "--samples", 200, "--opset", 13
    )
    assert status == 0, stderr
    assert "largest |ONNX - Keras| on 200 test images" in stdout
    sidecar = json.loads((tmp_path / "out" / "tiny.onnx.json").read_text())
    assert sidecar["source"] == str(keras_path)
    assert sidecar["opset"] == 13
    assert sidecar["inputs"] == [{"name": "input", "shape": ["batch", 28, 28, 1]}]
    assert sidecar["outputs"] == [{"name": "probabilities", "shape": ["batch", 10]}]
    assert sidecar["check"]["images"] == 200 and 0 <= sidecar["check"]["max_abs_diff"] <= TOLERANCE
    assert sidecar["file_size_bytes"] == out.stat().st_size
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny.onnx", "tiny.onnx.json"]  # no temp files left


def test_export_cli_missing_file(tmp_path, capsys):
    status, _, stderr = run_cli(capsys, "export", tmp_path / "nope.keras", "--out", tmp_path / "m.onnx")
    assert status == 2
    assert "Keras model not found" in stderr and "nope.keras" in stderr


def test_export_cli_not_a_keras_file(tmp_path, capsys):
    bogus = tmp_path / "model.keras"
    bogus.write_text("this is not a Keras model\n")
    status, _, stderr = run_cli(capsys, "export", bogus, "--out", tmp_path / "m.onnx")
    assert status == 2
    assert "is not a Keras model file" in stderr
    assert not (tmp_path / "m.onnx").exists()


def test_export_cli_rejects_keras_model_with_other_input(tmp_path, capsys):
    import keras

    inputs = keras.Input(shape=(32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    model.save(tmp_path / "rgb.keras")
    status, _, stderr = run_cli(capsys, "export", tmp_path / "rgb.keras", "--out", tmp_path / "m.onnx")
    assert status == 2
    assert "(None, 32, 32, 3)" in stderr and "expected (None, 28, 28, 1)" in stderr


def test_export_cli_rejects_old_opset(tiny_model_factory, tmp_path, capsys):
    model, _ = tiny_model_factory("relu")
    model.save(tmp_path / "tiny.keras")
    status, _, stderr = run_cli(capsys, "export", tmp_path / "tiny.keras", "--out", tmp_path / "m.onnx", "--opset", 11)
    assert status == 2 and "opset 11 is too old" in stderr


def wrong_shape_onnx(path):
    """A valid one-node ONNX model whose input is (N, 32, 32, 3): not this project's input."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["probabilities"])],
        "wrong_shape",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 32, 32, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 32, 32, 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.parametrize("command", ["evaluate", "quantize"])
def test_onnx_commands_reject_wrong_input_shape(command, tmp_path, capsys):
    model = wrong_shape_onnx(tmp_path / "wrong.onnx")
    extra = ["--out", tmp_path / "q.onnx"] if command == "quantize" else []
    status, _, stderr = run_cli(capsys, command, model, *extra)
    assert status == 2
    assert "(N, 32, 32, 3)" in stderr and "expected (N, 28, 28, 1) float32" in stderr


@pytest.mark.parametrize("command", ["evaluate", "quantize"])
def test_onnx_commands_missing_and_non_onnx_files(command, tmp_path, capsys):
    extra = ["--out", tmp_path / "q.onnx"] if command == "quantize" else []
    status, _, stderr = run_cli(capsys, command, tmp_path / "absent.onnx", *extra)
    assert status == 2 and "ONNX model not found" in stderr and "absent.onnx" in stderr
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot protobuf at all" * 10)
    status, _, stderr = run_cli(capsys, command, junk, *extra)
    assert status == 2 and "is not a readable ONNX model" in stderr


def test_evaluate_cli_reports_onnxruntime_accuracy(reference_onnx_path, data_dir, fashion_test_subset, capsys):
    from edgecnn.runtime.data import to_model_input

    images, labels = fashion_test_subset
    expected = int(np.sum(ort_run(reference_onnx_path, to_model_input(images)).argmax(axis=1) == labels))
    status, stdout, stderr = run_cli(
        capsys, "evaluate", reference_onnx_path, "--data", data_dir, "--samples", len(images)
    )
    assert status == 0, stderr
    assert f"({expected}/{len(images)} images)" in stdout
    assert f"test accuracy {100 * expected / len(images):.2f}%" in stdout

"""The tiny test models (edgecnn.zoo): every model generated; its float and int8 ONNX files (tf2onnx
from the .tflite) run in onnxruntime with the declared input and output, and agree with the TFLite
interpreter within edgecnn.export.tflite's tolerances on inputs the build did not check; the cache,
determinism, the figures in the docstrings, the Keras -> ONNX route, and the error messages.
"""

import argparse
import json
import shutil
import sys

import numpy as np
import pytest

from edgecnn.runtime.errors import EdgecnnError
from edgecnn.train.tiny_models import MODELS, NAMES

KINDS = ("float", "int8")
TEST_SAMPLES = 24
TEST_SEED = 303  # apart from the build's calibration and check seeds
KERAS_TOLERANCE = 1e-5  # |ONNX - Keras| over max(1, largest |Keras output|)


def _onnx_model(path):
    import onnx

    return onnx.load(str(path))


def test_every_model_is_generated(tiny_zoo):
    from edgecnn.zoo import FILES, MANIFEST

    assert list(tiny_zoo.models) == list(NAMES)
    manifest = json.loads((tiny_zoo.dir / MANIFEST).read_text())
    assert sorted(manifest["models"]) == sorted(NAMES)
    for name, entry in tiny_zoo.models.items():
        for file in FILES:
            path = tiny_zoo.path(name, file)
            assert path.is_file(), f"{name}: {file} missing"
            assert path.stat().st_size == entry["files"][file]["bytes"] > 0
        assert entry["macs"] > 0 and entry["params"] > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_onnx_runs_with_the_declared_input_and_output(tiny_zoo, name, kind):
    from edgecnn.export.artifacts import ort_session
    from edgecnn.export.tflite import quantize_inputs, tflite_io
    from edgecnn.train.tiny_models import sample_inputs

    tflite_in, tflite_out = tflite_io(tiny_zoo.tflite(name, kind))
    session = ort_session(tiny_zoo.onnx(name, kind), threads=1)
    (onnx_in,), (onnx_out,) = session.get_inputs(), session.get_outputs()
    dtype = "float" if kind == "float" else "int8"
    assert (tflite_in.dtype, tflite_out.dtype) == (("float32", "float32") if kind == "float" else ("int8", "int8"))
    assert onnx_in.type == onnx_out.type == f"tensor({dtype})", f"{name} {kind}: {onnx_in.type} -> {onnx_out.type}"
    # The batch dimension: dynamic or 1 (TFLite's own is -1 for a Keras model); the rest as Keras declares.
    assert isinstance(onnx_in.shape[0], str) or onnx_in.shape[0] == 1
    assert tuple(onnx_in.shape[1:]) == MODELS[name].input_shape
    assert tuple(onnx_out.shape[1:]) == tuple(tflite_out.shape[1:])

    x = quantize_inputs(sample_inputs(name, 2, TEST_SEED), tflite_in)
    y = np.concatenate([session.run(None, {onnx_in.name: x[i : i + 1]})[0] for i in range(2)])
    assert y.dtype == (np.float32 if kind == "float" else np.int8)
    assert y.shape == (2, *tflite_out.shape[1:])


@pytest.mark.parametrize("name", NAMES)
def test_int8_graph_takes_and_returns_int8_like_tflite(tiny_zoo, name):
    """As TFLite makes it: a DequantizeLinear reads the int8 graph input (after a layout change), a
    QuantizeLinear writes the int8 output."""
    graph = _onnx_model(tiny_zoo.onnx(name, "int8")).graph
    (graph_input,), (graph_output,) = graph.input, graph.output
    # tf2onnx moves the NHWC -> NCHW Transpose (a Reshape when C = 1) ahead of the DequantizeLinear.
    readers, tensor = [], graph_input.name
    while True:
        (node,) = [n for n in graph.node if tensor in n.input]
        readers.append(node.op_type)
        if node.op_type not in ("Transpose", "Reshape"):
            break
        tensor = node.output[0]
    writers = [n.op_type for n in graph.node if graph_output.name in n.output]
    assert readers[-1] == "DequantizeLinear", f"{name}: the int8 input goes through {readers}"
    assert writers == ["QuantizeLinear"], f"{name}: the int8 output is written by {writers}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_onnx_agrees_with_tflite(tiny_zoo, name, kind):
    from edgecnn.export.tflite import compare_tflite_onnx
    from edgecnn.train.tiny_models import sample_inputs

    reference = tiny_zoo.tflite(name, "float") if kind == "int8" else None
    agreement = compare_tflite_onnx(
        tiny_zoo.tflite(name, kind),
        tiny_zoo.onnx(name, kind),
        sample_inputs(name, TEST_SAMPLES, TEST_SEED),
        float_tflite_path=reference,
    )
    assert agreement.kind == kind and agreement.samples == TEST_SAMPLES
    assert agreement.within_tolerance, f"{name}: {agreement.summary()}; histogram {agreement.step_histogram}"
    # The build's own check (other inputs) is recorded in the manifest and was within tolerance too.
    assert tiny_zoo.models[name]["agreement"][kind]["within_tolerance"]


@pytest.mark.parametrize("name", NAMES)
def test_docstring_states_the_computed_macs_and_parameters(tiny_zoo, name):
    doc = " ".join((MODELS[name].builder.__doc__ or "").split())
    entry = tiny_zoo.models[name]
    assert f"{entry['macs']:,} MACs" in doc, f"{name}: count_macs gives {entry['macs']:,}; docstring: {doc}"
    assert f"{entry['params']:,} parameters" in doc, f"{name}: count_params gives {entry['params']:,}; docstring: {doc}"


def test_mac_count_of_each_layer_kind():
    import keras

    from edgecnn.train.tiny_models import count_macs

    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8*4 outputs x 3*3*2
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)  # 4*4*4 outputs x 3*3
    x = keras.layers.SeparableConv2D(6, 3, padding="valid")(x)  # 2*2*4 x 3*3 + 2*2*4 x 6
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5)(x)  # 24 x 5
    model = keras.Model(inputs, x)
    assert count_macs(model) == 8 * 8 * 4 * 18 + 4 * 4 * 4 * 9 + (2 * 2 * 4 * 9 + 2 * 2 * 4 * 6) + 24 * 5


@pytest.mark.parametrize("name", ["ad_fc_autoencoder", "block_dense_concat"])
def test_batch_norm_folding_is_not_the_identity(tiny_zoo, name):
    import keras

    model = keras.models.load_model(tiny_zoo.path(name, "model.keras"), compile=False)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms
    for layer in norms:
        gamma, beta, mean, var = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        scale = gamma / np.sqrt(var + layer.epsilon)
        shift = beta - mean * scale
        assert np.abs(scale - 1).max() > 0.1 and np.abs(shift).max() > 0.1, layer.name


@pytest.mark.parametrize("name", NAMES)
def test_keras_to_onnx_matches_keras(tiny_zoo, tmp_path, name):
    """The float Keras -> ONNX route (tf.function, dynamic batch) on every model, against Keras itself."""
    import keras

    from edgecnn.export.artifacts import ort_session
    from edgecnn.export.tflite import keras_to_onnx
    from edgecnn.train.tiny_models import sample_inputs

    model = keras.models.load_model(tiny_zoo.path(name, "model.keras"), compile=False)
    path = keras_to_onnx(model, tmp_path / "model.onnx")
    x = sample_inputs(name, 4, TEST_SEED)
    want = np.asarray(model(x, training=False), dtype=np.float64)
    session = ort_session(path, threads=1)
    assert [i.name for i in session.get_inputs()] == ["input"] and session.get_inputs()[0].shape[0] == "batch"
    got = session.run(None, {"input": x})[0]  # the whole batch at once
    limit = KERAS_TOLERANCE * max(1.0, float(np.abs(want).max()))
    diff = float(np.abs(got - want).max())
    assert diff <= limit, f"{name}: |ONNX - Keras| up to {diff:.3g} (limit {limit:.3g})"


# ---------------------------------------------------------------------------------------
# Cache and determinism


def _graph_fingerprint(path):
    """The ONNX graph's nodes (op type and attributes) and constants, as sorted lists: names and order left out.

    tf2onnx invents some names and picks a topological order differently from run to run.
    """
    import hashlib

    from onnx import numpy_helper

    graph = _onnx_model(path).graph
    nodes = sorted(
        n.op_type + "".join(sorted(a.SerializeToString(deterministic=True).hex() for a in n.attribute))
        for n in graph.node
    )
    constants = sorted(
        f"{list(t.dims)}{hashlib.sha256(numpy_helper.to_array(t).tobytes()).hexdigest()}" for t in graph.initializer
    )
    return nodes, constants


def test_up_to_date_models_are_not_rebuilt(tiny_zoo):
    from edgecnn.zoo import FILES, build_zoo

    before = {(n, f): tiny_zoo.path(n, f).stat().st_mtime_ns for n in NAMES for f in FILES}
    lines = []
    again = build_zoo(tiny_zoo.dir, log=lines.append)
    assert not any(entry["built"] for entry in again.values())
    assert len(lines) == len(NAMES) and all("up to date" in line for line in lines), lines
    assert before == {(n, f): tiny_zoo.path(n, f).stat().st_mtime_ns for n in NAMES for f in FILES}


def test_a_stale_model_is_rebuilt_to_the_same_files(tiny_zoo, tmp_path):
    """A changed generator key rebuilds; the rebuild gives the same .tflite bytes and the same ONNX graphs
    (same nodes and constants, outputs bit for bit)."""
    from edgecnn.export.tflite import quantize_inputs, run_onnx, tflite_io
    from edgecnn.train.tiny_models import sample_inputs
    from edgecnn.zoo import MANIFEST, build_zoo, is_up_to_date

    name = "block_xception"  # the quickest to build
    shutil.copytree(tiny_zoo.path(name, "."), tmp_path / name)
    manifest = json.loads((tiny_zoo.dir / MANIFEST).read_text())
    entry = manifest["models"][name]
    assert is_up_to_date(entry, tmp_path / name, entry["key"])
    (tmp_path / name / "model.int8.onnx").write_bytes(b"damaged")
    assert not is_up_to_date(entry, tmp_path / name, entry["key"])

    manifest["models"] = {name: {**entry, "key": "an older generator"}}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    (rebuilt,) = build_zoo(tmp_path, [name], log=None).values()
    assert rebuilt["built"] and rebuilt["key"] == entry["key"]
    for kind in KINDS:
        file = f"model.{kind}.tflite"
        assert rebuilt["files"][file]["sha256"] == entry["files"][file]["sha256"], f"{file} differs between builds"
        first, second = tiny_zoo.onnx(name, kind), tmp_path / name / f"model.{kind}.onnx"
        assert _graph_fingerprint(second) == _graph_fingerprint(first), f"{second}: other nodes or constants"
        x = quantize_inputs(sample_inputs(name, 4, TEST_SEED), tflite_io(tiny_zoo.tflite(name, kind))[0])
        np.testing.assert_array_equal(run_onnx(second, x), run_onnx(first, x))
    assert rebuilt["agreement"] == entry["agreement"]


# ---------------------------------------------------------------------------------------
# Command line and errors


def _parser():
    from edgecnn.zoo import register

    parser = argparse.ArgumentParser(prog="edgecnn")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_zoo_subcommand(tiny_zoo, capsys):
    args = _parser().parse_args(["zoo", "--out", str(tiny_zoo.dir), "--only", "kws_dscnn", "block_se"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3, printed
    assert printed[0].startswith("zoo [1/2] kws_dscnn") and "up to date" in printed[0]
    assert "2,656,768 MACs" in printed[0] and "24,908 params" in printed[0]
    assert printed[1].startswith("zoo [2/2] block_se")
    assert printed[2].startswith("zoo: 2 models in ") and "(0 built, 2 up to date)" in printed[2]


def test_zoo_subcommand_refuses_an_unknown_model(capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["zoo", "--out", "x", "--only", "resnet50"])
    assert exc.value.code == 2
    assert "invalid choice: 'resnet50'" in capsys.readouterr().err


def test_build_zoo_names_the_models_it_knows(tmp_path):
    from edgecnn.zoo import build_zoo

    with pytest.raises(EdgecnnError, match=r"no tiny model named 'resnet50'; the models are: ic_resnet8, kws_dscnn"):
        build_zoo(tmp_path, ["block_se", "resnet50"])
    assert not list(tmp_path.iterdir())  # nothing was built


def test_a_damaged_manifest_is_named(tmp_path):
    from edgecnn.zoo import MANIFEST, build_zoo

    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(EdgecnnError, match=rf"{tmp_path / MANIFEST} is not a readable zoo manifest .*delete it"):
        build_zoo(tmp_path, ["block_se"])


def test_tflite_to_onnx_names_a_file_that_is_not_tflite(tiny_zoo, tmp_path):
    from edgecnn.export.tflite import tflite_to_onnx

    not_tflite = tiny_zoo.onnx("block_se", "float")
    with pytest.raises(EdgecnnError, match=rf"{not_tflite} is not a TFLite model .*TFL3"):
        tflite_to_onnx(not_tflite, tmp_path / "x.onnx")
    with pytest.raises(EdgecnnError, match=rf"TFLite model not found: {tmp_path / 'missing.tflite'}"):
        tflite_to_onnx(tmp_path / "missing.tflite", tmp_path / "x.onnx")
    with pytest.raises(EdgecnnError, match="opset 11 is too old"):
        tflite_to_onnx(tiny_zoo.tflite("block_se", "int8"), tmp_path / "x.onnx", opset=11)
    assert not (tmp_path / "x.onnx").exists()


def test_int8_conversion_names_wrong_representative_inputs(tiny_zoo, tmp_path):
    import keras

    from edgecnn.export.tflite import keras_to_tflite_int8

    model = keras.models.load_model(tiny_zoo.path("block_se", "model.keras"), compile=False)
    out = tmp_path / "model.int8.tflite"
    with pytest.raises(
        EdgecnnError,
        match=rf"{out}: representative inputs have shape \(28, 28, 1\) per sample; "
        r"Keras model 'block_se' takes \(32, 32, 3\)",
    ):
        keras_to_tflite_int8(model, out, np.zeros((4, 28, 28, 1), np.float32))
    with pytest.raises(EdgecnnError, match="at least one representative input"):
        keras_to_tflite_int8(model, out, np.zeros((0, 32, 32, 3), np.float32))
    assert not out.exists()


def test_int8_comparison_needs_the_float_model(tiny_zoo):
    from edgecnn.export.tflite import compare_tflite_onnx

    with pytest.raises(EdgecnnError, match=r"needs the float .tflite it was made from"):
        compare_tflite_onnx(
            tiny_zoo.tflite("block_se", "int8"), tiny_zoo.onnx("block_se", "int8"), np.zeros((1, 32, 32, 3), np.float32)
        )
    with pytest.raises(EdgecnnError, match=r"input 'serving_default_input:0' is tensor\(float\); .* takes int8"):
        compare_tflite_onnx(
            tiny_zoo.tflite("block_se", "int8"),
            tiny_zoo.onnx("block_se", "float"),
            np.zeros((1, 32, 32, 3), np.float32),
            float_tflite_path=tiny_zoo.tflite("block_se", "float"),
        )


def test_missing_litert_says_what_to_install(tiny_zoo, monkeypatch):
    from edgecnn.export.tflite import run_tflite
    from edgecnn.runtime.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match=r"'ai_edge_litert'.*pip install 'edgecnn\[train\]'"):
        run_tflite(tiny_zoo.tflite("block_se", "float"), np.zeros((1, 32, 32, 3), np.float32))


def test_int8_samples_of_odd_size_run_in_chunks_off_a_4_byte_boundary(tiny_zoo):
    """DS-CNN's int8 input is 490 bytes a sample: chunks of 3 start off the 4-byte boundary the C
    library takes, so predict stages them; the codes equal one whole-batch call and onnxruntime's."""
    from edgecnn.export.artifacts import ort_session
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    path = tiny_zoo.onnx("kws_dscnn", "int8")
    model = Model.from_bytes(compile_model(str(path))[0])
    x = np.random.default_rng(TEST_SEED).integers(-128, 128, (7, *model.input_shape), dtype=np.int8)
    session = ort_session(path, threads=1)
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_array_equal(model.predict(x, batch_size=3), expected)
    np.testing.assert_array_equal(model.predict(x[1:], batch_size=2), expected[1:])

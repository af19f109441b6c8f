"""edgecnn.InferenceSession against onnxruntime.InferenceSession: one script, run twice with only
the import and the constructor changed, gives the same inputs, outputs, model metadata and
results (int8 outputs identical, float within 1e-5); the calls onnxruntime refuses, edgecnn
refuses too.

The names, shapes and types come from the .ecnn metadata section (format version 2)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from needs import need
from small_onnx import INPUT_SHAPE, compiled, quantized, sample_inputs, tiny_cnn

FLOAT_TOLERANCE = 1e-5

SCRIPT = """\
import json
import sys

import numpy as np
{import_line}

sess = {constructor}
inputs, outputs = sess.get_inputs(), sess.get_outputs()
x = np.load(sys.argv[1])
(y,) = sess.run([outputs[0].name], {{inputs[0].name: x}})
everything = sess.run(None, {{inputs[0].name: x}})
meta = sess.get_modelmeta()
np.save(sys.argv[2], y)
print(json.dumps({{
    "inputs": [[a.name, a.shape, a.type] for a in inputs],
    "outputs": [[a.name, a.shape, a.type] for a in outputs],
    "run_none": [len(everything), bool(np.array_equal(everything[0], y))],
    "meta": [meta.producer_name, meta.graph_name, meta.domain, meta.description, meta.graph_description,
             meta.version, meta.custom_metadata_map],
}}))
"""
ENGINES = {
    "onnxruntime": ("import onnxruntime as rt", 'rt.InferenceSession(sys.argv[3], providers=["CPUExecutionProvider"])'),
    "edgecnn": ("import edgecnn as rt", "rt.InferenceSession(sys.argv[4])"),
}
# name -> tiny_cnn arguments, quantized (int8 QDQ by onnxruntime's quantizer)
MODELS = {
    "float": ({}, False),
    "float_anonymous_batch": ({"batch": None}, False),
    "float_batch_1": ({"batch": 1}, False),
    "uint8_pixels": ({"pixels": "uint8"}, False),
    "int8_pixels_int8_output": ({"pixels": "int8", "int8_output": True}, False),
    "int8_qdq": ({}, True),
}


def script(engine: str) -> str:
    import_line, constructor = ENGINES[engine]
    return SCRIPT.format(import_line=import_line, constructor=constructor)


def model_input(kwargs: dict, n: int = 5) -> np.ndarray:
    x = sample_inputs(n)
    pixels = kwargs.get("pixels")
    if pixels == "uint8":
        return (x * 255).astype(np.uint8)
    if pixels == "int8":
        return (x * 255 - 128).astype(np.int8)
    return x


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """name -> (ONNX path, .ecnn path, input .npy path), with model-level metadata set."""
    onnx = need("onnx")
    out = tmp_path_factory.mktemp("session")
    made = {}
    for name, (kwargs, int8) in MODELS.items():
        path = tiny_cnn(out / f"{name}.onnx", **kwargs)
        if int8:
            path = quantized(path, out / f"{name}.int8.onnx", sample_inputs(64, seed=7))
        proto = onnx.load(str(path))
        proto.doc_string, proto.domain, proto.model_version = f"the {name} test model", "org.edgecnn.test", 3
        proto.graph.doc_string = "a tiny CNN"
        onnx.helper.set_model_props(proto, {"classes": "10", "source": name})
        onnx.save(proto, str(path))
        np.save(out / f"{name}.x.npy", model_input(kwargs, n=kwargs.get("batch") or 5))
        made[name] = (path, compiled(path, out / f"{name}.ecnn"), out / f"{name}.x.npy")
    return made


@pytest.fixture(scope="module")
def runs(models, tmp_path_factory) -> dict:
    """(model, engine) -> (the script's printed description, its output array)."""
    need("onnxruntime")
    out = tmp_path_factory.mktemp("runs")
    done = {}
    for engine in ENGINES:
        (out / f"script_{engine}.py").write_text(script(engine))
    for name, (onnx_path, ecnn_path, x) in models.items():
        for engine in ENGINES:
            y = out / f"{name}.{engine}.npy"
            ran = subprocess.run(
                [sys.executable, str(out / f"script_{engine}.py"), str(x), str(y), str(onnx_path), str(ecnn_path)],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=out,
            )
            assert ran.returncode == 0, f"{engine} on {name}:\n{ran.stderr}"
            done[name, engine] = json.loads(ran.stdout), np.load(y)
    return done


def test_the_scripts_differ_in_the_import_and_the_constructor_only():
    a, b = script("onnxruntime").splitlines(), script("edgecnn").splitlines()
    assert len(a) == len(b)
    (ort_import, ort_constructor), (ecnn_import, ecnn_constructor) = ENGINES["onnxruntime"], ENGINES["edgecnn"]
    assert [(x, y) for x, y in zip(a, b) if x != y] == [
        (ort_import, ecnn_import),
        (f"sess = {ort_constructor}", f"sess = {ecnn_constructor}"),
    ]


@pytest.mark.parametrize("name", list(MODELS))
def test_same_results_as_onnxruntime(name, runs):
    (ort_desc, expected), (ecnn_desc, got) = runs[name, "onnxruntime"], runs[name, "edgecnn"]
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(got, expected)
    else:
        diff = float(np.abs(got - expected).max())
        assert diff <= FLOAT_TOLERANCE, f"largest difference {diff:.3g} > {FLOAT_TOLERANCE}"
    assert ecnn_desc["run_none"] == ort_desc["run_none"] == [1, True]


@pytest.mark.parametrize("name", list(MODELS))
def test_same_description_as_onnxruntime(name, runs):
    ort_desc, ecnn_desc = runs[name, "onnxruntime"][0], runs[name, "edgecnn"][0]
    for key in ("inputs", "outputs", "meta"):
        assert ecnn_desc[key] == ort_desc[key], key


def test_types_as_onnxruntime_spells_them(runs):
    assert runs["uint8_pixels", "edgecnn"][0]["inputs"][0][2] == "tensor(uint8)"
    assert runs["int8_pixels_int8_output", "edgecnn"][0]["inputs"][0][2] == "tensor(int8)"
    assert runs["int8_pixels_int8_output", "edgecnn"][0]["outputs"][0][2] == "tensor(int8)"
    assert runs["float", "edgecnn"][0]["outputs"][0][2] == "tensor(float)"


def _bad_calls(x: np.ndarray):
    """(what, call(session, input name, output name)) that onnxruntime refuses."""
    return [
        ("float64 input", lambda s, i, o: s.run(None, {i: x.astype(np.float64)})),
        ("uint8 pixels to a float input", lambda s, i, o: s.run(None, {i: (x * 255).astype(np.uint8)})),
        ("no batch axis", lambda s, i, o: s.run(None, {i: x[0]})),
        ("wrong sample shape", lambda s, i, o: s.run(None, {i: np.zeros((2, 1, 8, 9), np.float32)})),
        ("unknown input name", lambda s, i, o: s.run(None, {i + "_x": x})),
        ("missing input", lambda s, i, o: s.run(None, {})),
        ("unknown output name", lambda s, i, o: s.run([o + "_x"], {i: x})),
    ]


def test_refuses_what_onnxruntime_refuses(models):
    ort = need("onnxruntime")
    import edgecnn
    from edgecnn.runtime.errors import InputError

    onnx_path, ecnn_path, _ = models["float"]
    reference = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    session = edgecnn.InferenceSession(ecnn_path)
    x = sample_inputs(2)
    for what, call in _bad_calls(x):
        try:
            call(reference, reference.get_inputs()[0].name, reference.get_outputs()[0].name)
        except Exception:  # onnxruntime's own exception types
            pass
        else:
            pytest.fail(f"onnxruntime took the {what}: not a refusal to compare")
        try:
            call(session, session.get_inputs()[0].name, session.get_outputs()[0].name)
        except InputError:
            pass
        else:
            pytest.fail(f"edgecnn took the {what} that onnxruntime refuses")


def test_session_from_bytes_and_threads(models):
    import inspect

    import edgecnn
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import InputError

    _, ecnn_path, x_path = models["float"]
    x = np.load(x_path)
    expected = Model.load(ecnn_path).predict(x)
    name = edgecnn.InferenceSession(ecnn_path).get_inputs()[0].name
    from_bytes = edgecnn.InferenceSession(ecnn_path.read_bytes(), threads=1)
    np.testing.assert_array_equal(from_bytes.run(None, {name: x})[0], expected)
    if "threads" in inspect.signature(Model.load).parameters:
        threaded = edgecnn.InferenceSession(ecnn_path, threads=2)
        np.testing.assert_array_equal(threaded.run(None, {name: x})[0], expected)  # tiles: any thread count, same bits
    else:
        with pytest.raises(InputError, match="threads=2"):
            edgecnn.InferenceSession(ecnn_path, threads=2)


def test_model_predict_stays(models):
    from edgecnn.runtime import Model

    _, ecnn_path, _ = models["float"]
    single = sample_inputs(1)[0]
    assert Model.load(ecnn_path).predict(single).shape == (1, 10)  # Model.predict's single sample
    assert single.shape == INPUT_SHAPE

"""The Python runtime (`Model`), the predict/verify commands and edgecnn-run, on the
reference model from tests/conftest.py and real Fashion-MNIST test images."""

import json
import struct
import subprocess
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from edgecnn.runtime import Model
from edgecnn.runtime.errors import (
    EdgecnnError,
    InputError,
    ModelFormatError,
    ModelVersionError,
    NativeError,
    UnsupportedModelError,
)

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def reference_ecnn(reference_onnx_path, tmp_path_factory):
    from edgecnn.export.compiler import compile_onnx

    path = tmp_path_factory.mktemp("native") / "reference.ecnn"
    compile_onnx(reference_onnx_path, path)
    return path


@pytest.fixture(scope="module")
def model(reference_ecnn):
    return Model.load(reference_ecnn)


@pytest.fixture(scope="module")
def onnx_probabilities(reference_onnx_path, fashion_test_subset):
    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.runtime.data import to_model_input

    images, _ = fashion_test_subset
    return run_onnx(ort_session(reference_onnx_path), to_model_input(images))


def test_reference_model_matches_onnxruntime_on_real_images(model, fashion_test_subset, onnx_probabilities):
    from edgecnn.runtime.data import to_model_input

    images, _labels = fashion_test_subset
    got = model.predict(to_model_input(images))
    diff = np.abs(got - onnx_probabilities).max()
    assert diff <= TOLERANCE, f"largest |native - onnxruntime| = {diff:.3g} over {len(images)} images"
    assert np.array_equal(got.argmax(1), onnx_probabilities.argmax(1))
    assert got.dtype == np.float32 and got.shape == (len(images), 10)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_build_model_variants_match_onnxruntime(tiny_model_factory, fashion_test_subset, activation):
    """Small build_model CNNs with non-zero biases (MatMul + Add fused into the native bias)."""
    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime.data import to_model_input

    _, onnx_path = tiny_model_factory(activation)
    blob, report = compile_model(onnx_path)
    expected_act = "+relu" if activation == "relu" else "+leaky_relu"
    assert [row.op for row in report.layers if row.op.startswith(("CONV", "FULLY"))][:3] == [
        "CONV_2D" + expected_act,
        "FULLY_CONNECTED" + expected_act,
        "FULLY_CONNECTED" + expected_act,
    ]
    x = to_model_input(fashion_test_subset[0][:300])
    got = Model.from_bytes(blob).predict(x)
    want = run_onnx(ort_session(onnx_path), x)
    assert np.abs(got - want).max() <= TOLERANCE
    assert np.array_equal(got.argmax(1), want.argmax(1))


def test_batch_size_does_not_change_the_result(model, fashion_test_subset):
    images = fashion_test_subset[0][:37]
    whole = model.predict(images)
    assert np.array_equal(whole, model.predict(images, batch_size=5))
    assert np.array_equal(whole[:1], model.predict(images[0]))


def test_uint8_pixels_are_scaled_like_to_model_input(model, fashion_test_subset):
    from edgecnn.runtime.data import to_model_input

    images = fashion_test_subset[0][:8]
    assert np.array_equal(model.predict(images), model.predict(to_model_input(images)))
    assert np.array_equal(model.predict(images[..., None]), model.predict(images))


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((2, 28, 28, 3), np.float32), "shape"),
        (np.zeros((2, 27, 28, 1), np.float32), "shape"),
        (np.zeros((2, 28, 28, 1), np.float64), "float32"),
        (np.zeros((784,), np.float32), "shape"),
    ],
)
def test_wrong_input_raises_value_error(model, x, message):
    with pytest.raises(ValueError, match=message):
        model.predict(x)


def test_model_properties(model, reference_onnx_path):
    from edgecnn.export.compiler import compile_model

    _, report = compile_model(reference_onnx_path)
    assert model.input_shape == (28, 28, 1) and model.output_shape == (10,)
    assert model.weight_bytes == report.weight_bytes
    assert model.arena_bytes == report.arena_bytes_per_sample
    assert model.arena_size(7) == 7 * model.arena_bytes
    assert model.activation_bytes == report.activation_bytes
    assert [layer.op for layer in model.layers] == [row.op.split("+")[0].split("(")[0] for row in report.layers]
    assert [layer.macs for layer in model.layers] == [row.macs for row in report.layers]
    assert "CONV_2D" in model.summary() and "arena" in model.summary()


THREADS = 8


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_threads_share_one_model(kind, model, reference_int8_onnx_path, fashion_test_subset):
    """One loaded model, 8 threads at once, each predict() call with its own arena: every
    thread gets exactly the single-threaded answer (the model handle is read-only in C)."""
    if kind == "int8":
        from edgecnn.export.compiler import compile_model

        model = Model.from_bytes(compile_model(reference_int8_onnx_path)[0])
    images = fashion_test_subset[0][:200]
    expected = model.predict(images)
    results = [None] * THREADS
    start = threading.Barrier(THREADS)

    def work(i):
        start.wait()  # all threads inside predict together
        results[i] = model.predict(images, batch_size=1 + i * 7)  # different batch splits per thread

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in enumerate(results):
        assert r is not None and np.array_equal(r, expected), f"thread {i} differs from the single-threaded result"


# ---- damaged model files: the right error, never a crash ---------------------------------


def _fix_crc(data: bytearray) -> bytearray:
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return data


@pytest.fixture(scope="module")
def reference_bytes(reference_ecnn):
    return reference_ecnn.read_bytes()


def test_truncated_file(reference_bytes):
    for cut in (0, 3, 63, 64, 1000, len(reference_bytes) - 1):
        with pytest.raises(ModelFormatError, match="truncated"):
            Model.from_bytes(reference_bytes[:cut])


def test_crc_mismatch(reference_bytes):
    data = bytearray(reference_bytes)
    data[len(data) // 2] ^= 0x10  # a weight byte
    with pytest.raises(ModelFormatError, match="CRC"):
        Model.from_bytes(data)


def test_not_a_model_file():
    with pytest.raises(ModelFormatError, match="magic"):
        Model.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))


def test_wrong_version_says_what_to_do(reference_bytes):
    data = bytearray(reference_bytes)
    struct.pack_into("<I", data, 4, 3)
    with pytest.raises(ModelVersionError, match="file format version 3, library supports 1 to 2: recompile the model"):
        Model.from_bytes(_fix_crc(data))


def test_bad_offset_names_the_tensor(reference_bytes):
    data = bytearray(reference_bytes)
    num_tensors = struct.unpack_from("<I", data, 20)[0]
    header_size = struct.unpack_from("<I", data, 12)[0]
    for t in range(num_tensors):
        if data[header_size + 48 * t] == 4:  # the first CONSTANT
            struct.pack_into("<I", data, header_size + 48 * t + 24, 0x7FFFFFC0)
            break
    with pytest.raises(ModelFormatError, match=f"beyond the weight data, tensor {t}"):
        Model.from_bytes(_fix_crc(data))


def test_unknown_op_type_is_unsupported(reference_bytes):
    data = bytearray(reference_bytes)
    ops_offset = struct.unpack_from("<I", data, 32)[0]
    struct.pack_into("<H", data, ops_offset, 999)
    with pytest.raises(UnsupportedModelError, match="op type, op 0"):
        Model.from_bytes(_fix_crc(data))


def test_fuzzed_headers_and_tables_never_crash(tiny_model_factory):
    """Random edits before the weights, CRC fixed so the structural checks must catch them.
    (A small build_model CNN: the same ops as the reference, quick to checksum 500 times.)"""
    from edgecnn.export.compiler import compile_model

    original, _ = compile_model(tiny_model_factory()[1])
    rng = np.random.default_rng(0)
    data_offset = struct.unpack_from("<I", original, 40)[0]
    accepted = 0
    for _ in range(500):
        data = bytearray(original)
        for pos in rng.integers(8, data_offset, size=rng.integers(1, 4)):
            data[pos] = rng.integers(0, 256)
        try:
            m = Model.from_bytes(_fix_crc(data))
        except NativeError:
            continue
        accepted += 1
        if m.input_dtype == np.float32:  # an accepted file must also run, in bounds
            n = m.batch or 2  # the fixed batch of format version 2 (header bytes 64..67) may be fuzzed too
            if n > 64:
                with pytest.raises(InputError, match="fixes the batch"):
                    m.predict(np.zeros((2, *m.input_shape), np.float32))
            else:
                assert m.predict(np.zeros((n, *m.input_shape), np.float32)).shape == (n, *m.output_shape)
    assert accepted < 500  # most random edits are caught


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(EdgecnnError, match="no such model file"):
        Model.load(tmp_path / "missing.ecnn")


# ---- commands --------------------------------------------------------------------------


def _write_pgm(path: Path, image: np.ndarray) -> Path:
    path.write_bytes(b"P5\n# a test image\n%d %d\n255\n" % (image.shape[1], image.shape[0]) + image.tobytes())
    return path


def _write_idx(path: Path, images: np.ndarray) -> Path:
    header = struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">III", *images.shape)
    path.write_bytes(header + images.tobytes())
    return path


def test_predict_command_prints_top3_for_pgm_png_and_idx(model, reference_ecnn, fashion_test_subset, tmp_path, capsys):
    from PIL import Image

    from edgecnn.cli import main
    from edgecnn.runtime.data import FASHION_MNIST_CLASSES

    images = fashion_test_subset[0][:3]
    pgm = _write_pgm(tmp_path / "a.pgm", images[0])
    png = tmp_path / "b.png"
    Image.fromarray(images[1]).save(png)
    idx = _write_idx(tmp_path / "few-idx3-ubyte", images)
    assert main(["predict", str(reference_ecnn), str(pgm), str(png), str(idx)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    expected = model.predict(images).argmax(1)
    assert lines[0].startswith(f"{pgm}: {FASHION_MNIST_CLASSES[expected[0]]} ")
    assert lines[1].startswith(f"{png}: {FASHION_MNIST_CLASSES[expected[1]]} ")
    for i in range(3):
        assert lines[2 + i].startswith(f"{idx}[{i}]: {FASHION_MNIST_CLASSES[expected[i]]} ")
    assert lines[0].count(",") == 2  # three classes


def test_predict_command_rejects_a_wrong_image_size(reference_ecnn, tmp_path, capsys):
    from edgecnn.cli import main

    pgm = _write_pgm(tmp_path / "big.pgm", np.zeros((30, 30), np.uint8))
    assert main(["predict", str(reference_ecnn), str(pgm)]) == 2
    assert "30x30" in capsys.readouterr().err


def test_verify_command_passes_and_fails(reference_onnx_path, reference_ecnn, tiny_model_factory, tmp_path, capsys):
    from edgecnn.cli import main
    from edgecnn.export.compiler import compile_onnx

    assert main(["verify", str(reference_onnx_path), str(reference_ecnn), "--samples", "300", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["max_abs_diff"] <= TOLERANCE and result["top1_agreement"] == 1.0
    assert result["samples"] == 300 and result["native_accuracy"] == result["onnxruntime_accuracy"]
    # A .ecnn compiled from another model: same shapes, different outputs -> exit 1.
    _, other_onnx = tiny_model_factory()
    other = compile_onnx(other_onnx, tmp_path / "other.ecnn").path
    assert main(["verify", str(reference_onnx_path), str(other), "--samples", "100"]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.fixture(scope="module")
def edgecnn_run():
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "native"), "build/edgecnn-run"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"building edgecnn-run failed:\n{result.stderr}"
    return ROOT / "native" / "build" / "edgecnn-run"


def test_edgecnn_run_classifies_pgm_like_python(edgecnn_run, model, reference_ecnn, fashion_test_subset, tmp_path):
    from edgecnn.runtime.data import FASHION_MNIST_CLASSES

    images = fashion_test_subset[0][:3]
    paths = [str(_write_pgm(tmp_path / f"{i}.pgm", img)) for i, img in enumerate(images)]
    result = subprocess.run([str(edgecnn_run), str(reference_ecnn), *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    probs = model.predict(images)
    for line, p in zip(result.stdout.strip().splitlines(), probs):
        top = FASHION_MNIST_CLASSES[int(p.argmax())]
        assert line.split(":", 1)[1].strip().startswith(f"{top} {p.max():.4f}"), line


def test_edgecnn_run_reports_a_damaged_model(edgecnn_run, reference_bytes, tmp_path):
    data = bytearray(reference_bytes)
    struct.pack_into("<I", data, 4, 7)
    bad = tmp_path / "v7.ecnn"
    bad.write_bytes(_fix_crc(data))
    pgm = _write_pgm(tmp_path / "x.pgm", np.zeros((28, 28), np.uint8))
    result = subprocess.run([str(edgecnn_run), str(bad), str(pgm)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "file format version 7, library supports 1 to 2: recompile" in result.stderr

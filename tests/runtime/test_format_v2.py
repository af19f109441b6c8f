""".ecnn format version 2 (docs/file-format.md): the fixed batch in the header, the metadata
section, and version 1 files still read."""

import json
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from needs import need
from small_onnx import compiled, sample_inputs, tiny_cnn


def _fix_crc(data: bytearray) -> bytearray:
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])) & 0xFFFFFFFF)
    return data


def to_version_1(blob: bytes) -> bytes:
    """The same model as a version 1 file: the 64-byte header, no batch, no metadata."""
    ops_offset, ops_size, data_offset = struct.unpack_from("<III", blob, 32)
    header = bytearray(blob[:64])
    struct.pack_into("<I", header, 4, 1)
    struct.pack_into("<I", header, 12, 64)
    struct.pack_into("<I", header, 24, 64)
    struct.pack_into("<I", header, 32, ops_offset - 16)
    body = header + blob[80 : ops_offset + ops_size]
    body += bytes(data_offset - len(body)) + blob[data_offset:]
    return bytes(_fix_crc(bytearray(body)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(ONNX path, .ecnn bytes) of the tiny CNN with a free batch and of one with batch 2."""
    out = tmp_path_factory.mktemp("v2")
    free = tiny_cnn(out / "free.onnx")
    fixed = tiny_cnn(out / "fixed.onnx", batch=2)
    return {
        "free": (free, compiled(free, out / "free.ecnn").read_bytes()),
        "fixed": (fixed, compiled(fixed, out / "fixed.ecnn").read_bytes()),
    }


def test_metadata_describes_the_onnx_model(tiny):
    from edgecnn.runtime import Model

    onnx = need("onnx")
    path, blob = tiny["free"]
    proto = onnx.load(str(path))
    model = Model.from_bytes(blob)
    assert model.format_version == 2 and model.batch == 0
    (inp,) = model.metadata["inputs"]
    assert inp["name"] == proto.graph.input[0].name and inp["type"] == "tensor(float)"
    assert inp["shape"][1:] == [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]]
    assert model.metadata["outputs"][0]["name"] == proto.graph.output[0].name
    assert model.metadata["producer"] == proto.producer_name


def test_version_1_file_still_runs_and_is_described_by_default_names(tiny):
    from edgecnn.runtime import InferenceSession, Model

    _, blob = tiny["free"]
    old = to_version_1(blob)
    v1, v2 = Model.from_bytes(old), Model.from_bytes(blob)
    assert v1.format_version == 1 and v1.metadata == {} and v1.batch == 0
    x = sample_inputs(3)
    np.testing.assert_array_equal(v1.predict(x), v2.predict(x))
    session = InferenceSession(old)
    assert [a.name for a in session.get_inputs() + session.get_outputs()] == ["input", "output"]
    assert session.get_inputs()[0].shape == ["N", *v1.input_shape]


def test_fixed_batch_runs_that_batch_only(tiny):
    from edgecnn.runtime import InferenceSession, Model
    from edgecnn.runtime.errors import InputError

    _, blob = tiny["fixed"]
    model = Model.from_bytes(blob)
    assert model.batch == 2 and struct.unpack_from("<I", blob, 64)[0] == 2
    x = sample_inputs(4)
    np.testing.assert_array_equal(model.predict(x), np.concatenate([model.predict(x[:2]), model.predict(x[2:])]))
    shape = ", ".join(map(str, (2, *model.input_shape)))
    with pytest.raises(
        InputError, match=rf"3 samples; the model's graph fixes the batch at 2: it takes input of shape \({shape}\)"
    ):
        model.predict(x[:3])
    session = InferenceSession(blob)
    name = session.get_inputs()[0].name
    assert session.get_inputs()[0].shape[0] == 2
    with pytest.raises(InputError, match=rf"the model takes \({shape}\)"):
        session.run(None, {name: x})


def test_the_c_library_refuses_another_batch(tiny):
    from edgecnn.runtime import Model
    from edgecnn.runtime.buffers import buffer_args

    _, blob = tiny["fixed"]
    model = Model.from_bytes(blob)
    ffi, lib = model._ffi, model._lib
    info = ffi.new("ecnn_model_info *")
    assert lib.ecnn_model_get_info(model._handle, info) == lib.ECNN_OK and info.batch == 2
    for batch, want in ((3, lib.ECNN_E_BATCH), (2, lib.ECNN_OK)):
        x = np.zeros((batch, *model.input_shape), np.float32)
        y = np.zeros((batch, *model.output_shape), np.float32)
        arena = model.new_arena(batch)
        status = lib.ecnn_run(model._handle, batch, *buffer_args(ffi, x, y, arena))
        assert status == want, (batch, ffi.string(lib.ecnn_status_string(status)))
    assert "batch" in ffi.string(lib.ecnn_status_string(lib.ECNN_E_BATCH)).decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        (68, 0x7FFFFFF0, "metadata section not between the op list and the weight data"),  # offset past the data
        (72, 0x100000, "metadata section not between the op list and the weight data"),  # size past the data
        (76, 1, "header bytes 76..79 are not 0"),
        (12, 64, "header_size is not 64"),
    ],
)
def test_bad_header_fields_are_named(tiny, field, value, message):
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import ModelFormatError

    data = bytearray(tiny["free"][1])
    struct.pack_into("<I", data, field, value)
    with pytest.raises(ModelFormatError, match=message):
        Model.from_bytes(_fix_crc(data))


def test_metadata_that_is_not_json_is_refused(tiny):
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import ModelFormatError

    data = bytearray(tiny["free"][1])
    offset, size = struct.unpack_from("<II", data, 68)
    json.loads(bytes(data[offset : offset + size]))  # it was JSON
    data[offset] = ord("!")
    with pytest.raises(ModelFormatError, match="metadata section is not UTF-8 JSON"):
        Model.from_bytes(_fix_crc(data))


@pytest.mark.parametrize("batch", [1, 2])
def test_edgecnn_run_takes_a_batch_1_graph_and_names_a_larger_fixed_batch(tmp_path, batch):
    """edgecnn-run classifies one image at a time: a graph fixed at batch 1 (TFLite's) runs, one
    fixed at 2 is refused by name."""
    root = Path(__file__).resolve().parents[2]
    built = subprocess.run(
        ["make", "-s", "-C", str(root / "native"), "build/edgecnn-run"], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    ecnn = compiled(tiny_cnn(tmp_path / "m.onnx", batch=batch), tmp_path / "m.ecnn")
    pgm = tmp_path / "x.pgm"
    pgm.write_bytes(b"P5\n8 8\n255\n" + bytes(range(0, 256, 4)))
    ran = subprocess.run([str(root / "native/build/edgecnn-run"), str(ecnn), str(pgm)], capture_output=True, text=True)
    if batch == 1:
        assert ran.returncode == 0 and ran.stdout.startswith(str(pgm)), ran.stderr
    else:
        assert ran.returncode == 2 and "fixes the batch at 2" in ran.stderr, ran.stderr

"""IDX reader and dataset helpers, on IDX files generated here (no real data needed)."""

import gzip
import pathlib
import struct

import numpy as np
import pytest

from edgecnn.runtime import data
from edgecnn.runtime.data import DatasetNotFoundError, IdxFormatError
from edgecnn.runtime.errors import EdgecnnError

CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int8"): 0x09,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
    np.dtype("float64"): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode `array` as IDX: magic (0, 0, dtype code, ndim), big-endian dims, big-endian values."""
    array = np.asarray(array)
    header = bytes([0, 0, CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: pathlib.Path, array: np.ndarray, compress: bool) -> pathlib.Path:
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def write_dataset(folder: pathlib.Path, n_train=30, n_test=10, compress=True, seed=0) -> pathlib.Path:
    """A tiny MNIST-format folder with random images and labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for split, n in (("train", n_train), ("test", n_test)):
        images_stem, labels_stem = data.SPLIT_FILES[split]
        write_idx(folder / (images_stem + suffix), rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), compress)
        write_idx(folder / (labels_stem + suffix), rng.integers(0, 10, n, dtype=np.uint8), compress)
    return folder


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("dtype", sorted(CODES, key=str))
def test_read_idx_round_trips_every_dtype(tmp_path, compress, dtype):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    got = data.read_idx(write_idx(tmp_path / "a.idx", array, compress))
    assert got.dtype == dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_read_idx_one_dimensional_labels(tmp_path):
    labels = np.array([9, 0, 3], dtype=np.uint8)
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "l", labels, False)), labels)


def _expect_error(path, *fragments):
    with pytest.raises(IdxFormatError) as info:
        data.read_idx(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_truncated_data(tmp_path):
    raw = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = tmp_path / "t.idx"
    path.write_bytes(raw[:-5])
    _expect_error(path, "truncated", "(4, 28, 28)")


def test_truncated_header(tmp_path):
    path = tmp_path / "t.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 4))
    _expect_error(path, "truncated header")


def test_empty_file(tmp_path):
    path = tmp_path / "e.idx"
    path.write_bytes(b"")
    _expect_error(path, "truncated")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t.idx.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 28, 28), np.uint8)))[:-40])
    _expect_error(path, "gzip")


def test_wrong_magic(tmp_path):
    path = tmp_path / "m.idx"
    path.write_bytes(b"\x89PNG" + bytes(100))
    _expect_error(path, "magic")


def test_wrong_dtype_code(tmp_path):
    raw = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    raw[2] = 0x07
    path = tmp_path / "d.idx"
    path.write_bytes(bytes(raw))
    _expect_error(path, "dtype code 0x07")


def test_trailing_bytes(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8)) + b"\x00\x01\x02")
    _expect_error(path, "3 trailing bytes")


def test_missing_file_is_a_clear_error(tmp_path):
    _expect_error(tmp_path / "nope.idx", "cannot read")


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_load_split_and_limit(tmp_path, compress):
    folder = write_dataset(tmp_path / "ds", n_train=30, n_test=10, compress=compress)
    images, labels = data.load_split(folder, "train")
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.uint8
    few_images, few_labels = data.load_split(folder, "train", limit=7)
    np.testing.assert_array_equal(few_images, images[:7])
    np.testing.assert_array_equal(few_labels, labels[:7])
    assert data.load_split(folder, "test")[0].shape == (10, 28, 28)


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "train-labels-idx1-ubyte.gz",
            np.zeros(29, np.uint8),
            r"30 images but .*train-labels-idx1-ubyte.gz holds 29 labels",
        ),
        (
            "train-images-idx3-ubyte.gz",
            np.zeros((30, 32, 32), np.uint8),
            r"train-images-idx3-ubyte.gz: expected uint8 images",
        ),
        ("train-labels-idx1-ubyte.gz", np.zeros(30, np.int32), r"expected uint8 labels"),
        ("train-labels-idx1-ubyte.gz", np.full(30, 10, np.uint8), r"label 10 is out of range"),
    ],
    ids=["count_mismatch_names_both_files", "wrong_image_shape", "wrong_label_dtype", "label_out_of_range"],
)
def test_load_split_refuses_a_bad_file(tmp_path, name, content, message):
    folder = write_dataset(tmp_path / "ds")
    write_idx(folder / name, content, True)
    with pytest.raises(IdxFormatError, match=message):
        data.load_split(folder, "train")


def test_load_split_missing_file_says_how_to_install(tmp_path):
    folder = write_dataset(tmp_path / "ds")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"t10k-images-idx3-ubyte.*apt-get install dataset-fashion-mnist"):
        data.load_split(folder, "test")


def test_load_split_bad_limit(tmp_path):
    folder = write_dataset(tmp_path / "ds")
    with pytest.raises(EdgecnnError, match="limit"):
        data.load_split(folder, "train", limit=0)


def test_resolve_data_dir_precedence(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv("EDGECNN_DATA", str(b))
    assert data.resolve_data_dir(str(a)) == a
    assert data.resolve_data_dir(None) == b
    monkeypatch.delenv("EDGECNN_DATA")
    monkeypatch.setattr(data, "DEFAULT_DATA_DIR", str(a))
    assert data.resolve_data_dir(None) == a


def test_resolve_data_dir_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGECNN_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        data.resolve_data_dir(str(tmp_path / "missing"))
    message = str(info.value)
    assert "missing" in message and "apt-get install dataset-fashion-mnist" in message and "--data" in message


def test_to_model_input_contract():
    images = np.array([[[0, 255], [128, 1]]], dtype=np.uint8)
    x = data.to_model_input(images)
    assert x.dtype == np.float32 and x.shape == (1, 2, 2, 1)
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x[0, 1, 0, 0], 128 / 255, rtol=1e-7)
    with pytest.raises(EdgecnnError, match="uint8"):
        data.to_model_input(images.astype(np.float32))


def test_class_names():
    assert len(data.FASHION_MNIST_CLASSES) == 10
    assert data.FASHION_MNIST_CLASSES[0] == "T-shirt/top" and data.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_real_test_split_reads_cleanly():
    """The installed Fashion-MNIST (`make data` installs it) reads and is balanced."""
    folder = data.resolve_data_dir(None)  # raises a DatasetNotFoundError saying how to install it
    images, labels = data.load_split(folder, "test")
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels, minlength=10).tolist() == [1000] * 10

"""Fashion-MNIST in IDX format: find it, read it strictly, turn it into model input.

The IDX format (http://yann.lecun.com/exdb/mnist/) is a 4-byte magic number
(0x00 0x00, a dtype code, the number of dimensions), one big-endian uint32 per
dimension, then the values, big-endian, row-major. Files may be gzip-compressed.

Every malformed file raises `IdxFormatError` naming the file and what is wrong;
nothing here imports TensorFlow.
"""

import gzip
import os
import pathlib
import zlib

import numpy as np

from edgecnn.runtime.errors import EdgecnnError

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
# The --data help of every command that reads the dataset (resolve_data_dir's rule).
DATA_HELP = f"MNIST-format folder (default: $EDGECNN_DATA, else {DEFAULT_DATA_DIR})"
DATA_ENV_VAR = "EDGECNN_DATA"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
IMAGE_SIZE = 28

# IDX dtype code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# File stems of each split; the reader also accepts them with a .gz suffix.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class IdxFormatError(EdgecnnError):
    """An IDX file is truncated, corrupt, or not what the caller expected."""


class DatasetNotFoundError(EdgecnnError):
    """The dataset folder or one of its files is missing."""


def _install_hint() -> str:
    return (
        f"Install Fashion-MNIST with `apt-get install {DEBIAN_PACKAGE}` (as root; it puts the IDX "
        f"files in {DEFAULT_DATA_DIR}), or point --data (or ${DATA_ENV_VAR}) at a folder holding "
        f"MNIST-format files ({', '.join(SPLIT_FILES['train'] + SPLIT_FILES['test'])}, optionally .gz)."
    )


def resolve_data_dir(arg: str | None) -> pathlib.Path:
    """The dataset folder: `arg`, else $EDGECNN_DATA, else DEFAULT_DATA_DIR; it must exist."""
    if arg:
        path, source = pathlib.Path(arg), "--data"
    elif os.environ.get(DATA_ENV_VAR):
        path, source = pathlib.Path(os.environ[DATA_ENV_VAR]), f"${DATA_ENV_VAR}"
    else:
        path, source = pathlib.Path(DEFAULT_DATA_DIR), "the default location"
    if not path.is_dir():
        raise DatasetNotFoundError(f"no dataset folder at {path} (from {source}). {_install_hint()}")
    return path


def _read_bytes(path: pathlib.Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":  # gzip magic: decide by content, not by file name
                with gzip.GzipFile(fileobj=f) as gz:
                    return gz.read()
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    except OSError as exc:
        raise IdxFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a native-endian array with the file's shape."""
    path = pathlib.Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IdxFormatError(f"{path}: truncated: {len(data)} bytes, an IDX header needs at least 4")
    if data[0] != 0 or data[1] != 0:
        raise IdxFormatError(
            f"{path}: bad magic number 0x{data[:4].hex()}: an IDX file starts with two zero bytes "
            "(is this an IDX file?)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(f"{path}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IdxFormatError(f"{path}: the header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(
            f"{path}: truncated header: {ndim} dimensions need {header_len} bytes, the file has {len(data)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header_len
    if got < expected:
        raise IdxFormatError(
            f"{path}: truncated: dims {dims} of {dtype.name} need {expected} data bytes, the file has {got}"
        )
    if got > expected:
        raise IdxFormatError(
            f"{path}: {got - expected} trailing bytes after the {expected} data bytes that dims {dims} declare"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def _find_file(data_dir: pathlib.Path, stem: str) -> pathlib.Path:
    for name in (stem + ".gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise DatasetNotFoundError(f"{data_dir} has neither {stem}.gz nor {stem}. {_install_hint()}")


def load_split(data_dir, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) and labels uint8 (N,) of "train" or "test", the first `limit` only if given."""
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, not {split!r}")
    if limit is not None and limit < 1:
        raise EdgecnnError(f"limit must be a positive number of images, not {limit}")
    data_dir = pathlib.Path(data_dir)
    images_path, labels_path = (_find_file(data_dir, stem) for stem in SPLIT_FILES[split])
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise IdxFormatError(
            f"{images_path}: expected uint8 images of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IdxFormatError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise IdxFormatError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if len(labels) and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise IdxFormatError(
            f"{labels_path}: label {int(labels.max())} is out of range 0..{len(FASHION_MNIST_CLASSES) - 1}"
        )
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def to_model_input(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]: the input of every model and engine."""
    images = np.asarray(images_uint8)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise EdgecnnError(f"to_model_input expects uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")
    return (images.astype(np.float32) / np.float32(255.0))[..., np.newaxis]

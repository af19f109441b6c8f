"""Image files for `edgecnn predict`: PGM (read natively), PNG/other formats (Pillow), IDX.

Every loader returns float32 grayscale images (N, H, W) in [0, 1] (pixel / maxval), the
model input contract; `edgecnn-run` (native/tools) reads PGM the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

IDX_UBYTE_MAGIC = b"\x00\x00\x08"


def _pgm_tokens(data: bytes, count: int, start: int) -> tuple[list, int]:
    """`count` whitespace-separated integers from `start`, skipping # comments."""
    tokens, pos = [], start
    while len(tokens) < count:
        while pos < len(data) and (data[pos : pos + 1].isspace() or data[pos : pos + 1] == b"#"):
            if data[pos : pos + 1] == b"#":
                while pos < len(data) and data[pos : pos + 1] not in (b"\n", b"\r"):
                    pos += 1
            else:
                pos += 1
        end = pos
        while end < len(data) and data[end : end + 1].isdigit():
            end += 1
        if end == pos:
            raise ValueError("expected a number")
        tokens.append(int(data[pos:end]))
        pos = end
    return tokens, pos


def read_pgm(path: Path) -> np.ndarray:
    """P5 (binary) or P2 (ASCII) PGM with maxval <= 255 -> float32 (1, H, W) in [0, 1]."""
    data = path.read_bytes()
    magic = data[:2]
    if magic not in (b"P5", b"P2"):
        raise EdgecnnError(f"{path}: not a PGM file (magic {magic!r}, expected P5 or P2)")
    try:
        (width, height, maxval), pos = _pgm_tokens(data, 3, 2)
        if width < 1 or height < 1 or not 1 <= maxval <= 255:
            raise ValueError(f"width {width}, height {height}, maxval {maxval} (need maxval 1..255)")
        if magic == b"P5":
            pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=pos + 1)
        else:
            pixels = np.array(_pgm_tokens(data, width * height, pos)[0])
    except ValueError as exc:
        raise EdgecnnError(f"{path}: bad or truncated PGM ({exc})") from None
    if pixels.max(initial=0) > maxval:
        raise EdgecnnError(f"{path}: pixel values exceed maxval {maxval}")
    return (pixels.astype(np.float32) / np.float32(maxval)).reshape(1, height, width)


def read_image_file(path) -> np.ndarray:
    """Any supported file -> float32 (N, H, W) in [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise EdgecnnError(f"{path}: no such image file")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] in (b"P5", b"P2"):
        return read_pgm(path)
    if head[:3] == IDX_UBYTE_MAGIC or head[:2] == b"\x1f\x8b":  # IDX, raw or gzipped
        from edgecnn.runtime.data import read_idx

        images = read_idx(path)
        if images.dtype != np.uint8 or images.ndim not in (2, 3):
            raise EdgecnnError(f"{path}: IDX file holds {images.dtype} {images.shape}; expected uint8 images (N, H, W)")
        images = images[np.newaxis] if images.ndim == 2 else images
        return images.astype(np.float32) / np.float32(255.0)
    image_module = require("PIL.Image", extra="train")
    try:
        with image_module.open(path) as img:
            gray = np.asarray(img.convert("L"), dtype=np.uint8)
    except Exception as exc:
        raise EdgecnnError(
            f"{path}: not a readable image ({type(exc).__name__}: {exc}); "
            "supported: PGM, PNG and other Pillow formats, IDX"
        ) from None
    return (gray.astype(np.float32) / np.float32(255.0))[np.newaxis]


def to_model_layout(images: np.ndarray, input_shape, source: str) -> np.ndarray:
    """Grayscale images (N, H, W) -> (N, *input_shape) for a model that declares (H, W, 1)
    (NHWC, Keras / tf2onnx) or (1, H, W) (NCHW, PyTorch). Raises EdgecnnError naming `source`
    when the model takes anything else (several channels, another size)."""
    shape = tuple(input_shape)
    if shape == (*images.shape[1:], 1):
        return images[..., np.newaxis]
    if shape == (1, *images.shape[1:]):
        return images[:, np.newaxis]
    raise EdgecnnError(
        f"{source}: images are {images.shape[2]}x{images.shape[1]} grayscale; the model takes "
        f"({', '.join(map(str, shape))}) per sample (grayscale {images.shape[1]}x{images.shape[2]} "
        "models only: (H, W, 1) NHWC or (1, H, W) NCHW)"
    )


def to_model_dtype(images: np.ndarray, dtype) -> np.ndarray:
    """float32 images in [0, 1] -> what a model of input `dtype` takes: unchanged for float32,
    the raw 0..255 pixels for a uint8-input model (which scales them itself), those pixels
    minus 128 for an int8-input one."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return images
    pixels = np.rint(images * np.float32(255.0))  # exact: the loaders divided 0..255 by 255
    if dtype == np.uint8:
        return pixels.astype(np.uint8)
    if dtype == np.int8:
        return (pixels - 128).astype(np.int8)
    raise EdgecnnError(f"a model taking {dtype} input: images can be given to float32, uint8 or int8 models only")

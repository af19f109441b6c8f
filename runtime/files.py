"""Writing files so that a crash never leaves a half-written one: THE helper every edgecnn
writer uses (models, reports, sidecars, checkpoints, plots).

The bytes go to a temporary file in the destination folder, are flushed to disk, and
the temporary file is renamed onto the final name (an atomic replace on POSIX and
Windows). A reader sees the old file or the complete new one, never a torn one; a
failure (exception, kill, power loss) leaves at most a hidden `.NAME.*.tmp` file that
the next successful write does not need.

Standard library only: importable by the runtime on a device without NumPy's friends,
TensorFlow or onnx.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_file(final_path):
    """Yield a temporary path beside `final_path`; rename it into place only if the block succeeds.

    The block writes the temporary path however it likes (numpy, onnx.save, savefig, Keras
    model.save: the temporary name keeps `final_path`'s suffix, which some writers need).
    On an exception the temporary file is removed and `final_path` is left as it was.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final_path.name}.", suffix=f".tmp{final_path.suffix}", dir=final_path.parent)
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's mode
    try:
        yield tmp
        if tmp.is_file():
            _fsync_path(tmp)  # the data is on disk before the name points at it
        os.replace(tmp, final_path)
        with contextlib.suppress(OSError):  # the rename itself survives a power loss (POSIX)
            _fsync_path(final_path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path, data: bytes) -> Path:
    with staged_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str) -> Path:
    with staged_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def format_json(value, indent: int = 0) -> str:
    """json.dumps(indent=2), except that lists of plain values (shapes, ranges) stay on one line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {format_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value):
        return "[\n" + ",\n".join(inner + format_json(v, indent + 2) for v in value) + f"\n{pad}]"
    return json.dumps(value)


def write_json(path, data) -> Path:
    return write_text(path, format_json(data) + "\n")

"""Exceptions shared by every edgecnn command.

Each user-facing failure is an `EdgecnnError` whose message names the problem
(file, field, shape, op) and, where it can, what to do about it. The CLI prints
the message without a traceback and exits with status 2.
"""

import importlib
from typing import Any


class EdgecnnError(Exception):
    """A failure the user can act on; its message is shown as is."""


class MissingDependencyError(EdgecnnError):
    """An optional package (an install extra) is not installed."""


def require(module: str, extra: str = "train") -> Any:
    """Import and return `module`, or raise a MissingDependencyError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"this command needs the Python package '{module.split('.')[0]}', which is not installed "
            f"({exc}). Install the '{extra}' extra: pip install 'edgecnn[{extra}]' "
            f"(or run `make run`, which sets up .venv with it)."
        ) from None


def native_extension() -> tuple[Any, Any]:
    """The cffi extension's (ffi, lib), or an EdgecnnError saying how to build it."""
    try:
        extension = importlib.import_module("edgecnn.runtime._native")
    except ImportError as exc:  # the extension is built by pip install
        raise EdgecnnError(
            f"the native extension edgecnn.runtime._native is not built ({exc}); reinstall the package: "
            "pip install -e . (needs a C compiler)"
        ) from None
    return extension.ffi, extension.lib


# The native library's errors (edgecnn.runtime.model raises them).


class NativeError(EdgecnnError):
    """A status code from the C library; `status` is the code, `detail` the failed check."""

    def __init__(self, message: str, status: int, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class ModelFormatError(NativeError):
    """The bytes are not a valid .ecnn file: bad magic, truncated, CRC mismatch, corrupt field."""


class ModelVersionError(NativeError):
    """The file's format version is not the one this library reads."""


class UnsupportedModelError(NativeError):
    """The file is valid but uses an op, dtype or feature this library build does not implement."""


class IsaError(NativeError):
    """EDGECNN_ISA names a kernel level this library build does not have, or one this CPU lacks."""


class InputError(EdgecnnError, ValueError):
    """The array given to predict() has the wrong shape or dtype, or holds NaN / infinity.
    (A ValueError too, as NumPy users expect.)"""


class NativeRunError(NativeError):
    """ecnn_run or another call refused its arguments (a bug in the caller, normally caught before)."""


class ThreadsError(EdgecnnError, ValueError):
    """`threads` is not a whole number from 1 to the pool's maximum, or the native library could
    not start its threads. (A ValueError too.)"""

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

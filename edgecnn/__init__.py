"""edgecnn: train a small CNN in Keras, export it to ONNX, quantize it to int8 and run it with a
portable C99 runtime that matches onnxruntime.

The package is layered; each layer imports only the ones below it:

    edgecnn            the command line, the pipeline (`make run`), bench, verify, report
    edgecnn.train      Keras training            edgecnn.export   ONNX export, quantization, compiler
    edgecnn.runtime    the native library bound with cffi: needs numpy and cffi only

`edgecnn.InferenceSession` is onnxruntime's API over a compiled model (edgecnn.runtime.session).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgecnn.runtime.session import InferenceSession, ModelMetadata, NodeArg

__all__ = ["InferenceSession", "ModelMetadata", "NodeArg", "__version__"]

try:
    __version__ = version("edgecnn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    # Lazy, so `import edgecnn` and `edgecnn --help` do not load numpy and the native extension.
    if name in ("InferenceSession", "ModelMetadata", "NodeArg"):
        from edgecnn.runtime import session

        return getattr(session, name)
    raise AttributeError(f"module 'edgecnn' has no attribute {name!r}")

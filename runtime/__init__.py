"""edgecnn.runtime: run compiled .ecnn models with the native C library.

Needs only numpy and cffi: never imports TensorFlow or onnxruntime.

    from edgecnn.runtime import Model
    model = Model.load("model.ecnn")
    probabilities = model.predict(images)   # (N, 28, 28, 1) float32 in [0, 1] or uint8

    from edgecnn.runtime import InferenceSession   # onnxruntime's API (also edgecnn.InferenceSession)
    sess = InferenceSession("model.ecnn")
    outputs = sess.run(None, {sess.get_inputs()[0].name: x})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgecnn.runtime.model import Model
    from edgecnn.runtime.session import InferenceSession, ModelMetadata, NodeArg

__all__ = ["InferenceSession", "Model", "ModelMetadata", "NodeArg"]


def __getattr__(name: str) -> Any:
    # Lazy, so `edgecnn --help` does not load numpy and the native extension.
    if name == "Model":
        from edgecnn.runtime.model import Model

        return Model
    if name in ("InferenceSession", "ModelMetadata", "NodeArg"):
        from edgecnn.runtime import session

        return getattr(session, name)
    raise AttributeError(f"module 'edgecnn.runtime' has no attribute {name!r}")

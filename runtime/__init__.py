"""edgecnn.runtime: run compiled .ecnn models with the native C library.

Needs only numpy and cffi: never imports TensorFlow or onnxruntime.

    from edgecnn.runtime import Model
    model = Model.load("model.ecnn")
    probabilities = model.predict(images)   # (N, 28, 28, 1) float32 in [0, 1] or uint8
"""

__all__ = ["Model"]


def __getattr__(name):
    # Lazy, so `edgecnn --help` does not load numpy and the native extension.
    if name == "Model":
        from edgecnn.runtime.model import Model

        return Model
    raise AttributeError(f"module 'edgecnn.runtime' has no attribute {name!r}")

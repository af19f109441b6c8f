"""Test accuracy of an ONNX model (float or int8) in onnxruntime."""

from __future__ import annotations

import numpy as np

from edgecnn.export.artifacts import check_image_input, load_onnx, ort_session, run_onnx


def accuracy(model_path, images: np.ndarray, labels: np.ndarray, *, desc: str | None = None) -> float:
    """Fraction of `images` whose most probable class is the label (onnxruntime, default optimisation)."""
    check_image_input(load_onnx(model_path), model_path)
    probabilities = run_onnx(ort_session(model_path), images, desc=desc)
    return float(np.mean(probabilities.argmax(axis=1) == labels))

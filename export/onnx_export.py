"""Keras -> ONNX with tf2onnx, checked against Keras on real images.

tf2onnx's `from_keras` fails on Keras 3 models (tf2onnx issue 2448), so the model
is traced as a `tf.function` with a fixed input signature. The trace is frozen
here (variables and captured tensors become constants) before tf2onnx sees it:
`tf2onnx.convert.from_function` would turn the tensors a Keras 3 `Normalization`
layer captures (its mean and variance) into extra graph inputs without values.

The ONNX model takes "input", NHWC float32 (batch, 28, 28, 1) in [0, 1] with a
dynamic batch dimension, and returns "probabilities" (batch, classes).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.export.artifacts import (
    BATCH_DIM,
    DEFAULT_BATCH_SIZE,
    IMAGE_SHAPE,
    INPUT_NAME,
    OUTPUT_NAME,
    batches,
    describe_io,
    ort_session,
    package_versions,
    require_file,
    run_onnx,
    sidecar_path,
    staged_file,
    write_json,
)
from edgecnn.runtime.errors import EdgecnnError, require

DEFAULT_OPSET = 17
MIN_OPSET = 13  # per-channel DequantizeLinear needs its `axis` attribute (opset 13)
MAX_ABS_DIFF = 1e-5  # largest |ONNX - Keras| accepted on any probability


class ExportMismatchError(EdgecnnError):
    """The exported ONNX model does not reproduce the Keras model within MAX_ABS_DIFF."""


@dataclass
class ExportResult:
    path: Path
    max_abs_diff: float | None  # None when no check images were given
    checked_images: int
    sidecar: Path


def load_keras_model(path):
    """Load a .keras file, with a clear error for a missing or non-Keras file."""
    path = require_file(path, "Keras model")
    # A .keras file is a zip archive holding config.json; anything else is not one.
    if not zipfile.is_zipfile(path):
        raise EdgecnnError(f"{path} is not a Keras model file (expected a .keras zip archive saved by model.save)")
    keras = require("keras")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise EdgecnnError(f"{path} could not be loaded as a Keras model ({type(exc).__name__}: {exc})") from None


def _check_keras_input(model) -> None:
    shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if shape is None or shape[1:] != IMAGE_SHAPE:
        raise EdgecnnError(
            f"the Keras model's input shape is {model.input_shape}, expected (None, "
            f"{', '.join(map(str, IMAGE_SHAPE))}) (NHWC images in [0, 1])"
        )


def name_batch_dim(graph) -> None:
    """Give the dynamic batch dimension of the graph's inputs and outputs one readable name."""
    for value in [*graph.input, *graph.output]:
        dim = value.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_param = BATCH_DIM


def convert(model, opset: int = DEFAULT_OPSET):
    """keras.Model -> onnx.ModelProto (no file written, nothing checked)."""
    if opset < MIN_OPSET:
        raise EdgecnnError(f"opset {opset} is too old: use {MIN_OPSET} or newer (per-channel int8 needs it)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = require("tensorflow")
    tf2onnx = require("tf2onnx")
    onnx = require("onnx")

    _check_keras_input(model)
    tf.get_logger().setLevel("ERROR")
    tf2onnx.logging.set_level(tf2onnx.logging.ERROR)
    frozen = freeze_keras(model, IMAGE_SHAPE)
    if len(frozen.outputs) != 1:
        raise EdgecnnError(f"the Keras model has {len(frozen.outputs)} outputs; expected one (the class probabilities)")
    proto = frozen_to_onnx(frozen, model.name, opset, OUTPUT_NAME)
    name_batch_dim(proto.graph)
    onnx.checker.check_model(proto)
    return proto


def freeze_keras(model, input_shape: tuple):
    """The Keras model's inference as a TensorFlow concrete function of one float32 input named
    INPUT_NAME, shape (any batch, *input_shape), its variables and captured tensors made constants."""
    tf = require("tensorflow")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec((None, *input_shape), tf.float32, name=INPUT_NAME)
    traced = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return convert_variables_to_constants_v2(traced.get_concrete_function())


def frozen_to_onnx(frozen, name: str, opset: int, output_name: str):
    """A frozen TensorFlow function of one input and one output -> onnx.ModelProto (tf2onnx), its
    input named INPUT_NAME and its output `output_name`."""
    tf2onnx = require("tf2onnx")
    tf_in, tf_out = frozen.inputs[0].name, frozen.outputs[0].name
    proto, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        name=name,
        input_names=[tf_in],
        output_names=[tf_out],
        opset=opset,
        tensors_to_rename={tf_in: INPUT_NAME, tf_out: output_name},
    )
    return proto


def keras_predict(
    model, images: np.ndarray, *, batch_size: int = DEFAULT_BATCH_SIZE, desc: str | None = None
) -> np.ndarray:
    keras = require("keras")
    chunks = list(batches(len(images), batch_size))
    if desc is not None:
        chunks = require("tqdm").tqdm(chunks, desc=desc, unit="batch", leave=False, disable=None)
    return np.concatenate([keras.ops.convert_to_numpy(model(images[s], training=False)) for s in chunks])


def max_abs_difference(model, onnx_path, images: np.ndarray, *, progress: bool = False) -> float:
    """Largest |ONNX - Keras| over every output value on `images` (float32 (N, 28, 28, 1))."""
    expected = keras_predict(model, images, desc="Keras" if progress else None)
    got = run_onnx(ort_session(onnx_path), images, desc="onnxruntime" if progress else None)
    if got.shape != expected.shape:
        raise ExportMismatchError(f"ONNX output shape {got.shape} differs from Keras output shape {expected.shape}")
    return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))


def export_onnx(
    model,
    out_path,
    opset: int = DEFAULT_OPSET,
    *,
    check_images: np.ndarray | None = None,
    tolerance: float = MAX_ABS_DIFF,
    progress: bool = False,
    source: str | None = None,
) -> ExportResult:
    """Convert `model` (keras.Model or .keras path) to `out_path`, check it, write the sidecar.

    With `check_images`, the file only reaches `out_path` if onnxruntime reproduces
    Keras on them within `tolerance`; otherwise ExportMismatchError is raised and
    nothing is left under `out_path`.
    """
    onnx = require("onnx")
    if source is None:
        source = str(model) if isinstance(model, (str, Path)) else f"in-memory keras.Model '{model.name}'"
    if isinstance(model, (str, Path)):
        model = load_keras_model(model)
    out_path = Path(out_path)
    proto = convert(model, opset)
    max_diff = None
    with staged_file(out_path) as tmp:
        onnx.save(proto, str(tmp))
        if check_images is not None:
            if len(check_images) == 0:
                raise EdgecnnError("no images to check the exported model on")
            max_diff = max_abs_difference(model, tmp, check_images, progress=progress)
            if not max_diff <= tolerance:  # `not <=` also catches NaN
                raise ExportMismatchError(
                    f"ONNX and Keras differ by up to {max_diff:.3g} on {len(check_images)} images "
                    f"(limit {tolerance:g}); {out_path} was not written"
                )
    sidecar = write_json(
        sidecar_path(out_path),
        {
            "kind": "float32 ONNX",
            "source": source,
            "opset": opset,
            **describe_io(proto),
            "check": {
                "reference": "Keras",
                "images": 0 if check_images is None else len(check_images),
                "max_abs_diff": max_diff,
                "tolerance": tolerance,
            },
            "file_size_bytes": out_path.stat().st_size,
            "versions": package_versions("tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx", "onnxruntime"),
        },
    )
    return ExportResult(out_path, max_diff, 0 if check_images is None else len(check_images), sidecar)


def keras_to_onnx(model, out_path, opset: int = DEFAULT_OPSET) -> Path:
    """keras.Model (or .keras path) -> ONNX file (dynamic batch, input "input" NHWC float32)."""
    return export_onnx(model, out_path, opset).path

"""Keras -> TensorFlow Lite (float, full-integer int8) -> ONNX, the way TFLite users make them.

- float: `TFLiteConverter.from_keras_model(model).convert()`.
- int8: the same converter with `Optimize.DEFAULT`, a representative dataset, `TFLITE_BUILTINS_INT8`
  and int8 input and output (`inference_input_type = inference_output_type = tf.int8`): the
  MLPerf Tiny reference scripts' settings. Weights int8 per channel, activations int8 per tensor,
  the graph input and output int8 with the scale and zero point TFLite chose.
- ONNX: `tf2onnx.convert.from_tflite`, the API of `python -m tf2onnx.convert --tflite model.tflite
  --output model.onnx` (both run tf2onnx's `_convert_common`). The API goes on past an op it cannot
  convert, leaving a TFLite op in the graph; `tflite_to_onnx` refuses such a graph by name.
  Opset 15 (TFLITE_OPSET): what the command writes without --opset in tf2onnx 1.17 (its preferred
  opset), so the files are those a user gets; per-axis DequantizeLinear needs 13 or newer.
  The ONNX graph keeps TFLite's NHWC input, its tensor names (`serving_default_input:0`) and its
  dynamic batch; an int8 TFLite model becomes int8 graph input and output with QDQ pairs inside.
- `keras_to_onnx`: float Keras -> ONNX directly, by the frozen tf.function route of
  edgecnn.export.onnx_export (any input shape; dynamic batch).

`compare_tflite_onnx` runs both files on the same inputs, one sample at a time (TFLite allocates
batch 1), in the TFLite interpreter (ai-edge-litert) and onnxruntime (default optimisation level):
- float: max |ONNX - TFLite| must be within FLOAT_TOLERANCE x max(1, max |TFLite output|): the
  two engines sum in different orders (XNNPACK and MLAS), and a deep model carries the difference
  from layer to layer (edgecnn.zoo's models: 7e-8 to 7e-6 in output units).
- int8: TFLite requantises in fixed point (a 32-bit multiplier and a shift), onnxruntime runs
  tf2onnx's QDQ graph with float scales and rounds half to even: a layer's outputs differ by one
  step here and there, and the next layers carry and grow those differences, the more so the
  deeper the model. So the integer outputs are counted, not required to be equal: values that
  differ, the largest difference in steps, a histogram. The limit is on the mean |difference|
  (dequantized): at most int8 TFLite's own mean error against the float TFLite model on the same
  inputs, i.e. the two int8 engines disagree less than int8 disagrees with float. It catches gross
  conversion errors, not every subtle one: tried on three of edgecnn.zoo's models, one layer's
  per-channel weight scales in reverse order broke the limit 10 to 28 times over; one activation's
  zero point off by 3 broke it 2 to 4 times on two models and stayed inside it on the third.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.export.artifacts import ort_session, require_file
from edgecnn.export.onnx_export import (
    DEFAULT_OPSET,
    MIN_OPSET,
    freeze_keras,
    frozen_to_onnx,
    load_keras_model,
    name_batch_dim,
)
from edgecnn.runtime.errors import EdgecnnError, require
from edgecnn.runtime.files import staged_file, write_bytes

TFLITE_OPSET = 15
KERAS_OPSET = DEFAULT_OPSET
FLOAT_TOLERANCE = 1e-5  # of max(1, the largest |output|)
TFLITE_IDENTIFIER = b"TFL3"  # flatbuffer file identifier, bytes 4..8 of every .tflite file


class ConversionError(EdgecnnError):
    """A converter (TFLiteConverter, tf2onnx) failed or produced an unusable file."""


# ---------------------------------------------------------------------------------------
# Quiet converters: TensorFlow and tf2onnx print from C++ and Python; keep it for the error message.


@contextlib.contextmanager
def _captured_output():
    """Send file descriptors 1 and 2 to a temporary file; yield a callable returning what was written."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

        def text() -> str:
            log.seek(0)
            return log.read().decode("utf-8", "replace")

        try:
            yield text
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _tail(log: str, lines: int = 12) -> str:
    kept = [line for line in log.strip().splitlines() if line.strip()][-lines:]
    return ("\n  converter output (last lines):\n    " + "\n    ".join(kept)) if kept else ""


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = require("tensorflow")
    tf.get_logger().setLevel("ERROR")
    return tf


def _keras_model(model):
    """(keras.Model, how to name it in messages) from a keras.Model or a .keras path."""
    if isinstance(model, (str, Path)):
        return load_keras_model(model), str(model)
    return model, f"Keras model '{model.name}'"


# ---------------------------------------------------------------------------------------
# Keras -> .tflite


def _convert(converter, source: str, out_path: Path) -> Path:
    with _captured_output() as log:
        try:
            flatbuffer = converter.convert()
        except Exception as exc:
            raise ConversionError(
                f"{out_path}: TFLiteConverter could not convert {source} ({type(exc).__name__}: {exc})" + _tail(log())
            ) from None
    return write_bytes(out_path, flatbuffer)


def keras_to_tflite_float(model, out_path) -> Path:
    """keras.Model (or .keras path) -> float32 .tflite (TFLiteConverter defaults)."""
    tf = _tensorflow()
    model, source = _keras_model(model)
    return _convert(tf.lite.TFLiteConverter.from_keras_model(model), source, Path(out_path))


def keras_to_tflite_int8(model, out_path, representative_inputs: np.ndarray) -> Path:
    """keras.Model (or .keras path) -> full-integer int8 .tflite with int8 input and output.

    `representative_inputs` (N, *input shape) float32 are the calibration samples, fed one at a time.
    """
    tf = _tensorflow()
    model, source = _keras_model(model)
    samples = np.asarray(representative_inputs, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if samples.ndim < 1 or len(samples) == 0:
        raise EdgecnnError(f"{out_path}: int8 conversion needs at least one representative input")
    if samples.shape[1:] != expected:
        raise EdgecnnError(
            f"{out_path}: representative inputs have shape {samples.shape[1:]} per sample; {source} takes {expected}"
        )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([samples[i : i + 1]] for i in range(len(samples)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return _convert(converter, source, Path(out_path))


# ---------------------------------------------------------------------------------------
# .tflite -> ONNX


def _restart_tf2onnx_names(tf2onnx) -> None:
    """Number the names tf2onnx invents (`Add__12`, `unk__3`) from 1, as a fresh process does.

    tf2onnx counts them in a module global across conversions. Even so, it hands the numbers out
    in an order that varies from run to run (it walks sets of graph objects), so two conversions of
    one .tflite give the same nodes in the same order with some invented names swapped.
    """
    tf2onnx.utils.INTERNAL_NAME = 1


def check_tflite_file(path) -> Path:
    path = require_file(path, "TFLite model")
    with open(path, "rb") as f:
        head = f.read(8)
    if head[4:8] != TFLITE_IDENTIFIER:
        raise EdgecnnError(
            f"{path} is not a TFLite model (a .tflite flatbuffer has the identifier "
            f"{TFLITE_IDENTIFIER.decode()} at byte 4; this file has {head[4:8]!r})"
        )
    return path


def tflite_to_onnx(tflite_path, out_path, opset: int = TFLITE_OPSET) -> Path:
    """.tflite -> .onnx with tf2onnx.convert.from_tflite; refuses a graph with ops tf2onnx left unconverted."""
    tflite_path = check_tflite_file(tflite_path)
    out_path = Path(out_path)
    if opset < MIN_OPSET:
        raise EdgecnnError(
            f"{out_path}: opset {opset} is too old: use {MIN_OPSET} or newer (per-axis DequantizeLinear needs it)"
        )
    _tensorflow()  # quiet TensorFlow logging, or the error naming the pip install
    tf2onnx = require("tf2onnx")
    onnx = require("onnx")
    tf2onnx.logging.set_level(tf2onnx.logging.ERROR)
    _restart_tf2onnx_names(tf2onnx)
    with _captured_output() as log:
        try:
            proto, _ = tf2onnx.convert.from_tflite(str(tflite_path), opset=opset)
        except Exception as exc:
            raise ConversionError(
                f"tf2onnx could not convert {tflite_path} ({type(exc).__name__}: {exc})" + _tail(log())
            ) from None
    standard = {"", "ai.onnx"}
    left = [f"{n.name} ({n.domain}:{n.op_type})" for n in proto.graph.node if n.domain not in standard]
    if left:
        raise ConversionError(
            f"tf2onnx left {len(left)} TFLite op(s) of {tflite_path} unconverted: "
            + ", ".join(left[:10])
            + _tail(log())
        )
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:
        raise ConversionError(f"tf2onnx's ONNX model of {tflite_path} fails onnx.checker: {exc}") from None
    with staged_file(out_path) as tmp:
        onnx.save(proto, str(tmp))
    return out_path


# ---------------------------------------------------------------------------------------
# Keras -> ONNX (float), the tf.function route


def keras_to_onnx(model, out_path, opset: int = KERAS_OPSET) -> Path:
    """keras.Model (or .keras path) -> float ONNX: input "input", output "output", dynamic batch.

    The frozen tf.function route of edgecnn.export.onnx_export, for any input shape (tf2onnx's
    `from_keras` fails on Keras 3 models).
    """
    out_path = Path(out_path)
    if opset < MIN_OPSET:
        raise EdgecnnError(f"{out_path}: opset {opset} is too old: use {MIN_OPSET} or newer")
    _tensorflow()  # quiet TensorFlow logging, or the error naming the pip install
    tf2onnx = require("tf2onnx")
    onnx = require("onnx")

    model, source = _keras_model(model)
    if isinstance(model.input_shape, list) or len(model.outputs) != 1:
        raise EdgecnnError(f"{out_path}: {source} must have one input and one output")
    tf2onnx.logging.set_level(tf2onnx.logging.ERROR)
    _restart_tf2onnx_names(tf2onnx)
    with _captured_output() as log:
        try:
            proto = frozen_to_onnx(freeze_keras(model, model.input_shape[1:]), model.name, opset, "output")
        except Exception as exc:
            raise ConversionError(
                f"{out_path}: tf2onnx could not convert {source} ({type(exc).__name__}: {exc})" + _tail(log())
            ) from None
    name_batch_dim(proto.graph)
    onnx.checker.check_model(proto)
    with staged_file(out_path) as tmp:
        onnx.save(proto, str(tmp))
    return out_path


# ---------------------------------------------------------------------------------------
# Running and comparing


@dataclass
class TensorInfo:
    name: str
    shape: list  # -1 for a dynamic dimension
    dtype: str
    scale: float | None = None  # int8 only
    zero_point: int | None = None


def _interpreter(tflite_path):
    tflite_path = check_tflite_file(tflite_path)
    litert = require("ai_edge_litert.interpreter")
    try:
        interpreter = litert.Interpreter(model_path=str(tflite_path), num_threads=1)
        interpreter.allocate_tensors()
    except Exception as exc:
        raise EdgecnnError(f"the TFLite interpreter cannot load {tflite_path}: {exc}") from None
    return interpreter


def _tensor_info(detail) -> TensorInfo:
    dtype = np.dtype(detail["dtype"]).name
    scale, zero_point = detail["quantization"]
    signature = detail.get("shape_signature", detail["shape"])
    quantized = dtype in ("int8", "uint8")
    return TensorInfo(
        detail["name"],
        [int(d) for d in signature],
        dtype,
        float(scale) if quantized else None,
        int(zero_point) if quantized else None,
    )


def tflite_io(tflite_path) -> tuple[TensorInfo, TensorInfo]:
    """The one input and one output of a .tflite model: name, shape, dtype, quantization."""
    interpreter = _interpreter(tflite_path)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise EdgecnnError(
            f"{tflite_path}: expected one input and one output, the model has {len(inputs)} and {len(outputs)}"
        )
    return _tensor_info(inputs[0]), _tensor_info(outputs[0])


def quantize_inputs(x: np.ndarray, info: TensorInfo) -> np.ndarray:
    """Float inputs -> the model's input dtype: round(x / scale) + zero point, saturated (float models: as is).

    Both engines get these same integers, so the rounding rule does not enter the comparison.
    """
    if info.scale is None:
        return np.asarray(x, dtype=np.float32)
    limits = np.iinfo(info.dtype)
    q = np.rint(np.asarray(x, dtype=np.float64) / info.scale) + info.zero_point
    return np.clip(q, limits.min, limits.max).astype(info.dtype)


def run_tflite(tflite_path, x: np.ndarray) -> np.ndarray:
    """The TFLite interpreter on x (N, *sample shape) in the model's input dtype, one sample at a time."""
    interpreter = _interpreter(tflite_path)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for i in range(len(x)):
        interpreter.set_tensor(inp["index"], x[i : i + 1])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"]).copy())
    return np.concatenate(results)


def run_onnx(onnx_path, x: np.ndarray) -> np.ndarray:
    """onnxruntime on x, one sample at a time (a graph from TFLite may fix its batch to 1)."""
    session = ort_session(onnx_path, threads=1)
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])


@dataclass
class Agreement:
    """How far an ONNX file's outputs are from the TFLite interpreter's on the same inputs."""

    kind: str  # "float" or "int8"
    samples: int
    values: int
    max_abs_diff: float  # float: in output units; int8: in integer steps
    mean_abs_diff: float  # in output units (int8: dequantized)
    tolerance: float  # the limit: float on max_abs_diff, int8 on mean_abs_diff (see the module docstring)
    differing: int = 0  # values that are not identical
    output_scale: float | None = None  # int8: the output's quantization scale
    step_histogram: dict = field(default_factory=dict)  # int8: {steps: count} over the differing values

    @property
    def within_tolerance(self) -> bool:
        measured = self.max_abs_diff if self.kind == "float" else self.mean_abs_diff
        return bool(measured <= self.tolerance)  # NaN fails

    def as_dict(self) -> dict:
        return {**asdict(self), "within_tolerance": self.within_tolerance}

    def summary(self) -> str:
        if self.kind == "float":
            return f"float max |ONNX - TFLite| {self.max_abs_diff:.2g} (limit {self.tolerance:.2g})"
        steps = f" by up to {int(self.max_abs_diff)} step(s)" if self.differing else ""
        return (
            f"int8 {self.differing:,} of {self.values:,} values differ{steps}, mean |diff| "
            f"{self.mean_abs_diff:.2g} (limit {self.tolerance:.2g}: int8 TFLite vs float)"
        )


def _dequantize(q: np.ndarray, info: TensorInfo) -> np.ndarray:
    return (q.astype(np.float64) - info.zero_point) * info.scale


def compare_tflite_onnx(tflite_path, onnx_path, float_inputs: np.ndarray, float_tflite_path=None) -> Agreement:
    """Run both files on `float_inputs` (quantized with the TFLite input's parameters for an int8 model).

    An int8 model needs `float_tflite_path`, the float model it was made from: its limit is int8
    TFLite's own mean error against that float model on the same (dequantized) inputs.
    """
    inp, out = tflite_io(tflite_path)
    session = ort_session(onnx_path, threads=1)
    onnx_in, onnx_out = session.get_inputs()[0], session.get_outputs()[0]
    onnx_type = onnx_in.type.removeprefix("tensor(").removesuffix(")")
    if onnx_type != {"float32": "float"}.get(inp.dtype, inp.dtype):
        raise EdgecnnError(f"{onnx_path}: input '{onnx_in.name}' is {onnx_in.type}; {tflite_path} takes {inp.dtype}")
    x = quantize_inputs(float_inputs, inp)
    want = run_tflite(tflite_path, x)
    got = np.concatenate([session.run(None, {onnx_in.name: x[i : i + 1]})[0] for i in range(len(x))])
    if got.shape != want.shape or got.dtype != want.dtype:
        raise EdgecnnError(
            f"{onnx_path}: output '{onnx_out.name}' is {got.dtype}{list(got.shape)}; "
            f"{tflite_path} gives {want.dtype}{list(want.shape)}"
        )
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    differing = int(np.count_nonzero(diff))
    if out.scale is None:
        scale = max(1.0, float(np.abs(want).max()))
        return Agreement(
            "float", len(x), int(want.size), float(diff.max()), float(diff.mean()), FLOAT_TOLERANCE * scale, differing
        )
    if float_tflite_path is None:
        raise EdgecnnError(f"comparing the int8 model {tflite_path} needs the float .tflite it was made from")
    reference = run_tflite(float_tflite_path, _dequantize(x, inp).astype(np.float32))
    quantization_error = float(np.abs(_dequantize(want, out) - reference).mean())
    steps, counts = np.unique(diff[diff > 0].astype(np.int64), return_counts=True)
    return Agreement(
        "int8",
        len(x),
        int(want.size),
        float(diff.max()),
        float(diff.mean()) * out.scale,
        quantization_error,
        differing,
        out.scale,
        {int(s): int(c) for s, c in zip(steps, counts)},
    )

"""Float ONNX -> int8 ONNX (QDQ) with onnxruntime's static quantization.

Choices, and why (README "Export and quantization" says the same for users):

- Weights int8, symmetric (zero point 0), per output channel by default; activations
  int8 asymmetric per tensor, calibrated on TRAINING images only.
- Reduce-range weights by default: weights stay in [-64, 64]. On x86 CPUs with AVX2
  but no VNNI, onnxruntime's u8s8 kernels multiply with `vpmaddubsw`, which adds two
  u8*s8 products into a saturating int16; 255*64*2 = 32640 cannot saturate, full-range
  weights can. With reduce-range weights onnxruntime does exact integer math on every
  CPU, so the native runtime can match it bit for bit.
- Dense layers must become QGemm (bias folded in as int32). A dynamic-batch export has
  MatMul + Add, whose Add would quantize to QLinearAdd (float FMA on x86, fixed point
  on ARM: not portable to match). onnxruntime's `quant_pre_process` optimizer fuses
  MatMul + constant Add into Gemm while keeping the batch dynamic; `check_int8_kernels`
  proves it on the optimized graph.
- Softmax stays float (`nodes_to_exclude`): the int8 model ends DequantizeLinear ->
  Softmax. QLinearSoftmax uses an exp() table whose values depend on the libm.
- The input preprocessing (a Normalization layer's Sub and Mul) stays float too: only
  the op types in QUANTIZED_OP_TYPES are quantized. The first QuantizeLinear sits right
  before the first Conv, so the int8 part starts where the arithmetic that matters starts.
"""

from __future__ import annotations

import collections
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.export.artifacts import (
    batches,
    check_image_input,
    describe_io,
    load_onnx,
    ort_session,
    package_versions,
    sidecar_path,
    staged_file,
    write_json,
)
from edgecnn.export.evaluate import accuracy
from edgecnn.runtime.errors import EdgecnnError, require

# --calibration name -> (onnxruntime CalibrationMethod, calibrator options).
CALIBRATORS = {
    "minmax": ("MinMax", {}),
    # onnxruntime's entropy default (128 histogram bins searched with 128 quantized bins) leaves a
    # single candidate threshold, the full range: MinMax again. 2048 bins give the KL search room.
    "entropy": ("Entropy", {"num_bins": 2048, "num_quantized_bins": 128}),
    "percentile": ("Percentile", {"num_bins": 2048, "percentile": 99.999}),
}
CALIBRATION_METHODS = tuple(CALIBRATORS)
DEFAULT_CALIBRATION_SAMPLES = 1000
CALIBRATION_BATCH_SIZE = 100
# Op types handed to the quantizer: the compute (Conv, Gemm, MatMul), the ops that only move
# or select int8 values (MaxPool, Reshape, Transpose, Flatten) and the activations.
QUANTIZED_OP_TYPES = ("Conv", "Gemm", "MatMul", "MaxPool", "Reshape", "Transpose", "Flatten", "Relu", "LeakyRelu")
# Kept float on purpose (see the module docstring).
FLOAT_OP_TYPES = ("Softmax",)
# What onnxruntime's optimized int8 graph must and must not hold.
INT8_COMPUTE_OPS = ("QLinearConv", "QGemm", "QLinearMatMul")
# A float Add means a Dense bias left outside its QGemm (MatMul + Add not fused into Gemm).
FLOAT_COMPUTE_OPS = ("Conv", "Gemm", "MatMul", "Add", "FusedConv", "FusedGemm", "FusedMatMul")
NON_PORTABLE_OPS = ("QLinearAdd", "QLinearSoftmax")


class CalibrationError(EdgecnnError):
    """No usable calibration images."""


class Int8KernelError(EdgecnnError):
    """onnxruntime's optimized graph does not run the int8 kernels this project relies on."""


@dataclass
class QuantizeResult:
    path: Path
    sidecar: Path
    optimized_ops: dict
    float_accuracy: float | None
    int8_accuracy: float | None


def make_calibration_reader(images: np.ndarray, input_name: str, batch_size: int = CALIBRATION_BATCH_SIZE):
    """A CalibrationDataReader that hands onnxruntime the images batch by batch."""
    quantization = require("onnxruntime.quantization")

    class ImageBatchReader(quantization.CalibrationDataReader):
        def __init__(self):
            self._chunks = iter(batches(len(images), batch_size))

        def get_next(self):
            chunk = next(self._chunks, None)
            return None if chunk is None else {input_name: np.ascontiguousarray(images[chunk], dtype=np.float32)}

        def __len__(self):
            return len(images)

    return ImageBatchReader()


def check_calibration_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise CalibrationError(
            f"the calibration set is empty (shape {images.shape}): quantization needs at least one "
            "training image (use --samples N with N >= 1)"
        )
    if images.shape[1:] != (28, 28, 1) or images.dtype != np.float32:
        raise CalibrationError(
            f"calibration images must be float32 (N, 28, 28, 1) in [0, 1], got {images.dtype} {images.shape}"
        )
    return images


def optimized_op_counts(model, *, exact: bool = False) -> dict[str, int]:
    """Op types of the graph onnxruntime actually runs (default optimisation level) and their
    counts: in its default mode, as users run it and the compiler mirrors, or exact=True in the
    mode the comparisons run it in (artifacts.ort_session). `model`: a path or a ModelProto."""
    onnx = require("onnx")
    with tempfile.TemporaryDirectory(prefix="edgecnn-ort-") as tmp:
        optimized = Path(tmp) / "optimized.onnx"
        ort_session(model, exact=exact, optimized_model_path=optimized)
        graph = onnx.load(str(optimized)).graph
    return dict(sorted(collections.Counter(node.op_type for node in graph.node).items()))


def check_int8_kernels(model_path) -> dict[str, int]:
    """Raise Int8KernelError unless onnxruntime runs the model with fused int8 kernels only.

    Checked on the graph onnxruntime optimizes at its default level: it must hold
    QLinearConv / QGemm (or QLinearMatMul), no float Conv / Gemm / MatMul / Add (a QDQ
    pair left unfused, a bias outside its QGemm), and no QLinearAdd / QLinearSoftmax (not
    bit-portable). Returns the op counts.
    """
    ops = optimized_op_counts(model_path)
    problems = []
    if not any(op in ops for op in INT8_COMPUTE_OPS):
        problems.append(f"no fused int8 kernel ({' / '.join(INT8_COMPUTE_OPS)})")
    float_ops = [op for op in FLOAT_COMPUTE_OPS if op in ops]
    if float_ops:
        problems.append(f"float compute ops left unfused: {', '.join(float_ops)}")
    bad = [op for op in NON_PORTABLE_OPS if op in ops]
    if bad:
        problems.append(f"non-portable int8 ops: {', '.join(bad)}")
    if problems:
        raise Int8KernelError(
            f"{model_path}: onnxruntime's optimized graph has " + "; ".join(problems) + f" (ops: {ops})"
        )
    return ops


def int8_weight_range(model) -> tuple[int, int] | None:
    """(min, max) over the quantized weights (int8 initializers dequantized by a DequantizeLinear), or None."""
    onnx = require("onnx")
    numpy_helper = require("onnx.numpy_helper")
    int8 = {t.name: t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8}
    # Input 0 of a DequantizeLinear is the quantized tensor; inputs 1 and 2 are scale and zero point.
    weights = [
        numpy_helper.to_array(int8[n.input[0]])
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in int8
    ]
    weights = [w for w in weights if w.size]
    if not weights:
        return None
    return int(min(w.min() for w in weights)), int(max(w.max() for w in weights))


def calibrate(model_path, images: np.ndarray, input_name: str, method: str, workdir: Path) -> Path:
    """Run onnxruntime's calibrator over `images`; return a calibration cache for quantize_static.

    Calibrating here rather than inside quantize_static lets the calibrator get its options
    (quantize_static cannot pass histogram sizes, see CALIBRATORS): asymmetric ranges for
    every method, and a real entropy search.
    """
    quantization = require("onnxruntime.quantization")
    calibrate_method, options = CALIBRATORS[method]
    calibrator = quantization.create_calibrator(
        str(model_path),
        list(QUANTIZED_OP_TYPES),
        augmented_model_path=str(workdir / "augmented.onnx"),
        calibrate_method=getattr(quantization.CalibrationMethod, calibrate_method),
        extra_options={"symmetric": False, **options},  # activations are asymmetric int8
    )
    calibrator.collect_data(make_calibration_reader(images, input_name))
    cache = workdir / f"calibration.{method}.json"
    quantization.save_tensors_data(calibrator.compute_data(), cache)
    return cache


def quantize(
    float_onnx,
    out_path,
    calibration_images,
    *,
    per_channel: bool = True,
    method: str = "minmax",
    reduce_range: bool = True,
    test_images: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    calibration_source: str | None = None,
    progress: bool = False,
) -> QuantizeResult:
    """Quantize `float_onnx` to `out_path` (QDQ int8), check its kernels, write the sidecar.

    The file reaches `out_path` only after `check_int8_kernels` passed. With
    `test_images`/`test_labels`, the float and int8 test accuracies go into the sidecar.
    """
    quantization = require("onnxruntime.quantization")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in CALIBRATION_METHODS:
        raise EdgecnnError(f"calibration method must be one of {', '.join(CALIBRATION_METHODS)}, not {method!r}")
    float_model = load_onnx(float_onnx)
    input_name = check_image_input(float_model, float_onnx)
    calibration_images = check_calibration_images(calibration_images)
    out_path = Path(out_path)
    if out_path.resolve() == Path(float_onnx).resolve():
        raise EdgecnnError(f"--out {out_path} is the float model itself; write the int8 model to another file")

    with tempfile.TemporaryDirectory(prefix="edgecnn-quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference + onnxruntime's basic optimizer: fuses MatMul + Add into Gemm.
        # Symbolic shape inference is for transformer-style dynamic shapes (and needs sympy); ONNX's
        # own shape inference already knows every shape of this CNN.
        quant_pre_process(str(float_onnx), str(prepared), skip_symbolic_shape=True)
        prepared_model = require("onnx").load(str(prepared))
        excluded = [node.name for node in prepared_model.graph.node if node.op_type in FLOAT_OP_TYPES]
        with staged_file(out_path) as staged:
            ranges = calibrate(prepared, calibration_images, input_name, method, Path(tmp))
            quantization.quantize_static(
                str(prepared),
                str(staged),
                None,  # the activation ranges come from `ranges`, computed above
                quant_format=quantization.QuantFormat.QDQ,
                op_types_to_quantize=list(QUANTIZED_OP_TYPES),
                nodes_to_exclude=excluded,
                per_channel=per_channel,
                reduce_range=reduce_range,
                activation_type=quantization.QuantType.QInt8,
                weight_type=quantization.QuantType.QInt8,
                calibrate_method=getattr(quantization.CalibrationMethod, CALIBRATORS[method][0]),
                calibration_cache_path=str(ranges),
                extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
            )
            optimized_ops = check_int8_kernels(staged)
            float_acc = int8_acc = None
            if test_images is not None:
                float_acc = accuracy(float_onnx, test_images, test_labels, desc="float accuracy" if progress else None)
                int8_acc = accuracy(staged, test_images, test_labels, desc="int8 accuracy" if progress else None)

    int8_model = load_onnx(out_path)
    float_size, int8_size = Path(float_onnx).stat().st_size, out_path.stat().st_size
    weights = int8_weight_range(int8_model)
    sidecar = write_json(
        sidecar_path(out_path),
        {
            "kind": "int8 ONNX (QDQ)",
            "source": str(float_onnx),
            "opset": next(o.version for o in int8_model.opset_import if o.domain in ("", "ai.onnx")),
            **describe_io(int8_model),
            "quantization": {
                "format": "QDQ",
                "weights": "int8 symmetric " + ("per-channel" if per_channel else "per-tensor"),
                "activations": "int8 asymmetric per-tensor",
                "per_channel": per_channel,
                "reduce_range": reduce_range,
                "int8_weight_range": weights,
                "float_nodes": excluded,
                "calibration": {
                    "method": method,
                    "samples": len(calibration_images),
                    "split": "train",
                    "source": calibration_source,
                },
            },
            "onnxruntime_optimized_ops": optimized_ops,
            "accuracy": None
            if float_acc is None
            else {
                "test_images": len(test_images),
                "float": float_acc,
                "int8": int8_acc,
                "difference_pp": round(100 * (int8_acc - float_acc), 4),
            },
            "file_size_bytes": int8_size,
            "float_file_size_bytes": float_size,
            "size_ratio": round(int8_size / float_size, 4),
            "versions": package_versions("onnx", "onnxruntime"),
        },
    )
    return QuantizeResult(out_path, sidecar, optimized_ops, float_acc, int8_acc)


def quantize_onnx(float_onnx, out_path, calibration_images, **options) -> Path:
    """Float ONNX -> int8 QDQ ONNX, calibrated on `calibration_images` (training images only);
    options and their defaults: quantize's (per_channel, method, reduce_range ...)."""
    return quantize(float_onnx, out_path, calibration_images, **options).path

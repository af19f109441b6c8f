"""Compare the native runtime with onnxruntime on real images (`edgecnn verify`).

A `Comparison` holds what was measured and the rule that decides pass/fail, so other
pairs (int8: bit-exact fraction, largest step difference) can add their own metrics
and rules beside the float one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.runtime.command_line import add_command

FLOAT_TOLERANCE = 1e-5  # largest |native - onnxruntime| accepted on a probability (relative above 1)


@dataclass
class Comparison:
    kind: str  # "float"
    samples: int
    max_abs_diff: float
    top1_agreement: float  # fraction of samples with the same arg-max class
    native_accuracy: float | None
    onnxruntime_accuracy: float | None
    tolerance: float
    passed: bool
    worst_sample: int  # index of the sample with the largest difference
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def format(self) -> str:
        lines = [
            f"{self.kind} comparison on {self.samples:,} images:",
            f"  largest |native - onnxruntime|: {self.max_abs_diff:.3g} (tolerance {self.tolerance:g}; "
            f"worst image #{self.worst_sample})",
            f"  top-1 agreement: {self.top1_agreement * 100:.2f}%",
        ]
        if self.native_accuracy is not None:
            lines.append(
                f"  accuracy: native {self.native_accuracy * 100:.2f}%, "
                f"onnxruntime {self.onnxruntime_accuracy * 100:.2f}%"
            )
        lines.append("  PASS" if self.passed else "  FAIL: outputs differ beyond the tolerance")
        return "\n".join(lines)


def compare_float(native: np.ndarray, reference: np.ndarray, labels: np.ndarray | None) -> Comparison:
    """native, reference: (N, ...) float32 outputs of the same inputs (probabilities (N, classes) for
    the image classifiers). The tolerance is FLOAT_TOLERANCE, times the largest |reference| when that
    exceeds 1 (logits, feature maps): relative, as the float contract is."""
    if native.shape != reference.shape:
        raise ValueError(f"native output {native.shape} and onnxruntime output {reference.shape} differ in shape")
    diff = np.abs(native.astype(np.float64) - reference.astype(np.float64))
    per_sample = diff.reshape(len(diff), -1).max(axis=1)
    max_diff = float(per_sample.max()) if len(per_sample) else 0.0
    flat_native, flat_reference = native.reshape(len(native), -1), reference.reshape(len(reference), -1)
    agree = float(np.mean(flat_native.argmax(axis=1) == flat_reference.argmax(axis=1)))
    tolerance = FLOAT_TOLERANCE * max(1.0, float(np.abs(reference).max(initial=0.0)))
    acc = lambda p: None if labels is None else float(np.mean(p.reshape(len(p), -1).argmax(axis=1) == labels))  # noqa: E731
    return Comparison(
        kind="float",
        samples=len(native),
        max_abs_diff=max_diff,
        top1_agreement=agree,
        native_accuracy=acc(native),
        onnxruntime_accuracy=acc(reference),
        tolerance=tolerance,
        passed=bool(max_diff <= tolerance and np.isfinite(native).all()),
        worst_sample=int(per_sample.argmax()) if len(per_sample) else -1,
    )


def register(subparsers) -> None:
    """Add `edgecnn verify` to the `edgecnn` parser."""
    from edgecnn.runtime.data import DATA_HELP

    p = add_command(subparsers, "verify", verify_command)
    p.add_argument("onnx_model", type=Path, help="ONNX model (float32, or int8 from `edgecnn quantize`)")
    p.add_argument("ecnn_model", type=Path, help=".ecnn model compiled from it")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--samples", type=int, help="use the first N test images (default: all 10,000)")
    p.add_argument(
        "--random",
        type=int,
        metavar="N",
        help="compare on N random inputs (uniform in [0, 1), seed 0; every value of a uint8/int8-input model's dtype) "
        "of the model's declared input shape "
        "instead of test images",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="the figures as JSON: printed instead of the text, or written to FILE beside it",
    )
    p.add_argument(
        "--layers",
        action="store_true",
        help="int8 models: also compare every quantized intermediate tensor and name the first layer that drifts",
    )


def verify_command(args) -> int:
    """check a .ecnn model against onnxruntime on real test images (float or int8)

    Run the ONNX model in onnxruntime and the .ecnn model in the native runtime on the same test
    images; report the largest absolute difference of the probabilities, top-1 agreement and each
    one's accuracy. Exits 1 when they differ by more than 1e-5. For an int8 model also the fraction
    of int8 logits bit-identical to onnxruntime's and the largest difference in quantization steps
    (from the model cut after its last DequantizeLinear); exits 1 unless all are identical. A model
    that does not take grayscale 28x28 images (colour, another size, not an image) is checked with
    --random N inputs instead; for outputs larger than 1 (logits, feature maps) the tolerance is
    relative: 1e-5 of the largest onnxruntime output.
    """
    import json

    import numpy as np

    from edgecnn.export.artifacts import load_images, ort_session, run_onnx
    from edgecnn.runtime import Model
    from edgecnn.runtime.data import resolve_data_dir
    from edgecnn.runtime.errors import EdgecnnError
    from edgecnn.runtime.images import to_model_dtype, to_model_layout

    model = Model.load(args.ecnn_model)  # fails fast on a bad model file
    session = ort_session(args.onnx_model)
    if args.random is not None:  # any input shape: colour images, feature vectors, ...
        if args.random < 1:
            raise EdgecnnError(f"--random {args.random}: need at least 1 input")
        rng, shape = np.random.default_rng(0), (args.random, *model.input_shape)
        if model.input_dtype == np.float32:
            images = rng.uniform(0, 1, shape).astype(np.float32)
        else:  # a uint8/int8-input model: every value of its dtype
            info = np.iinfo(model.input_dtype)
            images = rng.integers(info.min, info.max, shape, endpoint=True).astype(model.input_dtype)
        labels = None
    else:
        images, labels = load_images(resolve_data_dir(args.data), "test", args.samples, "to verify on")
        # The native input shape is the one the ONNX model declares: (28, 28, 1) from Keras, (1, 28, 28) from
        # PyTorch; other models need --random.
        images = to_model_dtype(
            to_model_layout(
                images[..., 0], model.input_shape, "Fashion-MNIST test images (use --random N for this model)"
            ),
            model.input_dtype,
        )
    quiet = args.json == "-"
    reference = run_onnx(session, images, desc=None if quiet else "onnxruntime")
    native = _predict_with_progress(model, images, quiet=quiet)
    result = compare_float(native, reference, labels)
    int8_text = _verify_int8(args, result, images)
    if args.json and args.json != "-":
        from edgecnn.runtime.files import write_json

        write_json(args.json, result.as_dict())
    if quiet:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.format())
        if int8_text:
            print(int8_text)
    return 0 if result.passed else 1


def _verify_int8(args, result, images) -> str | None:
    """For an int8 ONNX model: adds the bit-exactness figures to `result` (edgecnn/verify_int8.py)
    and makes them its pass rule; returns their text. None for float models."""
    from edgecnn import verify_int8
    from edgecnn.export.artifacts import load_onnx

    onnx_model = load_onnx(args.onnx_model)
    if not verify_int8.is_int8_model(onnx_model):
        if args.layers:
            from edgecnn.runtime.errors import EdgecnnError

            raise EdgecnnError(f"--layers compares int8 tensors; {args.onnx_model} is not an int8 model")
        return None
    from edgecnn.export.compiler import compile_model

    # The int8 logits come from a fresh compilation of the cut model: say whether the given
    # .ecnn is exactly what this compiler makes of the ONNX model (then they share every op).
    same_build = compile_model(onnx_model)[0] == args.ecnn_model.read_bytes()
    result.extra["ecnn_is_fresh_compile"] = same_build
    quiet = args.json == "-"
    match = verify_int8.quantized_output_match(onnx_model, images, quiet=quiet)
    layers = verify_int8.layer_matches(onnx_model, images, quiet=quiet) if args.layers else None
    result.kind = "int8"
    result.extra["int8_logits"] = match.as_dict()
    if layers is not None:
        result.extra["int8_layers"] = [row.as_dict() for row in layers]
    result.passed = bool(result.passed and match.identical == match.values)
    text = verify_int8.format_int8(match, layers)
    if not same_build:
        text += (
            f"\n  note: {args.ecnn_model} differs from what this edgecnn compiles from {args.onnx_model} "
            "(another version or another model?); the int8 figures are for a fresh compilation"
        )
    if match.identical != match.values:
        text += "\n  FAIL: int8 values differ from onnxruntime"
    return text


def _predict_with_progress(model, images, quiet: bool, chunk: int = 500):
    import numpy as np

    if model.batch:  # a graph with a fixed batch runs whole batches of it
        chunk = max(chunk // model.batch, 1) * model.batch
    starts = range(0, len(images), chunk)
    if not quiet:
        from edgecnn.runtime.errors import require

        starts = require("tqdm").tqdm(starts, desc="native", unit="batch", leave=False, disable=None)
    return np.concatenate([model.predict(images[s : s + chunk]) for s in starts])

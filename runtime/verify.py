"""Compare the native runtime with onnxruntime on real images (`edgecnn verify`).

A `Comparison` holds what was measured and the rule that decides pass/fail, so other
pairs (int8: bit-exact fraction, largest step difference) can add their own metrics
and rules beside the float one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

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
            lines.append(f"  accuracy: native {self.native_accuracy * 100:.2f}%, "
                         f"onnxruntime {self.onnxruntime_accuracy * 100:.2f}%")
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

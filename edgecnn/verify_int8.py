"""int8 pairs in `edgecnn verify`: are the native int8 values bit-identical to onnxruntime's?

Softmax probabilities say little about int8 exactness, so for an int8 model two more
comparisons run beside the float one (edgecnn/verify.py):

- **Quantized output**: the model cut after its last DequantizeLinear
  (`edgecnn.export.compiler.quantized_output_model`), run by onnxruntime (which still fuses every
  QGemm there) and compiled and run natively. Its outputs are (q - zp) * scale, so equal
  floats mean equal int8 codes and round(output / scale) + zp gives the codes.
- **Per layer** (`--layers`): every quantized intermediate tensor. onnxruntime would stop
  fusing a QDQ model once intermediate tensors become graph outputs, so this runs on the
  QOperator form of the model (QLinearConv, QGemm, ...; the fusion done up front, as
  onnxruntime does it), where extra outputs change nothing. Names the first layer that drifts.

Needs onnx and onnxruntime (imported here only: the runtime itself does not).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from edgecnn.runtime.errors import require

# Nodes whose output is a quantized tensor worth comparing (layout ops only move it).
_QUANTIZED_PRODUCERS = ("QuantizeLinear", "QLinearConv", "QGemm", "QLinearMatMul", "MaxPool")
_ZP_INPUT = {"QuantizeLinear": 2, "QLinearConv": 7, "QGemm": 8, "QLinearMatMul": 7}


def is_int8_model(model) -> bool:
    """True for QDQ and QOperator int8 ONNX models."""
    return any(
        n.op_type in ("QuantizeLinear", "DequantizeLinear", "QLinearConv", "QGemm", "QLinearMatMul")
        for n in model.graph.node
    )


@dataclass
class CodeMatch:
    """Native vs onnxruntime int8 codes of one tensor over all images."""

    name: str
    op: str
    shape: tuple  # per sample
    values: int
    identical: int
    max_step_diff: int
    first_sample: int  # first image with a difference, -1 if none

    @property
    def identical_fraction(self) -> float:
        return self.identical / self.values if self.values else 1.0

    def as_dict(self) -> dict:
        return {**asdict(self), "identical_fraction": self.identical_fraction}


def match_codes(name: str, op: str, native: np.ndarray, reference: np.ndarray) -> CodeMatch:
    if native.shape != reference.shape:
        raise ValueError(f"{name}: native shape {native.shape} and onnxruntime shape {reference.shape} differ")
    diff = np.abs(native.astype(np.int64) - reference.astype(np.int64)).reshape(len(native), -1)
    bad = np.flatnonzero(diff.max(axis=1, initial=0) > 0)
    return CodeMatch(
        name,
        op,
        tuple(native.shape[1:]),
        int(diff.size),
        int(np.count_nonzero(diff == 0)),
        int(diff.max(initial=0)),
        int(bad[0]) if len(bad) else -1,
    )


def _native_run(model_proto, images, desc):
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, _ = compile_model(model_proto)
    model = Model.from_bytes(blob)
    chunks = range(0, len(images), 500)
    if desc:
        chunks = require("tqdm").tqdm(chunks, desc=desc, unit="batch", leave=False, disable=None)
    return np.concatenate([model.predict(images[s : s + 500]) for s in chunks])


def _ort_run(model_proto, images, outputs=None, desc=None):
    """onnxruntime (default optimisation level) on a ModelProto; all requested outputs, in batches."""
    from edgecnn.export.artifacts import ort_session

    session = ort_session(model_proto)
    name = session.get_inputs()[0].name
    chunks = range(0, len(images), 500)
    if desc:
        chunks = require("tqdm").tqdm(chunks, desc=desc, unit="batch", leave=False, disable=None)
    parts = [session.run(outputs, {name: images[s : s + 500]}) for s in chunks]
    return [np.concatenate(p) for p in zip(*parts)]


def quantized_output_match(onnx_model, images, quiet: bool = False) -> CodeMatch:
    """Native vs onnxruntime int8 codes of the model's last quantized tensor (the logits)."""
    from edgecnn.export.compiler import quantized_output_model

    cut, scale, zero_point = quantized_output_model(onnx_model)
    reference = _ort_run(cut, images, desc=None if quiet else "onnxruntime (int8 logits)")[0]
    native = _native_run(cut, images, desc=None if quiet else "native (int8 logits)")
    to_codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zero_point  # noqa: E731
    return match_codes(cut.graph.output[0].name, "last quantized tensor", to_codes(native), to_codes(reference))


def layer_matches(onnx_model, images, quiet: bool = False) -> list[CodeMatch]:
    """Every quantized intermediate tensor of the QOperator form of the model, native vs onnxruntime."""
    onnx = require("onnx")
    from edgecnn.export.compiler import nodes_feeding, qdq_to_qoperator

    helper = onnx.helper
    qop = qdq_to_qoperator(onnx_model)
    inits = {t.name: t for t in qop.graph.initializer}
    elem = {}  # quantized tensor name -> ONNX element type
    layers = []  # (tensor, op type) in graph order
    for node in qop.graph.node:
        if node.op_type not in _QUANTIZED_PRODUCERS:
            continue
        if node.op_type == "MaxPool":
            if node.input[0] not in elem:
                continue  # a float MaxPool
            elem[node.output[0]] = elem[node.input[0]]
        else:
            zp_index = _ZP_INPUT[node.op_type]
            zp = node.input[zp_index] if len(node.input) > zp_index else ""
            elem[node.output[0]] = inits[zp].data_type if zp in inits else onnx.TensorProto.UINT8
        layers.append((node.output[0], node.op_type))
    if not layers:
        return []

    # onnxruntime: all of them as extra outputs of one QOperator model.
    probe = onnx.ModelProto()
    probe.CopyFrom(qop)
    del probe.graph.output[:]
    probe.graph.output.extend(helper.make_tensor_value_info(t, elem[t], None) for t, _ in layers)
    reference = _ort_run(probe, images, [t for t, _ in layers], desc=None if quiet else "onnxruntime (layers)")

    rows = []
    for (tensor, op), ref in zip(layers, reference):
        # Native: the model cut at this tensor. NCHW tensors go out through a Transpose to NHWC,
        # the order the native runtime stores them in.
        cut = nodes_feeding(qop, tensor)
        out = tensor
        if ref.ndim == 4:
            out = tensor + "__nhwc"
            cut.graph.node.append(helper.make_node("Transpose", [tensor], [out], perm=[0, 2, 3, 1]))
            ref = ref.transpose(0, 2, 3, 1)
        del cut.graph.output[:]
        cut.graph.output.append(helper.make_tensor_value_info(out, elem[tensor], None))
        native = _native_run(cut, images, desc=None if quiet else f"native ({tensor})")
        rows.append(match_codes(tensor, op, native, ref))
    return rows


def format_int8(match: CodeMatch, layers: list[CodeMatch] | None) -> str:
    lines = [
        f"  int8 logits bit-identical to onnxruntime: {match.identical:,} of {match.values:,} values "
        f"({100 * match.identical_fraction:.4f}%); largest difference {match.max_step_diff} quantization steps"
        + (f" (first at image #{match.first_sample})" if match.first_sample >= 0 else ""),
    ]
    if layers is not None:
        lines.append("  per layer (QOperator form, int8 codes):")
        for row in layers:
            lines.append(
                f"    {row.op:<15} {'x'.join(map(str, row.shape)):<10} {100 * row.identical_fraction:9.4f}% "
                f"identical, max {row.max_step_diff} steps  {row.name}"
            )
        drift = next((row for row in layers if row.identical < row.values), None)
        lines.append(
            f"  first layer that drifts: {drift.op} '{drift.name}' (image #{drift.first_sample})"
            if drift
            else "  no layer drifts"
        )
    return "\n".join(lines)

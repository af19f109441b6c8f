"""What the compiler tells its user: the per-layer report (CompileReport) and the list of
unsupported nodes (Explanation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.export.compiler.ir import FUSABLE_OPS, Act, Arith, DType, Kind, NOp, NTensor, act_name


@dataclass
class LayerRow:
    name: str
    op: str
    output_shape: tuple  # with "N" for the batch
    weight_bytes: int
    macs: int  # per sample


@dataclass
class CompileReport:
    path: Path | None
    layers: list
    arena_bytes_per_sample: int
    activation_bytes: int  # sum of all activation sizes per sample (what an unplanned runtime would use)
    weight_bytes: int
    file_bytes: int
    input_shape: tuple
    output_shape: tuple

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.layers)

    def format_table(self) -> str:
        head = ("#", "op", "output", "weights (B)", "MACs", "from ONNX")
        rows = [
            (str(i), r.op, "x".join(map(str, r.output_shape)), f"{r.weight_bytes:,}", f"{r.macs:,}", r.name)
            for i, r in enumerate(self.layers)
        ]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

        def fmt(cells):
            return "  ".join(
                str(c).ljust(w) if j in (1, 2, 5) else str(c).rjust(w) for j, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
        lines.append(
            f"total: {self.total_macs:,} MACs per sample, {self.weight_bytes:,} weight bytes, "
            f"file {self.file_bytes:,} bytes"
        )
        lines.append(
            f"arena: {self.arena_bytes_per_sample:,} bytes per sample (sum of all activations "
            f"{self.activation_bytes:,} bytes; planned = "
            f"{100.0 * self.arena_bytes_per_sample / max(self.activation_bytes, 1):.1f}%)"
        )
        return "\n".join(lines)


@dataclass
class Unsupported:
    """One node the compiler cannot lower (explain_model)."""

    node: str  # ONNX node name ("(unnamed)" if none; "(graph)" for the graph's inputs/outputs)
    op_type: str
    reason: str  # the compiler's message: which attribute or value is not supported


# What to change on the exporting side to avoid a refusal, where the message shows one: (words
# the compiler's message contains, the hint).
EXPORT_HINTS = (
    (
        ("is FLOAT16", "is DOUBLE", "is BFLOAT16"),
        "export the model in float32 (PyTorch: model.float() before torch.onnx.export; Keras: the default float32 "
        "policy; onnxconverter_common's float16 conversion with keep_io_types=True keeps float32 inputs)",
    ),
    (
        ("training mode",),
        "export for inference: PyTorch model.eval() before torch.onnx.export (training=TrainingMode.EVAL); "
        "Keras models export in inference mode through tf2onnx",
    ),
    (
        ("antialias",),
        "resize without antialiasing: tf.image.resize(..., antialias=False), "
        "torch.nn.functional.interpolate(..., antialias=False)",
    ),
    (
        ("scales and", "zero points; expected per tensor"),
        "quantize activations per tensor: onnxruntime's quantize_static(..., per_channel=True) makes only the "
        "weights per channel",
    ),
    (
        ("op QLinearSoftmax", "op Softmax on int8"),
        "keep Softmax in float: quantize_static(..., op_types_to_quantize=[...]) without 'Softmax', as "
        "edgecnn quantize does",
    ),
)


def export_hint(reason: str) -> str | None:
    """The export option that would avoid this refusal, if the message shows one."""
    for words, hint in EXPORT_HINTS:
        if any(w in reason for w in words):
            return hint
    return None


@dataclass
class Explanation:
    """What `edgecnn compile --explain` found (explain_model)."""

    problems: list  # Unsupported, in graph order; empty: the model compiles
    nodes: int  # nodes in the graph
    unchecked: list = field(default_factory=list)  # node names not checked: input shape unknown after a failure


def op_label(op: NOp) -> str:
    """'CONV_2D+relu', 'CONV_2D+add+relu' (a residual), 'ACTIVATION(sigmoid)', 'CHANNEL_ARITH(mul)', ..."""
    name = f"{op.op}+add" if op.op == "CONV_2D" and len(op.inputs) == 4 else op.op
    if op.op in FUSABLE_OPS and op.attrs["act"] != Act.NONE:
        return f"{name}+{act_name(op.attrs['act'])}"
    if name != op.op:
        return name
    if op.op == "ACTIVATION":
        return f"{op.op}({act_name(op.attrs['act'])})"
    if op.op == "CHANNEL_ARITH":
        # a fused scale and shift reads as its steps: 'CHANNEL_ARITH(mul+add+relu)'
        return f"{op.op}({Arith(op.attrs['func']).name.lower().replace('_', '+')})"
    if op.op == "RESIZE_2D":
        return f"{op.op}({('nearest', 'linear', 'cubic')[op.attrs['mode']]})"
    return op.op


def macs(tensors: list[NTensor], op: NOp) -> int:
    """Multiply-accumulates per sample (elementwise ops count one per element)."""
    y = tensors[op.outputs[0]]
    if op.op in ("CONV_2D", "CONV_2D_SLICED", "CONV_INTEGER_2D"):
        return int(np.prod(y.dims)) * int(np.prod(tensors[op.inputs[1]].dims[1:]))
    if op.op == "CONV_TRANSPOSE_2D":  # every input pixel meets every tap of its group's outputs
        o, kh, kw, _ = tensors[op.inputs[1]].dims
        return int(np.prod(tensors[op.inputs[0]].dims)) * kh * kw * (o // op.attrs["group"])
    if op.op in ("FULLY_CONNECTED", "FULLY_CONNECTED_G4"):
        return int(np.prod(tensors[op.inputs[1]].dims))
    if op.op in ("CHANNEL_ARITH", "ADD", "MUL", "PRELU"):
        return int(np.prod(y.dims))
    if op.op == "AVG_POOL_2D":
        return int(np.prod(y.dims)) * op.attrs["kernel_h"] * op.attrs["kernel_w"]
    return 0


def build_report(
    tensors: list[NTensor], ops: list[NOp], output_tensor: int, arena: int, file_bytes: int, input_shape: tuple
) -> CompileReport:
    layers = []
    for op in ops:
        y = tensors[op.outputs[0]]
        wbytes = sum(tensors[t].size for t in op.inputs if t is not None and tensors[t].kind == Kind.CONSTANT)
        label = op_label(op) + {DType.I8: " int8", DType.U8: " uint8"}.get(y.dtype, "")
        layers.append(LayerRow(" + ".join(op.names), label, ("N", *y.dims), wbytes, macs(tensors, op)))
    return CompileReport(
        path=None,
        layers=layers,
        arena_bytes_per_sample=arena,
        activation_bytes=sum(t.size for t in tensors if t.kind == Kind.ACTIVATION),
        weight_bytes=sum(t.size for t in tensors if t.kind == Kind.CONSTANT),
        file_bytes=file_bytes,
        input_shape=input_shape,
        output_shape=tuple(tensors[output_tensor].dims),
    )

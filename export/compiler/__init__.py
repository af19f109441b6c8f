"""ONNX -> .ecnn compiler for the native runtime (format: docs/file-format.md).

Uses only `onnx` and numpy (never TensorFlow). The stages, each in its own module:

1. graph.py   load and check the ONNX model (passes/qdq.py first fuses an int8 QDQ model into
              the QOperator ops onnxruntime runs), then **lower** it node by node: each node goes
              to the lowering its op registered in ops/ (one module per op family), which emits
              native ops (ir.py) on NHWC tensors.
2. passes/    **fuse** (zero pads into convolutions, transposes into dense weights, activations,
              bias adds and per-channel scales into the op before them), **check** that int8
              values only meet int8 kernels, **prune** dead ops.
3. plan.py    **plan** the arena: lifetime-based offsets, in place where the format allows.
4. passes/pack.py, serialize.py  **pack** weights in the fast kernels' order and **write** the
              file: header, tensor table, op list (parameters through edgecnn.runtime.optable),
              64-byte aligned weights, CRC32.

`explain_model` (`edgecnn compile --explain`) lowers every node even after a failure and
returns all unsupported nodes at once. To add an ONNX op, copy ops/TEMPLATE.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import edgecnn.export.compiler.ops  # noqa: F401  (registers every lowering)
from edgecnn.export.compiler.errors import CompileError
from edgecnn.export.compiler.graph import EXPLAIN_HINT, Lowering, check_edges, load, onnx_metadata, supported_ops
from edgecnn.export.compiler.passes.check import check_native_ops
from edgecnn.export.compiler.passes.cut import nodes_feeding, quantized_output_model
from edgecnn.export.compiler.passes.fuse import fuse
from edgecnn.export.compiler.passes.pack import pack_weights
from edgecnn.export.compiler.passes.prune import prune
from edgecnn.export.compiler.passes.qdq import qdq_to_qoperator
from edgecnn.export.compiler.passes.whole import lower_as_one_sample
from edgecnn.export.compiler.plan import plan_arena
from edgecnn.export.compiler.report import CompileReport, Explanation, LayerRow, Unsupported, build_report
from edgecnn.export.compiler.serialize import serialize

if TYPE_CHECKING:
    from pathlib import Path

    import onnx

__all__ = [
    "CompileError",
    "CompileReport",
    "Explanation",
    "LayerRow",
    "Unsupported",
    "compile_model",
    "compile_onnx",
    "explain_model",
    "nodes_feeding",
    "qdq_to_qoperator",
    "quantized_output_model",
    "supported_ops",
]


def compile_model(onnx_path_or_model: str | Path | onnx.ModelProto, pack: bool = True) -> tuple[bytes, CompileReport]:
    """Compile to .ecnn bytes (nothing written). pack=False keeps every weight in the plain
    layout (files as edgecnn 0.1 wrote them; the reference kernels run them)."""
    model, _ = load(onnx_path_or_model)
    check_edges(model)
    given = model
    model = qdq_to_qoperator(model)  # int8 QDQ models: fuse as onnxruntime does
    low = Lowering(model)
    whole = False
    try:
        low.run()
    except CompileError as exc:
        # A fixed-shape graph whose nodes treat the batch as data runs as one sample (passes/whole.py).
        low = lower_as_one_sample(model)
        if low is None:
            raise CompileError(f"{exc}\n({EXPLAIN_HINT})") from None
        whole = True
    metadata = onnx_metadata(given, whole=whole)  # the names and shapes of the model as given
    ops = fuse(low.tensors, low.ops, low.output_tensor)
    check_native_ops(low.tensors, ops)
    tensors, ops, inp, out = prune(low.tensors, ops, 0, low.output_tensor)
    arena = plan_arena(tensors, ops)
    if pack:
        pack_weights(tensors, ops)
    blob = serialize(tensors, ops, inp, out, arena, batch=low.fixed_batch or 0, metadata=metadata)
    return blob, build_report(tensors, ops, out, arena, len(blob), low.input_shape)


def explain_model(onnx_path_or_model: str | Path | onnx.ModelProto) -> Explanation:
    """Every unsupported node of a model at once (`edgecnn compile --explain`), instead of the
    first. Nodes after an unsupported one are still checked, on stand-in tensors of the shape
    ONNX shape inference gives them; nodes whose input shape stays unknown are listed as
    unchecked."""
    model, _ = load(onnx_path_or_model)
    try:
        check_edges(model)
        model = qdq_to_qoperator(model)
    except CompileError as exc:
        return Explanation([Unsupported("(graph)", "", str(exc))], len(model.graph.node))
    low = Lowering(model)
    try:
        low.run(explain=True)
    except CompileError as exc:  # the graph's input or output itself
        return Explanation([Unsupported("(graph)", "", str(exc))], len(model.graph.node))
    problems = [Unsupported(name, op, reason) for name, op, reason in low.problems]
    if not problems:
        try:
            check_native_ops(low.tensors, fuse(low.tensors, low.ops, low.output_tensor))
        except CompileError as exc:
            problems.append(Unsupported("(after fusion)", "", str(exc)))
    return Explanation(problems, len(model.graph.node), low.unchecked)


def compile_onnx(
    onnx_path_or_model: str | Path | onnx.ModelProto, out_path: str | Path, pack: bool = True
) -> CompileReport:
    """ONNX file or ModelProto -> .ecnn file at out_path; returns the report."""
    blob, report = compile_model(onnx_path_or_model, pack=pack)
    from edgecnn.runtime.files import write_bytes

    out_path = write_bytes(out_path, blob)
    report.path = out_path
    return report

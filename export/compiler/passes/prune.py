"""Dead-op removal and tensor renumbering before planning."""

from __future__ import annotations

from edgecnn.export.compiler.ir import NOp, NTensor


def prune(
    tensors: list[NTensor], ops: list[NOp], input_tensor: int, output_tensor: int
) -> tuple[list[NTensor], list[NOp], int, int]:
    """Drop ops that do not lead to the output, then unreferenced tensors; renumber.
    Returns (tensors, ops, input index, output index)."""
    live = {output_tensor}
    kept = []
    for op in reversed(ops):
        if any(o in live for o in op.outputs):
            kept.append(op)
            live.update(t for t in op.inputs if t is not None)
    kept.reverse()
    used = sorted({input_tensor, output_tensor} | {t for op in kept for t in op.inputs + op.outputs if t is not None})
    remap = {old: new for new, old in enumerate(used)}
    for op in kept:
        op.inputs = [None if t is None else remap[t] for t in op.inputs]
        op.outputs = [remap[t] for t in op.outputs]
    return [tensors[t] for t in used], kept, remap[input_tensor], remap[output_tensor]

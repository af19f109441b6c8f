"""Arena planning: per-sample offsets of the ACTIVATION tensors by lifetime (docs/file-format.md "Arena")."""

from __future__ import annotations

from edgecnn.export.compiler.ir import DType, Kind, NOp, NTensor, align

# Ops whose output may share its input's arena bytes (docs/file-format.md, "Arena").
IN_PLACE_OPS = frozenset({"ACTIVATION", "SOFTMAX", "CHANNEL_ARITH", "ADD", "MUL"})


def _may_share(tensors: list[NTensor], op: NOp, x: int, y: int) -> bool:
    """True when `op` may write its output y over its input x; the planner adds the lifetime
    condition (x not read later) for everything but RESHAPE."""
    if op.op == "RESHAPE" or op.op in IN_PLACE_OPS:
        return tensors[x].size == tensors[y].size
    if op.op == "MAX_POOL_2D" and tensors[x].dtype == DType.F32:
        # The float kernel pools in place without top/left padding when OW <= W (kernels.h).
        return op.attrs["pad_top"] == 0 and op.attrs["pad_left"] == 0 and tensors[y].dims[1] <= tensors[x].dims[1]
    return False


def plan_arena(tensors: list[NTensor], ops: list[NOp]) -> int:
    """Assign per-sample arena offsets to ACTIVATION tensors; returns arena bytes per sample.

    Lifetime of a tensor = [op writing it, last op reading it]. RESHAPE outputs share
    their input's bytes; so do outputs of elementwise ops and of unpadded float max
    pooling whose input is read by no later op (the same rules the C loader re-checks).
    Then each group of shared tensors is placed, largest first, at the lowest 64-aligned
    offset that does not collide with a group already placed whose lifetime overlaps
    (greedy by size, as TFLite Micro).
    """
    act = [i for i, t in enumerate(tensors) if t.kind == Kind.ACTIVATION]
    first, last = {}, {}
    for i, op in enumerate(ops):
        for t in op.outputs:
            first[t] = i
        for t in op.inputs:
            if t is not None:
                last[t] = i
    for t in act:
        last[t] = max(last.get(t, first[t]), first[t])
    for i, op in enumerate(ops):
        # Float ADD / MUL are commutative bit for bit: put the input that dies here first, so
        # the output can take its bytes (only the first input may be aliased).
        a, b = ([*op.inputs, None, None])[:2]
        if (
            op.op in ("ADD", "MUL")
            and tensors[op.outputs[0]].dtype == DType.F32
            and a in last
            and b in last
            and tensors[a].dims == tensors[b].dims
            and tensors[b].kind == Kind.ACTIVATION
            and last[a] > i
            and last[b] == i
        ):
            op.inputs[0], op.inputs[1] = b, a
    group = {t: t for t in act}  # tensor -> group id (its root)
    members = {t: [t] for t in act}
    for i, op in enumerate(ops):
        x, y = op.inputs[0] if op.inputs else None, op.outputs[0]
        if x not in group or y not in group or not _may_share(tensors, op, x, y):
            continue
        g = group[x]
        if op.op == "RESHAPE" or max(last[m] for m in members[g]) <= i:
            members[g] += members.pop(group[y])
            for m in members[g]:
                group[m] = g
    spans = {
        g: (min(first[m] for m in ms), max(last[m] for m in ms), align(tensors[g].size)) for g, ms in members.items()
    }
    placed = []  # (offset, size, first, last)
    for g in sorted(spans, key=lambda g: (-spans[g][2], spans[g][0])):
        start, end, size = spans[g]
        busy = sorted((o, o + s) for o, s, f2, l2 in placed if not (end < f2 or l2 < start))
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, align(hi))
        placed.append((offset, size, start, end))
        for m in members[g]:
            tensors[m].offset = offset
    return max((o + s for o, s, _, _ in placed), default=0)

"""Weight packing: CONV_2D, FULLY_CONNECTED and FULLY_CONNECTED_G4 weights in the order their fast
kernels stream them (docs/file-format.md "Packed weights")."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.ir import FC_PANELS, DType, Layout, NOp, NTensor, fc_padded

# FC_PANEL8X4_W64: every weight in [-W64_MAX, W64_MAX] (onnxruntime's reduce-range weights), so
# the x86 u8 x s8 pair multiply (vpmaddubsw) cannot saturate int16: 2 * 255 * 64 = 32640.
W64_MAX = 64


def pack_fc(w: np.ndarray, layout: Layout) -> np.ndarray:
    """[O, K] weights -> the flat packed order of an FC layout: ceil(O/panel) panels, each
    [ceil(K/group)][panel][group], zero padded."""
    panel, group = FC_PANELS[layout]
    o, k = w.shape
    op_, kp = fc_padded(o, k, layout)
    padded = np.zeros((op_, kp), dtype=w.dtype)
    padded[:o, :k] = w
    panels = padded.reshape(op_ // panel, panel, kp // group, group).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(panels).reshape(-1)


def pack_weights(tensors: list[NTensor], ops: list[NOp]) -> None:
    """Store each CONV_2D / FULLY_CONNECTED weight in the layout its fast kernel streams:
    float FC and FULLY_CONNECTED_G4 -> panels of 16 outputs (G4 only when the padding adds at
    most an eighth); int8 FC with all weight zero
    points 0 -> panels of 8 outputs x 4 k, marked FC_PANEL8X4_W64 when every weight is in
    [-64, 64] (other int8 weights stay plain and run on the reference kernel); conv
    (CONV_2D_SLICED too) -> HWIO (output channels innermost). A weight shared by several ops
    stays plain."""
    uses = {}
    for op in ops:
        for t in op.inputs:
            if t is not None:
                uses[t] = uses.get(t, 0) + 1
    for op in ops:
        if op.op not in ("CONV_2D", "CONV_2D_SLICED", "FULLY_CONNECTED", "FULLY_CONNECTED_G4"):
            continue
        t = op.inputs[1]
        w = tensors[t]
        if uses[t] != 1 or w.layout != Layout.PLAIN:
            continue
        if op.op in ("CONV_2D", "CONV_2D_SLICED"):
            w.data = np.ascontiguousarray(w.data.reshape(w.dims).transpose(1, 2, 3, 0)).reshape(-1)
            w.layout = Layout.CONV_HWIO
        elif op.op == "FULLY_CONNECTED_G4" and fc_padded(*w.dims, Layout.FC_PANEL16)[0] * 8 > w.dims[0] * 9:
            continue  # a small head (2 or 10 outputs): panels would add up to 7x its flash, for no speed
        elif w.dtype == DType.F32:
            w.data = pack_fc(w.data.reshape(w.dims), Layout.FC_PANEL16)
            w.layout = Layout.FC_PANEL16
        elif w.dtype == DType.I8 and w.quant is not None and not np.any(w.quant.zero_points):
            small = int(np.abs(w.data.astype(np.int32)).max(initial=0)) <= W64_MAX
            w.layout = Layout.FC_PANEL8X4_W64 if small else Layout.FC_PANEL8X4
            w.data = pack_fc(w.data.reshape(w.dims), w.layout)

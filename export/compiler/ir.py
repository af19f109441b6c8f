"""The native graph the compiler builds: tensors (NTensor), ops (NOp) and quantization (Quant).

An NOp is the op's name in the native op table plus a dict of its named parameters, the
fields of its C parameter struct (`edgecnn.runtime.optable`): passes read and write
`op.attrs["pad_top"]`, and the writer encodes them with `optable.encode_params`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgecnn.runtime.optable import OPS, Act, Arith, DType, Kind, Layout

__all__ = [
    "ALIGN",
    "DTYPE_NUMPY",
    "DTYPE_SIZE",
    "FC_PANELS",
    "FUSABLE_OPS",
    "Act",
    "Arith",
    "DType",
    "Kind",
    "Layout",
    "NOp",
    "NTensor",
    "Quant",
    "act_attrs",
    "act_name",
    "align",
]


DTYPE_SIZE = {DType.F32: 4, DType.I8: 1, DType.U8: 1, DType.I32: 4}
# Little-endian NumPy dtype of each file dtype; integer arrays keep their dtype (int8 models).
DTYPE_NUMPY = {
    DType.F32: np.dtype("<f4"),
    DType.I8: np.dtype("i1"),
    DType.U8: np.dtype("u1"),
    DType.I32: np.dtype("<i4"),
}
# (outputs per panel, k per group) of the packed fully connected layouts (docs/file-format.md "Packed weights").
FC_PANELS = {Layout.FC_PANEL16: (16, 1), Layout.FC_PANEL8X4: (8, 4), Layout.FC_PANEL8X4_W64: (8, 4)}


def fc_padded(o: int, k: int, layout: Layout) -> tuple[int, int]:
    """(outputs, k) an FC layout stores for [o, k] weights: whole panels and whole k groups."""
    panel, group = FC_PANELS[layout]
    return -(-o // panel) * panel, -(-k // group) * group


# Every constant and arena offset is a multiple of this (64-byte aligned weights, docs/file-format.md).
ALIGN = 64

# Ops that end with a fused activation (act, act_p0, act_p1) a pass may set; ACTIVATION is the
# activation itself.
FUSABLE_OPS = frozenset(
    name for name, spec in OPS.items() if name != "ACTIVATION" and "act" in {f.name for f in spec.fields}
)


def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def act_attrs(act: Act = Act.NONE, p0: float = 0.0, p1: float = 0.0) -> dict:
    """The fused-activation fields of an op record."""
    return {"act": act, "act_p0": p0, "act_p1": p1}


def act_name(act: int) -> str:
    """'relu', 'leaky_relu', ... ('' for none) as the report and messages spell it."""
    return "" if act == Act.NONE else Act(act).name.lower()


@dataclass
class Quant:
    """Quantization of an int8/uint8 tensor: real = (q - zero_points[c]) * scales[c] along `axis`."""

    scales: np.ndarray  # float32, 1 value (per tensor) or one per index of `axis`
    zero_points: np.ndarray  # int32, same count
    axis: int = 0

    def same(self, other: Quant | None) -> bool:
        return (
            other is not None
            and self.axis == other.axis
            and np.array_equal(self.scales, other.scales)
            and np.array_equal(self.zero_points, other.zero_points)
        )


@dataclass
class NTensor:
    kind: Kind
    dims: tuple  # per sample for runtime tensors, full shape for constants
    dtype: DType = DType.F32
    data: np.ndarray | None = None  # constants only
    offset: int = 0  # arena offset per sample (activations) or weight-data offset (constants)
    quant: Quant | None = None  # int8/uint8 tensors
    layout: Layout = Layout.PLAIN  # constants: weight layout; `data` is then already packed

    @property
    def size(self) -> int:
        if self.layout in FC_PANELS:  # padded to whole panels and k groups
            o, k = fc_padded(*self.dims, self.layout)
            return o * k * DTYPE_SIZE[self.dtype]
        return int(np.prod(self.dims, dtype=np.int64)) * DTYPE_SIZE[self.dtype]


@dataclass
class NOp:
    op: str  # name in the native op table (optable.OPS), e.g. "CONV_2D"
    inputs: list  # tensor indices, None = absent optional input
    outputs: list
    attrs: dict = field(default_factory=dict)  # every parameter field of the op, by name
    names: list = field(default_factory=list)  # ONNX node names this op came from (fusion adds to it)

    def act(self) -> tuple:
        """(act, act_p0, act_p1) of an op with a fused activation, or of an ACTIVATION."""
        return self.attrs["act"], self.attrs["act_p0"], self.attrs["act_p1"]

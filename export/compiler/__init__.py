"""ONNX -> .ecnn compiler for the native runtime (format: native/FORMAT.md).

Uses only `onnx` and numpy (never TensorFlow). Steps:

1. **Lower** the ONNX graph node by node. Every ONNX value is either a constant
   (folded: shape arithmetic such as tf2onnx's dynamic-batch flatten
   Shape/Gather/Cast/Slice/Concat is evaluated with `onnx.reference`) or a runtime
   tensor *view*: a native buffer plus the ONNX logical shape and the axis order in
   which the buffer stores it. Layout ops (Transpose, Reshape, Flatten, ...) only
   change the view; the native layout is NHWC, so tf2onnx's NHWC->NCHW Reshape and
   NCHW->NHWC Transpose around the convolution disappear. Where values must really
   move (an NCHW model input or 4-D output, a Softmax over an axis not stored
   innermost, a Reshape of a transposed view) `materialize` emits a TRANSPOSE op.
2. **Fuse**: a zero Pad into the next Conv's padding, a TRANSPOSE read only by a dense
   layer into its weight order, activations into the preceding Conv/MatMul/Gemm/Add/Mul,
   per-channel Mul/Add/Sub constants (biases, batch norms) into a Conv/MatMul/Gemm's
   weights and bias.
3. **Plan** the arena: lifetime-based offsets (greedy, largest first), in place for
   RESHAPE and elementwise ops whose input dies there (residual branches keep every
   tensor until its last reader).
4. **Write** the file: header, tensor table, op list, 64-byte aligned weights, CRC32.

The batch dimension is dynamic: the compiler evaluates shape arithmetic at two batch
sizes and checks that every runtime tensor keeps the batch as its leading dimension.

`explain_model` (`edgecnn compile --explain`) lowers every node even after a failure and
returns all unsupported nodes at once.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

FORMAT_VERSION = 1
MAGIC = b"ECNN"
HEADER_SIZE = 64
TENSOR_RECORD_SIZE = 48
ALIGN = 64
NO_TENSOR = 0xFFFF

# Tensor kinds, dtypes, op types, activations: the numbers of native/FORMAT.md.
KIND_INPUT, KIND_OUTPUT, KIND_ACTIVATION, KIND_CONSTANT = 1, 2, 3, 4
DTYPE_F32, DTYPE_I8, DTYPE_U8, DTYPE_I32 = 1, 2, 3, 4
DTYPE_SIZE = {DTYPE_F32: 4, DTYPE_I8: 1, DTYPE_U8: 1, DTYPE_I32: 4}
# Little-endian NumPy dtype of each file dtype; integer arrays keep their dtype (int8 models).
DTYPE_NUMPY = {DTYPE_F32: np.dtype("<f4"), DTYPE_I8: np.dtype("i1"), DTYPE_U8: np.dtype("u1"), DTYPE_I32: np.dtype("<i4")}
OP_CONV_2D, OP_MAX_POOL_2D, OP_FULLY_CONNECTED, OP_SOFTMAX, OP_RESHAPE, OP_ACTIVATION = 1, 2, 3, 4, 5, 6
OP_AVG_POOL_2D, OP_ADD = 7, 8
OP_QUANTIZE, OP_DEQUANTIZE = 9, 10
OP_CHANNEL_ARITH = 11
OP_CONCAT, OP_PAD, OP_TRANSPOSE, OP_MUL = 12, 13, 14, 15
MAX_OP_INPUTS = 7  # ECNN_MAX_OP_TENSORS - 1: a CONCAT of more inputs becomes a chain
OP_NAMES = {
    OP_AVG_POOL_2D: "AVG_POOL_2D",
    OP_ADD: "ADD",
    OP_CONCAT: "CONCAT",
    OP_PAD: "PAD",
    OP_TRANSPOSE: "TRANSPOSE",
    OP_MUL: "MUL",
    OP_QUANTIZE: "QUANTIZE",
    OP_DEQUANTIZE: "DEQUANTIZE",
    OP_CONV_2D: "CONV_2D",
    OP_MAX_POOL_2D: "MAX_POOL_2D",
    OP_FULLY_CONNECTED: "FULLY_CONNECTED",
    OP_SOFTMAX: "SOFTMAX",
    OP_RESHAPE: "RESHAPE",
    OP_ACTIVATION: "ACTIVATION",
    OP_CHANNEL_ARITH: "CHANNEL_ARITH",
}
# Weight layouts (FORMAT.md "Packed weights"): the order the fast kernels stream.
LAYOUT_PLAIN, LAYOUT_FC_PANEL16, LAYOUT_FC_PANEL8X4, LAYOUT_CONV_HWIO, LAYOUT_FC_PANEL8X4_W64 = 0, 1, 2, 3, 4
# (outputs per panel, k per group) of the packed fully connected layouts
FC_PANELS = {LAYOUT_FC_PANEL16: (16, 1), LAYOUT_FC_PANEL8X4: (8, 4), LAYOUT_FC_PANEL8X4_W64: (8, 4)}
# FC_PANEL8X4_W64: every weight in [-W64_MAX, W64_MAX] (onnxruntime's reduce-range weights), so
# the x86 u8 x s8 pair multiply (vpmaddubsw) cannot saturate int16: 2 * 255 * 64 = 32640.
W64_MAX = 64
ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP = 0, 1, 2, 3
ACT_SIGMOID, ACT_TANH, ACT_HARD_SIGMOID, ACT_HARD_SWISH = 4, 5, 6, 7  # float only
ACT_NAMES = {ACT_NONE: "", ACT_RELU: "relu", ACT_LEAKY_RELU: "leaky_relu", ACT_CLIP: "clip", ACT_SIGMOID: "sigmoid",
             ACT_TANH: "tanh", ACT_HARD_SIGMOID: "hard_sigmoid", ACT_HARD_SWISH: "hard_swish"}
ARITH = {"Add": 1, "Sub": 2, "Mul": 3, "Div": 4}
# Ops whose output may share its input's arena bytes (FORMAT.md, "Arena").
IN_PLACE_OPS = {OP_ACTIVATION, OP_SOFTMAX, OP_CHANNEL_ARITH, OP_ADD, OP_MUL}
# Ops with the fused activation as their last three params.
FUSABLE_OPS = {OP_CONV_2D, OP_FULLY_CONNECTED, OP_ADD, OP_MUL}

# Batch sizes at which shape arithmetic is evaluated: a value that differs between them
# depends on the batch (see module docstring).
TRIAL_BATCHES = (2, 3)

SUPPORTED_OPS = (
    "Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, ReduceMean/ReduceMax (two spatial axes), "
    "BatchNormalization, MatMul, Gemm, "
    "Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, Softmax, Add/Mul of two tensors, "
    "Add/Sub/Mul/Div with a constant, Pad (constant), Concat, Reshape, Flatten, Transpose, Squeeze, Unsqueeze, "
    "Identity, Dropout, Cast to float of a uint8/int8 model input, and shape arithmetic on constants"
)
EXPLAIN_HINT = "run `edgecnn compile --explain MODEL.onnx` to list every unsupported node"


class CompileError(EdgecnnError):
    """The ONNX model cannot be compiled; the message names the node, the op and what is supported."""


# ---------------------------------------------------------------------------------------
# Native graph


@dataclass
class Quant:
    """Quantization of an int8/uint8 tensor: real = (q - zero_points[c]) * scales[c] along `axis`."""

    scales: np.ndarray  # float32, 1 value (per tensor) or one per index of `axis`
    zero_points: np.ndarray  # int32, same count
    axis: int = 0

    def same(self, other) -> bool:
        return (other is not None and self.axis == other.axis and np.array_equal(self.scales, other.scales)
                and np.array_equal(self.zero_points, other.zero_points))


@dataclass
class NTensor:
    kind: int
    dims: tuple  # per sample for runtime tensors, full shape for constants
    dtype: int = DTYPE_F32
    data: np.ndarray | None = None  # constants only
    offset: int = 0  # arena offset per sample (activations) or weight-data offset (constants)
    quant: Quant | None = None  # int8/uint8 tensors
    layout: int = LAYOUT_PLAIN  # constants: weight layout; `data` is then already packed

    @property
    def size(self) -> int:
        if self.layout in FC_PANELS:  # padded to whole panels and k groups
            panel, group = FC_PANELS[self.layout]
            o, k = self.dims
            return -(-o // panel) * panel * (-(-k // group) * group) * DTYPE_SIZE[self.dtype]
        return int(np.prod(self.dims, dtype=np.int64)) * DTYPE_SIZE[self.dtype]


@dataclass
class NOp:
    op_type: int
    inputs: list  # tensor indices, None = absent optional input
    outputs: list
    params: list  # ints and floats, encoded per FORMAT.md
    names: list  # ONNX node names this op came from (fusion adds to it)


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
        fmt = lambda cells: "  ".join(str(c).ljust(w) if j in (1, 2, 5) else str(c).rjust(w)  # noqa: E731
                                      for j, (c, w) in enumerate(zip(cells, widths))).rstrip()
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


# ---------------------------------------------------------------------------------------
# Lowering


@dataclass
class Const:
    """A folded constant: its value at each trial batch size (the same object when batch independent)."""

    values: tuple

    @property
    def static(self) -> bool:
        a, b = self.values
        return a is b or (a.shape == b.shape and np.array_equal(a, b))

    @property
    def value(self) -> np.ndarray:
        return self.values[0]


@dataclass
class View:
    """A runtime tensor as ONNX sees it: native buffer `tensor`, stored in axis order `perm`.

    `shape` is the ONNX logical shape without the batch; axis numbers in `perm` count the
    batch as axis 0 and it always stays first. The buffer holds the values of
    `transpose(logical, perm)` contiguously.
    """

    tensor: int
    shape: tuple
    perm: tuple

    @property
    def rank(self) -> int:
        return len(self.shape) + 1

    def full_shape(self, batch=-1) -> tuple:
        return (batch, *self.shape)

    def storage_dims(self, perm=None) -> tuple:
        perm = self.perm if perm is None else perm
        full = self.full_shape()
        return tuple(full[p] for p in perm[1:])

    def compatible(self, perm) -> bool:
        """True when storing in `perm` order gives the same bytes as the current order."""
        full = self.full_shape()
        nonunit = lambda pp: [p for p in pp if p == 0 or full[p] != 1]  # noqa: E731
        return nonunit(self.perm) == nonunit(perm)


def _weights(array) -> np.ndarray:
    """A constant as stored: quantized models keep int8/uint8 weights and int32 biases; the rest is float32."""
    array = np.asarray(array)
    return array if array.dtype in (np.int8, np.uint8, np.int32) else array.astype(np.float32)


def _identity(rank: int) -> tuple:
    return tuple(range(rank))


def _attrs(node) -> dict:
    onnx = require("onnx")
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Lowering:
    def __init__(self, model):
        self.onnx = require("onnx")
        self.model = model
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.tensors: list[NTensor] = []
        self.ops: list[NOp] = []
        self.values: dict[str, Const | View] = {}
        self.reshaped: dict = {}  # (tensor, dims) -> tensor: RESHAPE ops already emitted
        self.node = None

    # -- errors ------------------------------------------------------------------------
    def fail(self, message: str, node=None) -> CompileError:
        node = node or self.node
        where = f"node '{node.name or '(unnamed)'}' ({node.op_type})" if node is not None else "graph"
        return CompileError(f"{where}: {message}")

    # -- tensors -------------------------------------------------------------------------
    def new_tensor(self, kind: int, dims, data=None, dtype: int = DTYPE_F32, quant: Quant | None = None) -> int:
        dims = tuple(int(d) for d in dims)
        if any(d < 1 for d in dims):
            raise self.fail(f"tensor shape {dims} has an empty or unknown dimension")
        self.tensors.append(NTensor(kind, dims, dtype=dtype, data=data, quant=quant))
        return len(self.tensors) - 1

    def like(self, tid: int) -> dict:
        """dtype and quantization of tensor `tid`, for an op output that keeps them (reshape, pool, ...)."""
        return {"dtype": self.tensors[tid].dtype, "quant": self.tensors[tid].quant}

    def const_tensor(self, array: np.ndarray) -> int:
        array = _weights(array)
        dtype = next(code for code, np_dtype in DTYPE_NUMPY.items() if array.dtype == np_dtype)
        return self.new_tensor(KIND_CONSTANT, array.shape if array.ndim else (1,), data=np.ascontiguousarray(array).reshape(-1),
                               dtype=dtype)

    def emit(self, op_type: int, inputs, outputs, params) -> None:
        name = "(graph output)" if self.node is None else self.node.name or self.node.op_type
        self.ops.append(NOp(op_type, list(inputs), list(outputs), list(params), [name]))

    def materialize(self, view: View, perm=None) -> int:
        """A native tensor holding `view` in axis order `perm` (default: its own): the view's
        tensor itself, a RESHAPE of it when only the dims differ, or a TRANSPOSE when the
        values must move (e.g. an NCHW model input feeding a convolution)."""
        perm = view.perm if perm is None else tuple(perm)
        dims = view.storage_dims(perm)
        if view.compatible(perm):
            if dims == self.tensors[view.tensor].dims:
                return view.tensor
            key = (view.tensor, dims)
            if key not in self.reshaped:
                out = self.new_tensor(KIND_ACTIVATION, dims, **self.like(view.tensor))
                self.emit(OP_RESHAPE, [view.tensor], [out], [])
                self.reshaped[key] = out
            return self.reshaped[key]
        if len(dims) > 5:
            raise self.fail(f"a transpose of a rank-{len(dims) + 1} tensor: the native format allows rank 5 per sample")
        src = self.materialize(view)  # stored dims in the view's own order
        # TRANSPOSE perm over per-sample axes: output axis k is the input axis holding logical axis perm[k + 1].
        tperm = tuple(view.perm.index(p) - 1 for p in perm[1:])
        key = (src, "transpose", tperm)
        if key not in self.reshaped:
            out = self.new_tensor(KIND_ACTIVATION, dims, **self.like(src))
            self.emit(OP_TRANSPOSE, [src], [out], list(tperm) + [0] * (5 - len(tperm)))
            self.reshaped[key] = out
        return self.reshaped[key]

    # -- inputs of a node ---------------------------------------------------------------
    def value(self, name: str):
        if name not in self.values:
            raise self.fail(f"input '{name}' is not produced by any node, initializer or graph input")
        return self.values[name]

    def const_input(self, node, i: int, what: str) -> np.ndarray:
        v = self.value(node.input[i])
        if not isinstance(v, Const) or not v.static:
            raise self.fail(f"{what} (input {i}, '{node.input[i]}') must be a constant (an initializer); "
                            "weights computed at run time are not supported")
        return v.value

    def view_input(self, node, i: int) -> View:
        v = self.value(node.input[i])
        if not isinstance(v, View):
            raise self.fail(f"input {i} ('{node.input[i]}') was expected to be a runtime tensor")
        return v

    # -- the graph ------------------------------------------------------------------------
    def run(self, explain: bool = False) -> None:
        """Lower every node. explain=True: do not stop at an unsupported node; collect
        (node name, op type, reason) in self.problems and go on (see _explain_failure)."""
        onnx = self.onnx
        numpy_helper = onnx.numpy_helper
        self.problems: list[tuple[str, str, str]] = []
        self.unchecked: list[str] = []  # explain mode: nodes after a failure whose input shapes are unknown
        # Op types reading each value (a Pad is stored the way the ops after it read it).
        self.readers: dict[str, list] = {}
        for n in self.graph.node:
            for name in n.input:
                self.readers.setdefault(name, []).append(n.op_type)
        for init in self.graph.initializer:
            arr = numpy_helper.to_array(init)
            self.values[init.name] = Const((arr, arr))
        runtime_inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(runtime_inputs) != 1:
            raise CompileError(f"the graph has {len(runtime_inputs)} runtime inputs; the native runtime needs exactly one")
        if len(self.graph.output) != 1:
            raise CompileError(f"the graph has {len(self.graph.output)} outputs; the native runtime needs exactly one")
        inp = runtime_inputs[0]
        ttype = inp.type.tensor_type
        # uint8 / int8 inputs (raw pixels) are stored as quantized tensors with scale 1, zero point 0:
        # Cast(to=FLOAT) of them is then a DEQUANTIZE, (q - 0) * 1.0 = the exact float value of q.
        input_dtype = {onnx.TensorProto.FLOAT: DTYPE_F32, onnx.TensorProto.UINT8: DTYPE_U8,
                       onnx.TensorProto.INT8: DTYPE_I8}.get(ttype.elem_type)
        if input_dtype is None:
            raise CompileError(f"graph input '{inp.name}' is {onnx.TensorProto.DataType.Name(ttype.elem_type)}; "
                               "this version compiles models whose input is float32, uint8 or int8")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim]
        if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
            raise CompileError(f"graph input '{inp.name}' has shape {dims}: need (batch, fixed dims...)")
        if dims[0] is not None and dims[0] != 1:
            raise CompileError(f"graph input '{inp.name}' has a fixed batch of {dims[0]}: export with a "
                               "dynamic batch (or batch 1)")
        self.input_name = inp.name
        self.input_shape = tuple(dims[1:])
        t = self.new_tensor(KIND_INPUT, self.input_shape, dtype=input_dtype,
                            quant=None if input_dtype == DTYPE_F32 else Quant(np.float32([1.0]), np.int32([0])))
        self.values[inp.name] = View(t, self.input_shape, _identity(len(dims)))
        self.fixed_batch = dims[0]  # None (dynamic) or 1

        unknown: set = set()  # explain mode: values of failed nodes whose shape is unknown
        for node in self.graph.node:
            self.node = node
            if not explain:
                self.lower(node)
                continue
            if any(n in unknown for n in node.input):
                unknown.update(node.output)  # cannot be checked without its input's shape
                self.unchecked.append(node.name or f"({node.op_type})")
                continue
            try:
                self.lower(node)
            except CompileError as exc:
                self.problems.append((node.name or "(unnamed)", node.op_type, str(exc)))
                unknown.update(self._explain_failure(node))
        self.node = None
        if explain and (unknown & {o.name for o in self.graph.output} or self.problems):
            return

        out_name = self.graph.output[0].name
        out = self.values.get(out_name)
        if not isinstance(out, View):
            raise CompileError(f"graph output '{out_name}' is a constant; nothing to compute")
        self.output_shape = out.shape
        # The output is stored in ONNX's own (row-major) order.
        tid = self.materialize(out, _identity(out.rank))
        if self.tensors[tid].kind == KIND_INPUT:
            # The graph computes nothing but a layout change: the output must still be written by an op.
            src = tid
            tid = self.new_tensor(KIND_OUTPUT, self.tensors[src].dims)
            self.ops.append(NOp(OP_RESHAPE, [src], [tid], [], ["(output copy)"]))
        self.tensors[tid].kind = KIND_OUTPUT
        self.output_tensor = tid

    def _explain_failure(self, node) -> set:
        """After `node` failed in explain mode: stand-in runtime tensors for its outputs (shapes
        from ONNX shape inference) so the nodes after it are still checked; returns the outputs
        whose shape is unknown."""
        if not hasattr(self, "_inferred"):
            try:
                inferred = self.onnx.shape_inference.infer_shapes(self.model)
            except Exception:  # inference is best effort here
                inferred = self.model
            self._inferred = {}
            for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
                dims = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
                if len(dims) >= 2 and all(d is not None and d >= 1 for d in dims[1:]):
                    self._inferred[vi.name] = tuple(dims[1:])
        unknown = set()
        for name in node.output:
            shape = self._inferred.get(name)
            if shape is None or len(shape) > 5:
                unknown.add(name)
            else:
                self.values[name] = View(self.new_tensor(KIND_ACTIVATION, shape), shape, _identity(len(shape) + 1))
        return unknown

    def lower(self, node) -> None:
        try:
            self._lower_node(node)
        except EdgecnnError:
            raise
        except (IndexError, KeyError, ValueError, TypeError, AttributeError, ArithmeticError) as exc:
            # A malformed node (an input or attribute missing, of the wrong type or shape) that
            # the handlers' own checks do not name: say which node, never a raw traceback.
            raise self.fail(f"malformed node, check its inputs and attributes ({type(exc).__name__}: {exc})") from None

    def _lower_node(self, node) -> None:
        from edgecnn.export.compiler import int8 as compiler_int8

        int8_handler = compiler_int8.HANDLERS.get((node.domain or "", node.op_type))
        if node.domain not in ("", "ai.onnx") and int8_handler is None:
            raise self.fail(f"op domain '{node.domain}' is not supported; supported: {SUPPORTED_OPS}")
        inputs = [self.value(n) for n in node.input if n]
        if node.op_type == "Constant":
            arr = self.onnx.numpy_helper.to_array(_attrs(node)["value"]) if "value" in _attrs(node) else None
            if arr is None:
                raise self.fail("only Constant with a 'value' tensor attribute is supported")
            self.values[node.output[0]] = Const((arr, arr))
            return
        if node.op_type == "Shape" and inputs and isinstance(inputs[0], View):
            self.lower_shape(node, inputs[0])
            return
        if all(isinstance(v, Const) for v in inputs):
            self.fold(node, inputs)
            return
        handler = getattr(self, f"lower_{node.op_type}", None) if int8_handler is None else (lambda n: int8_handler(self, n))
        if handler is None:
            raise self.fail(f"op {node.op_type} on runtime tensors is not supported; supported: {SUPPORTED_OPS}")
        handler(node)

    def fold(self, node, inputs) -> None:
        """Evaluate a node whose inputs are all constants, at each trial batch size."""
        reference = require("onnx.reference")
        try:
            evaluator = reference.ReferenceEvaluator(node, opsets={"": self.opset})
            if all(v.static for v in inputs):
                outs = evaluator.run(None, {n: v.value for n, v in zip([n for n in node.input if n], inputs)})
                results = [(o, o) for o in outs]
            else:
                per_batch = [
                    evaluator.run(None, {n: v.values[b] for n, v in zip([n for n in node.input if n], inputs)})
                    for b in range(len(TRIAL_BATCHES))
                ]
                results = list(zip(*per_batch))
        except Exception as exc:  # onnx.reference raises many types
            raise self.fail(f"could not fold this constant computation ({type(exc).__name__}: {exc})") from None
        for name, pair in zip(node.output, results):
            self.values[name] = Const(tuple(np.asarray(x) for x in pair))

    def lower_shape(self, node, view: View) -> None:
        a = _attrs(node)
        if self.fixed_batch is not None:
            batches = (self.fixed_batch, self.fixed_batch)
        else:
            batches = TRIAL_BATCHES
        vals = []
        for b in batches:
            shape = np.array((b, *view.shape), dtype=np.int64)
            vals.append(shape[a.get("start", 0): a.get("end", len(shape))] if ("start" in a or "end" in a) else shape)
        self.values[node.output[0]] = Const(tuple(vals))

    # -- layout ops: change the view only ---------------------------------------------------
    def lower_Identity(self, node):
        self.values[node.output[0]] = self.view_input(node, 0)

    def lower_Cast(self, node):
        """Cast of a runtime tensor: to float32 of a uint8/int8 model input (DEQUANTIZE with scale 1,
        zero point 0: exact, as onnxruntime's Cast), or float32 to float32 (nothing to do)."""
        v = self.view_input(node, 0)
        t = self.tensors[v.tensor]
        to = _attrs(node).get("to")
        if to != self.onnx.TensorProto.FLOAT:
            name = self.onnx.TensorProto.DataType.Name(to) if to is not None else "(missing)"
            raise self.fail(f"Cast of a runtime tensor to {name}: only Cast to FLOAT is supported")
        if t.dtype == DTYPE_F32:
            self.values[node.output[0]] = v
            return
        if t.quant is None or not (np.array_equal(t.quant.scales, [1.0]) and not np.any(t.quant.zero_points)):
            raise self.fail("Cast of a quantized int8/uint8 tensor to FLOAT: only the raw uint8/int8 model input "
                            "can be cast (use DequantizeLinear for quantized values)")
        y = self.new_tensor(KIND_ACTIVATION, t.dims)
        self.emit(OP_DEQUANTIZE, [v.tensor], [y], [])
        self.values[node.output[0]] = View(y, v.shape, v.perm)

    def lower_Dropout(self, node):
        if len(node.input) > 2 and node.input[2]:
            mode = self.value(node.input[2])
            if not isinstance(mode, Const) or bool(mode.value):
                raise self.fail("Dropout in training mode is not supported")
        self.values[node.output[0]] = self.view_input(node, 0)
        if len(node.output) > 1 and node.output[1]:
            raise self.fail("Dropout's mask output is not supported")

    def lower_Transpose(self, node):
        v = self.view_input(node, 0)
        perm = tuple(_attrs(node).get("perm", tuple(reversed(range(v.rank)))))
        if perm[0] != 0:
            raise self.fail(f"Transpose perm {list(perm)} moves the batch axis; only perms keeping axis 0 first are supported")
        inv = np.argsort(perm)
        new_perm = tuple(int(inv[p]) for p in v.perm)
        full = v.full_shape()
        self.values[node.output[0]] = View(v.tensor, tuple(full[p] for p in perm[1:]), new_perm)

    def _reshape_to(self, node, v: View, new_shape: tuple) -> None:
        if int(np.prod(new_shape, dtype=np.int64)) != int(np.prod(v.shape, dtype=np.int64)):
            raise self.fail(f"reshape from {v.shape} to {new_shape} changes the per-sample element count")
        # A view stored in another axis order is first put in ONNX (row-major) order: a TRANSPOSE op.
        t = v.tensor if v.compatible(_identity(v.rank)) else self.materialize(v, _identity(v.rank))
        self.values[node.output[0]] = View(t, tuple(int(d) for d in new_shape), _identity(len(new_shape) + 1))

    def lower_Reshape(self, node):
        v = self.view_input(node, 0)
        target = self.value(node.input[1])
        if not isinstance(target, Const):
            raise self.fail("the target shape must be computable at compile time")
        allowzero = bool(_attrs(node).get("allowzero", 0))
        batches = (self.fixed_batch,) * 2 if self.fixed_batch is not None else TRIAL_BATCHES
        results = []
        for b, t in zip(batches, target.values):
            t = [int(x) for x in np.asarray(t).reshape(-1)]
            if allowzero and 0 in t:  # (without a 0 in the target, allowzero changes nothing)
                raise self.fail(f"allowzero=1 with a 0 in the target shape {t} would make an empty tensor")
            in_full = (b, *v.shape)
            t = [in_full[i] if d == 0 else d for i, d in enumerate(t)]
            total = int(np.prod(in_full, dtype=np.int64))
            if t.count(-1) == 1:
                known = int(np.prod([d for d in t if d != -1], dtype=np.int64))
                if known == 0 or total % known:
                    raise self.fail(f"cannot infer -1 in reshape target {t} for input shape {in_full}")
                t[t.index(-1)] = total // known
            if int(np.prod(t, dtype=np.int64)) != total or not t or t[0] != b:
                raise self.fail(
                    f"reshape to {t} for an input of shape {in_full} does not keep the batch as the "
                    "leading dimension; only per-sample reshapes are supported"
                )
            results.append(tuple(t[1:]))
        if results[0] != results[1]:
            raise self.fail(f"the reshape target depends on the batch size in a way other than the leading dimension: {results}")
        self._reshape_to(node, v, results[0])

    def lower_Flatten(self, node):
        v = self.view_input(node, 0)
        axis = _attrs(node).get("axis", 1)
        if axis < 0:
            axis += v.rank
        if not 0 <= axis <= v.rank:
            raise self.fail(f"Flatten axis={_attrs(node).get('axis')} is out of range for rank {v.rank}")
        # ONNX gives (prod(dims[:axis]), prod(dims[axis:])); the batch must stay the leading dimension.
        merged = int(np.prod(v.shape[:max(axis - 1, 0)], dtype=np.int64))
        if axis == 0 and self.fixed_batch != 1:
            raise self.fail("Flatten axis=0 merges the batch into the features; supported only for a fixed batch of 1")
        if axis >= 2 and merged != 1:
            raise self.fail(f"Flatten axis={axis} of shape {v.full_shape()} merges the batch with axes of total size "
                            f"{merged}; only flattens that keep the batch as the leading dimension are supported")
        self._reshape_to(node, v, (int(np.prod(v.shape[max(axis - 1, 0):], dtype=np.int64)),))

    def _axes(self, node, rank: int) -> list:
        a = _attrs(node)
        if "axes" in a:
            axes = list(a["axes"])
        elif len(node.input) > 1 and node.input[1]:
            axes = [int(x) for x in np.asarray(self.const_input(node, 1, "axes")).reshape(-1)]
        else:
            return []
        return sorted(ax + rank if ax < 0 else ax for ax in axes)

    def lower_Squeeze(self, node):
        v = self.view_input(node, 0)
        axes = self._axes(node, v.rank) or [i + 1 for i, d in enumerate(v.shape) if d == 1]
        if 0 in axes or any(v.full_shape()[ax] != 1 for ax in axes):
            raise self.fail(f"Squeeze axes {axes} are not all size-1 non-batch axes of shape {v.full_shape()}")
        self._reshape_to(node, v, tuple(d for i, d in enumerate(v.shape, start=1) if i not in axes))

    def lower_Unsqueeze(self, node):
        v = self.view_input(node, 0)
        out_rank = v.rank + len(self._axes(node, 0) or [])
        axes = self._axes(node, out_rank)
        if not axes or 0 in axes:
            raise self.fail("Unsqueeze must insert non-batch axes")
        shape = list(v.shape)
        for ax in axes:
            shape.insert(ax - 1, 1)
        self._reshape_to(node, v, tuple(shape))

    # -- compute ops -----------------------------------------------------------------------
    def _pads_2d(self, node, a, in_hw, k, strides, dilations) -> tuple:
        """(top, left, bottom, right) from `pads` or `auto_pad`."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            pads = list(a.get("pads", [0, 0, 0, 0]))
            if len(pads) != 4 or min(pads) < 0:
                raise self.fail(f"pads {pads} not supported (need 4 non-negative values)")
            return pads[0], pads[1], pads[2], pads[3]
        if auto == "VALID":
            return 0, 0, 0, 0
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out = []
            for i in range(2):
                o = -(-in_hw[i] // strides[i])
                total = max(0, (o - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - in_hw[i])
                small, big = total // 2, total - total // 2
                out.append((small, big) if auto == "SAME_UPPER" else (big, small))
            return out[0][0], out[1][0], out[0][1], out[1][1]
        raise self.fail(f"auto_pad={auto} is not supported")

    def _spatial_input(self, node) -> tuple[View, int]:
        v = self.view_input(node, 0)
        if v.rank != 4:
            raise self.fail(f"input has rank {v.rank}; only 2-D {node.op_type} on NCHW (rank 4) inputs is supported")
        return v, self.materialize(v, (0, 2, 3, 1))

    def lower_Conv(self, node):
        a = _attrs(node)
        v, x = self._spatial_input(node)
        c, h, w_ = v.shape
        weight = _weights(self.const_input(node, 1, "the weight W"))
        float_conv = self.tensors[x].dtype == DTYPE_F32  # (QLinearConv reuses this with int8 weights)
        if float_conv and weight.dtype != np.float32:
            raise self.fail(f"weight W has dtype {weight.dtype}; a float Conv needs float weights")
        if weight.ndim != 4:
            raise self.fail(f"weight has shape {weight.shape}; only 2-D convolution (OIHW weights) is supported")
        o, cg, kh, kw = weight.shape
        group = int(a.get("group", 1))
        if group < 1 or c % group or o % group or cg * group != c:
            raise self.fail(f"group={group} does not fit {c} input channels and weight {weight.shape}")
        if tuple(a.get("kernel_shape", (kh, kw))) != (kh, kw):
            raise self.fail(f"kernel_shape {a['kernel_shape']} differs from the weight shape {weight.shape}")
        strides = tuple(a.get("strides", (1, 1)))
        dilations = tuple(a.get("dilations", (1, 1)))
        if min(strides) < 1 or min(dilations) < 1 or len(strides) != 2 or len(dilations) != 2:
            raise self.fail(f"strides {strides} / dilations {dilations} not supported")
        pt, pl, pb, pr = self._pads_2d(node, a, (h, w_), (kh, kw), strides, dilations)
        oh = (h + pt + pb - dilations[0] * (kh - 1) - 1) // strides[0] + 1
        ow = (w_ + pl + pr - dilations[1] * (kw - 1) - 1) // strides[1] + 1
        if oh < 1 or ow < 1:
            raise self.fail(f"the kernel does not fit the {h}x{w_} input")
        wt = self.const_tensor(weight.transpose(0, 2, 3, 1))  # OIHW -> OHWI
        bias = None
        if len(node.input) > 2 and node.input[2]:
            b = _weights(self.const_input(node, 2, "the bias B")).reshape(-1)
            if float_conv and b.dtype != np.float32:
                raise self.fail(f"bias B has dtype {b.dtype}; a float Conv needs a float bias")
            if b.shape != (o,):
                raise self.fail(f"bias has {b.size} values, expected {o}")
            bias = self.const_tensor(b)
        y = self.new_tensor(KIND_ACTIVATION, (oh, ow, o))
        self.emit(OP_CONV_2D, [x, wt, bias], [y],
                  [strides[0], strides[1], pt, pl, pb, pr, dilations[0], dilations[1], group, ACT_NONE, 0.0, 0.0])
        self.values[node.output[0]] = View(y, (o, oh, ow), (0, 2, 3, 1))

    def _pool(self, node, op_type: int) -> None:
        """MaxPool / AveragePool: window geometry shared, count_include_pad for the average."""
        a = _attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise self.fail("MaxPool's Indices output is not supported")
        if a.get("storage_order", 0):
            raise self.fail("storage_order=1 is not supported")
        v, x = self._spatial_input(node)
        c, h, w_ = v.shape
        k = tuple(a["kernel_shape"])
        if len(k) != 2:
            raise self.fail(f"kernel_shape {k}: only 2-D pooling is supported")
        strides = tuple(a.get("strides", (1, 1)))
        dilations = tuple(a.get("dilations", (1, 1)))
        if min(k) < 1 or min(strides) < 1 or min(dilations) < 1 or len(strides) != 2 or len(dilations) != 2:
            raise self.fail(f"kernel_shape {k} / strides {strides} / dilations {dilations} not supported")
        pt, pl, pb, pr = self._pads_2d(node, a, (h, w_), k, strides, dilations)
        ceil_mode = int(a.get("ceil_mode", 0))

        def extent(n, pa, pb_, kk, s, d):
            span = d * (kk - 1) + 1
            num = n + pa + pb_ - span
            if num < 0:
                raise self.fail(f"the pooling window does not fit the {h}x{w_} input")
            out = (-(-num // s) if ceil_mode else num // s) + 1
            if ceil_mode and (out - 1) * s >= n + pa:  # the last window would start in the end padding
                out -= 1
            return out

        oh = extent(h, pt, pb, k[0], strides[0], dilations[0])
        ow = extent(w_, pl, pr, k[1], strides[1], dilations[1])
        for out, n, pa, kk, st, d in ((oh, h, pt, k[0], strides[0], dilations[0]),
                                      (ow, w_, pl, k[1], strides[1], dilations[1])):
            if not all(any(0 <= o * st - pa + j * d < n for j in range(kk)) for o in range(out)):
                raise self.fail(
                    "a pooling window lies entirely in the padding (onnxruntime outputs -3.4e38 or 0 there); "
                    "pads and dilations that leave a window without input are not supported"
                )
        params = [k[0], k[1], strides[0], strides[1], pt, pl, pb, pr, dilations[0], dilations[1]]
        if op_type == OP_AVG_POOL_2D:
            params.append(int(a.get("count_include_pad", 0)))
        y = self.new_tensor(KIND_ACTIVATION, (oh, ow, c), **self.like(x))
        self.emit(op_type, [x], [y], params)
        self.values[node.output[0]] = View(y, (c, oh, ow), (0, 2, 3, 1))

    def lower_MaxPool(self, node):
        self._pool(node, OP_MAX_POOL_2D)

    def lower_AveragePool(self, node):
        self._pool(node, OP_AVG_POOL_2D)

    def _global_pool(self, node, v: View, h_ax: int, w_ax: int, keepdims: bool, op_type: int = OP_AVG_POOL_2D) -> None:
        """Mean (max) over two spatial axes of a rank-4 view: AVG_POOL_2D (MAX_POOL_2D) with a
        kernel covering the map."""
        c_ax = next(ax for ax in (1, 2, 3) if ax not in (h_ax, w_ax))
        full = v.full_shape()
        h, w_, c = full[h_ax], full[w_ax], full[c_ax]
        x = self.materialize(v, (0, h_ax, w_ax, c_ax))  # [H, W, C] with the reduced axes first
        y = self.new_tensor(KIND_ACTIVATION, (1, 1, c), **self.like(x))
        params = [h, w_, 1, 1, 0, 0, 0, 0, 1, 1] + ([0] if op_type == OP_AVG_POOL_2D else [])
        self.emit(op_type, [x], [y], params)
        if keepdims:
            shape = tuple(1 if ax in (h_ax, w_ax) else d for ax, d in enumerate(full))[1:]
            self.values[node.output[0]] = View(y, shape, (0, h_ax, w_ax, c_ax))
        else:
            self.values[node.output[0]] = View(y, (c,), (0, 1))

    def lower_GlobalAveragePool(self, node, op_type: int = OP_AVG_POOL_2D):
        v = self.view_input(node, 0)
        if v.rank != 4:
            raise self.fail(f"input has rank {v.rank}; only 2-D pooling of NCHW (rank 4) inputs is supported")
        self._global_pool(node, v, 2, 3, keepdims=True, op_type=op_type)

    def lower_GlobalMaxPool(self, node):
        self.lower_GlobalAveragePool(node, OP_MAX_POOL_2D)

    def lower_ReduceMax(self, node):
        self.lower_ReduceMean(node, OP_MAX_POOL_2D)

    def lower_ReduceMean(self, node, op_type: int = OP_AVG_POOL_2D):
        """Keras' GlobalAveragePooling2D / GlobalMaxPooling2D (tf2onnx: ReduceMean / ReduceMax over
        the two spatial axes)."""
        v = self.view_input(node, 0)
        a = _attrs(node)
        axes = self._axes(node, v.rank)
        if v.rank != 4 or len(axes) != 2 or 0 in axes:
            raise self.fail(f"{node.op_type} over axes {axes} of a rank-{v.rank} tensor; only the reduction over "
                            "two non-batch axes of a rank-4 tensor (global pooling) is supported")
        if a.get("noop_with_empty_axes", 0):
            raise self.fail("noop_with_empty_axes=1 is not supported")
        self._global_pool(node, v, axes[0], axes[1], keepdims=bool(a.get("keepdims", 1)), op_type=op_type)

    def lower_BatchNormalization(self, node):
        """y = (x - mean) / sqrt(var + eps) * scale + bias per channel (axis 1): two CHANNEL_ARITH
        ops (mul, add), which _fuse folds into a preceding CONV_2D / FULLY_CONNECTED whose output
        nothing else reads (as onnxruntime's Conv+BN fusion does)."""
        a = _attrs(node)
        if a.get("training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
            raise self.fail("BatchNormalization in training mode (extra outputs) is not supported")
        v = self.view_input(node, 0)
        if v.rank < 2:
            raise self.fail(f"input of rank {v.rank} has no channel axis")
        scale, bias, mean, var = (np.asarray(self.const_input(node, i, n), np.float64)
                                  for i, n in ((1, "scale"), (2, "B"), (3, "input_mean"), (4, "input_var")))
        c = v.shape[0]
        if any(t.shape != (c,) for t in (scale, bias, mean, var)):
            raise self.fail(f"scale/B/mean/var must all be ({c},) for {c} channels")
        mul = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
        add = bias - mean * mul
        t = self._channel_arith(v, 1, mul.astype(np.float32), ARITH["Mul"], False)
        self.values[node.output[0]] = self._channel_arith(t, 1, add.astype(np.float32), ARITH["Add"], False)

    def lower_Pad(self, node):
        a = _attrs(node)
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            raise self.fail(f"Pad mode '{mode}' is not supported; only 'constant'")
        v = self.view_input(node, 0)
        if "pads" in a:  # opset < 11
            pads, value = list(a["pads"]), float(a.get("value", 0.0))
        else:
            pads = [int(x) for x in np.asarray(self.const_input(node, 1, "pads")).reshape(-1)]
            value = 0.0
            if len(node.input) > 2 and node.input[2]:
                value = float(np.asarray(self.const_input(node, 2, "constant_value")).reshape(-1)[0])
        axes = list(range(v.rank))
        if len(node.input) > 3 and node.input[3]:
            axes = [ax + v.rank if ax < 0 else ax for ax in
                    (int(x) for x in np.asarray(self.const_input(node, 3, "axes")).reshape(-1))]
        if len(pads) != 2 * len(axes):
            raise self.fail(f"pads {pads} do not have 2 values per axis of {axes}")
        before, after = [0] * v.rank, [0] * v.rank
        for i, ax in enumerate(axes):
            before[ax], after[ax] = pads[i], pads[len(axes) + i]
        if min(before + after) < 0:
            raise self.fail(f"negative pads {pads} (cropping) are not supported")
        if before[0] or after[0]:
            raise self.fail("padding the batch axis is not supported")
        if v.rank - 1 > 5:
            raise self.fail(f"rank {v.rank} exceeds the native rank 5 per sample")
        # A feature map read by convolutions is padded in their NHWC order (so _fold_pads can turn
        # the PAD into the convolution's own padding); anything else in the order it is stored.
        readers = self.readers.get(node.output[0], [])
        perm = (0, 2, 3, 1) if v.rank == 4 and readers and set(readers) <= {"Conv"} else v.perm
        x = self.materialize(v, perm)
        # pads in the stored axis order
        sb = [before[p] for p in perm[1:]]
        sa = [after[p] for p in perm[1:]]
        dims = tuple(d + b + e for d, b, e in zip(self.tensors[x].dims, sb, sa))
        y = self.new_tensor(KIND_ACTIVATION, dims, **self.like(x))
        zeros = [0] * (5 - len(sb))
        self.emit(OP_PAD, [x], [y], sb + zeros + sa + zeros + [float(np.float32(value))])
        shape = tuple(d + b + e for d, b, e in zip(v.shape, before[1:], after[1:]))
        self.values[node.output[0]] = View(y, shape, perm)

    def lower_Concat(self, node):
        views = [self.value(n) for n in node.input if n]
        if not all(isinstance(x, View) for x in views):
            raise self.fail("Concat of a constant with runtime tensors is not supported; all inputs must be computed")
        first = views[0]
        axis = _attrs(node)["axis"]
        axis = axis + first.rank if axis < 0 else axis
        if axis == 0 or not 0 < axis < first.rank:
            raise self.fail(f"Concat axis {_attrs(node)['axis']}: only non-batch axes are supported")
        for x in views:
            if x.rank != first.rank or any(d != e for i, (d, e) in enumerate(zip(x.shape, first.shape)) if i + 1 != axis):
                raise self.fail(f"inputs of shapes {[x.full_shape() for x in views]} do not match off axis {axis}")
        perm = first.perm
        storage_axis = perm.index(axis) - 1
        parts = [self.materialize(x, perm) for x in views]
        shape = list(first.shape)
        shape[axis - 1] = sum(x.shape[axis - 1] for x in views)
        while len(parts) > 1:  # chains of at most MAX_OP_INPUTS inputs (concat of concats)
            group, parts = parts[:MAX_OP_INPUTS], parts[MAX_OP_INPUTS:]
            dims = list(self.tensors[group[0]].dims)
            dims[storage_axis] = sum(self.tensors[t].dims[storage_axis] for t in group)
            y = self.new_tensor(KIND_ACTIVATION, dims, **self.like(group[0]))
            self.emit(OP_CONCAT, group, [y], [storage_axis])
            parts.insert(0, y)
        self.values[node.output[0]] = View(parts[0], tuple(shape), perm)

    def _fully_connected(self, node, x_view: View, weight_ok: np.ndarray, bias) -> None:
        """weight_ok: [O, K] already in native orientation."""
        if x_view.rank != 2:  # ONNX MatMul/Gemm of a (batch, K) matrix
            raise self.fail(f"input has shape {x_view.full_shape()}; only 2-D (batch, features) inputs are supported")
        # FULLY_CONNECTED reads any tensor in ONNX (row-major) order as a flat vector: no reshape needed.
        x = x_view.tensor if x_view.compatible(_identity(x_view.rank)) else self.materialize(x_view, (0, 1))
        o, k = weight_ok.shape
        if k != x_view.shape[0]:
            raise self.fail(f"weight has {k} input features, the input has {x_view.shape[0]}")
        wt = self.const_tensor(weight_ok)
        bt = None if bias is None else self.const_tensor(bias)
        y = self.new_tensor(KIND_ACTIVATION, (o,))
        self.emit(OP_FULLY_CONNECTED, [x, wt, bt], [y], [ACT_NONE, 0.0, 0.0])
        self.values[node.output[0]] = View(y, (o,), (0, 1))

    def lower_MatMul(self, node):
        x = self.view_input(node, 0)
        w = self.const_input(node, 1, "the second MatMul operand").astype(np.float32)
        if w.ndim != 2:
            raise self.fail(f"second operand has shape {w.shape}; only (K, O) constant matrices are supported")
        if x.rank > 2:
            self._matmul_rows(node, x, w)
            return
        self._fully_connected(node, x, np.ascontiguousarray(w.T), None)

    def _matmul_rows(self, node, v: View, w: np.ndarray) -> None:
        """MatMul of a (N, ..., K) runtime tensor by a constant (K, O) (Keras Dense on a feature map,
        a per-position linear layer): every row of K is one pixel of a 1x1 CONV_2D over [rows, 1, K]."""
        k, o = w.shape
        last = v.rank - 1
        if v.shape[-1] != k:
            raise self.fail(f"weight has {k} input features, the input's last axis has {v.shape[-1]}")
        if self.tensors[v.tensor].dtype != DTYPE_F32:
            raise self.fail("MatMul of an int8 tensor of rank > 2 is not supported")
        perm = v.perm if v.perm[-1] == last else tuple(p for p in v.perm if p != last) + (last,)
        stored = v.storage_dims(perm)  # (..., K)
        # [H, W, K] with H the first stored axis: a rank-4 view needs no reshape on either side
        hw = (stored[0], int(np.prod(stored[1:-1], dtype=np.int64)))
        x = self.materialize(View(self.materialize(v, perm), (*hw, k), _identity(4)))
        wt = self.const_tensor(np.ascontiguousarray(w.T).reshape(o, 1, 1, k))
        y = self.new_tensor(KIND_ACTIVATION, (*hw, o))
        self.emit(OP_CONV_2D, [x, wt, None], [y], [1, 1, 0, 0, 0, 0, 1, 1, 1, ACT_NONE, 0.0, 0.0])
        self.values[node.output[0]] = View(y, (*v.shape[:-1], o), perm)

    def lower_Gemm(self, node):
        a = _attrs(node)
        if a.get("transA", 0):
            raise self.fail("transA=1 is not supported: it would move the batch axis of the runtime input A "
                            "(only A untransposed, B a constant)")
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        x = self.view_input(node, 0)
        w = self.const_input(node, 1, "B").astype(np.float32)
        if w.ndim != 2:
            raise self.fail(f"B has shape {w.shape}; expected a matrix")
        w_ok = w if a.get("transB", 0) else w.T
        if alpha != 1.0:  # alpha * (A B) = A (alpha B): folded into the weights
            w_ok = (w_ok * np.float32(alpha)).astype(np.float32)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            c = self.const_input(node, 2, "C").astype(np.float32)
            o = w_ok.shape[0]
            if c.size == 1:
                c = np.full(o, c.reshape(-1)[0], np.float32)
            elif c.shape not in ((o,), (1, o)):
                raise self.fail(f"C has shape {c.shape}; only a per-output bias ({o},) or (1, {o}) is supported")
            bias = (c.reshape(-1) * np.float32(beta)).astype(np.float32) if beta != 1.0 else c.reshape(-1)
        self._fully_connected(node, x, np.ascontiguousarray(w_ok), bias)

    def _activation(self, node, act: int, p0: float = 0.0, p1: float = 0.0):
        v = self.view_input(node, 0)
        x = v.tensor
        y = self.new_tensor(KIND_ACTIVATION, self.tensors[x].dims, **self.like(x))
        self.emit(OP_ACTIVATION, [x], [y], [act, p0, p1])
        self.values[node.output[0]] = View(y, v.shape, v.perm)

    def lower_Relu(self, node):
        self._activation(node, ACT_RELU)

    def lower_LeakyRelu(self, node):
        self._activation(node, ACT_LEAKY_RELU, float(np.float32(_attrs(node).get("alpha", 0.01))))

    def lower_Sigmoid(self, node):
        self._activation(node, ACT_SIGMOID)

    def lower_Tanh(self, node):
        self._activation(node, ACT_TANH)

    def lower_HardSigmoid(self, node):
        a = _attrs(node)
        self._activation(node, ACT_HARD_SIGMOID, float(np.float32(a.get("alpha", 0.2))), float(np.float32(a.get("beta", 0.5))))

    def lower_HardSwish(self, node):
        self._activation(node, ACT_HARD_SWISH)

    def lower_Clip(self, node):
        a = _attrs(node)
        lo, hi = a.get("min", -np.inf), a.get("max", np.inf)
        if len(node.input) > 1 and node.input[1]:
            lo = float(self.const_input(node, 1, "min"))
        if len(node.input) > 2 and node.input[2]:
            hi = float(self.const_input(node, 2, "max"))
        self._activation(node, ACT_CLIP, float(np.float32(lo)), float(np.float32(hi)))

    def lower_Softmax(self, node):
        v = self.view_input(node, 0)
        axis = _attrs(node).get("axis", -1 if self.opset >= 13 else 1)
        axis = axis + v.rank if axis < 0 else axis
        if not 0 < axis < v.rank:
            raise self.fail(f"Softmax over axis {_attrs(node).get('axis')} of a rank-{v.rank} tensor: only non-batch axes")
        if self.opset < 13 and axis != v.rank - 1:
            # Before opset 13 Softmax normalises over all axes from `axis` on, flattened.
            flat = View(self.materialize(v, _identity(v.rank)),
                        (*v.shape[:axis - 1], int(np.prod(v.shape[axis - 1:], dtype=np.int64))), _identity(axis + 1))
            x = self.materialize(flat)
            y = self.new_tensor(KIND_ACTIVATION, self.tensors[x].dims)
            self.emit(OP_SOFTMAX, [x], [y], [])
            self.values[node.output[0]] = View(y, v.shape, _identity(v.rank))
            return
        # SOFTMAX works on the innermost stored axis: keep the view's order when `axis` is
        # innermost there, else store it innermost (a TRANSPOSE).
        perm = v.perm if v.perm[-1] == axis else tuple(p for p in v.perm if p != axis) + (axis,)
        x = self.materialize(v, perm)
        y = self.new_tensor(KIND_ACTIVATION, self.tensors[x].dims)
        self.emit(OP_SOFTMAX, [x], [y], [])
        self.values[node.output[0]] = View(y, v.shape, perm)

    def _channel_arith(self, v: View, axis: int | None, k: np.ndarray, func: int, const_first: bool) -> View:
        """v op k with k a scalar (axis None, k of 1 value) or one value per index of logical
        `axis`: CHANNEL_ARITH on the last stored axis (a TRANSPOSE first when `axis` is stored elsewhere)."""
        x = v.tensor
        perm = v.perm
        if axis is not None and perm[-1] != axis:
            perm = tuple(p for p in perm if p != axis) + (axis,)
            x = self.materialize(v, perm)
        elif axis is not None and self.tensors[x].dims[-1] != v.full_shape()[axis]:
            x = self.materialize(v)  # the last dim of the buffer must be the channel count
        kt = self.const_tensor(np.ascontiguousarray(k, dtype=np.float32).reshape(-1))
        y = self.new_tensor(KIND_ACTIVATION, self.tensors[x].dims)
        self.emit(OP_CHANNEL_ARITH, [x, kt], [y], [func, int(const_first)])
        return View(y, v.shape, perm)

    def _arith(self, node):
        a, b = (self.value(n) for n in node.input[:2])
        if isinstance(a, View) and isinstance(b, View):
            self._binary(node, a, b)
            return
        const_first = isinstance(a, Const)
        v, k = (b, a) if const_first else (a, b)
        if not k.static:
            raise self.fail("the constant operand depends on the batch size")
        k = np.asarray(k.value, dtype=np.float32)
        if k.ndim > v.rank:
            raise self.fail(f"constant of shape {k.shape} broadcasts the tensor {v.full_shape()} to a higher rank")
        kfull = (1,) * (v.rank - k.ndim) + k.shape
        full = v.full_shape()
        axes = [ax for ax, d in enumerate(kfull) if d != 1]
        if len(axes) > 1 or (axes and (axes[0] == 0 or kfull[axes[0]] != full[axes[0]])):
            raise self.fail(
                f"constant of shape {k.shape} does not broadcast per channel over {v.full_shape()} "
                "(only scalars and constants varying along one non-batch axis are supported)"
            )
        self.values[node.output[0]] = self._channel_arith(v, axes[0] if axes else None, k, ARITH[node.op_type], const_first)

    def _binary(self, node, a: View, b: View):
        """Add / Mul of two runtime tensors: ADD / MUL, elementwise, or with one operand of shape
        (N, 1, .., C, .., 1) broadcast per sample along one axis (squeeze-and-excitation): that
        axis is stored innermost and the small operand becomes B."""
        op_type = {"Add": OP_ADD, "Sub": OP_ADD, "Mul": OP_MUL}.get(node.op_type)
        if op_type is None:
            raise self.fail(f"{node.op_type} of two runtime tensors is not supported; only Add, Sub and Mul "
                            "(Div needs a constant operand)")
        if node.op_type == "Sub":  # a - b == a + (-b) exactly (negation is exact): CHANNEL_ARITH mul -1, ADD
            b = self._channel_arith(b, None, np.float32([-1.0]), ARITH["Mul"], False)
        perm = a.perm
        if a.shape != b.shape:
            def fits(v, big):  # v broadcasts over big along at most one non-batch axis
                return (v.rank == big.rank and all(d in (1, e) for d, e in zip(v.shape, big.shape))
                        and sum(d != 1 for d in v.shape) <= 1)

            if not fits(b, a) and fits(a, b):
                a, b = b, a  # the full-size operand first (Add and Mul commute exactly)
            if not fits(b, a):
                raise self.fail(f"{node.op_type} of runtime tensors of shapes {a.full_shape()} and {b.full_shape()}: "
                                "only equal shapes, or one broadcast along a single axis, e.g. (N, C, 1, 1)")
            axes = [ax for ax, d in enumerate(b.full_shape()) if ax and d != 1]
            perm = a.perm if not axes or a.perm[-1] == axes[0] else \
                tuple(p for p in a.perm if p != axes[0]) + (axes[0],)
        xa = self.materialize(a, perm)
        xb = self.materialize(b, perm)
        if self.tensors[xa].dtype != DTYPE_F32 or self.tensors[xb].dtype != DTYPE_F32:
            raise self.fail(f"{node.op_type} of int8 tensors is not supported in this build")
        y = self.new_tensor(KIND_ACTIVATION, self.tensors[xa].dims)
        self.emit(op_type, [xa, xb], [y], [ACT_NONE, 0.0, 0.0])
        self.values[node.output[0]] = View(y, a.shape, perm)

    lower_Add = lower_Sub = lower_Mul = lower_Div = _arith


# ---------------------------------------------------------------------------------------
# Passes over the native graph


def _consumers(ops, tid):
    return [i for i, op in enumerate(ops) if tid in op.inputs]


def _sole_reader(ops, tid):
    """The op that is the only reader of tensor tid (what a fold may merge into), else None."""
    users = _consumers(ops, tid)
    return ops[users[0]] if len(users) == 1 else None


def _fold_channel_arith(tensors, ops, op, arith) -> bool:
    """Fold a per-output-channel (or scalar) constant Mul / Add / Sub that follows a float
    CONV_2D or FULLY_CONNECTED without activation into its weights and bias (a batch norm that
    tf2onnx or BatchNormalization lowering left as Mul + Add, a MatMul's bias). True if folded."""
    if (op.op_type not in (OP_CONV_2D, OP_FULLY_CONNECTED) or op.params[-3] != ACT_NONE
            or tensors[op.inputs[1]].dtype != DTYPE_F32 or arith.inputs[0] != op.outputs[0]
            or len(_consumers(ops, op.inputs[1])) != 1):
        return False
    func, const_first = arith.params
    k = tensors[arith.inputs[1]].data.astype(np.float32)
    o = tensors[op.outputs[0]].dims[-1]
    if k.size not in (1, o) or not (func in (ARITH["Add"], ARITH["Mul"]) or (func == ARITH["Sub"] and not const_first)):
        return False
    k = np.broadcast_to(k.reshape(-1), (o,)).astype(np.float32)
    bias = None if op.inputs[2] is None else tensors[op.inputs[2]].data.astype(np.float32)
    if func == ARITH["Mul"]:
        w = tensors[op.inputs[1]]
        w.data = (w.data.reshape(o, -1) * k[:, None]).astype(np.float32).reshape(-1)
        if bias is not None:
            op.inputs[2] = _append_const(tensors, (bias * k).astype(np.float32))
    else:
        k = k if func == ARITH["Add"] else -k
        # no bias yet: the constant becomes it (exactly ONNX's MatMul + Add)
        op.inputs[2] = _append_const(tensors, k if bias is None else (bias + k).astype(np.float32))
    return True


def _fold_pads(tensors, ops) -> None:
    """A zero PAD of the two spatial axes read only by a float CONV_2D becomes the convolution's
    own padding (Keras ZeroPadding2D before a strided depthwise conv): the same zeros, no copy."""
    for pad in list(ops):
        if pad.op_type != OP_PAD or tensors[pad.outputs[0]].dtype != DTYPE_F32:
            continue
        conv = _sole_reader(ops, pad.outputs[0])
        if conv is None:
            continue
        before, after, value = pad.params[:5], pad.params[5:10], pad.params[10]
        if (conv.op_type != OP_CONV_2D or conv.inputs[0] != pad.outputs[0] or float(value) != 0.0
                or before[2:] != [0, 0, 0] or after[2:] != [0, 0, 0] or len(tensors[pad.outputs[0]].dims) != 3):
            continue
        conv.inputs[0] = pad.inputs[0]
        conv.params[2] += before[0]  # pad_top, pad_left, pad_bottom, pad_right
        conv.params[3] += before[1]
        conv.params[4] += after[0]
        conv.params[5] += after[1]
        conv.names = pad.names + conv.names
        ops.remove(pad)


def _fold_transposes(tensors, ops) -> None:
    """A TRANSPOSE read only by a float FULLY_CONNECTED (PyTorch's flatten of an NCHW tensor
    stored NHWC) disappears: the weight columns are permuted instead, so the layer reads the
    values in their stored order."""
    for tr in list(ops):
        if tr.op_type != OP_TRANSPOSE or tensors[tr.outputs[0]].dtype != DTYPE_F32:
            continue
        fc = _sole_reader(ops, tr.outputs[0])
        if fc is None:
            continue
        if (fc.op_type != OP_FULLY_CONNECTED or fc.inputs[0] != tr.outputs[0] or fc.inputs[1] == tr.outputs[0]
                or tensors[fc.inputs[1]].dtype != DTYPE_F32 or len(_consumers(ops, fc.inputs[1])) != 1):
            continue
        src = tensors[tr.inputs[0]].dims
        # Transposed element j is source element order[j]: weight column j moves to order[j].
        order = np.arange(int(np.prod(src, dtype=np.int64))).reshape(src).transpose(tr.params[:len(src)]).reshape(-1)
        w = tensors[fc.inputs[1]]
        o, k = w.dims
        permuted = np.empty((o, k), np.float32)
        permuted[:, order] = w.data.reshape(o, k)
        w.data = permuted.reshape(-1)
        fc.inputs[0] = tr.inputs[0]
        fc.names = tr.names + fc.names
        ops.remove(tr)


def _fold_hard_activations(tensors, ops, output_tensor) -> None:
    """Keras' hard_sigmoid relu6(x + 3) / 6 (tf2onnx: Add 3, Clip 0..6, Mul 1/6) becomes one
    ACTIVATION(hard_sigmoid 1/6, 1/2), and x * hard_sigmoid(x) (hard_swish, MobileNetV3) one
    ACTIVATION(hard_swish): four passes over the tensor become one (results differ from the
    op-by-op rounding by about an ulp, within the float contract)."""

    def only_reader(t, op_type):
        nxt = _sole_reader(ops, t) if t != output_tensor else None
        return nxt if nxt is not None and nxt.op_type == op_type and nxt.inputs[0] == t else None

    def scalar(arith, func, value):
        k = tensors[arith.inputs[1]].data
        return arith.params[0] == func and k.size == 1 and np.float32(k.reshape(-1)[0]) == np.float32(value)

    for add in list(ops):
        if (add.op_type != OP_CHANNEL_ARITH or tensors[add.inputs[0]].dtype != DTYPE_F32
                or not scalar(add, ARITH["Add"], 3.0)):
            continue
        clip = only_reader(add.outputs[0], OP_ACTIVATION)
        if clip is None or clip.params != [ACT_CLIP, 0.0, 6.0]:
            continue
        mul = only_reader(clip.outputs[0], OP_CHANNEL_ARITH)
        if mul is None or not scalar(mul, ARITH["Mul"], 1.0 / 6.0):
            continue
        x, h = add.inputs[0], mul.outputs[0]
        gate = _sole_reader(ops, h) if h != output_tensor else None
        if (gate is not None and gate.op_type == OP_MUL and set(gate.inputs) == {x, h}
                and gate.params[0] == ACT_NONE and tensors[x].dims == tensors[h].dims):
            fused = NOp(OP_ACTIVATION, [x], list(gate.outputs), [ACT_HARD_SWISH, 0.0, 0.0],
                        add.names + clip.names + mul.names + gate.names)
            ops[ops.index(gate)] = fused
        else:
            fused = NOp(OP_ACTIVATION, [x], [h], [ACT_HARD_SIGMOID, float(np.float32(1.0 / 6.0)), 0.5],
                        add.names + clip.names + mul.names)
            ops[ops.index(mul)] = fused
        for dead in (add, clip, mul):
            if dead in ops:
                ops.remove(dead)


def _fuse(tensors, ops, output_tensor) -> list:
    """Fold activations, bias adds and per-channel scales into the preceding op; drop zero
    pads and transposes the next op can absorb."""
    _fold_pads(tensors, ops)
    _fold_transposes(tensors, ops)
    _fold_hard_activations(tensors, ops, output_tensor)
    changed = True
    while changed:
        changed = False
        for i, op in enumerate(ops):
            if op.op_type not in FUSABLE_OPS:
                continue
            y = op.outputs[0]
            if y == output_tensor:
                continue
            nxt = _sole_reader(ops, y)
            if nxt is None:
                continue
            z = nxt.outputs[0]
            if nxt.op_type == OP_CHANNEL_ARITH and _fold_channel_arith(tensors, ops, op, nxt):
                pass
            elif (nxt.op_type == OP_ACTIVATION and op.params[-3] == ACT_NONE
                  and (tensors[y].dtype == DTYPE_F32 or _int8_relu_fuses(tensors, op, y, nxt))):
                op.params[-3:] = nxt.params
            else:
                continue
            op.outputs[0] = z
            op.names += nxt.names
            ops.remove(nxt)
            changed = True
            break
    return ops


def _int8_relu_fuses(tensors, op, y, act) -> bool:
    """An int8 ACTIVATION is a lookup table from its input's quantization to its output's; only
    a Relu with both the same (max(q, zero point)) folds into an int8 CONV_2D / FULLY_CONNECTED."""
    return (op.op_type in (OP_CONV_2D, OP_FULLY_CONNECTED) and act.params[0] == ACT_RELU
            and tensors[y].quant is not None and tensors[y].quant.same(tensors[act.outputs[0]].quant))


def _append_const(tensors, array) -> int:
    tensors.append(NTensor(KIND_CONSTANT, array.shape, data=array))
    return len(tensors) - 1


def _prune(tensors, ops, input_tensor, output_tensor):
    """Drop ops that do not lead to the output, then unreferenced tensors; renumber."""
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


def pack_fc(w: np.ndarray, layout: int) -> np.ndarray:
    """[O, K] weights -> the flat packed order of an FC layout: ceil(O/panel) panels, each
    [ceil(K/group)][panel][group], zero padded (FORMAT.md)."""
    panel, group = FC_PANELS[layout]
    o, k = w.shape
    op_, kp = -(-o // panel) * panel, -(-k // group) * group
    padded = np.zeros((op_, kp), dtype=w.dtype)
    padded[:o, :k] = w
    return np.ascontiguousarray(padded.reshape(op_ // panel, panel, kp // group, group).transpose(0, 2, 1, 3)).reshape(-1)


def pack_weights(tensors, ops) -> None:
    """Store each CONV_2D / FULLY_CONNECTED weight in the layout its fast kernel streams:
    float FC -> panels of 16 outputs; int8 FC with all weight zero points 0 -> panels of 8
    outputs x 4 k, marked FC_PANEL8X4_W64 when every weight is in [-64, 64] (other int8
    weights stay plain and run on the reference kernel); conv ->
    HWIO (output channels innermost). A weight shared by several ops stays plain."""
    uses = {}
    for op in ops:
        for t in op.inputs:
            if t is not None:
                uses[t] = uses.get(t, 0) + 1
    for op in ops:
        if op.op_type not in (OP_CONV_2D, OP_FULLY_CONNECTED):
            continue
        t = op.inputs[1]
        w = tensors[t]
        if uses[t] != 1 or w.layout != LAYOUT_PLAIN:
            continue
        if op.op_type == OP_CONV_2D:
            w.data = np.ascontiguousarray(w.data.reshape(w.dims).transpose(1, 2, 3, 0)).reshape(-1)
            w.layout = LAYOUT_CONV_HWIO
        elif w.dtype == DTYPE_F32:
            w.data = pack_fc(w.data.reshape(w.dims), LAYOUT_FC_PANEL16)
            w.layout = LAYOUT_FC_PANEL16
        elif w.dtype == DTYPE_I8 and w.quant is not None and not np.any(w.quant.zero_points):
            small = int(np.abs(w.data.astype(np.int32)).max(initial=0)) <= W64_MAX
            w.layout = LAYOUT_FC_PANEL8X4_W64 if small else LAYOUT_FC_PANEL8X4
            w.data = pack_fc(w.data.reshape(w.dims), w.layout)


def _may_share(tensors, op, x, y) -> bool:
    """True when `op` may write its output y over its input x (FORMAT.md, "Arena"); the
    planner adds the lifetime condition (x not read later) for everything but RESHAPE."""
    if op.op_type == OP_RESHAPE or op.op_type in IN_PLACE_OPS:
        return tensors[x].size == tensors[y].size
    if op.op_type == OP_MAX_POOL_2D and tensors[x].dtype == DTYPE_F32:
        # The float kernel pools in place without top/left padding when OW <= W (kernels.h).
        return op.params[4] == 0 and op.params[5] == 0 and tensors[y].dims[1] <= tensors[x].dims[1]
    return False


def plan_arena(tensors, ops) -> int:
    """Assign per-sample arena offsets to ACTIVATION tensors; returns arena bytes per sample.

    Lifetime of a tensor = [op writing it, last op reading it]. RESHAPE outputs share
    their input's bytes; so do outputs of elementwise ops and of unpadded float max
    pooling whose input is read by no later op (the same rules the C loader re-checks).
    Then each group of shared tensors is placed, largest first, at the lowest 64-aligned offset that does not collide with
    a group already placed whose lifetime overlaps (greedy by size, as TFLite Micro).
    """
    act = [i for i, t in enumerate(tensors) if t.kind == KIND_ACTIVATION]
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
        a, b = (op.inputs + [None, None])[:2]
        if (op.op_type in (OP_ADD, OP_MUL) and tensors[op.outputs[0]].dtype == DTYPE_F32 and a in last and b in last
                and tensors[a].dims == tensors[b].dims
                and tensors[b].kind == KIND_ACTIVATION and last[a] > i and last[b] == i):
            op.inputs[0], op.inputs[1] = b, a
    group = {t: t for t in act}  # tensor -> group id (its root)
    members = {t: [t] for t in act}
    for i, op in enumerate(ops):
        x, y = op.inputs[0] if op.inputs else None, op.outputs[0]
        if x not in group or y not in group or not _may_share(tensors, op, x, y):
            continue
        g = group[x]
        if op.op_type == OP_RESHAPE or max(last[m] for m in members[g]) <= i:
            members[g] += members.pop(group[y])
            for m in members[g]:
                group[m] = g
    spans = {
        g: (min(first[m] for m in ms), max(last[m] for m in ms), _align(tensors[g].size))
        for g, ms in members.items()
    }
    placed = []  # (offset, size, first, last)
    for g in sorted(spans, key=lambda g: (-spans[g][2], spans[g][0])):
        f, l, size = spans[g]
        busy = sorted((o, o + s) for o, s, f2, l2 in placed if not (l < f2 or l2 < f))
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, _align(hi))
        placed.append((offset, size, f, l))
        for m in members[g]:
            tensors[m].offset = offset
    return max((o + s for o, s, _, _ in placed), default=0)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# ---------------------------------------------------------------------------------------
# Serialisation


def _encode_param(p) -> bytes:
    if isinstance(p, (float, np.floating)):
        return struct.pack("<f", float(p))
    p = int(p)
    return struct.pack("<i" if p < 0 else "<I", p)


def serialize(tensors, ops, input_tensor, output_tensor, arena_per_sample) -> bytes:
    if len(tensors) >= NO_TENSOR:
        raise CompileError(f"the model needs {len(tensors)} tensors; the format allows 65534")
    # Weight data: every constant 64-aligned.
    data = bytearray()
    for t in tensors:
        if t.kind == KIND_CONSTANT:
            data += b"\0" * (_align(len(data)) - len(data))
            t.offset = len(data)
            data += np.ascontiguousarray(t.data, dtype=DTYPE_NUMPY[t.dtype]).tobytes()
    # Quantization parameters: f32 scales then i32 zero points, 4-byte aligned (FORMAT.md).
    quant_offsets = {}
    for i, t in enumerate(tensors):
        if t.quant is not None:
            data += b"\0" * (-len(data) % 4)
            scale_offset = len(data)
            data += np.ascontiguousarray(t.quant.scales, dtype="<f4").tobytes()
            quant_offsets[i] = (t.quant.axis, t.quant.scales.size, scale_offset, len(data))
            data += np.ascontiguousarray(t.quant.zero_points, dtype="<i4").tobytes()
    table = bytearray()
    for t in tensors:
        if len(t.dims) > 5:
            raise CompileError(f"a tensor of rank {len(t.dims)} exceeds the format's rank 5")
        dims = list(t.dims) + [0] * (5 - len(t.dims))
        offset = t.offset if t.kind in (KIND_ACTIVATION, KIND_CONSTANT) else 0
        axis, count, scale_offset, zp_offset = quant_offsets.get(len(table) // TENSOR_RECORD_SIZE, (0, 0, 0, 0))
        table += struct.pack("<BBBB5IIIIIII", t.kind, t.dtype, len(t.dims), axis, *dims, offset, t.size, count,
                             scale_offset, zp_offset, t.layout)
    oplist = bytearray()
    for op in ops:
        idx = [NO_TENSOR if t is None else t for t in op.inputs + op.outputs]
        if len(idx) % 2:
            idx.append(NO_TENSOR)
        params = b"".join(_encode_param(p) for p in op.params)
        size = 12 + 2 * len(idx) + len(params)
        oplist += struct.pack("<HHBBHHH", op.op_type, size, len(op.inputs), len(op.outputs), len(op.params), NO_TENSOR, 0)
        oplist += struct.pack(f"<{len(idx)}H", *idx) + params
    ops_offset = HEADER_SIZE + len(table)
    data_offset = _align(ops_offset + len(oplist))
    file_size = data_offset + len(data) + 4
    if file_size >= 2**32:
        raise CompileError(f"the model file would be {file_size:,} bytes; the format allows up to 4 GiB")
    header = struct.pack(
        "<4s15I", MAGIC, FORMAT_VERSION, file_size, HEADER_SIZE, 0, len(tensors), HEADER_SIZE, len(ops),
        ops_offset, len(oplist), data_offset, len(data), 0, arena_per_sample, input_tensor, output_tensor,
    )
    body = header + table + oplist + b"\0" * (data_offset - ops_offset - len(oplist)) + data
    return bytes(body) + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


# ---------------------------------------------------------------------------------------
# Entry point


def _load(onnx_path_or_model):
    onnx = require("onnx")
    if isinstance(onnx_path_or_model, onnx.ModelProto):
        return onnx_path_or_model, None
    path = Path(onnx_path_or_model)
    if not path.is_file():
        raise CompileError(f"{path}: no such ONNX file")
    try:
        return onnx.load(str(path)), path
    except Exception as exc:
        raise CompileError(f"{path} is not a readable ONNX model ({type(exc).__name__}: {exc})") from None


def _check_schema(node, where: str, opset: int) -> None:
    """An ONNX-domain node has as many inputs and outputs as its op's schema allows, and its
    known attributes have the schema's types (what onnx.checker checks per node)."""
    onnx = require("onnx")
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, "")
    except Exception:  # onnx raises SchemaError for unknown ops (no public class to name)
        raise CompileError(f"{where}: {node.op_type!r} is not an ONNX op (opset {opset}); supported: {SUPPORTED_OPS}") from None
    if not schema.min_input <= len(node.input) <= schema.max_input:
        raise CompileError(f"{where}: has {len(node.input)} inputs; {node.op_type} takes {schema.min_input} to "
                           f"{schema.max_input}")
    if not schema.min_output <= len(node.output) <= schema.max_output:
        raise CompileError(f"{where}: has {len(node.output)} outputs; {node.op_type} gives {schema.min_output} to "
                           f"{schema.max_output}")
    for attr in node.attribute:
        spec = schema.attributes.get(attr.name)
        if spec is not None and attr.type != spec.type:
            raise CompileError(f"{where}: attribute '{attr.name}' is of type "
                               f"{onnx.AttributeProto.AttributeType.Name(attr.type)}, the schema says "
                               f"{onnx.AttributeProto.AttributeType.Name(spec.type)}")


def _check_edges(model) -> None:
    """Every node input comes from the graph inputs, an initializer or an EARLIER node, and
    no value is produced twice: a dangling edge, a cycle or an unsorted graph is refused
    here, by name, before any pass walks the graph. ONNX-domain nodes are checked against
    their schema (input/output counts, attribute types)."""
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    produced = {o for n in graph.node for o in n.output if o}
    for node in graph.node:
        where = f"node '{node.name or '(unnamed)'}' ({node.op_type})"
        if node.domain in ("", "ai.onnx"):
            _check_schema(node, where, opset)
        for name in node.input:
            if name and name not in known:
                why = ("is produced by this or a later node: the graph has a cycle or is not topologically sorted"
                       if name in produced else "is not produced by any node, initializer or graph input")
                raise CompileError(f"{where}: input '{name}' {why}")
        for name in node.output:
            if name and name in known:
                raise CompileError(f"{where}: output '{name}' is already produced by another node, an initializer or "
                                   "a graph input")
            known.add(name)
    for out in graph.output:
        if out.name not in known:
            raise CompileError(f"graph output '{out.name}' is not produced by any node")


def compile_model(onnx_path_or_model, pack: bool = True) -> tuple[bytes, CompileReport]:
    """Compile to .ecnn bytes (nothing written). pack=False keeps every weight in the plain
    layout (files as edgecnn 0.1 wrote them; the reference kernels run them)."""
    from edgecnn.export.compiler import int8 as compiler_int8

    model, _ = _load(onnx_path_or_model)
    _check_edges(model)
    model = compiler_int8.qdq_to_qoperator(model)  # int8 QDQ models: fuse as onnxruntime does
    low = _Lowering(model)
    try:
        low.run()
    except CompileError as exc:
        raise CompileError(f"{exc}\n({EXPLAIN_HINT})") from None
    ops = _fuse(low.tensors, low.ops, low.output_tensor)
    compiler_int8.check_native_ops(low.tensors, ops)
    tensors, ops, inp, out = _prune(low.tensors, ops, 0, low.output_tensor)
    arena = plan_arena(tensors, ops)
    if pack:
        pack_weights(tensors, ops)
    blob = serialize(tensors, ops, inp, out, arena)

    layers = []
    for op in ops:
        y = tensors[op.outputs[0]]
        wbytes = sum(tensors[t].size for t in op.inputs if t is not None and tensors[t].kind == KIND_CONSTANT)
        label = _op_label(op) + (" int8" if y.dtype == DTYPE_I8 else " uint8" if y.dtype == DTYPE_U8 else "")
        layers.append(LayerRow(" + ".join(op.names), label, ("N", *y.dims), wbytes, _macs(tensors, op)))
    report = CompileReport(
        path=None,
        layers=layers,
        arena_bytes_per_sample=arena,
        activation_bytes=sum(t.size for t in tensors if t.kind == KIND_ACTIVATION),
        weight_bytes=sum(t.size for t in tensors if t.kind == KIND_CONSTANT),
        file_bytes=len(blob),
        input_shape=low.input_shape,
        output_shape=tuple(tensors[out].dims),
    )
    return blob, report


@dataclass
class Unsupported:
    """One node the compiler cannot lower (explain_model)."""

    node: str  # ONNX node name ("(unnamed)" if none; "(graph)" for the graph's inputs/outputs)
    op_type: str
    reason: str  # the compiler's message: which attribute or value is not supported


@dataclass
class Explanation:
    """What `edgecnn compile --explain` found (explain_model)."""

    problems: list  # Unsupported, in graph order; empty: the model compiles
    nodes: int  # nodes in the graph
    unchecked: list = field(default_factory=list)  # node names not checked: input shape unknown after a failure


def explain_model(onnx_path_or_model) -> Explanation:
    """Every unsupported node of a model at once (`edgecnn compile --explain`), instead of the
    first. Nodes after an unsupported one are still checked, on stand-in tensors of the shape
    ONNX shape inference gives them; nodes whose input shape stays unknown are listed as
    unchecked."""
    from edgecnn.export.compiler import int8 as compiler_int8

    model, _ = _load(onnx_path_or_model)
    try:
        _check_edges(model)
        model = compiler_int8.qdq_to_qoperator(model)
    except CompileError as exc:
        return Explanation([Unsupported("(graph)", "", str(exc))], len(model.graph.node))
    low = _Lowering(model)
    try:
        low.run(explain=True)
    except CompileError as exc:  # the graph's input or output itself
        return Explanation([Unsupported("(graph)", "", str(exc))], len(model.graph.node))
    problems = [Unsupported(name, op, reason) for name, op, reason in low.problems]
    if not problems:
        try:
            compiler_int8.check_native_ops(low.tensors, _fuse(low.tensors, low.ops, low.output_tensor))
        except CompileError as exc:
            problems.append(Unsupported("(after fusion)", "", str(exc)))
    return Explanation(problems, len(model.graph.node), low.unchecked)


def compile_onnx(onnx_path_or_model, out_path, pack: bool = True) -> CompileReport:
    """ONNX file or ModelProto -> .ecnn file at out_path; returns the report."""
    blob, report = compile_model(onnx_path_or_model, pack=pack)
    from edgecnn.runtime.files import write_bytes

    out_path = write_bytes(out_path, blob)
    report.path = out_path
    return report


def _op_label(op: NOp) -> str:
    name = OP_NAMES[op.op_type]
    if op.op_type in FUSABLE_OPS and op.params[-3] != ACT_NONE:
        name += "+" + ACT_NAMES[op.params[-3]]
    elif op.op_type == OP_ACTIVATION:
        name += f"({ACT_NAMES[op.params[0]]})"
    elif op.op_type == OP_CHANNEL_ARITH:
        name += "(" + {1: "add", 2: "sub", 3: "mul", 4: "div"}[op.params[0]] + ")"
    return name


def _macs(tensors, op: NOp) -> int:
    y = tensors[op.outputs[0]]
    if op.op_type == OP_CONV_2D:
        w = tensors[op.inputs[1]]
        return int(np.prod(y.dims)) * int(np.prod(w.dims[1:]))
    if op.op_type == OP_FULLY_CONNECTED:
        return int(np.prod(tensors[op.inputs[1]].dims))
    if op.op_type in (OP_CHANNEL_ARITH, OP_ADD, OP_MUL):
        return int(np.prod(y.dims))
    if op.op_type == OP_AVG_POOL_2D:
        return int(np.prod(y.dims)) * op.params[0] * op.params[1]
    return 0


from edgecnn.export.compiler.int8 import nodes_feeding, qdq_to_qoperator, quantized_output_model  # noqa: E402

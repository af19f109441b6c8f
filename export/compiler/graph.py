"""ONNX side of the compiler: loading and checking a model, the value model, and the lowering
driver that hands each node to the lowering registered for its op (`lowers`, in ops/).

Every ONNX value is either a constant (`Const`: folded, so shape arithmetic such as tf2onnx's
dynamic-batch flatten Shape/Gather/Cast/Slice/Concat is evaluated with `onnx.reference`) or a
runtime tensor *view* (`View`): a native buffer plus the ONNX logical shape and the axis
order in which the buffer stores it. Layout ops (Transpose, Reshape, Flatten, ...) only change
the view; the native layout is NHWC, so tf2onnx's NHWC->NCHW Reshape and NCHW->NHWC Transpose
around the convolution disappear. Where values must really move (an NCHW model input or 4-D
output, a Softmax over an axis not stored innermost, a Reshape of a transposed view)
`Lowering.materialize` emits a TRANSPOSE op.

The first dimension of the graph input is the batch. When it is free the compiler evaluates
shape arithmetic at two batch sizes (TRIAL_BATCHES) and checks that every runtime tensor keeps
the batch as its leading dimension; when it is a number N (1 from TFLite, or any N) shape
arithmetic is evaluated at N and the file records N: the model then runs exactly N samples.
Either way every native op works per sample, so a node that mixes samples is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgecnn.export.compiler.errors import CompileError
from edgecnn.export.compiler.ir import DTYPE_NUMPY, DType, Kind, NOp, NTensor, Quant
from edgecnn.runtime.errors import EdgecnnError, require

if TYPE_CHECKING:
    import onnx

# Batch sizes at which shape arithmetic is evaluated: a value that differs between them
# depends on the batch.
TRIAL_BATCHES = (2, 3)
STANDARD_DOMAINS = ("", "ai.onnx")
EXPLAIN_HINT = "run `edgecnn compile --explain MODEL.onnx` to list every unsupported node"


# ---------------------------------------------------------------------------------------
# Registry of lowerings


@dataclass(frozen=True)
class Registration:
    """One `@lowers(...)`: the ONNX op types (of one domain) a function lowers."""

    op_types: tuple
    domain: str
    lower: Callable  # lower(low: Lowering, node: onnx.NodeProto) -> None
    note: str  # what the supported-ops list says of them, e.g. "over two spatial axes"
    listed: bool  # False for a lowering that only refuses with a better message


LOWERINGS: dict[tuple[str, str], Registration] = {}  # (domain, op type) -> registration


def lowers(*op_types: str, domain: str = "", note: str = "", listed: bool = True) -> Callable:
    """Decorator: `fn(low, node)` lowers ONNX nodes of `op_types` in `domain` (runtime inputs;
    nodes whose inputs are all constants are folded instead). `note` qualifies them in the
    supported-ops list; listed=False keeps a lowering that only refuses out of it."""

    def register(fn: Callable) -> Callable:
        reg = Registration(tuple(op_types), domain, fn, note, listed)
        for op_type in op_types:
            if (domain, op_type) in LOWERINGS:
                raise ValueError(f"{domain or 'ai.onnx'} {op_type} has two lowerings")
            LOWERINGS[(domain, op_type)] = reg
        return fn

    return register


def supported_ops() -> str:
    """The ops the registered lowerings handle, alphabetically per domain, for refusal messages."""
    parts = {}
    for (domain, op_type), reg in sorted(LOWERINGS.items()):
        if reg.listed:
            parts.setdefault(domain, []).append(op_type + (f" ({reg.note})" if reg.note else ""))
    listed = [", ".join(parts.pop("", []))] + [f"{domain}: {', '.join(ops)}" for domain, ops in parts.items()]
    return "; ".join(listed) + "; and shape arithmetic on constants"


# ---------------------------------------------------------------------------------------
# Values


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

    def full_shape(self, batch: int = -1) -> tuple:
        return (batch, *self.shape)

    def storage_dims(self, perm: tuple | None = None) -> tuple:
        perm = self.perm if perm is None else perm
        full = self.full_shape()
        return tuple(full[p] for p in perm[1:])

    def compatible(self, perm: tuple) -> bool:
        """True when storing in `perm` order gives the same bytes as the current order."""
        full = self.full_shape()
        nonunit = lambda pp: [p for p in pp if p == 0 or full[p] != 1]  # noqa: E731
        return nonunit(self.perm) == nonunit(perm)

    def innermost(self, axis: int) -> tuple:
        """This view's axis order with logical `axis` moved innermost (kept when it already is)."""
        return self.perm if self.perm[-1] == axis else (*tuple(p for p in self.perm if p != axis), axis)


def weights(array) -> np.ndarray:
    """A constant as stored: quantized models keep int8/uint8 weights and int32 biases; the rest is float32."""
    array = np.asarray(array)
    return array if array.dtype in (np.int8, np.uint8, np.int32) else array.astype(np.float32)


def identity(rank: int) -> tuple:
    return tuple(range(rank))


def attrs(node) -> dict:
    """The node's attributes by name, as Python values."""
    onnx = require("onnx")
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def optional_input(node, i: int) -> bool:
    """True when the node has a non-empty input i."""
    return len(node.input) > i and bool(node.input[i])


# ---------------------------------------------------------------------------------------
# Lowering


class Lowering:
    """The native graph under construction and the value of every ONNX name lowered so far."""

    def __init__(self, model: onnx.ModelProto):
        self.onnx = require("onnx")
        self.model = model
        self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in STANDARD_DOMAINS), 13)
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
    def new_tensor(self, kind: Kind, dims, data=None, dtype: DType = DType.F32, quant: Quant | None = None) -> int:
        dims = tuple(int(d) for d in dims)
        if any(d < 1 for d in dims):
            raise self.fail(f"tensor shape {dims} has an empty or unknown dimension")
        self.tensors.append(NTensor(kind, dims, dtype=dtype, data=data, quant=quant))
        return len(self.tensors) - 1

    def like(self, tid: int) -> dict:
        """dtype and quantization of tensor `tid`, for an op output that keeps them (reshape, pool, ...)."""
        return {"dtype": self.tensors[tid].dtype, "quant": self.tensors[tid].quant}

    def activation_like(self, tid: int, dims=None) -> int:
        """A new ACTIVATION of tensor `tid`'s dtype and quantization (and dims unless given)."""
        return self.new_tensor(Kind.ACTIVATION, self.tensors[tid].dims if dims is None else dims, **self.like(tid))

    def const_tensor(self, array: np.ndarray) -> int:
        array = weights(array)
        dtype = next(code for code, np_dtype in DTYPE_NUMPY.items() if array.dtype == np_dtype)
        return self.new_tensor(
            Kind.CONSTANT,
            array.shape if array.ndim else (1,),
            data=np.ascontiguousarray(array).reshape(-1),
            dtype=dtype,
        )

    def emit(self, op: str, inputs, outputs, attrs: dict | None = None) -> NOp:
        """Append native op `op` (its parameter fields by name) made from the current node."""
        name = "(graph output)" if self.node is None else self.node.name or self.node.op_type
        nop = NOp(op, list(inputs), list(outputs), dict(attrs or {}), [name])
        self.ops.append(nop)
        return nop

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
                out = self.activation_like(view.tensor, dims)
                self.emit("RESHAPE", [view.tensor], [out])
                self.reshaped[key] = out
            return self.reshaped[key]
        if len(dims) > 5:
            raise self.fail(f"a transpose of a rank-{len(dims) + 1} tensor: the native format allows rank 5 per sample")
        src = self.materialize(view)  # stored dims in the view's own order
        # TRANSPOSE perm over per-sample axes: output axis k is the input axis holding logical axis perm[k + 1].
        tperm = tuple(view.perm.index(p) - 1 for p in perm[1:])
        key = (src, "transpose", tperm)
        if key not in self.reshaped:
            out = self.activation_like(src, dims)
            self.emit("TRANSPOSE", [src], [out], {"perm": list(tperm) + [0] * (5 - len(tperm))})
            self.reshaped[key] = out
        return self.reshaped[key]

    # -- inputs of a node ---------------------------------------------------------------
    def value(self, name: str) -> Const | View:
        if name not in self.values:
            raise self.fail(f"input '{name}' is not produced by any node, initializer or graph input")
        return self.values[name]

    def const_input(self, node, i: int, what: str) -> np.ndarray:
        v = self.value(node.input[i])
        if not isinstance(v, Const) or not v.static:
            raise self.fail(
                f"{what} (input {i}, '{node.input[i]}') must be a constant (an initializer); "
                "weights computed at run time are not supported"
            )
        return v.value

    def view_input(self, node, i: int) -> View:
        v = self.value(node.input[i])
        if not isinstance(v, View):
            raise self.fail(f"input {i} ('{node.input[i]}') was expected to be a runtime tensor")
        return v

    def axes(self, node, rank: int) -> list:
        """The node's `axes` (attribute, or constant input 1 from opset 13), non-negative and sorted."""
        a = attrs(node)
        if "axes" in a:
            axes = list(a["axes"])
        elif optional_input(node, 1):
            axes = [int(x) for x in np.asarray(self.const_input(node, 1, "axes")).reshape(-1)]
        else:
            return []
        return sorted(ax + rank if ax < 0 else ax for ax in axes)

    def batches(self) -> tuple:
        """The batch sizes constants are evaluated at: the fixed batch twice, or TRIAL_BATCHES."""
        return (self.fixed_batch,) * 2 if self.fixed_batch is not None else TRIAL_BATCHES

    # -- the graph ------------------------------------------------------------------------
    def _graph_input(self) -> None:
        """The one runtime input becomes the INPUT tensor (float32, or uint8/int8 raw values)."""
        onnx = self.onnx
        runtime_inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(runtime_inputs) != 1:
            raise CompileError(
                f"the graph has {len(runtime_inputs)} runtime inputs; the native runtime needs exactly one"
            )
        if len(self.graph.output) != 1:
            raise CompileError(f"the graph has {len(self.graph.output)} outputs; the native runtime needs exactly one")
        inp = runtime_inputs[0]
        ttype = inp.type.tensor_type
        # uint8 / int8 inputs (raw pixels) are stored as quantized tensors with scale 1, zero point 0:
        # Cast(to=FLOAT) of them is then a DEQUANTIZE, (q - 0) * 1.0 = the exact float value of q.
        input_dtype = {
            onnx.TensorProto.FLOAT: DType.F32,
            onnx.TensorProto.UINT8: DType.U8,
            onnx.TensorProto.INT8: DType.I8,
        }.get(ttype.elem_type)
        if input_dtype is None:
            raise CompileError(
                f"graph input '{inp.name}' is {onnx.TensorProto.DataType.Name(ttype.elem_type)}; "
                "this version compiles models whose input is float32, uint8 or int8"
            )
        dims = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim]
        if not dims or any(d is None or d < 1 for d in dims[1:]) or (dims[0] is not None and dims[0] < 1):
            raise CompileError(
                f"graph input '{inp.name}' has shape {dims}: need (batch, fixed dims...), the batch a "
                "number or free, every other dimension a number"
            )
        self.input_name = inp.name
        self.input_shape = tuple(dims[1:])
        t = self.new_tensor(
            Kind.INPUT,
            self.input_shape,
            dtype=input_dtype,
            quant=None if input_dtype == DType.F32 else Quant(np.float32([1.0]), np.int32([0])),
        )
        self.values[inp.name] = View(t, self.input_shape, identity(len(dims)))
        # None: any batch; a number: the graph computes that batch only (shape arithmetic is
        # evaluated at it, and the file records it so the runtime takes exactly that batch).
        self.fixed_batch = dims[0]

    def run(self, explain: bool = False) -> None:
        """Lower every node. explain=True: do not stop at an unsupported node; collect
        (node name, op type, reason) in self.problems and go on (see _explain_failure)."""
        numpy_helper = self.onnx.numpy_helper
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
        self._graph_input()

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
        self._graph_output()

    def _graph_output(self) -> None:
        out_name = self.graph.output[0].name
        out = self.values.get(out_name)
        if not isinstance(out, View):
            raise CompileError(f"graph output '{out_name}' is a constant; nothing to compute")
        self.output_shape = out.shape
        # The output is stored in ONNX's own (row-major) order.
        tid = self.materialize(out, identity(out.rank))
        if self.tensors[tid].kind == Kind.INPUT:
            # The graph computes nothing but a layout change: the output must still be written by an op.
            src = tid
            tid = self.new_tensor(Kind.OUTPUT, self.tensors[src].dims, **self.like(src))
            self.ops.append(NOp("RESHAPE", [src], [tid], {}, ["(output copy)"]))
        self.tensors[tid].kind = Kind.OUTPUT
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
                self.values[name] = View(self.new_tensor(Kind.ACTIVATION, shape), shape, identity(len(shape) + 1))
        return unknown

    def lower(self, node) -> None:
        try:
            self._lower_node(node)
        except EdgecnnError:
            raise
        except (IndexError, KeyError, ValueError, TypeError, AttributeError, ArithmeticError) as exc:
            # A malformed node (an input or attribute missing, of the wrong type or shape) that
            # the lowerings' own checks do not name: say which node, never a raw traceback.
            raise self.fail(f"malformed node, check its inputs and attributes ({type(exc).__name__}: {exc})") from None

    def _lower_node(self, node) -> None:
        domain = "" if node.domain in STANDARD_DOMAINS else node.domain
        reg = LOWERINGS.get((domain, node.op_type))
        if domain and reg is None:
            raise self.fail(f"op domain '{node.domain}' is not supported; supported: {supported_ops()}")
        inputs = [self.value(n) for n in node.input if n]
        if node.op_type == "Constant":
            a = attrs(node)
            if "value" not in a:
                raise self.fail("only Constant with a 'value' tensor attribute is supported")
            arr = self.onnx.numpy_helper.to_array(a["value"])
            self.values[node.output[0]] = Const((arr, arr))
            return
        if all(isinstance(v, Const) for v in inputs):
            self.fold(node, inputs)
            return
        if reg is None:
            raise self.fail(f"op {node.op_type} on runtime tensors is not supported; supported: {supported_ops()}")
        reg.lower(self, node)

    def fold(self, node, inputs: list[Const]) -> None:
        """Evaluate a node whose inputs are all constants, at each trial batch size."""
        reference = require("onnx.reference")
        names = [n for n in node.input if n]
        try:
            evaluator = reference.ReferenceEvaluator(node, opsets={"": self.opset})
            if all(v.static for v in inputs):
                outs = evaluator.run(None, {n: v.value for n, v in zip(names, inputs)})
                results = [(o, o) for o in outs]
            else:
                per_batch = [
                    evaluator.run(None, {n: v.values[b] for n, v in zip(names, inputs)})
                    for b in range(len(TRIAL_BATCHES))
                ]
                results = list(zip(*per_batch))
        except Exception as exc:  # onnx.reference raises many types
            raise self.fail(f"could not fold this constant computation ({type(exc).__name__}: {exc})") from None
        for name, pair in zip(node.output, results):
            self.values[name] = Const(tuple(np.asarray(x) for x in pair))


# ---------------------------------------------------------------------------------------
# The metadata section

# onnxruntime's spelling of ONNX element types (NodeArg.type), by TensorProto code.
ORT_TYPE_NAMES = {
    1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
    9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 16: "bfloat16",
}  # fmt: skip


def _node_arg(value_info) -> dict:
    """A graph input or output as onnxruntime's NodeArg shows it: name, shape (a number, the
    dim_param name of a free dimension, or None), type."""
    ttype = value_info.type.tensor_type
    shape = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
        for d in ttype.shape.dim
    ]
    return {"name": value_info.name, "shape": shape, "type": f"tensor({ORT_TYPE_NAMES.get(ttype.elem_type, '?')})"}


def onnx_metadata(model: onnx.ModelProto, whole: bool = False) -> bytes:
    """The metadata section (docs/file-format.md "Metadata"): what onnxruntime's get_inputs(),
    get_outputs() and get_modelmeta() report of the ONNX model, as UTF-8 JSON. whole: the file
    runs the graph's whole fixed-shape input as one sample (passes/whole.py)."""
    import json

    initializers = {t.name for t in model.graph.initializer}
    meta = {
        "inputs": [_node_arg(i) for i in model.graph.input if i.name not in initializers],
        "outputs": [_node_arg(o) for o in model.graph.output],
        "producer": model.producer_name,
        "producer_version": model.producer_version,
        "graph_name": model.graph.name,
        "domain": model.domain,
        "description": model.doc_string,
        "graph_description": model.graph.doc_string,
        "version": model.model_version,
        "custom": {p.key: p.value for p in model.metadata_props},
    }
    if whole:
        meta["whole"] = True
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------
# Loading and checking the ONNX model


def load(onnx_path_or_model) -> tuple[onnx.ModelProto, Path | None]:
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
        raise CompileError(
            f"{where}: {node.op_type!r} is not an ONNX op (opset {opset}); supported: {supported_ops()}"
        ) from None
    if not schema.min_input <= len(node.input) <= schema.max_input:
        raise CompileError(
            f"{where}: has {len(node.input)} inputs; {node.op_type} takes {schema.min_input} to {schema.max_input}"
        )
    if not schema.min_output <= len(node.output) <= schema.max_output:
        raise CompileError(
            f"{where}: has {len(node.output)} outputs; {node.op_type} gives {schema.min_output} to {schema.max_output}"
        )
    for attr in node.attribute:
        spec = schema.attributes.get(attr.name)
        if spec is not None and attr.type != spec.type:
            raise CompileError(
                f"{where}: attribute '{attr.name}' is of type "
                f"{onnx.AttributeProto.AttributeType.Name(attr.type)}, the schema says "
                f"{onnx.AttributeProto.AttributeType.Name(spec.type)}"
            )


def check_edges(model: onnx.ModelProto) -> None:
    """Every node input comes from the graph inputs, an initializer or an EARLIER node, and
    no value is produced twice: a dangling edge, a cycle or an unsorted graph is refused
    here, by name, before any pass walks the graph. ONNX-domain nodes are checked against
    their schema (input/output counts, attribute types)."""
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in STANDARD_DOMAINS), 13)
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    produced = {o for n in graph.node for o in n.output if o}
    for node in graph.node:
        where = f"node '{node.name or '(unnamed)'}' ({node.op_type})"
        if node.domain in STANDARD_DOMAINS:
            _check_schema(node, where, opset)
        for name in node.input:
            if name and name not in known:
                why = (
                    "is produced by this or a later node: the graph has a cycle or is not topologically sorted"
                    if name in produced
                    else "is not produced by any node, initializer or graph input"
                )
                raise CompileError(f"{where}: input '{name}' {why}")
        for name in node.output:
            if name and name in known:
                raise CompileError(
                    f"{where}: output '{name}' is already produced by another node, an initializer or a graph input"
                )
            known.add(name)
    for out in graph.output:
        if out.name not in known:
            raise CompileError(f"graph output '{out.name}' is not produced by any node")

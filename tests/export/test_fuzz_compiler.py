"""The ONNX -> .ecnn compiler on hostile ONNX models: hypothesis mutates small valid float
and int8 models (wrong attributes, missing initializers, bad shapes, unknown ops, cyclic
and dangling edges, wrong dtypes, missing or extra graph inputs/outputs). Every mutant
either compiles into a file the C loader accepts and runs, or is refused with an
EdgecnnError (CompileError) naming the node or field, never a raw IndexError/KeyError/
AttributeError/TypeError/NumPy error from deep inside.

The base models are the fuzzer's seed models (native/fuzz/make_seeds.py): the reference
CNN's ONNX structure, small; the int8 one quantized by onnxruntime's quantize_static.
"""

import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecnn.runtime.errors import EdgecnnError

onnx = pytest.importorskip("onnx", reason="the compiler tests need onnx: pip install 'edgecnn[train]'")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# Per base model (each compile takes a few ms). Deterministic by default, so a CI failure
# reproduces; EDGECNN_FUZZ_EXAMPLES=5000 EDGECNN_FUZZ_RANDOM=1 explores further.
EXAMPLES = int(os.environ.get("EDGECNN_FUZZ_EXAMPLES", "400"))
DERANDOMIZE = os.environ.get("EDGECNN_FUZZ_RANDOM", "") == ""


def _seeds_module():
    spec = importlib.util.spec_from_file_location("make_seeds", ROOT / "native" / "fuzz" / "make_seeds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def base_models():
    seeds = _seeds_module()
    rng = np.random.default_rng(5)
    floats = seeds.float_seeds(rng)
    with tempfile.TemporaryDirectory() as tmp:
        int8_model = seeds.quantized(floats["float_relu"], rng, Path(tmp))
    return {"float": floats["float_relu"], "strided": floats["float_leaky_pad_stride"], "int8": int8_model}


ATTRIBUTE_VALUES = st.one_of(
    st.integers(-3, 70000),
    st.lists(st.integers(-2, 9), min_size=0, max_size=6),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([b"SAME_UPPER", b"SAME_LOWER", b"VALID", b"NOTSET", b"BOGUS", b""]),
    st.lists(st.floats(-2, 2, width=32), min_size=0, max_size=3),
)
ATTRIBUTE_NAMES = [
    "kernel_shape",
    "strides",
    "pads",
    "dilations",
    "group",
    "perm",
    "axis",
    "alpha",
    "transA",
    "transB",
    "beta",
    "auto_pad",
    "ceil_mode",
    "storage_order",
    "allowzero",
    "min",
    "max",
    "axes",
    "to",
    "unknown",
]
ONNX_DTYPES = [
    TensorProto.FLOAT16,
    TensorProto.DOUBLE,
    TensorProto.INT64,
    TensorProto.INT32,
    TensorProto.INT8,
    TensorProto.UINT8,
    TensorProto.BOOL,
    TensorProto.STRING,
    TensorProto.UNDEFINED,
]
OP_TYPES = [
    "LSTM",
    "Conv3D",
    "Gather",
    "Concat",
    "Add",
    "Mul",
    "MatMul",
    "Conv",
    "MaxPool",
    "Relu",
    "Reshape",
    "Softmax",
    "QLinearConv",
    "QuantizeLinear",
    "DequantizeLinear",
    "QGemm",
    "Transpose",
    "Flatten",
    "NoSuchOp",
    "",
]


@st.composite
def mutation(draw, model):
    """One or two random edits of a copy of `model`; returns (mutant, description)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    done = []
    for _ in range(draw(st.integers(1, 2))):
        if not len(g.node) or not len(g.input):
            break
        kind = draw(
            st.sampled_from(
                [
                    "attribute",
                    "drop_initializer",
                    "reshape_initializer",
                    "retype_initializer",
                    "op_type",
                    "domain",
                    "dangling_input",
                    "cycle",
                    "drop_node",
                    "swap_nodes",
                    "input_shape",
                    "input_dtype",
                    "outputs",
                    "inputs",
                    "drop_input_edge",
                    "duplicate_output",
                ]
            )
        )
        nodes = list(g.node)
        n = draw(st.integers(0, len(nodes) - 1))
        node = g.node[n]
        if kind == "attribute":
            name = draw(st.sampled_from(ATTRIBUTE_NAMES))
            value = draw(ATTRIBUTE_VALUES)
            try:
                attribute = helper.make_attribute(name, value)
            except (ValueError, TypeError):  # e.g. an empty list has no attribute type
                continue
            kept = [a for a in node.attribute if a.name != name]
            del node.attribute[:]
            node.attribute.extend([*kept, attribute])
            done.append(f"{node.name}.{name} = {value!r}")
        elif kind == "drop_initializer" and len(g.initializer):
            i = draw(st.integers(0, len(g.initializer) - 1))
            done.append(f"drop initializer {g.initializer[i].name}")
            del g.initializer[i]
        elif kind == "reshape_initializer" and len(g.initializer):
            i = draw(st.integers(0, len(g.initializer) - 1))
            arr = numpy_helper.to_array(g.initializer[i])
            shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=4)))
            new = np.resize(arr, shape) if arr.size else np.zeros(shape, arr.dtype)
            g.initializer[i].CopyFrom(numpy_helper.from_array(new.astype(arr.dtype), g.initializer[i].name))
            done.append(f"initializer {g.initializer[i].name} shape {arr.shape} -> {shape}")
        elif kind == "retype_initializer" and len(g.initializer):
            i = draw(st.integers(0, len(g.initializer) - 1))
            arr = numpy_helper.to_array(g.initializer[i])
            dtype = draw(st.sampled_from([np.float64, np.int64, np.int32, np.int8, np.uint8, np.float16, np.bool_]))
            g.initializer[i].CopyFrom(numpy_helper.from_array(arr.astype(dtype), g.initializer[i].name))
            done.append(f"initializer {g.initializer[i].name} dtype {arr.dtype} -> {np.dtype(dtype)}")
        elif kind == "op_type":
            node.op_type = draw(st.sampled_from(OP_TYPES))
            done.append(f"{node.name} op_type -> {node.op_type}")
        elif kind == "domain":
            node.domain = draw(st.sampled_from(["com.microsoft", "ai.onnx.ml", "bogus", "ai.onnx"]))
            done.append(f"{node.name} domain -> {node.domain}")
        elif kind == "dangling_input" and len(node.input):
            i = draw(st.integers(0, len(node.input) - 1))
            node.input[i] = draw(st.sampled_from(["nowhere", "", node.output[0]]))
            done.append(f"{node.name} input {i} -> {node.input[i]!r}")
        elif kind == "cycle" and len(node.input):
            later = g.node[draw(st.integers(n, len(nodes) - 1))]
            node.input[0] = later.output[0]
            done.append(f"{node.name} input 0 -> output of {later.name} (cycle)")
        elif kind == "drop_node":
            done.append(f"drop node {node.name}")
            del g.node[n]
        elif kind == "swap_nodes":
            j = draw(st.integers(0, len(nodes) - 1))
            a, b = onnx.NodeProto(), onnx.NodeProto()
            a.CopyFrom(g.node[n])
            b.CopyFrom(g.node[j])
            g.node[n].CopyFrom(b)
            g.node[j].CopyFrom(a)
            done.append(f"swap nodes {n} and {j}")
        elif kind == "input_shape":
            dims = draw(st.lists(st.one_of(st.integers(-1, 9), st.just("N")), min_size=0, max_size=5))
            t = g.input[0].type.tensor_type
            del t.shape.dim[:]
            for d in dims:
                dim = t.shape.dim.add()
                if isinstance(d, str):
                    dim.dim_param = d
                else:
                    dim.dim_value = d
            done.append(f"graph input shape -> {dims}")
        elif kind == "input_dtype":
            g.input[0].type.tensor_type.elem_type = draw(st.sampled_from(ONNX_DTYPES))
            done.append(f"graph input dtype -> {g.input[0].type.tensor_type.elem_type}")
        elif kind in ("inputs", "outputs"):  # none left, or one more (an unfed input; a node output as output)
            infos, what = (g.input, "input") if kind == "inputs" else (g.output, "output")
            if draw(st.booleans()):
                del infos[:]
                done.append(f"no graph {what}")
            else:
                name, shape = ("second", [1, 3]) if kind == "inputs" else (g.node[n].output[0], None)
                infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
                done.append(f"extra graph {what} {name}")
        elif kind == "drop_input_edge" and len(node.input) > 1:
            del node.input[-1]
            done.append(f"{node.name}: last input removed")
        elif kind == "duplicate_output":
            other = g.node[draw(st.integers(0, len(nodes) - 1))]
            node.output[0] = other.output[0]
            done.append(f"{node.name} output 0 -> {other.output[0]} (written twice)")
    return m, "; ".join(done) or "no edit"


def compile_or_refuse(mutant, what):
    """Compile; a refusal must be an EdgecnnError, a success must load and run natively."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    try:
        blob, _ = compile_model(mutant)
    except EdgecnnError as exc:
        assert str(exc).strip(), what
        return "refused"
    except Exception as exc:
        raise AssertionError(
            f"mutation [{what}] raised {type(exc).__name__}: {exc} instead of an EdgecnnError"
        ) from exc
    try:
        model = Model.from_bytes(blob)  # a file the compiler writes must pass the C loader's checks
    except EdgecnnError as exc:
        raise AssertionError(f"mutation [{what}] compiled into a file the C library refuses: {exc}") from exc
    x = np.random.default_rng(0).uniform(0, 1, (2, *model.input_shape)).astype(model.input_dtype)
    assert model.predict(x).shape == (2, *model.output_shape), what
    return "compiled"


@pytest.mark.parametrize("base", ["float", "strided", "int8"])
def test_mutated_models_compile_or_fail_cleanly(base_models, base):
    outcomes = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data):
        mutant, what = data.draw(mutation(base_models[base]))
        outcomes.append(compile_or_refuse(mutant, what))

    check()
    # The base model compiles, and most mutations are refused: both paths were exercised.
    assert compile_or_refuse(base_models[base], "none") == "compiled"
    assert outcomes.count("refused") > 0 and len(outcomes) >= EXAMPLES // 2, outcomes[:5]


@pytest.mark.parametrize("base", ["float", "int8"])
def test_every_initializer_missing_is_named(base_models, base):
    """Deleting any one initializer gives an error naming the value that is missing."""
    from edgecnn.export.compiler import compile_model

    model = base_models[base]
    used = {i for n in model.graph.node for i in n.input}
    for k, init in enumerate(model.graph.initializer):
        if init.name not in used:
            continue
        m = onnx.ModelProto()
        m.CopyFrom(model)
        del m.graph.initializer[k]
        with pytest.raises(EdgecnnError, match=init.name):
            compile_model(m)

"""The ONNX backend node test cases (shipped with the `onnx` package) for the ops the compiler
claims, run through edgecnn: compile, run natively, compare with the case's expected outputs.

`onnx.backend.test.case.node.collect_testcases()` builds each case's model and its expected
inputs/outputs in memory (the wheel has no data/node directory). A case belongs to the op of its
graph's first node and is taken when every node of its graph is an op the compiler's registry
lists (standard domain). Each case ends in one of:

- passed:  compiled, ran, every output matches (floats within FLOAT_TOLERANCE, relative to the
           value's magnitude above 1; integers exactly);
- refused: the compiler or the runtime refused it with an EdgecnnError naming the node, shape
           or value and the reason (the reason is recorded);
- wrong:   it ran and gave another answer; crashed: any other exception. Both are failures.

A case counts under its op only when it exercises what edgecnn claims for that op
(outside_claim: float32 / int8 / uint8 tensors, inference, ...); the others (Cast to float16, an
int16 Add, ...) are run all the same and listed apart, each with its reason.

The native runtime has one runtime input: a case's other graph inputs are given as initializers
holding the case's values for them (constant weights, as in a deployed model); a case whose first
input is not a runtime tensor of the model is then a constant computation.

`python tests/onnx_backend.py` rewrites docs/backend-tests.md from a fresh run;
tests/export/test_onnx_backend.py runs the cases and checks that page is current.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FLOAT_TOLERANCE = 1e-5
DOC = Path(__file__).resolve().parent.parent / "docs" / "backend-tests.md"


@dataclass(frozen=True)
class Outcome:
    case: str
    op: str
    result: str  # passed / refused / wrong / crashed
    detail: str = ""
    outside: str = ""  # why the case is outside edgecnn's claim for its ops ('' inside: outside_claim)


def claimed_ops() -> list[str]:
    """The standard-domain ops the compiler's registry lists (edgecnn compile's supported ops)."""
    import edgecnn.export.compiler  # noqa: F401  (registers every lowering)
    from edgecnn.export.compiler.graph import LOWERINGS

    return sorted({op for (domain, op), reg in LOWERINGS.items() if domain == "" and reg.listed})


def claimed_cases() -> list:
    """(op, case) for every node test case whose graph uses claimed ops only, by case name."""
    from onnx.backend.test.case.node import collect_testcases

    claimed = set(claimed_ops()) | {"Constant"}
    with warnings.catch_warnings():  # the cases of unclaimed ops (Cast to float8, ...) warn as numpy builds them
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    taken = []
    for case in cases:
        ops = [n.op_type for n in case.model.graph.node if n.domain in ("", "ai.onnx")]
        if len(ops) == len(case.model.graph.node) and set(ops) - {"Constant"} and set(ops) <= claimed:
            taken.append((next(o for o in ops if o != "Constant"), case))
    return sorted(taken, key=lambda oc: (oc[0], oc[1].name))


# The element types of the runtime's tensors (docs/file-format.md): a model input is float32, int8
# or uint8, an output also int32 (ConvInteger, MatMulInteger); constants may also be int32
# (biases), int64 (shapes, axes) and bool (flags), which the compiler reads at compile time.
INPUT_TYPES = ("FLOAT", "INT8", "UINT8")
OUTPUT_TYPES = (*INPUT_TYPES, "INT32")
CONSTANT_TYPES = (*INPUT_TYPES, "INT32", "INT64", "BOOL")


# Ops over the spatial axes of an (N, C, ...) tensor: claimed over 1 or 2 of them (models.md).
SPATIAL_OPS = ("Conv", "ConvTranspose", "ConvInteger", "MaxPool", "AveragePool", "QLinearConv")


def _spatial_axes(case, node) -> int:
    """The number of spatial axes `node` works over: its kernel's rank, or its input's rank - 2."""
    for a in node.attribute:
        if a.name == "kernel_shape":
            return len(a.ints)
    shapes = {vi.name: vi.type.tensor_type.shape.dim for vi in case.model.graph.input}
    return len(shapes.get(node.input[0], ())) - 2


def outside_claim(case) -> str:
    """'' when the case exercises what edgecnn claims for its ops (docs/models.md), else why not.
    The claim: inference on float32 / int8 / uint8 tensors (int32 outputs), int8 ones as
    quantized values (QuantizeLinear / DequantizeLinear, QLinear*), convolutions and pooling over
    1 or 2 spatial axes, non-empty tensors. A case outside it is still run and listed, under its
    reason, apart from the count."""
    import onnx
    from onnx import TensorProto
    from onnx.numpy_helper import to_array

    graph = case.model.graph
    type_name = TensorProto.DataType.Name
    initialized = {t.name for t in graph.initializer}
    runtime = [i for i in graph.input if i.name not in initialized]
    for kind, infos, allowed in (
        ("runtime input", runtime[:1], INPUT_TYPES),
        ("graph output", graph.output, OUTPUT_TYPES),
        ("constant input", runtime[1:], CONSTANT_TYPES),
    ):
        for vi in infos:
            if not vi.type.HasField("tensor_type"):
                return f"a {kind} that is not a tensor (a sequence or an optional)"
            name = type_name(vi.type.tensor_type.elem_type)
            if name not in allowed:
                kinds = ", ".join("float32" if t == "FLOAT" else t.lower() for t in allowed)
                return f"{kind} of type {name}: the runtime's {kind}s are {kinds}"
            dims = vi.type.tensor_type.shape.dim  # (a constant may be empty: the axes of a Reduce* over all)
            if kind != "constant input" and any(d.HasField("dim_value") and d.dim_value == 0 for d in dims):
                return f"an empty {kind} (a zero dimension)"
    first = runtime[0].type.tensor_type.elem_type if runtime else TensorProto.FLOAT
    values = {t.name: to_array(t) for t in graph.initializer}
    if case.data_sets:
        values.update(zip((i.name for i in runtime), map(as_array, case.data_sets[0][0]), strict=False))
    for node in graph.node:
        at = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in ("Add", "Sub", "Mul", "Div") and type_name(first) in ("INT8", "UINT8"):
            return "integer arithmetic on raw int8 / uint8 tensors: edgecnn's int8 tensors are quantized values"
        mode = node.input[2] if node.op_type == "Dropout" and len(node.input) > 2 else ""
        if at.get("training_mode") or (mode and bool(values.get(mode, True))):
            return "training mode: edgecnn compiles inference graphs"
        if at.get("block_size"):
            return "blocked quantization (block_size): edgecnn quantizes per tensor or per axis"
        if node.op_type in SPATIAL_OPS and _spatial_axes(case, node) > 2:
            return f"{node.op_type} over 3 spatial axes: edgecnn's convolutions and pooling are 1-D or 2-D"
    return ""


def with_one_runtime_input(model, inputs: list) -> tuple:
    """The case's model with every graph input after the first turned into an initializer holding
    the case's value for it; returns (model, first input's name, first input's value)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    runtime = [i for i in graph.input if i.name not in initialized]
    for value_info, value in zip(runtime[1:], inputs[1:], strict=False):  # optional inputs may be absent
        if isinstance(value, onnx.TensorProto):  # types numpy has no dtype for (int4, float8, ...)
            tensor = onnx.TensorProto.FromString(value.SerializeToString())
            tensor.name = value_info.name
        else:
            tensor = numpy_helper.from_array(np.asarray(value), value_info.name)
        graph.initializer.append(tensor)
    keep = runtime[0]
    others = [i for i in graph.input if i.name != keep.name]
    del graph.input[:]
    graph.input.extend([keep, *others])
    return model, keep.name, as_array(inputs[0])


def as_array(value) -> np.ndarray:
    """A case's input or output value as an array (TensorProto for types numpy lacks)."""
    import onnx
    from onnx import numpy_helper

    return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else np.asarray(value)


def _matches(got: np.ndarray, want: np.ndarray, case=None) -> str:
    """'' when got is want (floats within FLOAT_TOLERANCE, relative above magnitude 1), else why not.
    With `case`: within the case's own tolerance (rtol, atol), for cases whose expected values are
    typed rounded (e.g. to 4 digits)."""
    if got.shape != want.shape:
        return f"output shape {got.shape}, expected {want.shape}"
    if got.dtype != want.dtype:
        return f"output dtype {got.dtype}, expected {want.dtype}"
    if np.issubdtype(want.dtype, np.floating):
        if not np.array_equal(np.isnan(got), np.isnan(want)):
            return "NaN where the expected output has none (or the reverse)"
        ok = ~np.isnan(want)
        g, w = got[ok].astype(np.float64), want[ok].astype(np.float64)
        if case is not None:
            return "" if np.allclose(g, w, rtol=case.rtol, atol=case.atol) else "outside the case's tolerance"
        diff = np.abs(g - w) / np.maximum(1.0, np.abs(w))
        if diff.size and diff.max() > FLOAT_TOLERANCE:
            return f"largest difference {diff.max():.3g} > {FLOAT_TOLERANCE}"
        return ""
    return "" if np.array_equal(got, want) else f"{int(np.count_nonzero(got != want))} values differ"


def _onnxruntime(model, name: str, x: np.ndarray) -> list:
    """onnxruntime's outputs for the model (the reference when a case's typed values are rounded)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {name: x})


def run_case(op: str, case) -> Outcome:
    """Compile and run one case (every data set); see the module docstring for the outcomes."""
    from dataclasses import replace

    return replace(_run_case(op, case), outside=outside_claim(case))


def _run_case(op: str, case) -> Outcome:
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime.errors import EdgecnnError
    from edgecnn.runtime.session import InferenceSession

    loose = []  # outputs within the case's own tolerance only
    try:
        for inputs, outputs in case.data_sets:
            model, name, x = with_one_runtime_input(case.model, list(inputs))
            blob, _ = compile_model(model)
            session = InferenceSession(blob, threads=1)
            got = session.run(None, {name: x})
            if len(outputs) != len(got):
                return Outcome(case.name, op, "wrong", f"{len(got)} outputs, expected {len(outputs)}")
            for i, (g, w) in enumerate(zip(got, outputs, strict=True)):
                g, w = np.asarray(g), as_array(w)
                why = _matches(g, w)
                if why and not _matches(g, w, case) and not _matches(g, _onnxruntime(model, name, x)[i]):
                    loose.append(
                        f"{why}; within the case's rtol={case.rtol:g}, atol={case.atol:g}, and within "
                        f"{FLOAT_TOLERANCE:g} of onnxruntime"
                    )
                elif why:
                    return Outcome(case.name, op, "wrong", why)
        return Outcome(case.name, op, "passed", "; ".join(loose))
    except EdgecnnError as exc:
        return Outcome(case.name, op, "refused", str(exc).split("\n")[0])
    except Exception as exc:  # anything else is a crash: reported as a failure with its type
        return Outcome(case.name, op, "crashed", f"{type(exc).__name__}: {exc}")


def run_all() -> list[Outcome]:
    return [run_case(op, case) for op, case in claimed_cases()]


def _reason(detail: str) -> str:
    """A refusal message with the case-specific parts (node names, numbers) generalised, so that
    equal reasons group together."""
    text = re.sub(r"node '[^']*' \((\w+)\)", r"\1", detail)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"[\[(][-\d, N]*[\])]", "(…)", text)
    return re.sub(r"(?<![\w.])-?\d+(?![\w.])", "N", text).split("; supported:")[0]


def _grouped(lines: list, outcomes: list[Outcome], key) -> None:
    """Append `outcomes` grouped by key(outcome), largest group first, each with its cases."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    for reason, cases in sorted(groups.items(), key=lambda rc: (-len(rc[1]), rc[0])):
        lines.append(f"- **{len(cases)}**: {reason}")
        lines.append(f"  ({', '.join(f'`{o.case}`' for o in cases)})")


def report(outcomes: list[Outcome]) -> str:
    """docs/backend-tests.md: counts per op, then every refused case with its reason, then the
    cases outside the claim with theirs."""
    from importlib.metadata import version

    inside = [o for o in outcomes if not o.outside]
    outside = [o for o in outcomes if o.outside]
    per_op: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        per_op[o.op]["outside" if o.outside else o.result] += 1
    passed = sum(o.result == "passed" for o in inside)
    lines = [
        "# ONNX backend node tests",
        "",
        "Generated by `python tests/onnx_backend.py` (do not edit by hand); "
        "`tests/export/test_onnx_backend.py` fails when it is out of date.",
        "",
        f"The node test cases of onnx {version('onnx')} (`onnx.backend.test.case.node.collect_testcases()`) whose "
        "graphs use only ops the compiler claims, each compiled and run natively and compared with the "
        f"case's expected outputs (floats within {FLOAT_TOLERANCE:g}, relative above magnitude 1; integers "
        "exactly). Inputs after the first are given as constant weights (the native runtime has one "
        "runtime input). A case that is not passed is refused with a message naming the node and the "
        "reason: never a crash or a wrong answer.",
        "",
        "A case counts under its op when it exercises what edgecnn claims for that op "
        "([models.md](models.md#operator-coverage)): inference on float32, int8 and uint8 tensors (int32 outputs too), "
        "int8 ones as quantized values, convolutions and pooling over 1 or 2 spatial axes, non-empty tensors. The "
        "others (Cast to float16, an int16 Add, a Dropout in training mode, ...) are run all the same "
        "(refused, never a crash or a wrong answer) and listed with the reason under "
        "[Outside the claim](#outside-the-claim).",
        "",
        f"**{passed} of {len(inside)} cases within the claim pass ({100 * passed / max(1, len(inside)):.1f}%).** "
        f"{len(outside)} more cases are outside the claim ({sum(o.result == 'passed' for o in outside)} of them pass).",
        "",
        "| op | cases | passed | refused | outside the claim |",
        "|---|---|---|---|---|",
    ]
    for op in sorted(set(claimed_ops()) | set(per_op)):
        c = per_op.get(op, Counter())
        total = sum(c.values()) - c["outside"]
        lines.append(f"| {op} | {total} | {c['passed']} | {total - c['passed']} | {c['outside']} |")
    loose = [o for o in outcomes if o.result == "passed" and o.detail]
    if loose:
        lines += ["", "## Passed at the case's own tolerance", ""]
        lines += [
            "These cases' expected outputs are typed rounded; edgecnn's output matches onnxruntime's "
            f"but differs from the typed values by more than {FLOAT_TOLERANCE:g}:",
            "",
        ]
        lines += [f"- `{o.case}`: {o.detail}" for o in loose]
    lines += ["", "## Refusals by reason", ""]
    _grouped(lines, [o for o in inside if o.result != "passed"], lambda o: _reason(o.detail))
    lines += ["", "## Outside the claim", ""]
    lines += ["Cases run and not counted, by why they are outside edgecnn's claim for their op:", ""]
    _grouped(lines, outside, lambda o: o.outside)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    outcomes = run_all()
    DOC.write_text(report(outcomes))
    inside = [o for o in outcomes if not o.outside]
    print(f"{sum(o.result == 'passed' for o in inside)} of {len(inside)} within the claim passed", end="; ")
    print(f"{sum(o.result == 'passed' for o in outcomes)} of {len(outcomes)} in all; wrote {DOC}")
    bad = [o for o in outcomes if o.result in ("wrong", "crashed")]
    for o in bad:
        print(f"{o.result}: {o.case} ({o.op}): {o.detail}", file=sys.stderr)
    sys.exit(1 if bad else 0)

"""The native runtime against onnxruntime on small graphs written with onnx.helper: build the
model, run it in both, compare (floats within RTOL of the output's scale, int8 bit for bit), and
list the ops onnxruntime fused so a test knows which of its kernels it compared with."""

from __future__ import annotations

import collections
import platform
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from needs import need

onnx = need("onnx")
ort = need("onnxruntime")
from edgecnn.export.artifacts import ort_session  # noqa: E402 (after the check that names the package)
from edgecnn.export.quantize import optimized_op_counts  # noqa: E402

RTOL = 1e-5
FLOAT_OPSET = 19  # AveragePool dilations (opset 19) and the newest forms of the other ops
INT8_OPSET = 17  # tf2onnx's; the opset onnxruntime's quantizer and QDQ fusions are checked at here
MICROSOFT = "com.microsoft"
# Enough examples to reach the edge cases, few enough to keep a file well under a minute;
# derandomized so CI sees the same cases every run.
FLOAT_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def node(op, inputs, outputs, **attrs):
    """onnx.helper.make_node."""
    return onnx.helper.make_node(op, inputs, outputs, **attrs)


def make_model(
    nodes, in_shape, inits=(), *, opset=FLOAT_OPSET, batch="N", out_shape=None, microsoft=False, x="x", y="y"
):
    """A model with the float input x ([batch, *in_shape]) and the float output y; inits: (name,
    array) pairs or a dict; microsoft: the com.microsoft domain is imported too (QLinearAdd ...)."""
    helper, float32 = onnx.helper, onnx.TensorProto.FLOAT
    pairs = inits.items() if isinstance(inits, dict) else inits
    graph = helper.make_graph(
        nodes,
        "case",
        [helper.make_tensor_value_info(x, float32, [batch, *in_shape])],
        [helper.make_tensor_value_info(y, float32, out_shape)],
        initializer=[onnx.numpy_helper.from_array(np.asarray(a), n) for n, a in pairs],
    )
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(MICROSOFT, 1)] if microsoft else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 9  # onnx.helper writes the installed onnx's newest, which onnxruntime may not read yet
    return model


def ort_u8s8_exact() -> bool:
    """True when onnxruntime's u8 x s8 kernels are exact integer math here for full-range
    weights. Not on x86 without VNNI, where they add pairs of products in a saturating int16
    (vpmaddubsw): its exact mode (ort_session) fixes that for QDQ graphs only, not for
    ConvInteger, MatMulInteger or a QLinearConv written as such."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return True  # ARM64: sdot / smull kernels, no int16 saturation
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def assert_onnxruntime_agrees(expected: np.ndarray, exact: np.ndarray, what: str) -> None:
    """onnxruntime's result equals exact integer math, or (where its u8 x s8 kernels saturate) a
    warning says how many values it missed: the native result was compared with `exact`."""
    differ = int(np.count_nonzero(np.asarray(expected) != np.asarray(exact)))
    if ort_u8s8_exact():
        assert differ == 0, f"{what}: onnxruntime differs from exact integer math on {differ} values"
    elif differ:
        warnings.warn(
            f"{what}: this CPU has x86 SIMD without VNNI, where onnxruntime's u8s8 kernels saturate pairs of "
            f"products at int16: {differ} of {np.size(exact)} of its values differ from exact integer math. "
            "The native result was compared with the exact reference instead (bit for bit).",
            stacklevel=2,
        )


def run_onnxruntime(model, x: np.ndarray, *, optimize: bool = True) -> np.ndarray:
    """The first output of onnxruntime on the CPU, at its default optimisation level (which fuses
    QDQ groups into its int8 kernels) or, optimize=False, running the graph as written."""
    session = ort_session(model, optimize=optimize)
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def optimized_ops(model, *, exact: bool = False) -> collections.Counter:
    """Op types of the graph onnxruntime runs at its default optimisation level, in its default
    mode (exact=True: in the exact mode the comparisons use)."""
    return collections.Counter(optimized_op_counts(model, exact=exact))


def rand(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


class GroupedConv(NamedTuple):
    """The sizes of a 2-D convolution (or its transpose) in groups: input h x w, `groups` groups of
    cg input and og output channels, kernel kh x kw, strides sh, sw, dilations dh, dw."""

    h: int
    w: int
    groups: int
    cg: int
    og: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int


@st.composite
def grouped_convs(draw, *, size: int, groups: int, kernel: int, stride: int, dilation: int) -> GroupedConv:
    """A GroupedConv, each size drawn from 1 to its bound (1 to 3 channels a group)."""

    def two(bound):
        return draw(st.integers(1, bound)), draw(st.integers(1, bound))

    h, w = two(size)
    group_count, cg, og = draw(st.integers(1, groups)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return GroupedConv(h, w, group_count, cg, og, *two(kernel), *two(stride), *two(dilation))


def same_pads_ok(size, stride, kernel, dilation=1) -> bool:
    """onnxruntime refuses auto_pad SAME_* when the needed padding is negative (stride > kernel span)."""
    return (-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size >= 0


def check_float(model, x, reference=False):
    """Compile, run natively (with reference=True: the fast and the reference kernels), compare with
    onnxruntime running the graph as written: |native - onnxruntime| <= RTOL * max(1, max|onnxruntime|).
    Returns (the native Model, the compile report)."""
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, report = compile_model(model)
    native = Model.from_bytes(blob)
    want = run_onnxruntime(model, x, optimize=False)
    results = []
    for ref in (False, True) if reference else (False,):
        got = native.predict(x, reference=ref)
        assert got.shape == want.shape, (got.shape, want.shape)
        diff = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
        assert diff <= RTOL * scale, f"largest |native - onnxruntime| = {diff:.3g} (limit {RTOL * scale:.3g})"
        results.append(got)
    if reference:  # the fast kernels sum in the reference order: bit-identical (docs/file-format.md)
        assert np.array_equal(results[0], results[1]), "fast and reference kernels differ"
    return native, report


def run_native(model, x: np.ndarray) -> np.ndarray:
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, _ = compile_model(model)
    return Model.from_bytes(blob).predict(x, check_finite=False)  # some cases test +-Inf saturation


def assert_bit_exact(model, x, what: str) -> int:
    """Native == onnxruntime (default optimisation level) on every value; returns the number of
    values compared. The outputs are the DequantizeLinear of int8 codes: equal floats, equal codes."""
    expected, native = run_onnxruntime(model, x), run_native(model, x)
    assert native.shape == expected.shape, (what, native.shape, expected.shape)
    differ = np.flatnonzero(native.reshape(-1) != expected.reshape(-1))
    if differ.size:
        i = differ[0]
        raise AssertionError(
            f"{what}: {differ.size} of {native.size} int8 values differ from onnxruntime "
            f"(first at flat index {i}: native {native.reshape(-1)[i]!r}, "
            f"onnxruntime {expected.reshape(-1)[i]!r})"
        )
    return native.size

"""Native int8 ops against onnxruntime, bit for bit, on small generated models.

Each case builds a one- or few-op int8 model with onnx.helper, in QDQ format (what
`edgecnn quantize` writes; onnxruntime fuses it at its default level, and the test checks
that it did, so it knows which kernel it compares with) or QOperator format
(QLinearConv, QLinearMatMul, com.microsoft.QGemm), with int8 or uint8 activations,
per-tensor or per-channel weights. Inputs are random codes, codes whose requantization
lands exactly on .5 (power-of-two scales make (float)acc * s exact), and values far
outside the range (saturation at both ends). The model output is the DequantizeLinear of
the last quantized tensor: two floats are equal exactly when the int8 codes are.

onnxruntime runs in its exact mode (edgecnn.export.artifacts.ort_session): on x86 without
VNNI its default u8s8 kernels saturate pairs of products at int16 with full-range weights.
Full-range weights are also compared with the exact integer reference (tests/int8_reference.py).
"""

from __future__ import annotations

import collections
from typing import NamedTuple

import int8_reference as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ort_compare import INT8_OPSET, MICROSOFT, make_model, optimized_ops, run_native, run_onnxruntime

F32 = np.float32
# Reduce-range weights (edgecnn quantize's default): exact in onnxruntime on every CPU.
REDUCED = (-64, 64)
FULL = (-127, 127)


# ---------------------------------------------------------------------------------------
# model building


class Builder:
    """Accumulates nodes and initializers of a small model with one float input."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, array, prefix="c"):
        self.n += 1
        name = f"{prefix}{self.n}"
        self.inits.append((name, array))
        return name

    def node(self, op, inputs, domain="", **attrs):
        from onnx import helper

        self.n += 1
        out = f"t{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.n}", domain=domain, **attrs))
        return out

    def qparams(self, scale, zp):
        """The (scale, zero point) input pair of a quantized tensor; scale per tensor or per channel."""
        return [self.const(np.asarray(scale, F32)), self.const(zp)]

    def q(self, x, scale, zp):
        return self.node("QuantizeLinear", [x, *self.qparams(scale, zp)])

    def dq(self, x, scale, zp, axis=None):
        extra = {} if axis is None else {"axis": axis}
        return self.node("DequantizeLinear", [x, *self.qparams(scale, zp)], **extra)

    def model(self, input_shape, output):
        return make_model(self.nodes, input_shape, self.inits, opset=INT8_OPSET, microsoft=True, x="input", y=output)


def run_both(model, x):
    """(onnxruntime output, native output, onnxruntime's optimized op types)."""
    return run_onnxruntime(model, x), run_native(model, x), optimized_ops(model)


def assert_same_codes(native, expected, scale, what=""):
    """Exact equality of dequantized outputs; on failure, the worst difference in quantization steps."""
    assert native.shape == expected.shape, (native.shape, expected.shape)
    steps = np.rint((native.astype(np.float64) - expected.astype(np.float64)) / float(scale))
    differ = np.count_nonzero(native != expected)
    assert differ == 0, (
        f"{what}: {differ} of {native.size} int8 values differ from the reference, "
        f"largest difference {int(np.abs(steps).max())} steps"
    )


def assert_saturates_both_ends(native, scale, zero_point, dtype):
    """The case really reaches qmin and qmax (several times each)."""
    codes = np.rint(native.astype(np.float64) / float(scale)).astype(np.int64) + zero_point
    lo, hi = ref.qrange(dtype)
    assert np.count_nonzero(codes == lo) > 1 and np.count_nonzero(codes == hi) > 1, (codes.min(), codes.max())


def count_ties(acc, y_zero_point, dtype) -> int:
    """Accumulators that requantize (s = 1/2) to exactly k + 0.5 with k and k + 1 inside the range."""
    lo, hi = ref.qrange(dtype)
    k = np.floor(acc / 2.0) + int(y_zero_point)
    return int(np.count_nonzero((acc % 2 == 1) & (k >= lo) & (k < hi)))


def act_params(dtype, rng, relu_zp=False):
    """A random activation (scale, zero point) of dtype; zero point at the minimum for relu_zp."""
    lo, hi = ref.qrange(dtype)
    zp = lo if relu_zp else int(rng.integers(lo + 20, hi - 20))
    return dtype(zp)


class Case(NamedTuple):
    """A quantized layer: its model, a float input, the exact integer reference's output (both
    in the model's layout), the output scale and zero point, and how many accumulators land on
    an exact tie."""

    model: object
    x: np.ndarray
    exact: np.ndarray
    y_scale: float
    y_zero_point: int
    ties: int


class Variant(NamedTuple):
    """How the operands of a conv or dense case are drawn (layer_operands).

    ties: small codes and weights with s = (2^-2 * 2^-2) / 2^-3 = 1/2, so every odd accumulator
    lands exactly on k + 0.5 (float32 holds acc * 0.5 exactly), most of them inside the range.
    saturate: an output scale that puts most outputs beyond both ends of the range.
    relu: a Relu after the layer, folded into the output range (zero point at the minimum)."""

    w_range: tuple[int, int] = REDUCED
    per_channel: bool = True
    ties: bool = False
    saturate: bool = False
    relu: bool = False


RANDOM_OPERANDS = Variant()


def random_ties_and_saturating(per_channel: bool) -> tuple[Variant, ...]:
    """The three variants every layer is compared on: random operands, ties, saturation."""
    return (
        Variant(per_channel=per_channel),
        Variant(per_channel=per_channel, ties=True),
        Variant(per_channel=per_channel, saturate=True),
    )


class ConvGeometry(NamedTuple):
    """A convolution's strides, pads (top, left, bottom, right), dilations and group: the ONNX
    attributes, and the keywords of the integer reference's conv functions."""

    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilations: tuple[int, int] = (1, 1)
    group: int = 1


PLAIN_GEOMETRY = ConvGeometry()  # stride 1, no padding, no dilation, one group


def layer_operands(rng, x_dtype, x_shape, w_shape, o, variant: Variant, *, bias, y_scale):
    """(codes, x zero point, int8 weights, int32 bias or None, x scale, weight scales (o,), y scale,
    y zero point) of a conv or dense case with output scale y_scale (unless variant saturates)."""
    lo, hi = ref.qrange(x_dtype)
    codes = rng.integers(lo, hi + 1, size=x_shape).astype(x_dtype)
    xz = act_params(x_dtype, rng)
    w = rng.integers(variant.w_range[0], variant.w_range[1] + 1, size=w_shape).astype(np.int8)
    b = rng.integers(-3000, 3000, size=o).astype(np.int32) if bias else None
    if variant.ties:
        codes = np.clip(int(xz) + rng.integers(-3, 4, size=codes.shape), lo, hi).astype(x_dtype)
        w = rng.integers(-3, 4, size=w.shape).astype(np.int8)
        b = rng.integers(-20, 21, size=o).astype(np.int32) if bias else None
        xs, ws, ys = 2.0**-2, np.full(o, 2.0**-2, F32), 2.0**-3
    else:
        xs, ws, ys = 0.02, rng.uniform(0.001, 0.01, o).astype(F32), y_scale
    if variant.saturate:
        ys = 1e-3
    if not variant.per_channel:
        ws = np.full(o, ws[0], F32)
    yz = act_params(x_dtype, rng, relu_zp=variant.relu)
    return codes, xz, w, b, xs, ws, ys, yz


def compare_case(case: Case, x_dtype, what: str, variant=RANDOM_OPERANDS) -> collections.Counter:
    """Native == onnxruntime == the exact integer reference on one case drawn as variant says; a
    saturate case reaches both ends of the range, a ties case has ties to round. Returns
    onnxruntime's optimized ops."""
    expected, native, ops = run_both(case.model, case.x)
    assert_same_codes(native, expected, case.y_scale, what + " vs onnxruntime")
    assert_same_codes(native, case.exact, case.y_scale, what + " vs the integer reference")
    if variant.saturate:
        assert_saturates_both_ends(native, case.y_scale, case.y_zero_point, x_dtype)
    if variant.ties:
        assert case.ties >= 10, f"only {case.ties} exact ties in the tie case"
    return ops


# ---------------------------------------------------------------------------------------
# Conv


def conv_model(fmt, hw, w, ws, b, xs, xz, ys, yz, geometry=PLAIN_GEOMETRY, *, relu=False, per_channel=True):
    """NHWC float input -> Transpose -> Q -> conv (QDQ or QLinearConv) -> DQ -> Transpose -> NHWC float."""
    bld = Builder()
    attrs = dict(geometry._asdict(), kernel_shape=list(w.shape[2:]))
    x = bld.node("Transpose", ["input"], perm=[0, 3, 1, 2])
    xq = bld.q(x, xs, xz)
    wz = np.zeros(w.shape[0] if per_channel else (), np.int8 if w.dtype == np.int8 else np.uint8)
    wsc = np.asarray(ws, F32) if per_channel else F32(ws[0])
    if fmt == "qdq":
        xf = bld.dq(xq, xs, xz)
        wf = bld.dq(bld.const(w, "w"), wsc, wz, axis=0 if per_channel else None)
        bf = bld.dq(
            bld.const(b, "b"),
            (F32(xs) * np.asarray(ws, F32)) if per_channel else F32(xs) * F32(ws[0]),
            np.zeros(b.shape if per_channel else (), np.int32),
            axis=0 if per_channel else None,
        )
        y = bld.node("Conv", [xf, wf, bf], **attrs)
        if relu:
            y = bld.node("Relu", [y])
        yq = bld.q(y, ys, yz)
    else:
        weights = [bld.const(w, "w"), *bld.qparams(wsc, wz)]
        yq = bld.node(
            "QLinearConv", [xq, *bld.qparams(xs, xz), *weights, *bld.qparams(ys, yz), bld.const(b, "b")], **attrs
        )
    out = bld.node("Transpose", [bld.dq(yq, ys, yz)], perm=[0, 2, 3, 1])
    return bld.model((*hw, w.shape[1] * geometry.group), out)


def conv_case(
    rng, variant=RANDOM_OPERANDS, *, fmt="qdq", x_dtype=np.int8, c=3, o=4, hw=(7, 6), k=(3, 3), geometry=PLAIN_GEOMETRY
):
    """A Case of a conv of c channels in, o out, kernel k on an NHWC float input of size hw."""
    shapes = (5, c, *hw), (o, c // geometry.group, *k)
    codes, xz, w, b, xs, ws, ys, yz = layer_operands(rng, x_dtype, *shapes, o, variant, bias=True, y_scale=0.05)
    relu, per_channel = variant.relu, variant.per_channel
    model = conv_model(fmt, hw, w, ws, b, xs, xz, ys, yz, geometry, relu=relu, per_channel=per_channel)
    x_nhwc = ref.dequantize(codes, xs, xz).transpose(0, 2, 3, 1).copy()  # quantizes back to `codes` exactly
    g = geometry._asdict()
    y = ref.qlinear_conv(codes, xs, xz, w, ws, np.zeros(o, np.int8), ys, yz, b, relu=relu, y_dtype=x_dtype, **g)
    acc = ref.conv_accumulators(codes, xz, w, np.zeros(o, np.int8), b, **g)
    n_ties = count_ties(acc, yz, x_dtype) if variant.ties else 0
    return Case(model, x_nhwc, ref.dequantize(y, ys, yz).transpose(0, 2, 3, 1), ys, int(yz), n_ties)


@pytest.mark.parametrize("fmt", ["qdq", "qop"])
@pytest.mark.parametrize("x_dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("per_channel", [True, False])
def test_conv_matches_onnxruntime(fmt, x_dtype, per_channel):
    rng = np.random.default_rng(1)
    geometry = ConvGeometry(pads=(1, 0, 1, 2), strides=(1, 2))
    for variant in random_ties_and_saturating(per_channel):
        case = conv_case(rng, variant, fmt=fmt, x_dtype=x_dtype, geometry=geometry)
        ops = compare_case(case, x_dtype, f"{fmt} {x_dtype.__name__} {variant}", variant)
        assert "QLinearConv" in ops, f"onnxruntime did not fuse the QDQ Conv: {ops}"


def test_conv_relu_folds_into_the_output_range():
    ops = compare_case(conv_case(np.random.default_rng(2), Variant(relu=True)), np.int8, "Conv + Relu")
    assert "QLinearConv" in ops and "Relu" not in ops, ops


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_conv_geometry_property(data):
    c = data.draw(st.integers(1, 4), "c")
    depthwise = data.draw(st.booleans(), "depthwise") and c > 1
    o = c * data.draw(st.integers(1, 2)) if depthwise else data.draw(st.integers(1, 5), "o")
    k = (data.draw(st.integers(1, 3), "kh"), data.draw(st.integers(1, 3), "kw"))
    dil = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    pads = tuple(data.draw(st.integers(0, 1)) for _ in range(4))
    strides = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    hw = tuple(data.draw(st.integers(dil[i] * (k[i] - 1) + 1, 8), f"hw{i}") for i in range(2))
    fmt = data.draw(st.sampled_from(["qdq", "qop"]), "fmt")
    x_dtype = data.draw(st.sampled_from([np.int8, np.uint8]), "dtype")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), "seed"))
    geometry = ConvGeometry(strides, pads, dil, c if depthwise else 1)
    variant = Variant(per_channel=data.draw(st.booleans(), "per_channel"), ties=data.draw(st.booleans(), "ties"))
    case = conv_case(rng, variant, fmt=fmt, x_dtype=x_dtype, c=c, o=o, hw=hw, k=k, geometry=geometry)
    compare_case(case, x_dtype, "conv")


# ---------------------------------------------------------------------------------------
# Gemm / MatMul


def dense_case(rng, variant=RANDOM_OPERANDS, *, fmt="qdq", x_dtype=np.int8, k=40, o=7, bias=True, w_zero_point=None):
    """A Case of a dense layer of k inputs and o outputs on a float input (N, K).
    w_zero_point: uint8 weights centred on it (asymmetric weights) instead of symmetric int8 ones."""
    codes, xz, w, b, xs, ws, ys, yz = layer_operands(rng, x_dtype, (6, k), (k, o), o, variant, bias=bias, y_scale=0.3)
    per_channel, relu = variant.per_channel, variant.relu
    wz = np.zeros(o if per_channel else (), np.int8)
    if w_zero_point is not None:
        w = (w.astype(np.int32) + w_zero_point).astype(np.uint8)
        wz = np.full(o if per_channel else (), w_zero_point, np.uint8)
    wsc = ws if per_channel else F32(ws[0])
    bld = Builder()
    xq = bld.q("input", xs, xz)
    if fmt == "qdq":
        wf = bld.dq(bld.const(w, "w"), wsc, wz, axis=1 if per_channel else None)
        inputs = [bld.dq(xq, xs, xz), wf]
        if bias:
            inputs.append(
                bld.dq(
                    bld.const(b, "b"),
                    F32(xs) * ws if per_channel else F32(xs) * F32(ws[0]),
                    np.zeros(o if per_channel else (), np.int32),
                    axis=0 if per_channel else None,
                )
            )
        y = bld.node("Gemm" if bias else "MatMul", inputs)
        if relu:
            y = bld.node("Relu", [y])
        yq = bld.q(y, ys, yz)
    else:  # QGemm, or QLinearMatMul (no bias)
        x_and_w = [xq, *bld.qparams(xs, xz), bld.const(w, "w"), *bld.qparams(wsc, wz)]
        if fmt == "qgemm":
            bias_input = bld.const(b, "b") if bias else ""
            yq = bld.node("QGemm", [*x_and_w, bias_input, *bld.qparams(ys, yz)], domain=MICROSOFT)
        else:
            yq = bld.node("QLinearMatMul", [*x_and_w, *bld.qparams(ys, yz)])
    model = bld.model((k,), bld.dq(yq, ys, yz))
    y = ref.qgemm(codes, xs, xz, w, ws, np.broadcast_to(wz, (o,)), ys, yz, b, relu=relu, y_dtype=x_dtype)
    acc = (codes.astype(np.int64) - int(xz)) @ (w.astype(np.int64) - np.broadcast_to(wz, (o,)).astype(np.int64)) + (
        0 if b is None else b.astype(np.int64)
    )
    n_ties = count_ties(acc, yz, x_dtype) if variant.ties else 0
    return Case(model, ref.dequantize(codes, xs, xz), ref.dequantize(y, ys, yz), ys, int(yz), n_ties)


@pytest.mark.parametrize("fmt, bias", [("qdq", True), ("qdq", False), ("qgemm", True), ("qmatmul", False)])
@pytest.mark.parametrize("x_dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("per_channel", [True, False])
def test_dense_matches_onnxruntime(fmt, bias, x_dtype, per_channel):
    rng = np.random.default_rng(3)
    for variant in random_ties_and_saturating(per_channel):
        case = dense_case(rng, variant, fmt=fmt, x_dtype=x_dtype, bias=bias)
        ops = compare_case(case, x_dtype, f"{fmt} bias={bias} {x_dtype.__name__} {variant}", variant)
        if fmt == "qdq":
            fused = "QGemm" if bias else "QLinearMatMul"
            assert fused in ops, f"onnxruntime did not fuse the QDQ {'Gemm' if bias else 'MatMul'}: {ops}"


@pytest.mark.parametrize("fmt", ["qdq", "qgemm"])
@pytest.mark.parametrize("per_channel", [True, False])
def test_dense_uint8_weights_with_a_zero_point(fmt, per_channel):
    """Asymmetric uint8 weights (zero point 100): acc = sum (x - zx)(w - zw)."""
    rng = np.random.default_rng(9)
    for ties in (False, True):
        variant = Variant(per_channel=per_channel, ties=ties)
        case = dense_case(rng, variant, fmt=fmt, x_dtype=np.uint8, w_zero_point=100)
        compare_case(case, np.uint8, f"uint8 weights {fmt} ties={ties}")


def test_gemm_relu_folds_into_the_output_range():
    ops = compare_case(dense_case(np.random.default_rng(4), Variant(relu=True)), np.int8, "Gemm + Relu")
    assert "QGemm" in ops and "Relu" not in ops, ops


@pytest.mark.parametrize("layer", ["conv", "dense"])
def test_full_range_weights(layer):
    """Full-range int8 weights: native == exact integer math == onnxruntime in its exact mode, on every CPU."""
    rng = np.random.default_rng(5)
    make = conv_case if layer == "conv" else dense_case
    kwargs = dict(x_dtype=np.uint8, **({"c": 16, "k": (3, 3)} if layer == "conv" else {"k": 300}))
    model, x, exact, ys, *_ = make(rng, Variant(w_range=FULL), **kwargs)
    expected, native, _ = run_both(model, x)
    assert_same_codes(native, exact, ys, f"full-range {layer} vs the integer reference")
    differ = int(np.count_nonzero(expected != exact))
    assert differ == 0, f"onnxruntime (exact mode) differs from exact integer math on {differ} values"


# ---------------------------------------------------------------------------------------
# QuantizeLinear, MaxPool, DequantizeLinear


@pytest.mark.parametrize("x_dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("fmt", ["qdq", "qop"])
def test_quantize_ties_saturation_and_maxpool(x_dtype, fmt):
    """Q (float division, ties to even, saturation) -> MaxPool on int8 -> DQ, input straight from floats."""
    rng = np.random.default_rng(6)
    scale = F32(2.0**-3)
    zp = x_dtype(3 if x_dtype == np.int8 else 130)
    n, h, w, c = 4, 6, 5, 3
    ties = (rng.integers(-140, 140, size=(n, h, w, c)) + F32(0.5)) * scale  # x / scale = k + 0.5 exactly
    x = ties.astype(F32)
    x[0, 0, :, 0] = [1e6, -1e6, np.inf, -np.inf, 0.0]  # saturation at both ends
    x[1] = rng.normal(0, 10, size=(h, w, c)).astype(F32)  # arbitrary values
    bld = Builder()
    t = bld.node("Transpose", ["input"], perm=[0, 3, 1, 2])
    q = bld.q(t, scale, zp)
    attrs = dict(kernel_shape=[2, 3], strides=[2, 1], pads=[1, 0, 0, 1])
    if fmt == "qdq":
        pooled = bld.q(bld.node("MaxPool", [bld.dq(q, scale, zp)], **attrs), scale, zp)
    else:
        pooled = bld.node("MaxPool", [q], **attrs)  # MaxPool takes int8/uint8 since opset 12
    out = bld.node("Transpose", [bld.dq(pooled, scale, zp)], perm=[0, 2, 3, 1])
    model = bld.model((h, w, c), out)
    expected, native, _ = run_both(model, x)
    codes = ref.quantize(x.transpose(0, 3, 1, 2), scale, zp, x_dtype)
    exact = ref.dequantize(ref.max_pool(codes, (2, 3), (2, 1), (1, 0, 0, 1)), scale, zp).transpose(0, 2, 3, 1)
    assert_same_codes(native, expected, scale, "quantize + maxpool vs onnxruntime")
    assert_same_codes(native, exact, scale, "quantize + maxpool vs the integer reference")


def test_quantize_rounds_half_to_even():
    """QUANTIZE alone, every tie in the int8 range: x / scale = k + 0.5 goes to the even neighbour."""
    scale = F32(0.25)
    x = ((np.arange(-140, 140) + F32(0.5)) * scale).astype(F32).reshape(-1, 1)
    bld = Builder()
    model = bld.model((1,), bld.dq(bld.q("input", scale, np.int8(0)), scale, np.int8(0)))
    expected, native, _ = run_both(model, x)
    assert_same_codes(native, expected, scale, "quantize ties")
    codes = np.rint(native / scale).astype(int).ravel()
    inside = (codes > -128) & (codes < 127)
    assert np.all(codes[inside] % 2 == 0), "ties must round to even"
    assert codes.min() == -128 and codes.max() == 127  # saturated at both ends


def test_conv_relu_with_another_zero_point_stays_float_like_onnxruntime():
    """Conv -> Relu -> Q whose zero point is not the minimum: onnxruntime does not fuse it (it runs a
    float FusedConv between DQ and Q), so neither does the compiler: a float conv summed in
    onnxruntime's MLAS order (CONV_2D_SLICED) + Relu between DEQUANTIZE and QUANTIZE, which gives
    onnxruntime's codes bit for bit."""
    from edgecnn.export.compiler import compile_model

    rng = np.random.default_rng(10)
    codes = rng.integers(-128, 128, size=(20, 3, 7, 6)).astype(np.int8)
    w = rng.integers(-64, 65, size=(4, 3, 3, 3)).astype(np.int8)
    b = rng.integers(-3000, 3000, 4).astype(np.int32)
    ws = rng.uniform(0.001, 0.01, 4).astype(F32)
    ys, yz = 0.05, np.int8(-20)
    model = conv_model("qdq", (7, 6), w, ws, b, 0.02, np.int8(5), ys, yz, relu=True)
    x = ref.dequantize(codes, 0.02, 5).transpose(0, 2, 3, 1).copy()
    expected, native, ops = run_both(model, x)
    assert "QLinearConv" not in ops, ops
    _, report = compile_model(model)
    assert "CONV_2D_SLICED+relu" in [row.op for row in report.layers]  # the float kernel, not "CONV_2D int8"
    np.testing.assert_array_equal(native, expected)

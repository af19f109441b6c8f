"""The exact int8 rules, on onnxruntime's com.microsoft QLinear ops directly, bit for bit: every
code (or every pair of codes) through QLinearAdd, QLinearMul, QLinearSigmoid and
QLinearAveragePool, on parameter sets chosen where the candidate roundings differ (fused
multiply-add or not, int8 or uint8 rounding domain): that is where a kernel that is only
"close" fails. Each case also checks the NumPy rule (tests/int8_reference.py) against
onnxruntime, so the rule the native kernels implement is the one onnxruntime runs."""

from __future__ import annotations

import int8_reference as ref
import numpy as np
import pytest
from ort_compare import INT8_OPSET, MICROSOFT, assert_bit_exact, make_model, node, optimized_ops, run_onnxruntime

F32 = np.float32


def qop_model(nodes, inits: dict, in_shape):
    """A graph of com.microsoft QLinear nodes between QuantizeLinear and DequantizeLinear."""
    return make_model(nodes, in_shape, inits, opset=INT8_OPSET, microsoft=True)


def fixed_part_candidates(sa, za, sb, zb, sy, zy) -> set:
    """The three float32 roundings of zy - (ra*za + rb*zb): separate, or fused either way round."""
    ra, rb = F32(F32(sa) / F32(sy)), F32(F32(sb) / F32(sy))
    sep = F32(F32(ra * F32(za)) + F32(rb * F32(zb)))
    return {
        float(F32(F32(zy) - v))
        for v in (sep, ref.fma(ra, F32(za), F32(rb * F32(zb))), ref.fma(rb, F32(zb), F32(ra * F32(za))))
    }


@pytest.mark.parametrize("op", ["Add", "Mul"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_qlinear_add_mul_rule_exhaustive(op, dtype):
    """Every (a, b) code pair through com.microsoft QLinearAdd / QLinearMul: native ==
    onnxruntime == ref.qlinear_add / ref.qlinear_mul. For Add, on parameter sets where the
    roundings of its fixed part differ (fused multiply-add or not).

    A and B come from one float input through two 1x1 QLinearConvs that copy a channel's codes
    exactly (weight 1, requantization scale 1 to within an ulp, bias = za - zb)."""
    rng = np.random.default_rng(11)
    lo, hi = ref.qrange(dtype)
    codes = np.arange(lo, hi + 1)
    grid_a, grid_b = (g.astype(dtype) for g in np.meshgrid(codes, codes, indexing="ij"))
    compared = sets = 0
    while sets < 6:
        sa, sb, sy = (F32(np.exp(rng.uniform(-6, 0))) for _ in range(3))
        za, zb, zy = (int(rng.integers(lo, hi + 1)) for _ in range(3))
        if op == "Mul":
            sy = F32(sa * sb * F32(rng.uniform(2, 200)))  # products of up to 255^2 steps: a useful range
        elif len(fixed_part_candidates(sa, za, sb, zb, sy, zy)) < 2:
            continue
        sets += 1
        wa = np.array([1, 0], np.int8).reshape(1, 2, 1, 1)
        wb = np.array([0, 1], np.int8).reshape(1, 2, 1, 1)
        inits = dict(
            xs=sa,
            xz=dtype(za),
            sb=sb,
            zb=dtype(zb),
            sy=sy,
            zy=dtype(zy),
            wa=wa,
            wb=wb,
            one=F32(1),
            wbs=F32(sb / sa),
            wz=np.int8(0),
            bb=np.array([za - zb], np.int32),
        )
        nodes = [
            node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
            node("QLinearConv", ["xq", "xs", "xz", "wa", "one", "wz", "xs", "xz"], ["a"]),
            node("QLinearConv", ["xq", "xs", "xz", "wb", "wbs", "wz", "sb", "zb", "bb"], ["b"]),
            node("QLinear" + op, ["a", "xs", "xz", "b", "sb", "zb", "sy", "zy"], ["yq"], domain=MICROSOFT),
            node("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
        ]
        model = qop_model(nodes, inits, (2, 256, 256))
        x = np.stack([ref.dequantize(grid_a, sa, za), ref.dequantize(grid_b, sa, za)])[None]
        expected = run_onnxruntime(model, x)
        rule_fn = ref.qlinear_add if op == "Add" else ref.qlinear_mul
        rule = ref.dequantize(rule_fn(grid_a, sa, za, grid_b, sb, zb, sy, zy), sy, zy)[None, None]
        assert np.array_equal(rule, expected), f"the NumPy rule differs from onnxruntime: {np.sum(rule != expected)}"
        compared += assert_bit_exact(
            model, x, f"QLinear{op} {dtype.__name__} sa={sa} za={za} sb={sb} zb={zb} sy={sy} zy={zy}"
        )
    assert compared == 6 * 65536


def test_qlinear_sigmoid_rule_every_code():
    """All 256 codes through com.microsoft QLinearSigmoid, on parameter sets where a table built
    without fused multiply-adds would differ: native == onnxruntime == ref.qlinear_sigmoid."""
    rng = np.random.default_rng(12)
    found = compared = 0
    for trial in range(40000):
        dtype = (np.uint8, np.int8)[trial % 2]
        lo, hi = ref.qrange(dtype)
        sx, sy = F32(np.exp(rng.uniform(-6, 1))), F32(np.exp(rng.uniform(-10, -4)))
        zx, zy = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
        codes = np.arange(lo, hi + 1).astype(dtype)
        d = F32(sx) * (codes.astype(np.int32) - zx).astype(F32)
        exact = ref.quantize(ref.logistic_mlas(d), sy, zy, dtype)
        if np.array_equal(exact, ref.quantize(1 / (1 + np.exp(-d.astype(np.float64))), sy, zy, dtype)):
            continue  # a table the float64 sigmoid gets right too: not a discriminating case
        found += 1
        nodes = [
            node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
            node("QLinearSigmoid", ["xq", "sx", "zx", "sy", "zy"], ["yq"], domain=MICROSOFT),
            node("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
        ]
        model = qop_model(nodes, dict(sx=sx, zx=dtype(zx), sy=sy, zy=dtype(zy)), (256,))
        x = ref.dequantize(codes, sx, zx)[None]
        assert np.array_equal(run_onnxruntime(model, x)[0], ref.dequantize(exact, sy, zy)), (
            "the NumPy rule differs from onnxruntime"
        )
        compared += assert_bit_exact(model, x, f"QLinearSigmoid {dtype.__name__} sx={sx} zx={zx} sy={sy} zy={zy}")
        if found == 12:
            break
    assert found == 12, f"only {found} discriminating parameter sets found"


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_qlinear_add_constant_rule_every_code(dtype):
    """com.microsoft QLinearAdd of every code (A, NCHW) and a per-channel constant B holding every
    code (one per channel), on parameter sets where the roundings of the fixed part differ:
    onnxruntime's scalar-B kernel == ref.qlinear_add (the tensor formula) == native."""
    rng = np.random.default_rng(13)
    lo, hi = ref.qrange(dtype)
    codes = np.arange(lo, hi + 1).astype(dtype)
    a = np.broadcast_to(codes.reshape(1, 1, 1, 256), (1, 256, 1, 256)).copy()
    k = codes.reshape(1, 256, 1, 1)
    sets = 0
    while sets < 3:
        sa, sb, sy = (F32(np.exp(rng.uniform(-6, 0))) for _ in range(3))
        za, zb, zy = (int(rng.integers(lo, hi + 1)) for _ in range(3))
        if len(fixed_part_candidates(sa, za, sb, zb, sy, zy)) < 2:
            continue
        sets += 1
        inits = dict(sa=sa, za=dtype(za), sb=sb, zb=dtype(zb), sy=sy, zy=dtype(zy), k=k)
        nodes = [
            node("QuantizeLinear", ["x", "sa", "za"], ["aq"]),
            node("QLinearAdd", ["aq", "sa", "za", "k", "sb", "zb", "sy", "zy"], ["yq"], domain=MICROSOFT),
            node("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
        ]
        model = qop_model(nodes, inits, (256, 1, 256))
        x = ref.dequantize(a, sa, za)
        rule = ref.dequantize(ref.qlinear_add(a, sa, za, k, sb, zb, sy, zy), sy, zy)
        assert np.array_equal(run_onnxruntime(model, x), rule), "the NumPy rule differs from onnxruntime"
        assert_bit_exact(
            model, x, f"QLinearAdd + constant {dtype.__name__} sa={sa} za={za} sb={sb} zb={zb} sy={sy} zy={zy}"
        )


@pytest.mark.parametrize("fmt", ["qdq", "qop"])
def test_int8_average_pool_rounding_domain(fmt):
    """int8 AveragePool adds the output zero point in float before rounding, so int8 and uint8
    codes of the same values round differently at near-ties. onnxruntime (x86) rewrites QDQ int8
    to uint8 codes (QDQS8ToU8) but runs a QOperator int8 QLinearAveragePool on the int8 codes;
    the compiler marks the first (AVG_POOL_2D bit 1). Every pair of codes is averaged (kernel
    1x2, stride 2) on parameter sets where the two domains differ: onnxruntime == the rule of
    its domain (ref) == native."""
    rng = np.random.default_rng(14)
    codes = np.arange(-128, 128)
    pairs = np.stack(np.meshgrid(codes, codes, indexing="ij"), -1).reshape(1, 1, 256, 512).astype(np.int8)
    found = 0
    for _ in range(400):
        sx, sy = F32(np.exp(rng.uniform(-5, -1))), F32(np.exp(rng.uniform(-5, -1)))
        zx, zy = int(rng.integers(-100, 100)), int(rng.integers(-100, 100))
        y_u8 = ref.qlinear_average_pool(pairs, sx, zx, sy, zy, (1, 2), (1, 2), (0, 0, 0, 0), 0, (256, 256))
        y_s8 = ref.qlinear_average_pool(
            pairs, sx, zx, sy, zy, (1, 2), (1, 2), (0, 0, 0, 0), 0, (256, 256), uint8_rounding=False
        )
        if np.array_equal(y_u8, y_s8):
            continue
        found += 1
        if fmt == "qdq":
            nodes = [
                node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
                node("AveragePool", ["xd"], ["p"], kernel_shape=[1, 2], strides=[1, 2]),
                node("QuantizeLinear", ["p", "sy", "zy"], ["yq"]),
                node("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
            ]
            model = make_model(
                nodes, (1, 256, 512), dict(sx=sx, zx=np.int8(zx), sy=sy, zy=np.int8(zy)), opset=INT8_OPSET
            )
            assert optimized_ops(model)["QLinearAveragePool"] == 1
        else:
            nodes = [
                node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                node(
                    "QLinearAveragePool",
                    ["xq", "sx", "zx", "sy", "zy"],
                    ["yq"],
                    domain=MICROSOFT,
                    kernel_shape=[1, 2],
                    strides=[1, 2],
                ),
                node("DequantizeLinear", ["yq", "sy", "zy"], ["y"]),
            ]
            model = qop_model(nodes, dict(sx=sx, zx=np.int8(zx), sy=sy, zy=np.int8(zy)), (1, 256, 512))
        x = ref.dequantize(pairs, sx, zx)
        rule = y_u8 if fmt == "qdq" else y_s8
        assert np.array_equal(run_onnxruntime(model, x), ref.dequantize(rule, sy, zy)), (
            "onnxruntime differs from the rule"
        )
        assert_bit_exact(model, x, f"{fmt} int8 average pool sx={sx} zx={zx} sy={sy} zy={zy}")
        if found == 2:
            break
    assert found == 2, f"only {found} parameter sets where the int8 and uint8 domains differ"


def test_gate_first_stored_in_another_axis_order():
    """QLinearMul(gate, x) with the (N, C, 1, 1) gate first and stored in ONNX order (it went
    through a flatten and a reshape) while x is stored NHWC: the operands swap and both follow
    x's order, so the gate is the per-channel B of MUL."""
    rng = np.random.default_rng(3)
    c, h, w = 4, 5, 5
    consts = {
        "s": F32(0.05),
        "z": np.uint8(128),
        "w": rng.integers(-60, 60, (c, c, 3, 3)).astype(np.int8),
        "ws": F32(0.02),
        "wz": np.int8(0),
        "flat": np.array([-1, c], np.int64),
        "shape": np.array([-1, c, 1, 1], np.int64),
    }
    ms = MICROSOFT
    nodes = [
        node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
        node("QLinearConv", ["xq", "s", "z", "w", "ws", "wz", "s", "z"], ["a"], pads=[1, 1, 1, 1]),
        node("QLinearGlobalAveragePool", ["a", "s", "z", "s", "z"], ["p"], domain=ms),
        node("Reshape", ["p", "flat"], ["f"]),
        node("Reshape", ["f", "shape"], ["g"]),
        node("QLinearMul", ["g", "s", "z", "a", "s", "z", "s", "z"], ["m"], domain=ms),
        node("DequantizeLinear", ["m", "s", "z"], ["y"]),
    ]
    model = qop_model(nodes, consts, (c, h, w))
    assert_bit_exact(model, rng.normal(size=(3, c, h, w)).astype(F32), "gate first, stored in ONNX order")

"""Exact integer NumPy reference of onnxruntime's int8 CPU arithmetic (docs/numerics.md).

The second oracle of the int8 tests: exact by construction, whichever kernels onnxruntime
picks on the running CPU (its default u8s8 kernels on x86 without VNNI add pairs of products
in a saturating int16; the tests run it in its exact mode). Layouts are ONNX's (NCHW, OIHW).

    acc = sum (x - zx)(w - zw) + bias        exact (int64 here, int32 in onnxruntime)
    s   = (x_scale * w_scale[c]) / y_scale   float32, in this order
    v   = float32(acc) * s                   float32
    q   = round_half_even(clamp(v, qmin - zy, qmax - zy)) + zy
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def qrange(dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def quantize(x, scale, zero_point, dtype) -> np.ndarray:
    """QuantizeLinear: saturate(round_half_even(x / scale) + zp), x / scale a float32 division."""
    lo, hi = qrange(dtype)
    zp = int(zero_point)
    v = np.asarray(x, F32) / F32(scale)
    v = np.where(v > F32(lo - zp), v, F32(lo - zp))  # NaN -> lower bound, as MLAS's _mm_max_ps
    v = np.where(v < F32(hi - zp), v, F32(hi - zp))
    return (np.rint(v).astype(np.int32) + zp).astype(dtype)


def dequantize(q, scale, zero_point) -> np.ndarray:
    """DequantizeLinear: float32(q - zp) * scale."""
    return (np.asarray(q, np.int32) - int(zero_point)).astype(F32) * F32(scale)


def requant_scale(x_scale, w_scales, y_scale) -> np.ndarray:
    return (F32(x_scale) * np.asarray(w_scales, F32).reshape(-1)) / F32(y_scale)


def requantize(acc, scale, y_zero_point, dtype, relu: bool = False) -> np.ndarray:
    """acc int64 (..., C) and per-channel (or scalar) float32 scale -> quantized outputs."""
    lo, hi = qrange(dtype)
    zy = int(y_zero_point)
    if relu:
        lo = max(lo, zy)
    acc = np.asarray(acc)
    if np.abs(acc).max(initial=0) >= 2**31:
        raise OverflowError("accumulator leaves int32: onnxruntime would wrap")
    v = acc.astype(np.int32).astype(F32) * np.asarray(scale, F32)
    v = np.minimum(np.maximum(v, F32(lo - zy)), F32(hi - zy))
    return (np.rint(v).astype(np.int32) + zy).astype(dtype)


def qlinear_conv(
    x,
    x_scale,
    x_zp,
    w,
    w_scales,
    w_zps,
    y_scale,
    y_zp,
    bias=None,
    *,
    strides=(1, 1),
    pads=(0, 0, 0, 0),
    dilations=(1, 1),
    group=1,
    relu=False,
    y_dtype=None,
) -> np.ndarray:
    """QLinearConv on x (N, C, H, W), w (O, C/group, KH, KW); pads (top, left, bottom, right)."""
    y_dtype = y_dtype or np.asarray(x).dtype
    acc = conv_accumulators(x, x_zp, w, w_zps, bias, strides=strides, pads=pads, dilations=dilations, group=group)
    o = w.shape[0]
    s = requant_scale(x_scale, np.broadcast_to(np.asarray(w_scales, F32).reshape(-1), (o,)), y_scale)
    out = requantize(acc.transpose(0, 2, 3, 1), s, y_zp, y_dtype, relu)
    return out.transpose(0, 3, 1, 2)


def conv_accumulators(
    x, x_zp, w, w_zps, bias=None, *, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1
) -> np.ndarray:
    """The exact accumulators (N, O, OH, OW) of a quantized convolution, bias included."""
    n, _c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xc = np.asarray(x, np.int64) - int(x_zp)
    xc = np.pad(xc, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))  # padding is a real 0
    wz = np.broadcast_to(np.asarray(w_zps, np.int64).reshape(-1), (o,))
    wc = np.asarray(w, np.int64) - wz[:, None, None, None]
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    acc = np.zeros((n, o, oh, ow), np.int64)
    og = o // group
    for g in range(group):
        xs = xc[:, g * cg : (g + 1) * cg]
        ws = wc[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[
                    :,
                    :,
                    i * dilations[0] : i * dilations[0] + strides[0] * (oh - 1) + 1 : strides[0],
                    j * dilations[1] : j * dilations[1] + strides[1] * (ow - 1) + 1 : strides[1],
                ]
                acc[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if bias is not None:
        acc += np.asarray(bias, np.int64)[None, :, None, None]
    return acc


def qgemm(
    a, a_scale, a_zp, b, b_scales, b_zps, y_scale, y_zp, bias=None, *, trans_b=False, relu=False, y_dtype=None
) -> np.ndarray:
    """QGemm / QLinearMatMul: a (N, K), b (K, O) (or (O, K) with trans_b), per-column b scales."""
    y_dtype = y_dtype or np.asarray(a).dtype
    b = np.asarray(b, np.int64)
    b = b.T if trans_b else b
    o = b.shape[1]
    bz = np.broadcast_to(np.asarray(b_zps, np.int64).reshape(-1), (o,))
    acc = (np.asarray(a, np.int64) - int(a_zp)) @ (b - bz[None, :])
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64).reshape(1, -1)
    s = requant_scale(a_scale, np.broadcast_to(np.asarray(b_scales, F32).reshape(-1), (o,)), y_scale)
    return requantize(acc, s, y_zp, y_dtype, relu)


def max_pool(x, kernel, strides=(1, 1), pads=(0, 0, 0, 0)) -> np.ndarray:
    """MaxPool on quantized codes x (N, C, H, W): the max of the codes is the code of the max."""
    lo = np.iinfo(x.dtype).min
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=lo)
    n, c, h, w = xp.shape
    oh = (h - kernel[0]) // strides[0] + 1
    ow = (w - kernel[1]) // strides[1] + 1
    out = np.full((n, c, oh, ow), lo, x.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out = np.maximum(
                out,
                xp[
                    :, :, i : i + strides[0] * (oh - 1) + 1 : strides[0], j : j + strides[1] * (ow - 1) + 1 : strides[1]
                ],
            )
    return out


# ---------------------------------------------------------------------------------------
# Issue 6 ops: onnxruntime's com.microsoft QLinear* kernels as they compute on x86-64 with
# AVX2 + FMA (MLAS), the rules native/src/kernels_i8.h implements. Float steps are float32;
# fma() is an exact float32 fused multiply-add.


def fma(a, b, c) -> np.ndarray:
    """float32 fma(a, b, c), correctly rounded: the product is exact in float64 (24 + 24 bits);
    the float64 sum's rounding error (TwoSum) decides the only case where rounding that sum to
    float32 could differ from rounding the exact value: a float64 sum lying on a float32 midpoint."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, F32) for v in (a, b, c)))
    p = a.astype(np.float64) * b.astype(np.float64)
    c64 = c.astype(np.float64)
    s = p + c64
    t = s - p
    err = (p - (s - t)) + (c64 - t)  # exact: p + c = s + err
    r = s.astype(F32)
    back = r.astype(np.float64)
    other = np.nextafter(r, np.where(s > back, F32(np.inf), F32(-np.inf)).astype(F32)).astype(np.float64)
    tie = (s == (back + other) / 2) & (err != 0)
    toward_other = np.sign(err) == np.sign(other - back)
    return np.where(tie & toward_other, other.astype(F32), r)


def qlinear_add(a, sa, za, b, sb, zb, sy, zy) -> np.ndarray:
    """QLinearAdd of two tensors of one shape and dtype (MLAS qladd_avx2.cpp)."""
    dtype = np.asarray(a).dtype
    ra, rb = F32(F32(sa) / F32(sy)), F32(F32(sb) / F32(sy))
    fixed = F32(F32(int(zy)) - fma(ra, F32(int(za)), F32(rb * F32(int(zb)))))
    v = fma(np.asarray(a).astype(F32), ra, fma(np.asarray(b).astype(F32), rb, fixed))
    r = np.where((v >= -(2.0**31)) & (v < 2.0**31), np.rint(v.astype(np.float64)), -(2.0**31))  # _mm256_cvtps_epi32
    lo, hi = qrange(dtype)
    return np.clip(np.clip(r, -32768, 32767), lo, hi).astype(dtype)


def qlinear_mul(a, sa, za, b, sb, zb, sy, zy) -> np.ndarray:
    """QLinearMul of two tensors of one shape and dtype (MLAS qlmul.cpp, SSE2: no FMA)."""
    dtype = np.asarray(a).dtype
    ratio = F32(F32(F32(sa) * F32(sb)) / F32(sy))
    prod = (np.asarray(a).astype(np.int32) - int(za)) * (np.asarray(b).astype(np.int32) - int(zb))
    v = F32(F32(prod.astype(F32) * ratio) + F32(int(zy)))
    lo, hi = qrange(dtype)
    return np.clip(np.clip(np.rint(v.astype(np.float64)), -32768, 32767), lo, hi).astype(dtype)


def qlinear_global_average_pool(x, sx, zx, sy, zy, axes=(2, 3)) -> np.ndarray:
    """QLinearGlobalAveragePool: integer sum, one float32 requantization (MLAS qlgavgpool.cpp)."""
    x = np.asarray(x)
    size = int(np.prod([x.shape[a] for a in axes]))
    acc = x.astype(np.int64).sum(axis=axes, keepdims=True) - int(zx) * size
    scale = F32(F32(sx) / F32(F32(sy) * F32(size)))
    lo, hi = qrange(x.dtype)
    v = np.clip(acc.astype(F32) * scale, F32(lo - int(zy)), F32(hi - int(zy)))
    return (np.rint(v).astype(np.int32) + int(zy)).astype(x.dtype)


def qlinear_average_pool(
    x, sx, zx, sy, zy, kernel, strides, pads, count_include_pad, out_hw, uint8_rounding: bool = True
) -> np.ndarray:
    """QLinearAveragePool on NCHW x (contrib qlinear_pool.cc): float32 window sums in (h, w)
    order, / count, then rne(v / sy + zy) with zy added in float32; a kernel covering the
    whole map without pads is the global rule. uint8_rounding: int8 codes are rounded as
    onnxruntime runs QDQ int8 models on x86, as uint8 codes (zero points + 128, `shift`); a
    QOperator int8 QLinearAveragePool rounds the int8 codes (uint8_rounding=False)."""
    x = np.asarray(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (pt, pl, _pb, _pr) = kernel, strides, pads
    if (kh, kw) == (h, w) and not any(pads):
        g = qlinear_global_average_pool(x, sx, zx, sy, zy)
        return np.broadcast_to(g, (n, c, *out_hw)).copy()
    d = F32(sx) * (x.astype(np.int32) - int(zx)).astype(F32)
    lo, hi = qrange(x.dtype)
    shift = 128 if x.dtype == np.int8 and uint8_rounding else 0
    # Window positions in (ky, kx) order; a position outside x adds +0.0 (the sum is never -0.0,
    # so that is the same as skipping it, which is what onnxruntime's clipped loops do).
    oy, ox = np.arange(out_hw[0])[:, None], np.arange(out_hw[1])[None, :]
    acc = np.zeros((n, c, *out_hw), F32)
    count = np.zeros(out_hw, np.int64)
    for ky in range(kh):
        iy = oy * sh - pt + ky
        for kx in range(kw):
            ix = ox * sw - pl + kx
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            acc = F32(acc + np.where(inside, d[:, :, np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)], F32(0)))
            count += inside
    if count_include_pad:
        count[:] = kh * kw
    v = F32(F32(F32(acc / count.astype(F32)) / F32(sy)) + F32(int(zy) + shift))
    return np.clip(np.rint(v) - shift, lo, hi).astype(x.dtype)


_LOGISTIC = tuple(
    F32(v)
    for v in (
        4.37031012579801e-11,
        1.15627324459942e-07,
        6.08574864600143e-05,
        8.51377133304701e-03,
        2.48287947061529e-01,
        6.10247389755681e-13,
        5.76102136993427e-09,
        6.29106785017040e-06,
        1.70198817374094e-03,
        1.16817656904453e-01,
        9.93151921023180e-01,
    )
)


def logistic_mlas(x) -> np.ndarray:
    """MLAS's logistic kernel on x86 FMA3 (Eigen's rational polynomial, Horner steps fused)."""
    a9, a7, a5, a3, a1, b10, b8, b6, b4, b2, b0 = _LOGISTIC
    v = np.clip(np.asarray(x, F32), F32(-18), F32(18))
    v2 = F32(v * v)
    p = fma(fma(fma(fma(v2, a9, a7), v2, a5), v2, a3), v2, a1)
    p = F32(p * v)
    q = fma(fma(fma(fma(fma(v2, b10, b8), v2, b6), v2, b4), v2, b2), v2, b0)
    return np.maximum(F32(F32(p / q) + F32(0.5)), F32(0))  # no upper clamp: 1 + 2^-23 near x = 18, as MLAS


def qlinear_sigmoid(x, sx, zx, sy, zy) -> np.ndarray:
    """QLinearSigmoid: a 256-entry table of QuantizeLinear(logistic(DequantizeLinear(code)))."""
    x = np.asarray(x)
    return quantize(logistic_mlas(F32(sx) * (x.astype(np.int32) - int(zx)).astype(F32)), sy, zy, x.dtype)

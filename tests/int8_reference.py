"""Exact integer NumPy reference of onnxruntime's int8 CPU arithmetic (numerics.md).

The second oracle of the int8 tests, used where onnxruntime itself is not exact integer
math on the running CPU (full-range int8 weights on x86 AVX2 without VNNI: its u8s8
kernel adds pairs of products in a saturating int16). Layouts are ONNX's (NCHW, OIHW).

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


def qlinear_conv(x, x_scale, x_zp, w, w_scales, w_zps, y_scale, y_zp, bias=None, *, strides=(1, 1), pads=(0, 0, 0, 0),
                 dilations=(1, 1), group=1, relu=False, y_dtype=None) -> np.ndarray:
    """QLinearConv on x (N, C, H, W), w (O, C/group, KH, KW); pads (top, left, bottom, right)."""
    y_dtype = y_dtype or np.asarray(x).dtype
    acc = conv_accumulators(x, x_zp, w, w_zps, bias, strides=strides, pads=pads, dilations=dilations, group=group)
    o = w.shape[0]
    s = requant_scale(x_scale, np.broadcast_to(np.asarray(w_scales, F32).reshape(-1), (o,)), y_scale)
    out = requantize(acc.transpose(0, 2, 3, 1), s, y_zp, y_dtype, relu)
    return out.transpose(0, 3, 1, 2)


def conv_accumulators(x, x_zp, w, w_zps, bias=None, *, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1),
                      group=1) -> np.ndarray:
    """The exact accumulators (N, O, OH, OW) of a quantized convolution, bias included."""
    n, c, h, wd = x.shape
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
        xs = xc[:, g * cg:(g + 1) * cg]
        ws = wc[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dilations[0]: i * dilations[0] + strides[0] * (oh - 1) + 1: strides[0],
                           j * dilations[1]: j * dilations[1] + strides[1] * (ow - 1) + 1: strides[1]]
                acc[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if bias is not None:
        acc += np.asarray(bias, np.int64)[None, :, None, None]
    return acc


def qgemm(a, a_scale, a_zp, b, b_scales, b_zps, y_scale, y_zp, bias=None, *, trans_b=False, relu=False,
          y_dtype=None) -> np.ndarray:
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
            out = np.maximum(out, xp[:, :, i: i + strides[0] * (oh - 1) + 1: strides[0],
                                     j: j + strides[1] * (ow - 1) + 1: strides[1]])
    return out

"""Resize (nearest, linear and cubic; nearest also on int8 codes) of the two spatial axes of an
NCHW tensor: RESIZE_2D on NHWC. Scales or sizes are constants (folded shape arithmetic
included); the batch and channel axes keep their size."""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Const, Lowering, View, attrs, lowers, optional_input
from edgecnn.export.compiler.ir import DType
from edgecnn.export.compiler.ops.conv import spatial_input

COORDS = {
    "half_pixel": 0,
    "align_corners": 1,
    "asymmetric": 2,
    "pytorch_half_pixel": 3,
    "half_pixel_symmetric": 4,
    "tf_half_pixel_for_nn": 5,
    "tf_crop_and_resize": 6,
}
MODES = {"nearest": 0, "linear": 1, "cubic": 2}
NEAREST = {"round_prefer_floor": 0, "round_prefer_ceil": 1, "floor": 2, "ceil": 3}
NEAREST_SIMPLE = 4  # opset 10's rule


def _text(a: dict, name: str, default: str) -> str:
    value = a.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def _spatial(low: Lowering, node, i: int, what: str, axes: list) -> list | None:
    """The (h, w) entries of constant input i (scales or sizes; None when absent or empty);
    the batch and channel entries must leave those axes as they are."""
    if not optional_input(node, i):
        return None
    value = low.value(node.input[i])
    if not isinstance(value, Const):
        raise low.fail(f"{what} (input {i}) must be a constant; sizes computed at run time are not supported")
    per_batch = [np.asarray(x).reshape(-1) for x in value.values]
    if per_batch[0].size == 0:
        return None
    if per_batch[0].size != len(axes):
        raise low.fail(f"{what} has {per_batch[0].size} values for {len(axes)} axes")
    full = [dict(zip(axes, x.tolist())) for x in per_batch]
    if any(f[2] != full[0][2] or f[3] != full[0][3] for f in full):
        raise low.fail(f"{what} of the spatial axes depend on the batch size")
    return full[0]


def _roi(low: Lowering, node, axes: list) -> dict:
    """tf_crop_and_resize's window of H and W from the constant roi (starts, then ends, per axis);
    the batch and channel axes must be taken whole."""
    if not optional_input(node, 1):
        raise low.fail("tf_crop_and_resize needs the roi input")
    roi = np.asarray(low.const_input(node, 1, "roi"), np.float32).reshape(-1)
    if roi.size != 2 * len(axes):
        raise low.fail(f"roi has {roi.size} values; need {2 * len(axes)} (starts and ends of the axes)")
    start, end = dict(zip(axes, roi[: len(axes)].tolist())), dict(zip(axes, roi[len(axes) :].tolist()))
    if any((start.get(ax, 0.0), end.get(ax, 1.0)) != (0.0, 1.0) for ax in (0, 1)):
        raise low.fail("roi crops the batch or channel axis; only H and W may be cropped")
    return {
        "roi_h0": start.get(2, 0.0),
        "roi_h1": end.get(2, 1.0),
        "roi_w0": start.get(3, 0.0),
        "roi_w1": end.get(3, 1.0),
    }


@lowers("Resize", note="2-D nearest, linear or cubic, float")
def lower_resize(low: Lowering, node) -> None:
    a = attrs(node)
    v, x = spatial_input(low, node)
    c, h, w = v.shape
    mode = _text(a, "mode", "nearest")
    if mode not in MODES:
        raise low.fail(f"mode={mode} is not supported; supported: {', '.join(MODES)}")
    codes = low.tensors[x].dtype != DType.F32
    if codes and (mode != "nearest" or _text(a, "coordinate_transformation_mode", "") == "tf_crop_and_resize"):
        raise low.fail(f"Resize {mode} of int8 values is not supported (nearest only, without tf_crop_and_resize)")
    opset10 = low.opset < 11
    coord_name = "asymmetric" if opset10 else _text(a, "coordinate_transformation_mode", "half_pixel")
    if coord_name not in COORDS:
        raise low.fail(f"coordinate_transformation_mode={coord_name} is not supported; supported: {', '.join(COORDS)}")
    nearest_name = _text(a, "nearest_mode", "round_prefer_floor")
    if mode == "nearest" and not opset10 and nearest_name not in NEAREST:
        raise low.fail(f"nearest_mode={nearest_name} is not supported; supported: {', '.join(NEAREST)}")
    axes = [ax + 4 if ax < 0 else ax for ax in a.get("axes", [0, 1, 2, 3])]
    if not set(axes) <= {0, 1, 2, 3} or len(set(axes)) != len(axes):
        raise low.fail(f"axes {a.get('axes')} are not axes of a rank-4 input")
    if opset10:
        scales, sizes = _spatial(low, node, 1, "scales", axes), None
    else:
        scales = _spatial(low, node, 2, "scales", axes)
        sizes = _spatial(low, node, 3, "sizes", axes) if len(node.input) > 3 else None
    if (scales is None) == (sizes is None):
        raise low.fail("give exactly one of scales and sizes")
    if sizes is not None:
        dims = {1: c, 2: h, 3: w}
        if sizes.get(1, c) != c or (0 in sizes and sizes[0] not in (1, low.fixed_batch)):
            raise low.fail(f"sizes {list(sizes.values())} change the batch or channel axis; only H and W may change")
        ratios = {ax: float(sizes[ax]) / dims[ax] for ax in (2, 3) if ax in sizes}
        policy = _text(a, "keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            if policy not in ("not_larger", "not_smaller"):
                raise low.fail(f"keep_aspect_ratio_policy={policy} is not supported")
            scale = (min if policy == "not_larger" else max)(ratios.values())
            ratios = dict.fromkeys(ratios, scale)
            sizes = {ax: int(scale * dims[ax] + 0.5) for ax in ratios}
        out = (int(sizes.get(2, h)), int(sizes.get(3, w)))
        scale_hw = (np.float32(ratios.get(2, 1.0)), np.float32(ratios.get(3, 1.0)))
    else:
        if any(float(scales.get(ax, 1.0)) != 1.0 for ax in (0, 1)):
            raise low.fail(f"scales {list(scales.values())} change the batch or channel axis; only H and W may change")
        scale_hw = (np.float32(scales.get(2, 1.0)), np.float32(scales.get(3, 1.0)))
        if min(scale_hw) <= 0:
            raise low.fail(f"scales {list(scales.values())} must be positive")
        out = (int(np.floor(scale_hw[0] * np.float32(h))), int(np.floor(scale_hw[1] * np.float32(w))))
        if coord_name == "align_corners" and (
            out[0] != scale_hw[0] * np.float32(h) or out[1] != scale_hw[1] * np.float32(w)
        ):
            # The ONNX reference divides by the unrounded input * scale, onnxruntime by the output size.
            raise low.fail(
                f"align_corners with scales {list(scales.values())} that give a fractional output size: "
                "onnxruntime and the ONNX reference disagree on it; give sizes instead of scales"
            )
    if int(a.get("antialias", 0)) and mode != "nearest" and min(scale_hw) < 1:
        raise low.fail("antialias when downsampling is not supported")
    if min(out) < 1:
        raise low.fail(f"the output would be empty ({out[0]}x{out[1]})")
    unchanged = [out[i] == (h, w)[i] and scale_hw[i] == 1 for i in range(2)]
    if all(unchanged) and coord_name != "tf_crop_and_resize":
        low.values[node.output[0]] = v  # onnxruntime and the ONNX reference copy the input
        return
    if any(unchanged) and coord_name == "tf_half_pixel_for_nn":
        # The ONNX reference leaves an axis of scale 1 as it is; onnxruntime maps it like the other.
        raise low.fail(
            "tf_half_pixel_for_nn with one axis of scale 1: onnxruntime and the ONNX reference disagree on it"
        )
    y = low.activation_like(x, (out[0], out[1], c))  # int8: nearest selects codes, the quantization stays
    roi = dict.fromkeys(("roi_h0", "roi_w0", "roi_h1", "roi_w1"), 0.0)
    if coord_name == "tf_crop_and_resize":
        roi = _roi(low, node, axes)
    params = {
        **roi,
        "cubic_a": float(np.float32(a.get("cubic_coeff_a", -0.75))) if mode == "cubic" else 0.0,
        "exclude_outside": int(a.get("exclude_outside", 0)) if mode == "cubic" else 0,
        "extrapolation": float(np.float32(a.get("extrapolation_value", 0.0)))
        if coord_name == "tf_crop_and_resize"
        else 0.0,
        "mode": MODES[mode],
        "coord": COORDS[coord_name],
        "nearest_mode": (NEAREST_SIMPLE if opset10 else NEAREST[nearest_name]) if mode == "nearest" else 0,
        "scale_h": float(scale_hw[0]),
        "scale_w": float(scale_hw[1]),
    }
    low.emit("RESIZE_2D", [x], [y], params)
    low.values[node.output[0]] = View(y, (c, out[0], out[1]), (0, 2, 3, 1))

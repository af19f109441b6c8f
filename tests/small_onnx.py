"""A small CNN written with onnx.helper (no TensorFlow, built in milliseconds) for the packaging
tests: the installed C library, the wheel, the firmware packages and InferenceSession run it.

    Conv 3x3 (1 -> 4, pad 1) + Relu -> MaxPool 2x2 -> Flatten -> Gemm (64 -> 10) -> Softmax
    input "image" float32 [batch, 1, 8, 8] (NCHW, as PyTorch exports), output "probabilities"

Variants: pixels=uint8 / int8 takes raw pixels (Cast -> Div 255 first); int8_output=True ends
in QuantizeLinear (int8 "probabilities", scale 1/256, zero point -128).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

INPUT_SHAPE = (1, 8, 8)
CLASSES = 10


def tiny_cnn(
    path, batch: str | int | None = "N", seed: int = 0, pixels: str | None = None, int8_output: bool = False
) -> Path:
    """Writes the model to `path`; `batch` is the input's first dimension (a name or None: free)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "conv_w": rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "fc_w": rng.normal(0, 0.3, (64, CLASSES)).astype(np.float32),
        "fc_b": rng.normal(0, 0.1, (CLASSES,)).astype(np.float32),
    }
    nodes = []
    first = "image"
    if pixels is not None:
        weights["k255"] = np.float32(255.0)
        nodes += [
            helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
            helper.make_node("Div", ["image_f", "k255"], ["image_s"]),
        ]
        first = "image_s"
    nodes += [
        helper.make_node("Conv", [first, "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["softmax" if int8_output else "probabilities"], axis=-1),
    ]
    if int8_output:
        weights["out_scale"] = np.float32(1 / 256)
        weights["out_zero"] = np.int8(-128)
        nodes.append(helper.make_node("QuantizeLinear", ["softmax", "out_scale", "out_zero"], ["probabilities"]))
    in_type = {None: TensorProto.FLOAT, "uint8": TensorProto.UINT8, "int8": TensorProto.INT8}[pixels]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("image", in_type, [batch, *INPUT_SHAPE])],
        [
            helper.make_tensor_value_info(
                "probabilities", TensorProto.INT8 if int8_output else TensorProto.FLOAT, [batch, CLASSES]
            )
        ],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests/small_onnx.py")
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def sample_inputs(n: int, seed: int = 1) -> np.ndarray:
    """n float32 samples in [0, 1), shape (n, 1, 8, 8)."""
    return np.random.default_rng(seed).random((n, *INPUT_SHAPE), dtype=np.float32)


def compiled(onnx_path, ecnn_path) -> Path:
    """The model compiled to .ecnn by edgecnn's compiler."""
    from edgecnn.export.compiler import compile_model

    blob, _ = compile_model(str(onnx_path))
    ecnn_path = Path(ecnn_path)
    ecnn_path.write_bytes(blob)
    return ecnn_path


def quantized(float_onnx, out_path, calibration: np.ndarray) -> Path:
    """int8 QDQ model by onnxruntime's quantizer (as edgecnn's quantize_onnx, which takes only
    28x28 images): per-channel symmetric reduce-range int8 weights (exact in onnxruntime's
    default mode on every CPU: docs/numerics.md), asymmetric int8 activations calibrated on
    `calibration`, Softmax left in float."""
    from onnxruntime import quantization

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"image": calibration}])

        def get_next(self):
            return next(self.batches, None)

    quantization.quantize_static(
        str(float_onnx),
        str(out_path),
        Reader(),
        quant_format=quantization.QuantFormat.QDQ,
        op_types_to_quantize=["Conv", "Gemm", "MaxPool", "Relu", "Flatten"],
        per_channel=True,
        reduce_range=True,
        activation_type=quantization.QuantType.QInt8,
        weight_type=quantization.QuantType.QInt8,
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
    )
    return Path(out_path)

"""A small CNN written with onnx.helper (no TensorFlow, built in milliseconds) for the packaging
tests: the installed C library, the wheel, the firmware packages and InferenceSession run it.

    Conv 3x3 (1 -> 4, pad 1) + Relu -> MaxPool 2x2 -> Flatten -> Gemm (64 -> 10) -> Softmax
    input "image" float32 [batch, 1, 8, 8] (NCHW, as PyTorch exports), output "probabilities"
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

INPUT_SHAPE = (1, 8, 8)
CLASSES = 10


def tiny_cnn(path, batch: str | int = "N", seed: int = 0) -> Path:
    """Writes the model to `path`; `batch` is the input's first dimension (a name: free)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "conv_w": rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "fc_w": rng.normal(0, 0.3, (64, CLASSES)).astype(np.float32),
        "fc_b": rng.normal(0, 0.1, (CLASSES,)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, *INPUT_SHAPE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, CLASSES])],
        initializer=[numpy_helper.from_array(v, k) for k, v in weights.items()],
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

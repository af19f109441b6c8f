"""The model zoo: small CNNs whose network code somebody else wrote, as float and int8 ONNX.

Issue 6 asks that models nobody in this project designed compile and run float and int8,
matching onnxruntime. This script builds them, deterministically (fixed seeds, random
weights, no download), and exports each the way its users would:

- ``resnet8``: ResNet v1 for CIFAR-10 at depth 8 (6n+2, n=1): the ``resnet_v1`` /
  ``resnet_layer`` builders of the Keras example "Trains a ResNet on the CIFAR10 dataset"
  (keras-team/keras ``examples/cifar10_resnet.py``, keras.io/examples/cifar10_resnet),
  followed layer for layer in the Keras functional API: Conv-BN-ReLU stacks, residual Add,
  a strided 1x1 projection shortcut, AveragePooling2D(8), Flatten, Dense softmax.
  Input NHWC (32, 32, 3). Exported with tf2onnx (the tf.function route, docs/numerics.md).
- ``mobilenetv2``: ``keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3),
  weights=None, classes=10)``: Keras' own code, unchanged (ZeroPadding2D, depthwise
  convolutions, ReLU6, inverted residual Adds, global average pooling). Input NHWC.
- ``mobilenetv3``: ``keras.applications.MobileNetV3Small(alpha=0.75, input_shape=(96, 96, 3),
  weights=None, classes=10, include_preprocessing=False)``, Keras' own code: hard-swish (tf2onnx
  writes x * relu6(x + 3) / 6 as Add, Clip, Mul), squeeze-and-excitation gates (a ReduceMean, and
  a Mul of (N, C, H, W) by (N, C, 1, 1)). In the int8 model onnxruntime runs those ReduceMeans in
  float between DequantizeLinear and QuantizeLinear, and the native runtime does the same.
- ``lenet_bn``: LeNet-5 with batch normalization from "Dive into Deep Learning" (d2l.ai,
  section "Batch Normalization", concise PyTorch version): Conv-BN-Sigmoid-AvgPool twice,
  Flatten, Linear-BN1d-Sigmoid twice, Linear; a Softmax is appended so that every zoo model
  ends in probabilities. Input NCHW (1, 28, 28).
- ``squeezenet``: SqueezeNet 1.1 as torchvision defines and initialises it
  (torchvision/models/squeezenet.py; torchvision itself is not installable here): Fire modules
  (1x1 squeeze, 1x1 and 3x3 expands joined by a channel Concat), ceil_mode max pooling,
  Dropout, 1x1-conv classifier, AdaptiveAvgPool2d, flatten; 10 classes, Softmax appended.
  Input NCHW (3, 66, 66), chosen so that every ceil_mode pool has a window over the edge.

The PyTorch models are exported with ``torch.onnx.export`` and its default exporter in torch
2.13, the torch.export-based ("dynamo") one (it needs onnxscript): it folds BatchNorm2d and
BatchNorm1d into the Conv / Gemm before them, writes flatten as Reshape(allowzero=1) and
AdaptiveAvgPool2d((1, 1)) as ReduceMean.

Batch-norm statistics are randomised (fixed seed) so that folding them is not a no-op.

int8: the project's ``edgecnn.export.quantize.quantize_onnx`` takes (N, 28, 28, 1) images only,
so the models are quantized here with onnxruntime's ``quantize_static`` and its settings
(QDQ, int8 weights symmetric per channel with reduce_range, activations asymmetric per
tensor, MinMax calibration, ``quant_pre_process`` first, Softmax left float), calibrated on
uniform random inputs in [0, 1]. Every op type onnxruntime knows how to quantize is
quantized (the project's tool restricts the list to what the reference CNN has): Add,
AveragePool, GlobalAveragePool, Sigmoid, ... are exactly what issue 6 adds.
One difference: activations are UINT8, not int8. On x86, onnxruntime runs int8 activations
by rewriting each Q/DQ pair to uint8, which it cannot do for a tensor read by two nodes (a
residual fan-out); it then refuses to fuse those convolutions and Adds and runs
DequantizeLinear -> float Conv -> QuantizeLinear instead (checked with onnxruntime 1.32 on
resnet8: 6 of 9 convolutions and 2 of 3 Adds left in float). A float convolution in
onnxruntime (MLAS, FMA) is no bit-exact target. With uint8 activations every Conv, Add and
pool runs as onnxruntime's QLinear* kernels (``ort_int8_ops`` in zoo.json).

    .venv/bin/python tests/model_zoo.py OUTDIR [--only NAME ...]

writes OUTDIR/NAME.onnx, OUTDIR/NAME.int8.onnx and OUTDIR/zoo.json (shapes, parameters, the
op types of each graph and of the graph onnxruntime runs). Needs TensorFlow + tf2onnx
(edgecnn[train]) and torch + onnxscript (edgecnn[dev]).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

SEED = 20261125
OPSET = 17  # tf2onnx; torch's exporter picks its own (it upgrades to the opset it supports)
CALIBRATION_SAMPLES = 64
ZOO = ("resnet8", "mobilenetv2", "mobilenetv3", "lenet_bn", "squeezenet")
# 66x66: every ceil_mode max pool of SqueezeNet then has a last window hanging over the edge
# (conv 66 -> 32; pools 32 -> 16, 16 -> 8, 8 -> 4, where floor mode would give 15, 7, 3).
SQUEEZENET_INPUT = (3, 66, 66)


@dataclass
class ZooModel:
    name: str
    source: str  # whose network code, and how it was exported
    layout: str  # "NHWC" or "NCHW": the input layout the ONNX model declares
    input_shape: tuple  # per sample, as declared
    float_path: Path
    int8_path: Path
    parameters: int = 0
    float_ops: dict = field(default_factory=dict)  # op type -> count in the float ONNX graph
    int8_ops: dict = field(default_factory=dict)  # ... in the int8 (QDQ) ONNX graph
    ort_int8_ops: dict = field(default_factory=dict)  # ... in the graph onnxruntime runs (default level)
    fixed_batch_path: Path | None = None  # the float model exported with its batch fixed to 1 (lenet_bn)


def sample_inputs(shape, n: int, seed: int) -> np.ndarray:
    """n inputs float32 (n, *shape), uniform in [0, 1] (the value range every edgecnn model takes)."""
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


# ---------------------------------------------------------------------------------------
# Keras models


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(SEED)
    return keras


def resnet8():
    """ResNet v1, depth 8, as resnet_v1(input_shape=(32, 32, 3), depth=8) of the Keras CIFAR-10 example."""
    keras = _keras()
    from keras import layers

    def resnet_layer(inputs, num_filters=16, kernel_size=3, strides=1, activation="relu", batch_normalization=True):
        # The example's conv_first=True branch (the only one resnet_v1 uses): Conv -> BN -> act.
        x = layers.Conv2D(
            num_filters,
            kernel_size=kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.l2(1e-4),
        )(inputs)
        if batch_normalization:
            x = layers.BatchNormalization()(x)
        if activation is not None:
            x = layers.Activation(activation)(x)
        return x

    depth, num_filters = 8, 16
    num_res_blocks = (depth - 2) // 6
    inputs = keras.Input(shape=(32, 32, 3))
    x = resnet_layer(inputs)
    for stack in range(3):
        for res_block in range(num_res_blocks):
            strides = 2 if stack > 0 and res_block == 0 else 1  # downsample at each new stack
            y = resnet_layer(x, num_filters=num_filters, strides=strides)
            y = resnet_layer(y, num_filters=num_filters, activation=None)
            if stack > 0 and res_block == 0:  # linear projection shortcut to the new shape
                x = resnet_layer(
                    x,
                    num_filters=num_filters,
                    kernel_size=1,
                    strides=strides,
                    activation=None,
                    batch_normalization=False,
                )
            x = layers.add([x, y])
            x = layers.Activation("relu")(x)
        num_filters *= 2
    x = layers.AveragePooling2D(pool_size=8)(x)
    y = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer="he_normal")(y)
    return keras.Model(inputs=inputs, outputs=outputs, name="resnet8")


def mobilenetv2():
    keras = _keras()
    return keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None, classes=10)


def mobilenetv3():
    keras = _keras()
    return keras.applications.MobileNetV3Small(
        input_shape=(96, 96, 3), alpha=0.75, weights=None, classes=10, include_preprocessing=False
    )


def _randomize_keras_batch_norm(model, rng) -> None:
    """Give every BatchNormalization non-trivial statistics (a fresh layer is the identity)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.8, 1.2, c).astype(np.float32),  # gamma
                    rng.normal(0.0, 0.1, c).astype(np.float32),  # beta
                    rng.normal(0.0, 0.1, c).astype(np.float32),  # moving mean
                    rng.uniform(0.8, 1.2, c).astype(np.float32),  # moving variance
                ]
            )


def keras_to_onnx(model, out_path: Path) -> None:
    """tf2onnx by the tf.function route of docs/numerics.md: trace model(x, training=False) with a dynamic batch."""
    import tensorflow as tf
    import tf2onnx

    tf.get_logger().setLevel("ERROR")
    tf2onnx.logging.set_level(tf2onnx.logging.ERROR)
    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="input")
    traced = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    tf2onnx.convert.from_function(traced, input_signature=[spec], opset=OPSET, output_path=str(out_path))


def _check_keras_export(model, onnx_path: Path, x: np.ndarray) -> None:
    want = np.asarray(model(x, training=False))
    got = ort_run(onnx_path, x)
    diff = float(np.abs(got - want).max())
    if not diff <= 1e-5:
        raise RuntimeError(f"{onnx_path.name}: onnxruntime differs from Keras by {diff:.3g}")


# ---------------------------------------------------------------------------------------
# PyTorch model


def lenet_bn():
    """d2l.ai's BatchNorm LeNet (concise version), plus a Softmax over the 10 logits."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5),
        nn.BatchNorm2d(6),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.BatchNorm2d(16),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.BatchNorm1d(120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.BatchNorm1d(84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
        nn.Softmax(dim=1),
    )
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.weight.copy_(torch.empty(c).uniform_(0.8, 1.2, generator=generator))
                m.bias.copy_(torch.empty(c).normal_(0.0, 0.1, generator=generator))
                m.running_mean.copy_(torch.empty(c).normal_(0.0, 0.1, generator=generator))
                m.running_var.copy_(torch.empty(c).uniform_(0.8, 1.2, generator=generator))
    return net.eval()


def squeezenet():
    """SqueezeNet 1.1 as torchvision defines it (torchvision/models/squeezenet.py: Fire modules,
    ceil_mode max pooling, Dropout + 1x1 conv classifier, AdaptiveAvgPool2d, flatten) and
    initialises it, for 10 classes, plus a Softmax. torchvision is not installable here, so
    the definition is followed module for module."""
    import torch
    from torch import nn

    class Fire(nn.Module):
        def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
            super().__init__()
            self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
            self.squeeze_activation = nn.ReLU(inplace=True)
            self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
            self.expand1x1_activation = nn.ReLU(inplace=True)
            self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
            self.expand3x3_activation = nn.ReLU(inplace=True)

        def forward(self, x):
            x = self.squeeze_activation(self.squeeze(x))
            return torch.cat(
                [self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1
            )

    class SqueezeNet11(nn.Module):
        def __init__(self, num_classes=10, dropout=0.5):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
            final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
            self.classifier = nn.Sequential(
                nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
            )
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    if m is final_conv:
                        nn.init.normal_(m.weight, mean=0.0, std=0.01)
                    else:
                        nn.init.kaiming_uniform_(m.weight)
                    nn.init.constant_(m.bias, 0)

        def forward(self, x):
            return torch.softmax(torch.flatten(self.classifier(self.features(x)), 1), dim=1)

    torch.manual_seed(SEED)
    return SqueezeNet11().eval()


def torch_to_onnx(net, input_shape, out_path: Path, x: np.ndarray, dynamic_batch: bool = True) -> None:
    """torch.onnx.export with its default exporter, batch dynamic or fixed to 1; checked against torch."""
    import torch

    example = torch.from_numpy(sample_inputs(input_shape, 2 if dynamic_batch else 1, SEED))
    torch.onnx.export(
        net,
        (example,),
        str(out_path),
        input_names=["input"],
        output_names=["probabilities"],
        dynamic_shapes=({0: torch.export.Dim("batch")},) if dynamic_batch else None,
        external_data=False,
        verbose=False,
    )
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    if dynamic_batch:
        got = ort_run(out_path, x)
    else:  # the batch is fixed to 1: one sample per run
        got = np.concatenate([ort_run(out_path, x[i : i + 1]) for i in range(len(x))])
    diff = float(np.abs(got - want).max())
    if not diff <= 1e-5:
        raise RuntimeError(f"{out_path.name}: onnxruntime differs from torch by {diff:.3g}")


# ---------------------------------------------------------------------------------------
# int8


def quantize_zoo_model(float_path: Path, out_path: Path, calibration: np.ndarray) -> None:
    """onnxruntime quantize_static with export/quantize.py's settings, every quantizable op type."""
    import onnx
    from onnxruntime import quantization
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgecnn.export.quantize import FLOAT_OP_TYPES, make_calibration_reader

    with tempfile.TemporaryDirectory(prefix="edgecnn-zoo-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        graph = onnx.load(str(prepared)).graph
        input_name = graph.input[0].name
        quantization.quantize_static(
            str(prepared),
            str(out_path),
            make_calibration_reader(calibration, input_name),
            quant_format=quantization.QuantFormat.QDQ,
            nodes_to_exclude=[n.name for n in graph.node if n.op_type in FLOAT_OP_TYPES],
            per_channel=True,
            reduce_range=True,
            activation_type=quantization.QuantType.QUInt8,  # see the module docstring
            weight_type=quantization.QuantType.QInt8,
            calibrate_method=quantization.CalibrationMethod.MinMax,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )


# ---------------------------------------------------------------------------------------


def ort_run(model, x: np.ndarray) -> np.ndarray:
    """onnxruntime on x: an ONNX path or ModelProto, default optimisation level, 1 thread."""
    from edgecnn.export.artifacts import ort_session

    session = ort_session(model, threads=1)
    return session.run(None, {session.get_inputs()[0].name: x})[0]


# ---------------------------------------------------------------------------------------
# Native runtime vs onnxruntime (tests/export/test_zoo.py asserts on these; --compare prints them)

COMPARE_SAMPLES = 32
COMPARE_SEED = 7  # a seed apart from the calibration inputs'


def compare_inputs(m: ZooModel, n: int = COMPARE_SAMPLES) -> np.ndarray:
    return sample_inputs(m.input_shape, n, COMPARE_SEED)


def _native(model_or_path):
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    blob, report = compile_model(model_or_path)
    return Model.from_bytes(blob), report


def compare_float(m: ZooModel, x: np.ndarray) -> dict:
    """The float model compiled and run natively (fast and reference kernels) vs onnxruntime."""
    model, report = _native(m.float_path)
    want = ort_run(m.float_path, x)
    runs = {"fast": model.predict(x), "reference": model.predict(x, reference=True)}
    return {
        "native_input_shape": model.input_shape,
        "native_output_shape": model.output_shape,
        "onnxruntime_output_shape": want.shape[1:],
        "scale": float(np.abs(want).max()),  # the largest output magnitude: differences are relative to it
        "max_abs_diff": {k: float(np.abs(v.astype(np.float64) - want).max()) for k, v in runs.items()},
        "same_top1": bool(np.array_equal(runs["fast"].argmax(1), want.argmax(1))),
        "layers": report.format_table(),
    }


def compare_int8(m: ZooModel, x: np.ndarray) -> dict:
    """The int8 model natively vs onnxruntime: the int8 codes of its last quantized tensor (the
    model cut after its last DequantizeLinear: equal floats there = equal codes), fast and
    reference kernels; then the whole model's probabilities (float Softmax after the int8 part)."""
    import onnx

    from edgecnn.export.compiler import quantized_output_model
    from edgecnn.verify_int8 import match_codes

    cut, scale, zero_point = quantized_output_model(onnx.load(str(m.int8_path)))
    native_cut, _ = _native(cut)
    codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zero_point  # noqa: E731
    want_codes = codes(ort_run(cut, x))
    matches = {
        k: match_codes(
            "last quantized tensor", "int8", codes(native_cut.predict(x, reference=k == "reference")), want_codes
        )
        for k in ("fast", "reference")
    }
    model, report = _native(m.int8_path)
    got, want = model.predict(x), ort_run(m.int8_path, x)
    return {
        "native_input_shape": model.input_shape,
        "codes": matches,
        "probabilities_max_abs_diff": float(np.abs(got.astype(np.float64) - want).max()),
        "same_top1": bool(np.array_equal(got.argmax(1), want.argmax(1))),
        "layers": report.format_table(),
    }


def _op_counts(graph) -> dict:
    return dict(sorted(collections.Counter(n.op_type for n in graph.node).items()))


def build(name: str, outdir) -> ZooModel:
    """Build, export, check and quantize one zoo model into outdir."""
    import onnx

    from edgecnn.export.quantize import optimized_op_counts

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    float_path, int8_path = outdir / f"{name}.onnx", outdir / f"{name}.int8.onnx"
    fixed_batch_path = None
    if name in ("resnet8", "mobilenetv2", "mobilenetv3"):
        model = {"resnet8": resnet8, "mobilenetv2": mobilenetv2, "mobilenetv3": mobilenetv3}[name]()
        _randomize_keras_batch_norm(model, np.random.default_rng(SEED))
        shape, layout = tuple(model.input_shape[1:]), "NHWC"
        check = sample_inputs(shape, 4, SEED + 1)
        keras_to_onnx(model, float_path)
        _check_keras_export(model, float_path, check)
        params = int(model.count_params())
        source = {
            "resnet8": "Keras example cifar10_resnet.py resnet_v1(depth=8)",
            "mobilenetv2": "keras.applications.MobileNetV2(alpha=0.35, 96x96x3, weights=None, classes=10)",
            "mobilenetv3": "keras.applications.MobileNetV3Small(alpha=0.75, 96x96x3, weights=None, classes=10)",
        }[name] + ", tf2onnx"
    elif name in ("lenet_bn", "squeezenet"):
        net, shape = (lenet_bn(), (1, 28, 28)) if name == "lenet_bn" else (squeezenet(), SQUEEZENET_INPUT)
        layout = "NCHW"
        torch_to_onnx(net, shape, float_path, sample_inputs(shape, 4, SEED + 1))
        if name == "lenet_bn":  # the same network exported as many are: batch fixed to 1
            fixed_batch_path = outdir / f"{name}.batch1.onnx"
            torch_to_onnx(net, shape, fixed_batch_path, sample_inputs(shape, 4, SEED + 1), dynamic_batch=False)
        params = sum(p.numel() for p in net.parameters())
        source = (
            "d2l.ai BatchNorm LeNet (PyTorch) + Softmax"
            if name == "lenet_bn"
            else "torchvision SqueezeNet 1.1 definition (PyTorch), 10 classes, + Softmax"
        )
        source += ", torch.onnx.export (dynamo)"
    else:
        raise ValueError(f"unknown zoo model {name!r}; the zoo has {', '.join(ZOO)}")
    quantize_zoo_model(float_path, int8_path, sample_inputs(shape, CALIBRATION_SAMPLES, SEED + 2))
    return ZooModel(
        name,
        source,
        layout,
        shape,
        float_path,
        int8_path,
        params,
        float_ops=_op_counts(onnx.load(str(float_path)).graph),
        int8_ops=_op_counts(onnx.load(str(int8_path)).graph),
        ort_int8_ops=optimized_op_counts(int8_path),
        fixed_batch_path=fixed_batch_path,
    )


def build_zoo(outdir, names=ZOO) -> dict[str, ZooModel]:
    models = {name: build(name, outdir) for name in names}
    manifest = {
        n: {
            **asdict(m),
            "float_path": m.float_path.name,
            "int8_path": m.int8_path.name,
            "fixed_batch_path": m.fixed_batch_path and m.fixed_batch_path.name,
            "float_bytes": m.float_path.stat().st_size,
            "int8_bytes": m.int8_path.stat().st_size,
        }
        for n, m in models.items()
    }
    (Path(outdir) / "zoo.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", nargs="+", choices=ZOO, default=list(ZOO), help="models to build (default: all)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also compile each model float and int8 and compare the native runtime with onnxruntime",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=COMPARE_SAMPLES,
        help=f"random inputs per comparison (default {COMPARE_SAMPLES}, as tests/export/test_zoo.py)",
    )
    args = parser.parse_args(argv)
    for name, m in build_zoo(args.outdir, args.only).items():
        print(
            f"{name}: {m.parameters:,} parameters, input {m.layout} {m.input_shape}; "
            f"{m.float_path.stat().st_size:,} B float, {m.int8_path.stat().st_size:,} B int8"
        )
        print(f"  float ops: {m.float_ops}\n  int8 ops: {m.int8_ops}\n  onnxruntime int8 ops: {m.ort_int8_ops}")
        if args.compare:
            _print_comparison(m, args.samples)
    return 0


def _print_comparison(m: ZooModel, samples: int) -> None:
    from edgecnn.runtime.errors import EdgecnnError

    x = compare_inputs(m, samples)

    def float_line() -> str:
        f = compare_float(m, x)
        diffs = ", ".join(f"{k} {v:.3g}" for k, v in f["max_abs_diff"].items())
        return f"max |native - onnxruntime| {diffs} (output scale {f['scale']:.3g}); same top-1: {f['same_top1']}"

    def int8_line() -> str:
        q = compare_int8(m, x)
        codes = ", ".join(f"{k} {c.identical}/{c.values} (max {c.max_step_diff} steps)" for k, c in q["codes"].items())
        return (
            f"codes identical to onnxruntime: {codes}; probabilities max diff "
            f"{q['probabilities_max_abs_diff']:.3g}; same top-1: {q['same_top1']}"
        )

    for kind, line in (("float", float_line), ("int8", int8_line)):
        try:
            print(f"  {kind} on {len(x)} inputs: {line()}")
        except EdgecnnError as exc:
            print(f"  {kind}: FAILS: {exc}")


if __name__ == "__main__":
    sys.exit(main())

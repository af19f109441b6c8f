"""Test models with random weights: the four MLPerf Tiny architectures and a few Keras-Applications blocks.

The MLPerf Tiny models follow the MLCommons/EEMBC training references
(mlcommons/tiny, benchmark/training/*) layer for layer, in the Keras functional API:

    ic_resnet8          image classification, ResNet-8 (resnet_v1_eembc), CIFAR-10 (32, 32, 3), 10 classes
    kws_dscnn           keyword spotting, DS-CNN, MFCC features (49, 10, 1), 12 classes
    vww_mobilenetv1     visual wake words, MobileNetV1 alpha 0.25, (96, 96, 3), 2 classes
    ad_fc_autoencoder   anomaly detection, FC autoencoder, 640 log-mel values in and out

The blocks are small classifiers built around one block as keras.applications writes it:

    block_mbv2          MobileNetV2 inverted residuals (ReLU6, ZeroPadding2D + valid depthwise, Add)
    block_resnet_bottleneck  ResNet50's bottleneck `block1` (BatchNorm, projection and identity Adds)
    block_se            EfficientNet-B0's first MBConv block (swish, squeeze-and-excitation Multiply)
    block_dense_concat  DenseNet's dense block (pre-activation BatchNorm, channel Concatenate, AveragePool)
    block_xception      Xception's entry-flow block (SeparableConv2D, MaxPool 'same', strided residual)

Weights are random but realistic, and deterministic (`build(name)` seeds everything):
Keras' own initialisers, non-zero biases (tf2onnx drops zero ones), and BatchNormalization
layers whose moving statistics are measured on sample inputs, layer by layer, then
perturbed, with gamma and beta drawn at random: activations keep the scale of a trained
network (so int8 ranges are used) and folding BatchNorm is never the identity.

MACs count the multiply-accumulates of Conv2D, DepthwiseConv2D, SeparableConv2D and Dense
for one sample (`count_macs`); BatchNorm, activations, pooling and Adds are not counted.
Parameters are Keras' `count_params()` (weights, biases and BatchNorm's four vectors).
Each builder's docstring states both figures; a test recomputes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

SEED = 20261207
BN_CALIBRATION_SAMPLES = 64


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return require("keras")


# ---------------------------------------------------------------------------------------
# MLPerf Tiny


def ic_resnet8():
    """MLPerf Tiny image classification: ResNet-8 v1 as resnet_v1_eembc (16, 32, 64 filters).

    Input (32, 32, 3), output 10 softmax probabilities. 12,501,632 MACs, 78,666 parameters.
    """
    keras = _keras()
    layers = keras.layers

    def conv(filters, kernel_size, strides):
        return layers.Conv2D(
            filters,
            kernel_size=kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.l2(1e-4),
        )

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = conv(16, 3, 1)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for stack, filters in enumerate((16, 32, 64)):
        strides = 1 if stack == 0 else 2
        y = conv(filters, 3, strides)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = conv(filters, 3, 1)(y)
        y = layers.BatchNormalization()(y)
        if stack > 0:  # a strided 1x1 projection matches the identity path to the new shape
            x = conv(filters, 1, strides)(x)
        x = layers.add([x, y])
        x = layers.Activation("relu")(x)
    x = layers.AveragePooling2D(pool_size=int(min(x.shape[1:3])))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer="he_normal")(x)
    return keras.Model(inputs, outputs, name="ic_resnet8")


def kws_dscnn():
    """MLPerf Tiny keyword spotting: DS-CNN (64 filters, a 10x4 stride-2 conv, four depthwise-separable layers).

    Input (49, 10, 1) MFCC features, output 12 softmax probabilities. 2,656,768 MACs, 24,908 parameters.
    """
    keras = _keras()
    layers = keras.layers
    regularizer = keras.regularizers.l2(1e-4)
    input_shape = (49, 10, 1)
    final_pool_size = (input_shape[0] // 2, input_shape[1] // 2)

    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same", kernel_regularizer=regularizer)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(rate=0.2)(x)
    for _ in range(4):  # DepthwiseConv2D: the reference's kernel_regularizer had no effect (vww_mobilenetv1)
        x = layers.DepthwiseConv2D(depth_multiplier=1, kernel_size=(3, 3), padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(64, (1, 1), padding="same", kernel_regularizer=regularizer)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.Dropout(rate=0.4)(x)
    x = layers.AveragePooling2D(pool_size=final_pool_size)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(12, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="kws_dscnn")


def vww_mobilenetv1():
    """MLPerf Tiny visual wake words: MobileNetV1 with width 0.25 (8 to 256 filters), ReLU, 13 separable layers.

    Input (96, 96, 3), output 2 softmax probabilities (person / no person). 7,489,664 MACs, 221,794 parameters.
    """
    keras = _keras()
    layers = keras.layers

    def conv_bn_relu(x, layer):
        x = layer(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    def kwargs():
        return {"padding": "same", "kernel_initializer": "he_normal", "kernel_regularizer": keras.regularizers.l2(1e-4)}

    def depthwise(strides):
        # tf.keras 2 took kernel_initializer/kernel_regularizer on DepthwiseConv2D and ignored them (its
        # kernel is the depthwise_* one), so the reference's depthwise kernels have the defaults; Keras 3
        # refuses those keywords.
        return layers.DepthwiseConv2D(kernel_size=3, strides=strides, padding="same")

    inputs = keras.Input(shape=(96, 96, 3), name="input")
    filters = 8  # 32 x alpha 0.25
    x = conv_bn_relu(inputs, layers.Conv2D(filters, kernel_size=3, strides=2, **kwargs()))
    # (depthwise stride, whether the pointwise conv doubles the filters), layers 2 to 14
    plan = [
        (1, True),
        (2, True),
        (1, False),
        (2, True),
        (1, False),
        (2, True),
        (1, False),
        (1, False),
        (1, False),
        (1, False),
        (1, False),
        (2, True),
        (1, False),
    ]
    for strides, doubles in plan:
        x = conv_bn_relu(x, depthwise(strides))
        if doubles:
            filters *= 2
        x = conv_bn_relu(x, layers.Conv2D(filters, kernel_size=1, strides=1, **kwargs()))
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="vww_mobilenetv1")


def ad_fc_autoencoder():
    """MLPerf Tiny anomaly detection: the dense autoencoder 640-128-128-128-128-8-128-128-128-128-640.

    Input (640,) (5 frames x 128 log-mel bands), output its reconstruction (640,). 264,192 MACs,
    269,992 parameters.
    """
    keras = _keras()
    layers = keras.layers
    input_dim = 640
    inputs = keras.Input(shape=(input_dim,), name="input")
    h = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        h = layers.Dense(units)(h)
        h = layers.BatchNormalization()(h)
        h = layers.Activation("relu")(h)
    outputs = layers.Dense(input_dim)(h)
    return keras.Model(inputs, outputs, name="ad_fc_autoencoder")


# ---------------------------------------------------------------------------------------
# Keras Applications blocks


def _classifier_head(keras, x, classes=10):
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.layers.Dense(classes, activation="softmax")(x)


def _correct_pad(size, kernel_size):
    """keras.applications' imagenet_utils.correct_pad: the ZeroPadding2D before a stride-2 'valid' conv."""
    adjust = (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size // 2, kernel_size // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def block_mbv2():
    """MobileNetV2 inverted residual blocks as keras.applications.mobilenet_v2's `_inverted_res_block`.

    Stem Conv 3x3/2 (16) + BN + ReLU6; a stride-2 block (expansion 6, 24 filters: ZeroPadding2D then a
    'valid' depthwise conv) and a stride-1 block with its residual Add; global average pool, Dense softmax.
    Input (32, 32, 3), 10 classes. 1,232,112 MACs, 15,770 parameters.
    """
    keras = _keras()
    layers = keras.layers

    def inverted_res_block(inputs, expansion, stride, filters):
        in_channels = inputs.shape[-1]
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False)(inputs)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
        x = layers.ReLU(6.0)(x)
        if stride == 2:
            x = layers.ZeroPadding2D(padding=_correct_pad(x.shape[1:3], 3))(x)
        x = layers.DepthwiseConv2D(
            kernel_size=3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid"
        )(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
        x = layers.ReLU(6.0)(x)
        x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
        if in_channels == filters and stride == 1:
            return layers.Add()([inputs, x])
        return x

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = layers.Conv2D(16, kernel_size=3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    x = inverted_res_block(x, expansion=6, stride=2, filters=24)
    x = inverted_res_block(x, expansion=6, stride=1, filters=24)
    return keras.Model(inputs, _classifier_head(keras, x), name="block_mbv2")


def block_resnet_bottleneck():
    """ResNet bottlenecks as keras.applications.resnet's `block1` (1x1, 3x3, 1x1 x4; BatchNorm eps 1.001e-5).

    Stem Conv 3x3 (32) + BN + ReLU, ZeroPadding2D + MaxPool 3x3/2 (ResNet's pool1); a block with a
    projection shortcut, one with the identity shortcut, a stride-2 projection block; global average
    pool, Dense softmax. Input (32, 32, 3), 10 classes. 5,014,784 MACs, 38,986 parameters.
    """
    keras = _keras()
    layers = keras.layers
    eps = 1.001e-5

    def block1(x, filters, stride=1, conv_shortcut=True):
        if conv_shortcut:
            shortcut = layers.Conv2D(4 * filters, 1, strides=stride)(x)
            shortcut = layers.BatchNormalization(axis=3, epsilon=eps)(shortcut)
        else:
            shortcut = x
        x = layers.Conv2D(filters, 1, strides=stride)(x)
        x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(filters, 3, padding="SAME")(x)
        x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(4 * filters, 1)(x)
        x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
        x = layers.Add()([shortcut, x])
        return layers.Activation("relu")(x)

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
    x = layers.Activation("relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = block1(x, 16)
    x = block1(x, 16, conv_shortcut=False)
    x = block1(x, 32, stride=2)
    return keras.Model(inputs, _classifier_head(keras, x), name="block_resnet_bottleneck")


def block_se():
    """EfficientNet-B0's first MBConv block as keras.applications.efficientnet's `block` (expand ratio 1).

    Stem Conv 3x3/2 (32) + BN + swish; depthwise 3x3 + BN + swish; squeeze-and-excitation (global
    average pool, Reshape, 1x1 conv to 8 with swish, 1x1 conv to 32 with sigmoid, Multiply); 1x1
    projection to 16 + BN; global average pool, Dense softmax. Input (32, 32, 3), 10 classes.
    426,656 MACs, 2,706 parameters.
    """
    keras = _keras()
    layers = keras.layers
    filters, filters_se, filters_out = 32, 8, 16  # se_ratio 0.25

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.Activation("swish")(x)
    x = layers.DepthwiseConv2D(3, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.Activation("swish")(x)
    se = layers.GlobalAveragePooling2D()(x)
    se = layers.Reshape((1, 1, filters))(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation="swish")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid")(se)
    x = layers.multiply([x, se])
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=3)(x)
    return keras.Model(inputs, _classifier_head(keras, x), name="block_se")


def block_dense_concat():
    """A DenseNet dense block and transition as keras.applications.densenet's `conv_block` / `transition_block`.

    Stem Conv 3x3/2 (16, no bias) + BN + ReLU; two conv blocks (BN, ReLU, 1x1 conv to 32, BN, ReLU,
    3x3 conv to 8, Concatenate with the block's input: 16 -> 24 -> 32 channels); transition (BN, ReLU,
    1x1 conv halving the channels, AveragePooling2D 2/2); global average pool, Dense softmax.
    Input (32, 32, 3), 10 classes. 1,749,152 MACs, 7,610 parameters.
    """
    keras = _keras()
    layers = keras.layers
    eps, growth_rate = 1.001e-5, 8

    def conv_block(x):
        x1 = layers.BatchNormalization(axis=3, epsilon=eps)(x)
        x1 = layers.Activation("relu")(x1)
        x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False)(x1)
        x1 = layers.BatchNormalization(axis=3, epsilon=eps)(x1)
        x1 = layers.Activation("relu")(x1)
        x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)(x1)
        return layers.Concatenate(axis=3)([x, x1])

    def transition_block(x, reduction):
        x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False)(x)
        return layers.AveragePooling2D(2, strides=2)(x)

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=3, epsilon=eps)(x)
    x = layers.Activation("relu")(x)
    x = conv_block(x)
    x = conv_block(x)
    x = transition_block(x, 0.5)
    return keras.Model(inputs, _classifier_head(keras, x), name="block_dense_concat")


def block_xception():
    """Xception's second entry-flow block as keras.applications.xception writes it.

    Stem Conv 3x3/2 'valid' (16, no bias) + BN + ReLU (32 -> 15); SeparableConv2D 3x3 (32) + BN + ReLU,
    SeparableConv2D 3x3 (32) + BN, MaxPooling2D 3x3/2 'same' (15 -> 8), plus the residual Conv 1x1/2
    'same' + BN; Add; global average pool, Dense softmax. Input (32, 32, 3), 10 classes.
    573,088 MACs, 3,690 parameters.
    """
    keras = _keras()
    layers = keras.layers

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    x = layers.Conv2D(16, (3, 3), strides=(2, 2), use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.Activation("relu")(x)
    residual = layers.Conv2D(32, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=3)(residual)
    x = layers.SeparableConv2D(32, (3, 3), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(32, (3, 3), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=3)(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
    x = layers.add([x, residual])
    return keras.Model(inputs, _classifier_head(keras, x), name="block_xception")


# ---------------------------------------------------------------------------------------
# The set


@dataclass(frozen=True)
class TinyModel:
    name: str
    builder: Callable
    input_shape: tuple  # one sample, as the Keras model takes it
    inputs: str  # "image": uniform in [0, 1); "features": standard normal (MFCC / log-mel, standardised)
    mlperf_tiny: bool


MODELS = {
    m.name: m
    for m in (
        TinyModel("ic_resnet8", ic_resnet8, (32, 32, 3), "image", True),
        TinyModel("kws_dscnn", kws_dscnn, (49, 10, 1), "features", True),
        TinyModel("vww_mobilenetv1", vww_mobilenetv1, (96, 96, 3), "image", True),
        TinyModel("ad_fc_autoencoder", ad_fc_autoencoder, (640,), "features", True),
        TinyModel("block_mbv2", block_mbv2, (32, 32, 3), "image", False),
        TinyModel("block_resnet_bottleneck", block_resnet_bottleneck, (32, 32, 3), "image", False),
        TinyModel("block_se", block_se, (32, 32, 3), "image", False),
        TinyModel("block_dense_concat", block_dense_concat, (32, 32, 3), "image", False),
        TinyModel("block_xception", block_xception, (32, 32, 3), "image", False),
    )
}
NAMES = tuple(MODELS)


def spec(name: str) -> TinyModel:
    try:
        return MODELS[name]
    except KeyError:
        raise EdgecnnError(f"no tiny model named {name!r}; the models are: {', '.join(NAMES)}") from None


def sample_inputs(name: str, n: int, seed: int) -> np.ndarray:
    """n float32 inputs (n, *input_shape) of the kind the model takes, reproducible from `seed`."""
    m = spec(name)
    rng = np.random.default_rng(seed)
    if m.inputs == "image":
        return rng.random((n, *m.input_shape), dtype=np.float32)
    return rng.standard_normal((n, *m.input_shape), dtype=np.float32)


def build(name: str):
    """The named model with deterministic random weights (see the module docstring)."""
    m = spec(name)
    keras = _keras()
    keras.backend.clear_session()  # layer names (and so the tensor names in every file) restart from 1
    keras.utils.set_random_seed(SEED)
    model = m.builder()
    rng = np.random.default_rng(SEED)
    _randomize_biases(keras, model, rng)
    _calibrate_batch_norm(keras, model, sample_inputs(name, BN_CALIBRATION_SAMPLES, SEED + 1), rng)
    return model


def _randomize_biases(keras, model, rng) -> None:
    for layer in model.layers:
        bias = getattr(layer, "bias", None)
        if bias is not None and not isinstance(layer, keras.layers.BatchNormalization):
            bias.assign(rng.normal(0.0, 0.05, bias.shape).astype(np.float32))


def _calibrate_batch_norm(keras, model, x: np.ndarray, rng) -> None:
    """Set each BatchNorm's moving statistics near those of its input on `x`, in graph order.

    Measured statistics keep activations at a trained network's scale through deep stacks
    (fresh ones, mean 0 and variance 1, let them grow or vanish); the random perturbation,
    gamma and beta keep the folded scale and shift far from the identity. Beta is centred on
    0.5, not 0: with beta around 0 (half the ReLUs off) the random stacks amplify a rounding
    difference about 1.15x per layer, and float TFLite and onnxruntime end up 9.4e-6 apart on
    vww_mobilenetv1's probabilities, the project's whole float tolerance; with 0.5, 2.2e-6.
    """
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        probe = keras.Model(model.inputs, layer.input)
        features = np.asarray(probe([x], training=False), dtype=np.float64)
        axes = tuple(range(features.ndim - 1))
        mean, var = features.mean(axis=axes), features.var(axis=axes)
        c = mean.shape[0]
        std = np.sqrt(var + layer.epsilon)
        layer.set_weights(
            [
                rng.uniform(0.5, 1.5, c).astype(np.float32),  # gamma
                rng.normal(0.5, 0.25, c).astype(np.float32),  # beta
                (mean + rng.normal(0.0, 0.1, c) * std).astype(np.float32),  # moving mean
                (var * rng.uniform(0.8, 1.25, c)).astype(np.float32),  # moving variance
            ]
        )


# ---------------------------------------------------------------------------------------
# Figures


def count_macs(model) -> int:
    """Multiply-accumulates of one sample through the Conv2D, DepthwiseConv2D, SeparableConv2D and Dense layers."""
    keras = _keras()
    layers = keras.layers
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.SeparableConv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, multiplier = layer.depthwise_kernel.shape
            total += h * w * c_in * multiplier * kh * kw + h * w * c_in * multiplier * c_out
        elif isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel.shape[:2]
            total += h * w * c_out * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in = layer.kernel.shape[:3]  # (kh, kw, c_in / groups, c_out)
            total += h * w * c_out * kh * kw * c_in
        elif isinstance(layer, layers.Dense):
            n_in, n_out = layer.kernel.shape
            total += int(np.prod(layer.output.shape[1:-1], dtype=np.int64)) * n_in * n_out
    return int(total)


def count_params(model) -> int:
    return int(model.count_params())

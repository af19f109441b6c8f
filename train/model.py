"""The reference CNN: the one model every engine (Keras, ONNX, int8, native C) runs.

    input (28, 28, 1) float32 in [0, 1]
    [Normalization]                  optional, adapted on the training images
    Conv2D filters@3x3, valid        -> (26, 26, filters), activation
    MaxPool 2x2, stride 1            -> (25, 25, filters)
    Flatten                          -> 25 * 25 * filters
    Dense dense_units[0], activation, Dropout dropout[0]
    Dense dense_units[1], activation, Dropout dropout[1]
    Dense num_classes, softmax

Only layers that export cleanly to ONNX belong here; random augmentation lives
in the tf.data pipeline (train/augment.py), because random layers inside a model
export as no-ops.
"""

from edgecnn.runtime.errors import require

ACTIVATIONS = ("relu", "leaky_relu")
INPUT_SHAPE = (28, 28, 1)


def _activation_layer(keras, activation: str, alpha: float, name: str):
    # A separate layer (not Conv2D(activation=...)) so relu and leaky_relu build
    # the same graph shape and tf2onnx emits a plain Relu / LeakyRelu node.
    if activation == "relu":
        return keras.layers.ReLU(name=name)
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=alpha, name=name)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, not {activation!r}")


def build_model(
    filters: int = 16,
    dense_units=(512, 200),
    dropout=(0.1, 0.2),
    activation: str = "relu",
    alpha: float = 0.01,
    num_classes: int = 10,
    normalization=None,
):
    """The reference CNN as an (uncompiled) keras.Model; see the module docstring for the layers.

    `normalization` is an adapted `keras.layers.Normalization` (or None); it is
    placed first so the saved model and its ONNX export take raw [0, 1] input.
    """
    keras = require("keras")
    if len(dense_units) != 2 or len(dropout) != 2:
        raise ValueError(f"dense_units and dropout need two values each, got {dense_units} and {dropout}")

    inputs = keras.Input(shape=INPUT_SHAPE, dtype="float32", name="input")
    x = inputs
    if normalization is not None:
        x = normalization(x)
    x = keras.layers.Conv2D(filters, 3, padding="valid", name="conv")(x)
    x = _activation_layer(keras, activation, alpha, "conv_act")(x)
    x = keras.layers.MaxPooling2D(pool_size=2, strides=1, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, (units, rate) in enumerate(zip(dense_units, dropout), start=1):
        x = keras.layers.Dense(units, name=f"dense{i}")(x)
        x = _activation_layer(keras, activation, alpha, f"dense{i}_act")(x)
        x = keras.layers.Dropout(rate, name=f"dropout{i}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="edgecnn")

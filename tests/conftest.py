"""Session-wide fixtures built from the real pipeline on a small real subset.

Every fixture here runs the real code (Keras training, tf2onnx export, onnxruntime
quantization) on real Fashion-MNIST images, small enough to take seconds:
a reference CNN trained 1 epoch on 3,000 training images, its ONNX export, and
its int8 quantization calibrated on 500 training images. Other test files (the
native runtime's included) compare against these.

A missing dataset or package FAILS the tests that need it, with the message
saying what to install; nothing is skipped.
"""

import numpy as np
import pytest
from needs import need
from tiny_zoo import tiny_zoo  # noqa: F401 (the MLPerf Tiny models, a fixture for every test folder)

TRAIN_IMAGES = 3000
CALIBRATION_IMAGES = 500
TEST_IMAGES = 1000
SEED = 1234


@pytest.fixture(scope="session")
def data_dir():
    """The Fashion-MNIST folder ($EDGECNN_DATA or /usr/share/datasets/fashion-mnist)."""
    from edgecnn.runtime.data import load_split, resolve_data_dir
    from edgecnn.runtime.errors import EdgecnnError

    try:
        path = resolve_data_dir(None)
        load_split(path, "test", limit=1)  # the files are there and readable
    except EdgecnnError as exc:
        problem = str(exc)
    else:
        return path
    pytest.fail(f"Fashion-MNIST is needed by this test: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def fashion_test_subset(data_dir):
    """(images uint8 (1000, 28, 28), labels uint8 (1000,)): the first 1,000 test images."""
    from edgecnn.runtime.data import load_split

    return load_split(data_dir, "test", limit=TEST_IMAGES)


@pytest.fixture(scope="session")
def train_subset(data_dir):
    """(float32 model input (3000, 28, 28, 1), labels uint8): the first 3,000 training images."""
    from edgecnn.runtime.data import load_split, to_model_input

    images, labels = load_split(data_dir, "train", limit=TRAIN_IMAGES)
    return to_model_input(images), labels


@pytest.fixture(scope="session")
def reference_keras_model(train_subset):
    """build_model's reference CNN (adapted Normalization first), trained 1 epoch on 3,000 images."""
    keras = need("keras")
    from edgecnn.train.model import build_model

    images, labels = train_subset
    keras.utils.set_random_seed(SEED)
    normalization = keras.layers.Normalization(axis=-1)
    normalization.adapt(images)
    model = build_model(normalization=normalization)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images, labels.astype(np.int32), epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="session")
def reference_onnx_path(reference_keras_model, tmp_path_factory):
    """reference_keras_model exported by keras_to_onnx (opset 17, dynamic batch)."""
    from edgecnn.export.onnx_export import keras_to_onnx

    return keras_to_onnx(reference_keras_model, tmp_path_factory.mktemp("reference") / "model.onnx")


@pytest.fixture(scope="session")
def reference_int8_onnx_path(reference_onnx_path, train_subset):
    """reference_onnx_path quantized by quantize_onnx (defaults), calibrated on 500 training images."""
    from edgecnn.export.quantize import quantize_onnx

    images, _ = train_subset
    out = reference_onnx_path.with_name("model.int8.onnx")
    return quantize_onnx(reference_onnx_path, out, images[:CALIBRATION_IMAGES])


@pytest.fixture(scope="session")
def tiny_model_factory(train_subset, tmp_path_factory):
    """make(activation, filters, dense_units) -> (keras.Model, float ONNX path), cached per shape.

    Small, untrained build_model CNNs with an adapted Normalization and random non-zero
    biases (tf2onnx folds zero biases away, which would hide the MatMul + Add -> Gemm path).
    """
    keras = need("keras")
    from edgecnn.export.onnx_export import keras_to_onnx
    from edgecnn.train.model import build_model

    images, _ = train_subset
    cache = {}

    def make(activation="relu", filters=4, dense_units=(32, 16)):
        key = (activation, filters, tuple(dense_units))
        if key not in cache:
            keras.utils.set_random_seed(SEED)
            normalization = keras.layers.Normalization(axis=-1)
            normalization.adapt(images[:500])
            model = build_model(
                filters=filters, dense_units=dense_units, activation=activation, normalization=normalization
            )
            rng = np.random.default_rng(SEED)
            for layer in model.layers:
                if getattr(layer, "bias", None) is not None:
                    layer.bias.assign(rng.normal(0.0, 0.05, layer.bias.shape).astype(np.float32))
            name = f"tiny_{activation}_{filters}_{'x'.join(map(str, dense_units))}.onnx"
            cache[key] = (model, keras_to_onnx(model, tmp_path_factory.mktemp("tiny") / name))
        return cache[key]

    return make

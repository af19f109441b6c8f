"""build_model: the reference architecture, activations, normalisation inside the saved model."""

import numpy as np
import pytest

from edgecnn.runtime.errors import require

keras = require("keras")  # fails with "install the train extra" when missing
from edgecnn.train import augment  # noqa: E402
from edgecnn.train.model import build_model  # noqa: E402


def test_reference_architecture():
    model = build_model()
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    conv, pool = model.get_layer("conv"), model.get_layer("pool")
    assert conv.filters == 16 and conv.kernel_size == (3, 3) and conv.padding == "valid"
    assert pool.pool_size == (2, 2) and pool.strides == (1, 1)
    assert model.get_layer("flatten").output.shape[1] == 25 * 25 * 16
    assert [model.get_layer(n).units for n in ("dense1", "dense2", "probabilities")] == [512, 200, 10]
    assert [model.get_layer(n).rate for n in ("dropout1", "dropout2")] == [0.1, 0.2]
    assert model.count_params() == 5_225_282
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probabilities = np.asarray(model(x))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_sizes_are_configurable():
    model = build_model(filters=4, dense_units=(32, 16), dropout=(0.0, 0.5), num_classes=10)
    assert model.get_layer("conv").filters == 4
    assert model.get_layer("dense1").units == 32 and model.get_layer("dense2").units == 16
    assert model.get_layer("dropout2").rate == 0.5


def test_leaky_relu_uses_alpha():
    model = build_model(filters=2, dense_units=(4, 4), activation="leaky_relu", alpha=0.2)
    for name in ("conv_act", "dense1_act", "dense2_act"):
        layer = model.get_layer(name)
        assert isinstance(layer, keras.layers.LeakyReLU) and layer.negative_slope == pytest.approx(0.2)
        np.testing.assert_allclose(np.asarray(layer(np.array([-1.0, 2.0], np.float32))), [-0.2, 2.0])


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        build_model(activation="gelu")


def test_normalization_travels_inside_the_saved_model(tmp_path):
    rng = np.random.default_rng(1)
    train = (rng.random((64, 28, 28, 1)) * 0.5).astype(np.float32)
    model = build_model(filters=2, dense_units=(8, 8), normalization=augment.adapted_normalization(train))
    assert isinstance(model.layers[1], keras.layers.Normalization), "normalisation must come first"
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(loaded.layers[1].mean).ravel(), [train.mean()], rtol=1e-5)
    x = rng.random((5, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

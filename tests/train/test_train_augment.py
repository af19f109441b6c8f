"""Augmentation: presets, flag overrides, the shear conversion, shapes, ranges, determinism."""

import dataclasses
import math

import numpy as np
import pytest

from edgecnn.runtime.errors import EdgecnnError, require

require("tensorflow")  # fails with "install the train extra" when missing
from edgecnn.train import augment, cli  # noqa: E402
from edgecnn.train.augment import PRESETS, AugmentConfig  # noqa: E402


@pytest.fixture(scope="module")
def images():
    """16 blob-like images in [0, 1], (16, 28, 28, 1) float32."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((16, 28, 28, 1), np.float32)
    for i in range(16):
        cy, cx, r = rng.uniform(9, 19), rng.uniform(9, 19), rng.uniform(4, 8)
        out[i, ..., 0] = np.clip(1.2 - np.hypot(yy - cy, xx - cx) / r, 0, 1) * rng.uniform(0.5, 1)
    return out


def test_seed_preset_has_every_augmentation_of_the_brief():
    # flip, rotation, shift, shear, feature-wise centring and std normalisation, validation split
    seed = PRESETS["seed"]
    assert seed.horizontal_flip and seed.normalize
    assert min(seed.rotation, seed.width_shift, seed.height_shift, seed.shear) > 0
    assert 0 < seed.validation_split < 1


def test_none_preset_changes_nothing(images):
    assert PRESETS["none"].is_identity and not PRESETS["none"].normalize
    assert augment.build_augmenter(PRESETS["none"], seed=0) is None
    np.testing.assert_array_equal(augment.augment_images(images, PRESETS["none"], seed=0), images)


def test_cli_choices_match_the_presets():
    # train/cli.py cannot import augment.py (TensorFlow) at registration, so it repeats the names.
    assert sorted(cli.AUGMENT_PRESETS) == sorted(PRESETS)
    assert cli.DEFAULT_AUGMENT == augment.DEFAULT_PRESET
    from edgecnn.train import model, trainer

    assert cli.OPTIMIZERS == trainer.OPTIMIZERS and cli.ACTIVATIONS == model.ACTIVATIONS
    assert cli.LR_SCHEDULES == trainer.LR_SCHEDULES


def test_flags_override_the_preset():
    config = augment.resolve_augment("seed", shear=0.0, horizontal_flip=False, rotation=None)
    assert config == dataclasses.replace(PRESETS["seed"], shear=0.0, horizontal_flip=False)


@pytest.mark.parametrize(
    "knob, value", [("shear", 91.0), ("rotation", -1.0), ("width_shift", 1.0), ("validation_split", 1.0)]
)
def test_out_of_range_knob_names_the_flag(knob, value):
    with pytest.raises(EdgecnnError, match=f"--{knob.replace('_', '-')}"):
        augment.resolve_augment("none", **{knob: value})


def test_unknown_preset():
    with pytest.raises(EdgecnnError, match="unknown augmentation preset 'heavy'"):
        augment.resolve_augment("heavy")


def test_layers_get_the_converted_factors():
    layers = {type(layer).__name__: layer for layer in augment.build_augmenter(PRESETS["seed"], seed=0).layers}
    assert set(layers) == {"RandomFlip", "RandomRotation", "CenteredRandomShear", "RandomTranslation"}
    assert layers["RandomFlip"].mode == "horizontal"
    np.testing.assert_allclose(layers["RandomRotation"].factor, (-20 / 360, 20 / 360))
    assert (layers["RandomTranslation"].height_lower, layers["RandomTranslation"].height_upper) == (-0.2, 0.2)
    assert (layers["RandomTranslation"].width_lower, layers["RandomTranslation"].width_upper) == (-0.2, 0.2)
    sin60 = math.sin(math.radians(60))
    np.testing.assert_allclose(layers["CenteredRandomShear"].x_factor, (-sin60, sin60))
    assert layers["CenteredRandomShear"].y_factor == (0.0, 0.0)


def test_shear_factor_conversion():
    assert augment.shear_factor(0) == 0
    assert augment.shear_factor(30) == pytest.approx(0.5)
    assert augment.shear_factor(60) == pytest.approx(math.sqrt(3) / 2)
    assert augment.shear_factor(90) == pytest.approx(1.0)  # the top of RandomShear's [0, 1] range


def test_centered_shear_keeps_the_centre_and_tilts_a_vertical_line():
    # A vertical line through the centre of a 27x27 image, sheared by slope exactly 0.5 (both signs are drawn).
    image = np.zeros((1, 27, 27, 1), np.float32)
    image[0, :, 13, 0] = 1
    layer = augment.CenteredRandomShear(
        x_factor=(0.5, 0.5), y_factor=0.0, image_size=(27, 27), interpolation="nearest", fill_mode="constant", seed=1
    )
    out = np.asarray(layer(image, training=True))[0, ..., 0]
    assert out[13, 13] == 1, "the centre pixel moved"
    top, bottom = np.argmax(out[1]), np.argmax(out[25])
    assert abs(top - 13) == 6 and abs(bottom - 13) == 6 and (top - 13) == -(bottom - 13), (top, bottom)


def test_augmented_shapes_dtype_and_range(images):
    out = augment.augment_images(images, PRESETS["seed"], seed=0)
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    assert not np.allclose(out, images)


def test_augmentation_is_deterministic_for_a_seed(images):
    a = augment.augment_images(images, PRESETS["seed"], seed=7)
    b = augment.augment_images(images, PRESETS["seed"], seed=7)
    c = augment.augment_images(images, PRESETS["seed"], seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dataset_pipeline_is_deterministic_across_epochs(images):
    labels = np.arange(16, dtype=np.uint8)

    def two_epochs():
        ds = augment.make_dataset(images, labels, 4, augment.build_augmenter(PRESETS["mild"], 3), shuffle_seed=3)
        return [np.concatenate([np.asarray(x) for x, _ in ds]) for _ in range(2)]

    first, second = two_epochs(), two_epochs()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1]), "epochs should differ (reshuffled, new random draws)"


def test_unaugmented_pipeline_yields_the_data(images):
    labels = np.arange(16, dtype=np.uint8)
    batches = list(augment.make_dataset(images, labels, 5))
    assert [len(y) for _, y in batches] == [5, 5, 5, 1]
    np.testing.assert_array_equal(np.concatenate([np.asarray(x) for x, _ in batches]), images)


def test_normalization_is_featurewise_mean_and_std(images):
    layer = augment.adapted_normalization(images)
    out = np.asarray(layer(images))
    np.testing.assert_allclose(out.mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(), 1.0, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(layer.mean).ravel(), [images.mean()], rtol=1e-5)


def test_preview_png(tmp_path, images):
    path = augment.write_preview(images[:3], PRESETS["seed"], seed=0, path=tmp_path / "p.png", variants=2)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name != "p.png"], "temporary file left behind"


def test_light_only_shifts():
    assert PRESETS["light"] == AugmentConfig(pad_shift=1)
    assert PRESETS["light"].per_image and not PRESETS["light"].per_batch
    assert augment.build_augmenter(PRESETS["light"], seed=0).batch_layers is None


@pytest.mark.parametrize("pixels", [1, 2, 3])
def test_pad_and_crop_is_a_shift_of_at_most_p_pixels(images, pixels):
    tf = require("tensorflow")
    padded = np.pad(images[0, ..., 0], pixels)
    windows = {
        (dy, dx): padded[dy : dy + 28, dx : dx + 28] for dy in range(2 * pixels + 1) for dx in range(2 * pixels + 1)
    }
    seen = set()
    for i in range(60):
        out = np.asarray(augment.pad_and_crop(tf.constant(images[0]), pixels, tf.constant([i, 7], tf.int64)))[..., 0]
        match = [offset for offset, window in windows.items() if np.array_equal(window, out)]
        assert match, "the output is not a shifted copy of the input"
        seen.update(match)
    assert len(seen) > (2 * pixels + 1) ** 2 // 2, f"offsets drawn: {sorted(seen)}"


def test_random_erase_zeroes_one_rectangle_inside_the_image():
    tf = require("tensorflow")
    image = np.ones((28, 28, 1), np.float32)
    for i in range(30):
        out = np.asarray(augment.random_erase(tf.constant(image), 1.0, tf.constant([i, 3], tf.int64)))[..., 0]
        rows, cols = np.nonzero(out == 0)
        assert rows.size, "probability 1 erased nothing"
        box = out[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert not box.any(), "the erased pixels do not form one rectangle"
        assert 0.02 * 784 * 0.5 <= rows.size <= 0.2 * 784 * 1.5, rows.size
        assert set(np.unique(out)) <= {0.0, 1.0}
    kept = augment.random_erase(tf.constant(image), 0.0, tf.constant([1, 2], tf.int64))
    np.testing.assert_array_equal(np.asarray(kept), image)


def test_per_image_stage_is_deterministic_and_redraws_every_epoch(images):
    labels = np.arange(16, dtype=np.uint8)
    config = AugmentConfig(pad_shift=2, erase=0.5)

    def two_epochs(seed):
        ds = augment.make_dataset(images, labels, 4, augment.build_augmenter(config, seed), shuffle_seed=3)
        return [np.concatenate([np.asarray(x) for x, _ in ds]) for _ in range(2)]

    first, again, other = two_epochs(5), two_epochs(5), two_epochs(6)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1]), "the second epoch drew the same augmentation"
    assert not np.array_equal(first[0], other[0]), "another seed drew the same augmentation"


def test_strong_preset_runs_both_stages(images):
    augmenter = augment.build_augmenter(PRESETS["strong"], seed=0)
    assert {type(layer).__name__ for layer in augmenter.layers} == {"RandomFlip", "RandomRotation", "RandomZoom"}
    out = augment.augment_images(images, PRESETS["strong"], seed=0)
    assert out.shape == images.shape and out.dtype == np.float32 and not np.allclose(out, images)


@pytest.mark.parametrize("knob, value", [("zoom", 1.0), ("pad_shift", 15), ("erase", 1.5)])
def test_new_knobs_out_of_range_name_the_flag(knob, value):
    with pytest.raises(EdgecnnError, match=f"--{knob.replace('_', '-')}"):
        augment.resolve_augment("none", **{knob: value})

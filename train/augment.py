"""Data augmentation for training: Keras 3 preprocessing layers run in the tf.data pipeline.

Why in the pipeline and not in the model: random layers inside a model export to
ONNX as no-ops, and every engine must see the same deterministic model. The one
preprocessing step that does belong to the model, feature-wise centring and std
normalisation, is an adapted `keras.layers.Normalization` placed as the model's
first layer (see `adapted_normalization` and model.build_model), so the saved
model, the ONNX file and the native engine all take float32 (N, 28, 28, 1) in [0, 1].

Two stages, both on the fly in tf.data (make_dataset):

per image, stateless random ops in a parallel map (num_parallel_calls=AUTOTUNE, both cores):
    pad_shift        pixels; zero-pad by p and crop 28x28 back at a random offset (the classic
                     pad-and-crop shift of at most p pixels each way)
    erase            probability of random erasing: one rectangle of 2-20% of the image,
                     aspect 0.3-3.3, set to background (Zhong et al. 2017)
  Each image's random numbers come from a seed pair drawn by tf.data.Dataset.random, so the
  parallel map is reproducible for a seed and draws anew every epoch.

per batch, Keras 3 preprocessing layers (the knobs of Keras 2's ImageDataGenerator, which
Keras 3 no longer has), run in order because their seed generators hold state:
    rotation         degrees; RandomRotation(factor=degrees / 360)
    zoom             fraction; RandomZoom(-zoom, -zoom): up to `zoom` in or out
    width/height_shift  fractions of the image; RandomTranslation
    horizontal_flip  RandomFlip("horizontal")
    shear            degrees; CenteredRandomShear(x_factor=sin(degrees)), see shear_factor()

and two settings that are not random:
    normalize        feature-wise centre + std normalisation (in the model)
    validation_split fraction of the training images held out (the last ones)
"""

import dataclasses
import math
import pathlib

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

keras = require("keras")
tf = require("tensorflow")

# Pixels uncovered by a transform become background (0 = black, as in Fashion-MNIST),
# rather than Keras 3's default "reflect", which mirrors garment parts into the frame.
FILL_MODE = "constant"
FILL_VALUE = 0.0


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    rotation: float = 0.0  # degrees, angle drawn from [-rotation, rotation]
    width_shift: float = 0.0  # fraction of the width, shift drawn from [-w, w]
    height_shift: float = 0.0  # fraction of the height
    horizontal_flip: bool = False
    shear: float = 0.0  # degrees, horizontal shear about the centre
    zoom: float = 0.0  # fraction, scale drawn from [1 - zoom, 1 + zoom]
    pad_shift: int = 0  # pixels, pad-and-crop shift drawn from [-p, p] each way
    erase: float = 0.0  # probability of erasing one random rectangle
    normalize: bool = False  # feature-wise centring + std normalisation, inside the model
    validation_split: float = 0.1  # fraction of the training images held out for validation

    def validate(self) -> None:
        """Raise EdgecnnError naming the first knob that is out of range."""
        checks = [
            ("rotation", 0 <= self.rotation <= 180, "degrees in [0, 180]"),
            ("width_shift", 0 <= self.width_shift < 1, "a fraction in [0, 1)"),
            ("height_shift", 0 <= self.height_shift < 1, "a fraction in [0, 1)"),
            ("shear", 0 <= self.shear <= 90, "degrees in [0, 90]"),
            ("zoom", 0 <= self.zoom < 1, "a fraction in [0, 1)"),
            ("pad_shift", 0 <= self.pad_shift <= 14, "pixels in [0, 14]"),
            ("erase", 0 <= self.erase <= 1, "a probability in [0, 1]"),
            ("validation_split", 0 <= self.validation_split < 1, "a fraction in [0, 1)"),
        ]
        for name, ok, what in checks:
            if not ok:
                raise EdgecnnError(f"--{name.replace('_', '-')} must be {what}, got {getattr(self, name)}")

    @property
    def is_identity(self) -> bool:
        """True when the pipeline changes no pixel (normalisation lives in the model, not here)."""
        return not (self.per_batch or self.per_image)

    @property
    def per_image(self) -> bool:
        """True when the parallel per-image stage has work (pad_shift, erase)."""
        return bool(self.pad_shift or self.erase)

    @property
    def per_batch(self) -> bool:
        """True when the Keras-layer stage has work."""
        return bool(
            self.rotation or self.zoom or self.width_shift or self.height_shift or self.horizontal_flip or self.shear
        )


PRESETS = {
    "none": AugmentConfig(),
    # Pad-and-crop shifts of at most one pixel: the default (docs/training.md).
    "light": AugmentConfig(pad_shift=1),
    # Candidates for the default, one knob each (docs/training.md, "The default").
    "flip": AugmentConfig(horizontal_flip=True),
    "erase": AugmentConfig(erase=0.25),
    # Stronger, for small data sets: shifts of 2 pixels, flip, small rotation and zoom, erasing.
    "strong": AugmentConfig(pad_shift=2, horizontal_flip=True, rotation=8, zoom=0.08, erase=0.3),
    # The settings of the original ImageDataGenerator script this project started from.
    "seed": AugmentConfig(
        rotation=20,
        width_shift=0.2,
        height_shift=0.2,
        horizontal_flip=True,
        shear=60,
        normalize=True,
        validation_split=0.2,
    ),
    # Label-preserving flip plus normalisation.
    "mild": AugmentConfig(horizontal_flip=True, normalize=True),
}
# With 16 epochs (cosine), one-pixel pad-and-crop beats no augmentation on the validation split
# of the full training set: 93.10% against 92.68% (docs/training.md, "The default").
DEFAULT_PRESET = "light"


def resolve_augment(preset: str, **overrides) -> AugmentConfig:
    """The preset's settings with every override that is not None applied, validated."""
    if preset not in PRESETS:
        raise EdgecnnError(f"unknown augmentation preset {preset!r}; choose one of {', '.join(PRESETS)}")
    config = dataclasses.replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})
    config.validate()
    return config


def shear_factor(degrees: float) -> float:
    """ImageDataGenerator's shear angle in degrees -> RandomShear's x_factor in [0, 1].

    RandomShear samples s in [-x_factor, x_factor] and maps each output pixel (x, y)
    to the input pixel (x + s*y, y): s is the horizontal displacement per row.
    ImageDataGenerator's shear matrix for an angle t is [[1, -sin t], [0, cos t]]
    (columns shift by sin t per row, plus a 1/cos t stretch), so s = sin t keeps
    its displacement per row. sin maps [0, 90] degrees onto [0, 1], RandomShear's
    valid range; tan t (the pure-shear slope) would exceed 1 above 45 degrees.
    The cos t stretch is not reproduced.
    """
    return math.sin(math.radians(degrees))


class CenteredRandomShear(keras.layers.RandomShear):
    """keras.layers.RandomShear about the image centre.

    Keras' RandomShear shears about the top-left corner (pixel (0, 0) stays put),
    so a slope s also shifts the bottom row by s * height pixels. ImageDataGenerator
    sheared about the centre; this adds the offsets that keep the centre fixed.
    """

    def __init__(self, *args, image_size=(28, 28), **kwargs):
        super().__init__(*args, **kwargs)
        self.image_size = tuple(image_size)

    def _get_shear_matrix(self, shear_factors):
        # Output pixel (x, y) reads input (x + s_x*y + a2, s_y*x + y + b2); Keras sets
        # a2 = b2 = 0. The centre (cx, cy) maps to itself when a2 = -s_x*cy, b2 = -s_y*cx.
        height, width = self.image_size
        cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
        s_x, s_y = shear_factors[:, 0], shear_factors[:, 1]
        ones, zeros = self.backend.numpy.ones_like(s_x), self.backend.numpy.zeros_like(s_x)
        return self.backend.numpy.stack([ones, s_x, -s_x * cy, s_y, ones, -s_y * cx, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size}


class Augmenter:
    """The two random stages of one AugmentConfig (see the module docstring).

    layers: the per-batch keras.Sequential (None when no Keras-layer knob is set);
    map_image(image, seed): the per-image stage, stateless in `seed` (a shape-(2,) int64 tensor).
    """

    def __init__(self, config: AugmentConfig, seed: int, image_size=(28, 28)):
        self.config, self.seed, self.image_size = config, seed, tuple(image_size)
        self.batch_layers = _batch_layers(config, seed, image_size) if config.per_batch else None

    @property
    def layers(self) -> list:
        return list(self.batch_layers.layers) if self.batch_layers is not None else []

    def map_image(self, image, seed):
        seeds = tf.random.experimental.stateless_split(seed, num=2)
        if self.config.pad_shift:
            image = pad_and_crop(image, self.config.pad_shift, seeds[0])
        if self.config.erase:
            image = random_erase(image, self.config.erase, seeds[1])
        return image


def pad_and_crop(image, pixels: int, seed):
    """Zero-pad an (H, W, C) image by `pixels` on each side, crop H x W at a random offset."""
    height, width = image.shape[0], image.shape[1]
    padded = tf.pad(image, [[pixels, pixels], [pixels, pixels], [0, 0]], constant_values=FILL_VALUE)
    offset = tf.random.stateless_uniform([2], seed, minval=0, maxval=2 * pixels + 1, dtype=tf.int32)
    return tf.slice(padded, [offset[0], offset[1], 0], [height, width, image.shape[2]])


def random_erase(image, probability: float, seed, area=(0.02, 0.2), aspect=(0.3, 3.3)):
    """With `probability`, set one rectangle of `area` (fraction of the image) and `aspect`
    (height / width, log-uniform) to background; the rectangle lies inside the image."""
    height, width = image.shape[0], image.shape[1]
    draws = tf.random.stateless_uniform([5], seed)
    fraction = area[0] + (area[1] - area[0]) * draws[0]
    log_aspect = math.log(aspect[0]) + (math.log(aspect[1]) - math.log(aspect[0])) * draws[1]
    size = fraction * height * width
    h = tf.clip_by_value(tf.cast(tf.round(tf.sqrt(size * tf.exp(log_aspect))), tf.int32), 1, height)
    w = tf.clip_by_value(tf.cast(tf.round(tf.sqrt(size / tf.exp(log_aspect))), tf.int32), 1, width)
    top = tf.cast(draws[2] * tf.cast(height - h + 1, tf.float32), tf.int32)
    left = tf.cast(draws[3] * tf.cast(width - w + 1, tf.float32), tf.int32)
    rows, cols = tf.range(height)[:, None], tf.range(width)[None, :]
    inside = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
    erase = inside & (draws[4] < probability)
    return tf.where(erase[..., None], tf.constant(FILL_VALUE, image.dtype), image)


def _batch_layers(config: AugmentConfig, seed: int, image_size):
    common = dict(fill_mode=FILL_MODE, fill_value=FILL_VALUE)
    layers = []
    # Distinct seeds so the layers draw independent random numbers.
    if config.horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if config.rotation:
        layers.append(keras.layers.RandomRotation(config.rotation / 360.0, seed=seed + 1, **common))
    if config.zoom:
        layers.append(keras.layers.RandomZoom(-config.zoom, -config.zoom, seed=seed + 4, **common))
    if config.shear:
        layers.append(
            CenteredRandomShear(
                x_factor=shear_factor(config.shear), y_factor=0.0, image_size=image_size, seed=seed + 2, **common
            )
        )
    if config.width_shift or config.height_shift:
        layers.append(keras.layers.RandomTranslation(config.height_shift, config.width_shift, seed=seed + 3, **common))
    return keras.Sequential(layers, name="augment")


def build_augmenter(config: AugmentConfig, seed: int, image_size=(28, 28)) -> Augmenter | None:
    """The Augmenter for `config`, or None when it changes nothing."""
    config.validate()
    if config.is_identity:
        return None
    return Augmenter(config, seed, image_size)


def adapted_normalization(images01: np.ndarray):
    """keras.layers.Normalization holding the mean and variance of `images01` (N, 28, 28, 1)."""
    layer = keras.layers.Normalization(axis=-1, name="normalization")
    layer.adapt(images01)
    return layer


def make_dataset(
    images01,
    labels,
    batch_size: int,
    augmenter: Augmenter | None = None,
    shuffle_seed: int | None = None,
    drop_remainder: bool = False,
):
    """A batched tf.data.Dataset of (images, labels), augmented on the fly when `augmenter` is given.

    The per-image stage runs in a parallel map (deterministic order, stateless seeds, so a
    seed gives the same run); the per-batch Keras layers run in order; prefetch overlaps both
    with training.
    """
    dataset = tf.data.Dataset.from_tensor_slices((images01, labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images01), seed=shuffle_seed, reshuffle_each_iteration=True)
    if augmenter is not None and augmenter.config.per_image:
        # One seed pair per image, new ones every epoch (rerandomize_each_iteration).
        seeds = tf.data.Dataset.random(seed=augmenter.seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(
            lambda xy, seed: (augmenter.map_image(xy[0], seed), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if augmenter is not None and augmenter.batch_layers is not None:
        layers = augmenter.batch_layers
        dataset = dataset.map(lambda x, y: (layers(x, training=True), y))
    return dataset.prefetch(tf.data.AUTOTUNE)


def augment_images(images01: np.ndarray, config: AugmentConfig, seed: int) -> np.ndarray:
    """Augment a batch of images once (the same pipeline training uses); for previews and tests."""
    augmenter = build_augmenter(config, seed)
    if augmenter is None:
        return np.asarray(images01, dtype=np.float32)
    batches = make_dataset(images01, np.zeros(len(images01), np.uint8), batch_size=len(images01), augmenter=augmenter)
    return np.concatenate([np.asarray(x) for x, _ in batches])


def write_preview(images01: np.ndarray, config: AugmentConfig, seed: int, path, variants: int = 7) -> pathlib.Path:
    """PNG grid: one row per image, the original first, then `variants` augmented copies."""
    from edgecnn.train.plots import pyplot, save_figure

    rows = len(images01)
    copies = [augment_images(images01, config, seed + i * 1000) for i in range(variants)]
    plt = pyplot()
    fig, axes = plt.subplots(rows, variants + 1, figsize=(1.2 * (variants + 1), 1.2 * rows), squeeze=False)
    for r in range(rows):
        for c in range(variants + 1):
            image = images01[r] if c == 0 else copies[c - 1][r]
            axes[r, c].imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(f"#{r}", fontsize=7)
    axes[0, 0].set_title("original", fontsize=8)
    for c in range(1, variants + 1):
        axes[0, c].set_title(f"aug {c}", fontsize=8)
    fig.suptitle(_describe(config), fontsize=8)
    return save_figure(fig, path)


def _describe(config: AugmentConfig) -> str:
    return (
        f"rotation {config.rotation}°, shift {config.width_shift} x {config.height_shift}, "
        f"flip {config.horizontal_flip}, shear {config.shear}°, zoom {config.zoom}, "
        f"pad-shift {config.pad_shift} px, erase {config.erase}"
    )

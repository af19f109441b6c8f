"""The training loop: data -> augmented tf.data -> reference CNN -> fit -> evaluate -> artifacts.

`train(settings, data_dir, out_dir)` writes, each atomically:
    model.keras    the trained model for export and inference (normalisation inside, no
                   augmentation inside, no optimizer state: the optimizer's slots would
                   triple its size and no consumer reads them)
    metrics.json   test accuracy/loss, per-class accuracy, confusion matrix, history,
                   timings, every setting, library versions, machine load
    history.png    loss and accuracy per epoch, train and validation
    confusion.png  test-set confusion matrix
and, after every epoch, OUT/checkpoint/ (train/checkpoint.py) so that `edgecnn train --resume OUT`
continues an interrupted run (that checkpoint holds the optimizer state); it is removed when
the run completes.

Keras progress bars are drawn only when stdout is a terminal; a log or CI gets one line per epoch.
With a TF_CONFIG cluster (train/distributed.py) the model trains under MultiWorkerMirroredStrategy,
resumes with keras.callbacks.BackupAndRestore, and only the chief writes the artifacts.
"""

import contextlib
import dataclasses
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

from edgecnn.runtime import data
from edgecnn.runtime.errors import EdgecnnError, require
from edgecnn.runtime.files import staged_file, write_json
from edgecnn.train import augment, checkpoint, distributed, plots
from edgecnn.train.model import build_model

keras = require("keras")
tf = require("tensorflow")

OPTIMIZERS = ("sgd", "momentum", "adam")
LR_SCHEDULES = ("constant", "cosine")
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "adam": 1e-3}
ARTIFACTS = ("model.keras", "metrics.json", "history.png", "confusion.png")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    epochs: int = 16
    batch_size: int = 128
    limit: int | None = None  # train on the first `limit` training images only
    seed: int = 0
    deterministic: bool = True  # tf.config.experimental.enable_op_determinism
    optimizer: str = "adam"
    lr: float | None = None  # None: DEFAULT_LR[optimizer]
    lr_schedule: str = "cosine"  # decay from lr to 0 over all training steps; or "constant"
    momentum: float = 0.9  # beta of the "momentum" optimizer
    activation: str = "relu"
    alpha: float = 0.01  # leaky_relu negative slope
    filters: int = 16
    dense_units: tuple = (512, 200)
    dropout: tuple = (0.1, 0.2)
    augment_preset: str = augment.DEFAULT_PRESET
    augmentation: augment.AugmentConfig = augment.PRESETS[augment.DEFAULT_PRESET]

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def architecture(self) -> dict:
        """The arguments of train/model.py's build_model these settings choose."""
        return {name: getattr(self, name) for name in ("filters", "dense_units", "dropout", "activation", "alpha")}


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """What metrics.json records of how the run went, besides the test results."""

    start: float  # time.perf_counter() when train() began
    host_start: dict  # _host() then
    data: dict  # the data folder and the size of each split
    workers: int
    resumed_after_epoch: int | None
    train_seconds: float  # in model.fit


def make_optimizer(name: str, lr, momentum: float = 0.9):
    """sgd:      w := w - lr * dJ/dw
    momentum: m := momentum * m - lr * dJ/dw;  w := w + m
              (exactly Keras' SGD(momentum=...) update with nesterov=False; see test_train_optim.py)
    adam:     keras.optimizers.Adam(lr)
    `lr` is a float or a keras LearningRateSchedule (see learning_rate_schedule).
    """
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.0)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=False)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    raise EdgecnnError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def learning_rate_schedule(name: str, lr: float, total_steps: int):
    """constant: lr every step; cosine: lr * (1 + cos(pi * step / total_steps)) / 2."""
    if name == "constant":
        return lr
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(initial_learning_rate=lr, decay_steps=total_steps, alpha=0.0)
    raise EdgecnnError(f"unknown learning-rate schedule {name!r}; choose one of {', '.join(LR_SCHEDULES)}")


def seed_everything(seed: int, deterministic: bool) -> None:
    """Same seed -> same run: Python, NumPy and TF seeds, plus deterministic TF kernels."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def split_validation(images, labels, fraction: float):
    """The last `fraction` of the images (at least one if fraction > 0) become the validation set."""
    n_val = round(len(images) * fraction) if fraction > 0 else 0
    if fraction > 0:
        n_val = max(n_val, 1)
    if n_val >= len(images):
        raise EdgecnnError(
            f"validation split {fraction} of {len(images)} training images leaves none to train on; "
            "use more images (--limit) or a smaller --validation-split"
        )
    cut = len(images) - n_val
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def evaluate(model, images01, labels, num_classes: int) -> dict:
    """Accuracy, mean cross-entropy, per-class accuracy and confusion matrix on one split."""
    probabilities = model.predict(images01, batch_size=512, verbose=0)
    predicted = probabilities.argmax(axis=1)
    loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities)))
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), predicted), 1)
    per_class_total = confusion.sum(axis=1)
    per_class = np.divide(
        confusion.diagonal(), per_class_total, out=np.full(num_classes, np.nan), where=per_class_total > 0
    )
    return {
        "count": len(labels),
        "accuracy": float(np.mean(predicted == labels)),
        "loss": loss,
        "per_class_accuracy": {
            name: (None if np.isnan(acc) else float(acc)) for name, acc in zip(data.FASHION_MNIST_CLASSES, per_class)
        },
        "confusion_matrix": confusion.tolist(),
    }


def _versions() -> dict:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for package in ("edgecnn", "tensorflow-cpu", "tensorflow", "keras", "numpy", "matplotlib"):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[package] = md.version(package)
    return versions


def _host() -> dict:
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "loadavg": list(os.getloadavg())}


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch (training + validation), for metrics.json."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 2))


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: the model and the history so far into OUT/checkpoint (train/checkpoint.py).
    Runs after EpochTimer, so the epoch's seconds are in."""

    def __init__(self, out_dir, settings, timer: EpochTimer, state: dict | None):
        super().__init__()
        self.out_dir, self.settings, self.timer = out_dir, settings, timer
        self.history = {k: list(v) for k, v in (state["history"] if state else {}).items()}
        self.prior_seconds = list(state["epoch_seconds"]) if state else []

    @property
    def epoch_seconds(self) -> list:
        return self.prior_seconds + self.timer.seconds

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        checkpoint.save(self.out_dir, self.model, epoch + 1, self.history, self.epoch_seconds, self.settings)


def progress_verbosity(stream=None) -> int:
    """Keras fit verbosity: 1 (progress bar) on a terminal, 2 (one line per epoch) otherwise."""
    stream = stream if stream is not None else sys.stdout
    return 1 if hasattr(stream, "isatty") and stream.isatty() else 2


def export_copy(model, build):
    """The model's architecture and weights without optimizer or compile state (what model.keras holds).

    `build` makes a fresh model of the same architecture outside any distribution strategy."""
    plain = build()
    plain.set_weights(model.get_weights())
    return plain


def train(settings: TrainSettings, data_dir, out_dir, resume: bool = False) -> dict:
    """Train, evaluate on the test split, write the artifacts into `out_dir`; return the metrics.

    Checkpoints every epoch into out_dir/checkpoint; resume=True continues the interrupted
    run found there, with the settings it was started with (`settings` is then ignored).
    With TF_CONFIG set, this process is one worker of that cluster (train/distributed.py).
    """
    start = time.perf_counter()
    cluster = distributed.cluster_from_env()
    strategy = distributed.make_strategy() if cluster else None  # before any other TensorFlow op
    if cluster and resume:
        raise EdgecnnError("--resume is for one-process runs; a cluster run resumes by itself (BackupAndRestore)")
    host_start = _host()
    final_dir = pathlib.Path(out_dir)
    scratch = None
    if cluster and not cluster.is_chief:  # only the chief writes artifacts
        scratch = tempfile.mkdtemp(prefix=f"edgecnn-{cluster.task_name}-")
        out_dir = pathlib.Path(scratch)
    else:
        out_dir = final_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    state = checkpoint.load(out_dir) if resume else None
    if state is not None:
        settings = checkpoint.settings_from_dict(state["settings"], TrainSettings, augment.AugmentConfig)
        print(f"resuming the run in {out_dir} after epoch {state['epoch']} of {settings.epochs}")
    # Collective ops have no deterministic kernels to enforce; the seeds still apply.
    seed_everything(settings.seed, settings.deterministic and cluster is None)

    train_images, train_labels = data.load_split(data_dir, "train", limit=settings.limit)
    test_images, test_labels = data.load_split(data_dir, "test")
    (x_train, y_train), (x_val, y_val) = split_validation(
        data.to_model_input(train_images), train_labels, settings.augmentation.validation_split
    )
    x_test = data.to_model_input(test_images)
    print(f"data: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images from {data_dir}")

    workers = cluster.workers if cluster else 1
    global_batch = settings.batch_size * workers
    learning_rate = settings.learning_rate * workers
    if cluster:
        print(
            f"{cluster.task_name} of {workers} workers{' (chief)' if cluster.is_chief else ''}: global batch "
            f"{global_batch} = {settings.batch_size} per worker x {workers}; learning rate "
            f"{settings.learning_rate:g} x {workers} = {learning_rate:g} (linear scaling with the global batch)",
            flush=True,
        )
    normalization_stats = augment.adapted_normalization(x_train) if settings.augmentation.normalize else None

    def build():
        normalization = None
        if normalization_stats is not None:
            normalization = keras.layers.Normalization(
                axis=-1,
                mean=np.asarray(normalization_stats.mean).reshape(-1),
                variance=np.asarray(normalization_stats.variance).reshape(-1),
                name="normalization",
            )
        return build_model(
            **settings.architecture(), num_classes=len(data.FASHION_MNIST_CLASSES), normalization=normalization
        )

    def build_compiled():
        model = build()
        steps_per_epoch = len(x_train) // global_batch if cluster else -(-len(x_train) // global_batch)
        lr = learning_rate_schedule(settings.lr_schedule, learning_rate, settings.epochs * max(steps_per_epoch, 1))
        model.compile(
            optimizer=make_optimizer(settings.optimizer, lr, settings.momentum),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    if state is not None:  # weights, optimizer state and its step counter (the lr schedule's position)
        model = keras.models.load_model(state["model_path"])
    elif strategy is not None:
        with strategy.scope():
            model = build_compiled()
    else:
        model = build_compiled()
    verbose = progress_verbosity() if not cluster or cluster.is_chief else 0
    if verbose:
        model.summary()

    augmenter = augment.build_augmenter(settings.augmentation, seed=settings.seed)
    train_ds = augment.make_dataset(
        x_train, y_train, global_batch, augmenter, shuffle_seed=settings.seed, drop_remainder=cluster is not None
    )
    val_ds = augment.make_dataset(x_val, y_val, global_batch) if len(x_val) else None
    if cluster:  # every worker builds the same dataset and takes its share of each global batch
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        train_ds = train_ds.with_options(options)
        val_ds = val_ds.with_options(options) if val_ds is not None else None
        distributed.prepare_model_for_fit(model, strategy, next(iter(train_ds)))

    fit_start = time.perf_counter()
    timer = EpochTimer()
    saver = EpochCheckpoint(out_dir, settings, timer, state)
    callbacks = [timer, saver]
    if cluster:
        backup = final_dir / "backup" / cluster.task_name
        callbacks = [timer, HistoryRecorder(saver), keras.callbacks.BackupAndRestore(str(backup))]
    # shuffle=False: train_ds is already shuffled (seeded); Keras would ignore it and warn.
    fit = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=settings.epochs,
        initial_epoch=state["epoch"] if state else 0,
        shuffle=False,
        verbose=verbose,
        callbacks=callbacks,
    )
    train_seconds = time.perf_counter() - fit_start
    if cluster:
        with contextlib.suppress(OSError):  # BackupAndRestore removed this worker's folder; the last one out
            (final_dir / "backup").rmdir()  # removes their parent
    if cluster and not saver.history:  # every epoch was restored from the backup
        saver.history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}

    plain = export_copy(model, build)
    if scratch is not None:  # a non-chief worker: its part is done
        shutil.rmtree(scratch, ignore_errors=True)
        print(f"{cluster.task_name}: training finished; the chief writes the artifacts")
        return {}
    counts = {"train_count": len(x_train), "validation_count": len(x_val), "test_count": len(x_test)}
    resumed_after = state["epoch"] if state else None
    facts = RunFacts(start, host_start, {"dir": str(data_dir), **counts}, workers, resumed_after, train_seconds)
    return _finish(settings, plain, saver, facts, x_test, test_labels, out_dir)


class HistoryRecorder(keras.callbacks.Callback):
    """The EpochCheckpoint's history bookkeeping without writing a checkpoint (cluster runs
    checkpoint with BackupAndRestore)."""

    def __init__(self, saver: EpochCheckpoint):
        super().__init__()
        self.saver = saver

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.saver.history.setdefault(key, []).append(float(value))


def _finish(settings, model, saver, facts: RunFacts, x_test, test_labels, out_dir) -> dict:
    """Evaluate on the test split and write every artifact (the chief or a one-process run)."""
    test = evaluate(model, x_test, test_labels, len(data.FASHION_MNIST_CLASSES))
    history_dict = saver.history  # every epoch, the ones before a resume included
    paths = {name: out_dir / name for name in ARTIFACTS}
    with staged_file(paths["model.keras"]) as tmp:
        model.save(tmp)
    plots.plot_history(history_dict, paths["history.png"])
    plots.plot_confusion(
        np.array(test["confusion_matrix"]),
        data.FASHION_MNIST_CLASSES,
        paths["confusion.png"],
        title=f"test accuracy {test['accuracy']:.2%} ({test['count']} images)",
    )

    settings_dict = dataclasses.asdict(settings)
    settings_dict["learning_rate"] = settings.learning_rate
    metrics = {
        "test": test,
        "epochs": settings.epochs,
        "history": history_dict,
        "train_seconds": round(facts.train_seconds, 2),
        "epoch_seconds": saver.epoch_seconds,
        "resumed_after_epoch": facts.resumed_after_epoch,
        "wall_seconds": round(time.perf_counter() - facts.start, 2),
        "workers": facts.workers,
        "data": facts.data,
        "settings": settings_dict,
        "versions": _versions(),
        "host": {"start": facts.host_start, "end": _host()},
        "artifacts": {name: str(path) for name, path in paths.items()},
    }
    if "val_accuracy" in history_dict:
        metrics["validation"] = {"accuracy": history_dict["val_accuracy"][-1], "loss": history_dict["val_loss"][-1]}
    write_json(paths["metrics.json"], metrics)
    checkpoint.remove(out_dir)  # the run is complete: the final artifacts replace it

    print(
        f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f} "
        f"({settings.epochs} epochs, {metrics['wall_seconds']:.0f} s wall)"
    )
    print(f"artifacts in {out_dir}:")
    for name in ARTIFACTS:
        print(f"  {paths[name]}")
    return metrics

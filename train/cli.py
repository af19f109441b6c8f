"""Subcommands of this area; see edgecnn/cli.py for the rules registration follows.

`edgecnn train` trains the reference CNN. Registration imports nothing heavy;
TensorFlow is imported by the handler.
"""

import argparse

from edgecnn.runtime.command_line import add_command
from edgecnn.runtime.data import DATA_HELP

# Kept in sync with train/augment.py PRESETS / DEFAULT_PRESET and train/trainer.py
# (they cannot be imported here without importing TensorFlow); a test checks it.
AUGMENT_PRESETS = ("erase", "flip", "light", "mild", "none", "seed", "strong")
DEFAULT_AUGMENT = "light"
OPTIMIZERS = ("sgd", "momentum", "adam")
LR_SCHEDULES = ("constant", "cosine")
ACTIVATIONS = ("relu", "leaky_relu")


def _number(kind, low=None, high=None, low_inclusive=True, high_inclusive=True, what=""):
    """An argparse type: `kind` parsed, then checked against [low, high] (argparse reports the error)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a{'n integer' if kind is int else ' number'}: {text!r}") from None
        if low is not None and (value < low or (value == low and not low_inclusive)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        if high is not None and (value > high or (value == high and not high_inclusive)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    return parse


positive_int = _number(int, 1, what="a positive integer")
non_negative_int = _number(int, 0, what="a non-negative integer")
positive_float = _number(float, 0, low_inclusive=False, what="positive")
fraction = _number(float, 0, 1, high_inclusive=False, what="a fraction in [0, 1)")
momentum_beta = _number(float, 0, 1, high_inclusive=False, what="in [0, 1)")


def register(subparsers) -> None:
    """Add this area's subcommands to the `edgecnn` parser."""
    p = add_command(subparsers, "train", _run_train, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument(
        "--out", metavar="DIR", help="folder for the artifacts (required unless --preview-augment or --resume)"
    )
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR from its last epoch checkpoint "
        "(DIR/checkpoint, written after every epoch), with the settings it was started with",
    )
    p.add_argument("--data", metavar="DIR", help=DATA_HELP)
    p.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: the trainer's, see README)")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--limit", type=positive_int, metavar="N", help="train on the first N training images only")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed for weights, shuffling, augmentation")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="data-parallel training on N workers (MultiWorkerMirroredStrategy): with TF_CONFIG set this "
        "process joins that cluster; without it, N > 1 starts N local worker processes on 127.0.0.1. "
        "--batch-size is per worker; the learning rate scales with N (docs/training.md)",
    )
    p.add_argument(
        "--no-deterministic", dest="deterministic", action="store_false", help="allow non-deterministic TF kernels"
    )

    opt = p.add_argument_group("optimizer")
    opt.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adam",
        help="sgd: w -= lr*g; momentum: m = beta*m - lr*g, w += m; adam: Keras Adam",
    )
    opt.add_argument("--lr", type=positive_float, help="learning rate (default: 1e-3 for adam, 0.01 otherwise)")
    opt.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=None,
        help="constant, or cosine decay from --lr to 0 over the whole run (default: the trainer's)",
    )
    opt.add_argument("--momentum", type=momentum_beta, default=0.9, help="beta of --optimizer momentum")

    arch = p.add_argument_group("model")
    arch.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    arch.add_argument("--alpha", type=positive_float, default=0.01, help="negative slope of leaky_relu")
    arch.add_argument("--filters", type=positive_int, default=16, help="Conv2D 3x3 filters")
    arch.add_argument("--dense-units", type=positive_int, nargs=2, default=(512, 200), metavar=("N1", "N2"))
    arch.add_argument("--dropout", type=fraction, nargs=2, default=(0.1, 0.2), metavar=("R1", "R2"))

    aug = p.add_argument_group("augmentation (a preset; each flag below overrides it)")
    aug.add_argument(
        "--augment",
        choices=AUGMENT_PRESETS,
        default=DEFAULT_AUGMENT,
        help="none: no augmentation; light: pad-and-crop shifts of 1 pixel; flip: horizontal flip; "
        "erase: random erasing with probability 0.25; strong: shifts of 2 pixels, "
        "flip, rotation 8, zoom 0.08, erasing 0.3; mild: horizontal flip + normalisation; seed: rotation 20, "
        "shifts 0.2, flip, shear 60, normalisation, validation split 0.2",
    )
    aug.add_argument("--rotation", type=_number(float, 0, 180, what="degrees in [0, 180]"), help="degrees")
    aug.add_argument("--width-shift", type=fraction, help="fraction of the width")
    aug.add_argument("--height-shift", type=fraction, help="fraction of the height")
    aug.add_argument("--horizontal-flip", action=argparse.BooleanOptionalAction, default=None)
    aug.add_argument("--shear", type=_number(float, 0, 90, what="degrees in [0, 90]"), help="degrees")
    aug.add_argument("--zoom", type=fraction, help="scale drawn from [1 - zoom, 1 + zoom]")
    aug.add_argument(
        "--pad-shift",
        type=_number(int, 0, 14, what="pixels in [0, 14]"),
        help="pad-and-crop shift of at most this many pixels each way",
    )
    aug.add_argument(
        "--erase", type=_number(float, 0, 1, what="a probability in [0, 1]"), help="probability of random erasing"
    )
    aug.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="feature-wise centring + std normalisation (a layer inside the model)",
    )
    aug.add_argument("--validation-split", type=fraction)
    aug.add_argument(
        "--preview-augment",
        metavar="PNG",
        help="write a grid of augmented training samples to PNG and exit (no training)",
    )
    _register_ablate(subparsers)


def _csv(kind, what):
    def parse(text):
        try:
            return [kind(item) for item in text.split(",") if item]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list of {what}: {text!r}") from None

    return parse


def _size_epochs(text):
    """SIZE:EPOCHS[,SIZE:EPOCHS...] -> {size: epochs}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item]
        table = {int(size): int(epochs) for size, epochs in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SIZE:EPOCHS[,SIZE:EPOCHS...], got {text!r}") from None
    if any(v < 1 for v in table.values()):
        raise argparse.ArgumentTypeError(f"epochs must be positive, got {text!r}")
    return table


# `edgecnn ablate`'s grid (train/ablate.py): small sizes get more epochs so each cell converges.
ABLATE_SIZES = (1000, 6000, 60000)
# No augmentation (the default), the best candidate at small sizes, the brief's full augmentation.
ABLATE_PRESETS = ("none", "light", "seed")
ABLATE_EPOCHS = {1000: 50, 6000: 20, 60000: 16}  # 60,000: the default run


def _register_ablate(subparsers) -> None:
    p = add_command(subparsers, "ablate", _run_ablate, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", metavar="DIR", help=DATA_HELP)
    p.add_argument("--out", metavar="DIR", default="runs/default/ablation", help="output folder")
    p.add_argument(
        "--presets",
        type=_csv(str, "preset names"),
        default=list(ABLATE_PRESETS),
        help="comma-separated",
    )
    p.add_argument("--sizes", type=_csv(int, "integers"), default=list(ABLATE_SIZES), help="training images")
    p.add_argument(
        "--epochs",
        type=_size_epochs,
        default={},
        metavar="SIZE:EPOCHS,...",
        help=f"epochs per size, over the defaults {ABLATE_EPOCHS}",
    )
    p.add_argument("--seed", type=non_negative_int, default=0)


def _run_ablate(args) -> int:
    """test accuracy of augmentation presets x training-set sizes (table, plot, JSON)

    Train the reference CNN for every preset x training-set size and write ablation.json,
    ablation.md and ablation.png into --out (docs/training.md). Finished cells are kept: a rerun
    continues where it stopped.
    """
    from edgecnn.runtime import data
    from edgecnn.runtime.errors import EdgecnnError

    unknown = [name for name in args.presets if name not in AUGMENT_PRESETS]
    if unknown:
        raise EdgecnnError(f"--presets: unknown {', '.join(unknown)}; choose from {', '.join(AUGMENT_PRESETS)}")
    epochs = {**ABLATE_EPOCHS, **args.epochs}
    missing = [size for size in args.sizes if size not in epochs]
    if missing or any(size < 10 for size in args.sizes):
        raise EdgecnnError(f"--sizes {args.sizes}: give each size >= 10 an epoch count with --epochs SIZE:EPOCHS")
    from edgecnn.train import ablate

    ablate.ablate(data.resolve_data_dir(args.data), args.out, args.presets, args.sizes, epochs, args.seed)
    return 0


def _run_train(args) -> int:
    """train the reference CNN on Fashion-MNIST

    Train the reference CNN on Fashion-MNIST (IDX files) and write model.keras, metrics.json,
    history.png and confusion.png into --out.
    """
    import dataclasses

    from edgecnn.runtime import data
    from edgecnn.runtime.errors import EdgecnnError
    from edgecnn.train import checkpoint

    if args.resume:
        if args.out and args.out != args.resume:
            raise EdgecnnError(f"--resume {args.resume} continues the run in that folder; drop --out {args.out}")
        checkpoint.load(args.resume)  # a missing or damaged checkpoint fails before TensorFlow loads
        from edgecnn.train import trainer

        trainer.train(None, data.resolve_data_dir(args.data), args.resume, resume=True)
        return 0
    from edgecnn.train import augment, trainer

    config = augment.resolve_augment(
        args.augment,
        rotation=args.rotation,
        width_shift=args.width_shift,
        height_shift=args.height_shift,
        horizontal_flip=args.horizontal_flip,
        shear=args.shear,
        zoom=args.zoom,
        pad_shift=args.pad_shift,
        erase=args.erase,
        normalize=args.normalize,
        validation_split=args.validation_split,
    )
    data_dir = data.resolve_data_dir(args.data)
    if args.preview_augment:
        images, _ = data.load_split(data_dir, "train", limit=8)
        path = augment.write_preview(data.to_model_input(images), config, args.seed, args.preview_augment)
        print(f"augmentation preview ({args.augment} preset) written to {path}")
        return 0
    if not args.out:
        raise EdgecnnError("--out DIR is required (where model.keras and the other artifacts go)")
    import os

    from edgecnn.train import distributed

    cluster = distributed.cluster_from_env()
    if cluster is None and args.workers > 1:
        return distributed.launch_local(args.argv, args.workers, args.out)
    if cluster is not None and args.workers > 1 and args.workers != cluster.workers:
        raise EdgecnnError(
            f"--workers {args.workers} but {distributed.TF_CONFIG} describes {cluster.workers} workers "
            f"({os.environ[distributed.TF_CONFIG]})"
        )

    settings = trainer.TrainSettings(
        batch_size=args.batch_size,
        limit=args.limit,
        seed=args.seed,
        deterministic=args.deterministic,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        activation=args.activation,
        alpha=args.alpha,
        filters=args.filters,
        dense_units=tuple(args.dense_units),
        dropout=tuple(args.dropout),
        augment_preset=args.augment,
        augmentation=config,
    )
    # Flags left unset keep TrainSettings' defaults (one place defines them).
    overrides = {"epochs": args.epochs, "lr_schedule": args.lr_schedule}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    trainer.train(settings, data_dir, args.out)
    return 0

"""The device-side subcommands: they need only numpy, cffi and the native library.

edgecnn predict model.ecnn IMAGE... [--threads N]   top-3 classes per image
edgecnn info [model.ecnn]                         CPU, kernel levels, the kernel of each layer
"""

from pathlib import Path

from edgecnn.runtime.command_line import add_command, positive_int


def register(subparsers) -> None:
    """Add this area's subcommands to the `edgecnn` parser (edgecnn/cli.py says how)."""
    p = add_command(subparsers, "predict", predict_command)
    p.add_argument("model", type=Path, help=".ecnn model file (from `edgecnn compile`)")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PGM, PNG or IDX file")
    p.add_argument("--limit", type=int, default=20, help="print at most this many images per IDX file (default 20)")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="threads per inference (default: the CPUs this process may use; 1: single-threaded); "
        "the results do not depend on it",
    )

    p = add_command(subparsers, "info", info_command)
    p.add_argument("model", type=Path, nargs="?", help=".ecnn model file")


def predict_command(args) -> int:
    """classify images with a .ecnn model (top-3 classes)

    Run a .ecnn model on images and print the top-3 classes with probabilities. Images: PGM (read
    natively), PNG and other formats (needs Pillow), or IDX files (every image in them). Grayscale
    pixels are scaled to [0, 1] (a model with a uint8 input gets them raw).
    """
    import numpy as np

    from edgecnn.runtime import Model
    from edgecnn.runtime.data import FASHION_MNIST_CLASSES
    from edgecnn.runtime.images import read_image_file, to_model_dtype, to_model_layout

    model = Model.load(args.model, threads=args.threads)
    classes = model.output_shape[-1]
    names = FASHION_MNIST_CLASSES if classes == len(FASHION_MNIST_CLASSES) else [f"class {i}" for i in range(classes)]
    for path in args.images:
        images = read_image_file(path)
        if args.limit is not None:
            images = images[: max(args.limit, 0)]
        # NHWC or NCHW, as declared; raw pixels for a uint8-input model
        probs = model.predict(to_model_dtype(to_model_layout(images, model.input_shape, str(path)), model.input_dtype))
        probs = probs.reshape(len(probs), -1)  # a (1, 10)-shaped output: its 10 classes
        for i, p in enumerate(probs):
            top = np.argsort(-p, kind="stable")[:3]
            label = f"{path}[{i}]" if len(probs) > 1 else str(path)
            print(f"{label}: " + ", ".join(f"{names[c]} {p[c]:.4f}" for c in top))
    return 0


def info_command(args) -> int:
    """the CPU, the kernel levels this build has and the one it picks; a model's kernels

    Print the library version, the CPU, every ISA kernel level of this build with whether this CPU
    runs it, and the level a model loads with (the best one, or EDGECNN_ISA's). With a model: its
    layers and the kernel each one runs.
    """
    import os
    import platform

    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import native_extension
    from edgecnn.runtime.machine import cpu_name
    from edgecnn.runtime.model import default_threads

    ffi, lib = native_extension()
    levels = Model.isa_levels()
    forced = os.environ.get("EDGECNN_ISA")
    runnable = [name for name, runs in levels.items() if runs]
    print(f"library   edgecnn {ffi.string(lib.ecnn_version()).decode()}")
    print(f"CPU       {cpu_name()} ({platform.machine()}), {default_threads()} usable")
    print(
        "levels    "
        + ", ".join(f"{name} ({'runs here' if runs else 'not on this CPU'})" for name, runs in levels.items())
    )
    if args.model is None:
        print(
            f"picks     {forced if forced else runnable[-1]}"
            + (" (EDGECNN_ISA)" if forced else " (the best this CPU runs)")
        )
        return 0
    model = Model.load(args.model)
    print(f"picks     {model.isa}" + (" (EDGECNN_ISA)" if forced else " (the best this CPU runs)"))
    print(model.summary())
    return 0

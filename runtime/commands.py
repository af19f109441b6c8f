"""Subcommands of this area; see runtime/cli.py for the rules registration follows.

    edgecnn compile model.onnx --out model.ecnn     ONNX -> native model file, per-layer table
    edgecnn compile --emit-c model_data.c model.onnx    ... as a C array + header (firmware)
    edgecnn predict model.ecnn IMAGE...             top-3 Fashion-MNIST classes per image
    edgecnn verify model.onnx model.ecnn            native vs onnxruntime on real test images
"""
from pathlib import Path

from edgecnn.train.data import DATA_HELP


def register(subparsers) -> None:
    """Add this area's subcommands to the `edgecnn` parser."""
    p = subparsers.add_parser(
        "compile",
        help="compile an ONNX model into a native .ecnn model file",
        description="Compile a float32 ONNX model (as tf2onnx exports the reference CNN) into the native "
        "runtime's .ecnn file (native/FORMAT.md): NHWC layout, folded constants, fused activations, "
        "planned arena. Prints a per-layer table (op, output shape, weight bytes, MACs) and the arena size. "
        "int8 models (QDQ from `edgecnn quantize`, or QOperator) become native int8 ops with onnxruntime's "
        "integer arithmetic and int8 weights.",
    )
    p.add_argument("model", type=Path, help="ONNX model: float32, or int8 (QDQ or QOperator)")
    p.add_argument("--out", type=Path, help="file to write (default: MODEL with the suffix .ecnn; with --emit-c "
                   "only when given)")
    p.add_argument("--explain", action="store_true",
                   help="write nothing; list every node the compiler does not support (name, op, the attribute or "
                   "value at fault) instead of stopping at the first. Exit status 1 when there is one")
    p.add_argument("--emit-c", type=Path, metavar="FILE.c",
                   help="write the model as a const 64-byte aligned C array to FILE.c and FILE.h with macros for "
                   "its size and exact arena bytes (firmware: no filesystem, no heap; native/examples/firmware)")
    p.set_defaults(func=compile_command)

    p = subparsers.add_parser(
        "predict",
        help="classify images with a .ecnn model (top-3 classes)",
        description="Run a .ecnn model on images and print the top-3 classes with probabilities. "
        "Images: PGM (read natively), PNG and other formats (needs Pillow), or IDX files "
        "(every image in them). Grayscale pixels are scaled to [0, 1] (a model with a uint8 input gets them raw).",
    )
    p.add_argument("model", type=Path, help=".ecnn model file (from `edgecnn compile`)")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="PGM, PNG or IDX file")
    p.add_argument("--limit", type=int, default=20, help="print at most this many images per IDX file (default 20)")
    p.set_defaults(func=predict_command)

    p = subparsers.add_parser(
        "verify",
        help="check a .ecnn model against onnxruntime on real test images (float or int8)",
        description="Run the ONNX model in onnxruntime and the .ecnn model in the native runtime on the "
        "same test images; report the largest absolute difference of the probabilities, top-1 "
        "agreement and each one's accuracy. Exits 1 when they differ by more than 1e-5. For an int8 "
        "model also the fraction of int8 logits bit-identical to onnxruntime's and the largest difference in "
        "quantization steps (from the model cut after its last DequantizeLinear); exits 1 unless all are identical. "
        "A model that does not take grayscale 28x28 images (colour, another size, not an image) is checked with "
        "--random N inputs instead; for outputs larger than 1 (logits, feature maps) the tolerance is relative: "
        "1e-5 of the largest onnxruntime output.",
    )
    p.add_argument("onnx_model", type=Path, help="ONNX model (float32, or int8 from `edgecnn quantize`)")
    p.add_argument("ecnn_model", type=Path, help=".ecnn model compiled from it")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--samples", type=int, help="use the first N test images (default: all 10,000)")
    p.add_argument("--random", type=int, metavar="N",
                   help="compare on N random inputs (uniform in [0, 1), seed 0; every value of a uint8/int8-input model's dtype) "
                   "of the model's declared input shape "
                   "instead of test images")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="the figures as JSON: printed instead of the text, or written to FILE beside it")
    p.add_argument("--layers", action="store_true",
                   help="int8 models: also compare every quantized intermediate tensor and name the first layer "
                   "that drifts")
    p.set_defaults(func=verify_command)


def compile_command(args) -> int:
    from edgecnn.export.compiler import compile_model, compile_onnx, explain_model

    if args.explain:
        found = explain_model(args.model)
        for p in found.problems:
            print(f"{p.node}  {p.op_type}: {p.reason}")
        if found.unchecked:
            print(f"not checked ({len(found.unchecked)}, their input shapes are unknown after an unsupported node): "
                  + ", ".join(found.unchecked))
        print(f"{args.model}: {len(found.problems)} of {found.nodes} nodes not supported" if found.problems
              else f"{args.model}: all {found.nodes} nodes supported")
        return 1 if found.problems else 0
    if args.emit_c is None:
        out = args.out or args.model.with_suffix(".ecnn")
        report = compile_onnx(args.model, out)
        print(report.format_table())
        print(f"wrote {out} ({report.file_bytes:,} bytes)")
        return 0
    from edgecnn.runtime.embed import emit_c
    from edgecnn.runtime.files import write_bytes

    blob, report = compile_model(args.model)
    print(report.format_table())
    if args.out:
        write_bytes(args.out, blob)
        print(f"wrote {args.out} ({len(blob):,} bytes)")
    c_path, h_path = emit_c(blob, args.emit_c)
    print(f"wrote {c_path} and {h_path} ({len(blob):,} model bytes)")
    return 0


def predict_command(args) -> int:
    import numpy as np

    from edgecnn.runtime import Model
    from edgecnn.runtime.images import read_image_file, to_model_dtype, to_model_layout
    from edgecnn.train.data import FASHION_MNIST_CLASSES

    model = Model.load(args.model)
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


def verify_command(args) -> int:
    import json

    import numpy as np

    from edgecnn.export.artifacts import load_images, ort_session, run_onnx
    from edgecnn.runtime.errors import EdgecnnError
    from edgecnn.runtime import Model
    from edgecnn.runtime.images import to_model_dtype, to_model_layout
    from edgecnn.runtime.verify import compare_float
    from edgecnn.train.data import resolve_data_dir

    model = Model.load(args.ecnn_model)  # fails fast on a bad model file
    session = ort_session(args.onnx_model)
    if args.random is not None:  # any input shape: colour images, feature vectors, ...
        if args.random < 1:
            raise EdgecnnError(f"--random {args.random}: need at least 1 input")
        rng, shape = np.random.default_rng(0), (args.random, *model.input_shape)
        if model.input_dtype == np.float32:
            images = rng.uniform(0, 1, shape).astype(np.float32)
        else:  # a uint8/int8-input model: every value of its dtype
            info = np.iinfo(model.input_dtype)
            images = rng.integers(info.min, info.max, shape, endpoint=True).astype(model.input_dtype)
        labels = None
    else:
        images, labels = load_images(resolve_data_dir(args.data), "test", args.samples, "to verify on")
        # The native input shape is the one the ONNX model declares: (28, 28, 1) from Keras, (1, 28, 28) from
        # PyTorch; other models need --random.
        images = to_model_dtype(to_model_layout(images[..., 0], model.input_shape,
                                                "Fashion-MNIST test images (use --random N for this model)"),
                                model.input_dtype)
    quiet = args.json == "-"
    reference = run_onnx(session, images, desc=None if quiet else "onnxruntime")
    native = _predict_with_progress(model, images, quiet=quiet)
    result = compare_float(native, reference, labels)
    int8_text = _verify_int8(args, result, images)
    if args.json and args.json != "-":
        from edgecnn.runtime.files import write_json

        write_json(args.json, result.as_dict())
    if quiet:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.format())
        if int8_text:
            print(int8_text)
    return 0 if result.passed else 1


def _verify_int8(args, result, images) -> str | None:
    """For an int8 ONNX model: adds the bit-exactness figures to `result` (runtime/verify_int8.py)
    and makes them its pass rule; returns their text. None for float models."""
    from edgecnn.export.artifacts import load_onnx
    from edgecnn.runtime import verify_int8

    onnx_model = load_onnx(args.onnx_model)
    if not verify_int8.is_int8_model(onnx_model):
        if args.layers:
            from edgecnn.runtime.errors import EdgecnnError

            raise EdgecnnError(f"--layers compares int8 tensors; {args.onnx_model} is not an int8 model")
        return None
    from edgecnn.export.compiler import compile_model

    # The int8 logits come from a fresh compilation of the cut model: say whether the given
    # .ecnn is exactly what this compiler makes of the ONNX model (then they share every op).
    same_build = compile_model(onnx_model)[0] == args.ecnn_model.read_bytes()
    result.extra["ecnn_is_fresh_compile"] = same_build
    quiet = args.json == "-"
    match = verify_int8.quantized_output_match(onnx_model, images, quiet=quiet)
    layers = verify_int8.layer_matches(onnx_model, images, quiet=quiet) if args.layers else None
    result.kind = "int8"
    result.extra["int8_logits"] = match.as_dict()
    if layers is not None:
        result.extra["int8_layers"] = [row.as_dict() for row in layers]
    result.passed = bool(result.passed and match.identical == match.values)
    text = verify_int8.format_int8(match, layers)
    if not same_build:
        text += (f"\n  note: {args.ecnn_model} differs from what this edgecnn compiles from {args.onnx_model} "
                 "(another version or another model?); the int8 figures are for a fresh compilation")
    if match.identical != match.values:
        text += "\n  FAIL: int8 values differ from onnxruntime"
    return text


def _predict_with_progress(model, images, quiet: bool, chunk: int = 500):
    import numpy as np

    starts = range(0, len(images), chunk)
    if not quiet:
        from edgecnn.runtime.errors import require

        starts = require("tqdm").tqdm(starts, desc="native", unit="batch", leave=False)
    return np.concatenate([model.predict(images[s:s + chunk]) for s in starts])

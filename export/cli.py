"""Subcommands of this area; see edgecnn/cli.py for the rules registration follows.

edgecnn export MODEL.keras --out model.onnx          Keras -> ONNX, checked against Keras
edgecnn quantize model.onnx --out model.int8.onnx    float ONNX -> int8 QDQ ONNX
edgecnn evaluate model.onnx                           test accuracy in onnxruntime
edgecnn compile model.onnx --out model.ecnn          ONNX -> native model file, per-layer table
edgecnn compile model.tflite (.keras, SavedModel/)   converted with tf2onnx first (ONNX kept beside)
edgecnn compile --emit-c model_data.c model.onnx     ... as a C array + header (firmware)
"""

from pathlib import Path

from edgecnn.runtime.command_line import add_command
from edgecnn.runtime.data import DATA_HELP


def register(subparsers) -> None:
    """Add this area's subcommands to the `edgecnn` parser."""
    # Defaults are repeated as literals here so registration imports nothing heavy;
    # tests/export/test_export.py checks they equal the module constants.
    p = add_command(subparsers, "export", export_command)
    p.add_argument("model", type=Path, help="Keras model file (.keras)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write (a .json sidecar goes beside it)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset, 13 or newer (default 17)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--samples", type=int, help="check on the first N test images (default: all 10,000)")

    p = add_command(subparsers, "quantize", quantize_command)
    p.add_argument("model", type=Path, help="float ONNX model (from `edgecnn export`)")
    p.add_argument("--out", type=Path, required=True, help="int8 ONNX file to write (a .json sidecar goes beside it)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--samples", type=int, default=1000, help="calibrate on the first N training images (default 1000)")
    p.add_argument(
        "--calibration",
        choices=("minmax", "entropy", "percentile"),
        default="minmax",
        help="how activation ranges are chosen: minmax (default), entropy (KL threshold), percentile (99.999th)",
    )
    granularity = p.add_mutually_exclusive_group()
    granularity.add_argument(
        "--per-channel",
        dest="per_channel",
        action="store_true",
        default=True,
        help="one weight scale per output channel (default)",
    )
    granularity.add_argument(
        "--per-tensor", dest="per_channel", action="store_false", help="one weight scale per weight tensor"
    )
    p.add_argument(
        "--full-range-weights",
        action="store_true",
        help="use int8 weights in [-127, 127] instead of [-64, 64]; onnxruntime then saturates "
        "on AVX2 CPUs without VNNI and the native runtime cannot match it exactly",
    )
    p.add_argument(
        "--eval-samples", type=int, help="measure float and int8 accuracy on the first N test images (default: all)"
    )

    p = add_command(subparsers, "evaluate", evaluate_command)
    p.add_argument("model", type=Path, help="ONNX model (float or int8)")
    p.add_argument("--data", help=DATA_HELP)
    p.add_argument("--samples", type=int, help="use the first N test images (default: all)")

    p = add_command(subparsers, "compile", compile_command)
    p.add_argument(
        "model",
        type=Path,
        help="ONNX model (float32, or int8 QDQ or QOperator); or .tflite, .keras, a SavedModel folder",
    )
    p.add_argument(
        "--out", type=Path, help="file to write (default: MODEL with the suffix .ecnn; with --emit-c only when given)"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="write nothing; list every node the compiler does not support (name, op, the attribute or "
        "value at fault) instead of stopping at the first. Exit status 1 when there is one",
    )
    p.add_argument(
        "--emit-c",
        type=Path,
        metavar="FILE.c",
        help="write the model as a const 64-byte aligned C array to FILE.c, FILE.h with macros for "
        "its size and exact arena bytes, and FILE_ops.h with the ops it uses (build the library with "
        "-DECNN_OPS_HEADER=FILE_ops.h to link only those); firmware: no filesystem, no heap "
        "(native/examples/firmware)",
    )


def export_command(args) -> int:
    """convert a .keras model to ONNX and check it against Keras

    Convert a Keras model to ONNX (tf2onnx, dynamic batch, input 'input' NHWC float32 (N, 28, 28, 1)
    in [0, 1]). The ONNX model is then run in onnxruntime and Keras on real test images; the command
    fails and writes nothing if they differ by more than 1e-5.
    """
    from edgecnn.export.artifacts import load_images
    from edgecnn.export.onnx_export import export_onnx, load_keras_model
    from edgecnn.runtime.data import resolve_data_dir

    model = load_keras_model(args.model)  # before reading data: a bad model path fails fast
    data_dir = resolve_data_dir(args.data)
    images, _ = load_images(data_dir, "test", args.samples, "to check the export on")
    result = export_onnx(model, args.out, args.opset, check_images=images, progress=True, source=str(args.model))
    print(f"wrote {result.path} (opset {args.opset}, {result.path.stat().st_size / 1e6:.2f} MB) and {result.sidecar}")
    print(f"largest |ONNX - Keras| on {result.checked_images} test images: {result.max_abs_diff:.3g} (limit 1e-05)")
    return 0


def quantize_command(args) -> int:
    """quantize a float ONNX model to int8 (onnxruntime, QDQ)

    Static int8 quantization with onnxruntime: QDQ format, symmetric int8 weights (per-channel,
    reduce-range by default), int8 activations calibrated on training images, Softmax kept float.
    Fails unless onnxruntime's optimized graph runs fused int8 kernels (QLinearConv, QGemm) with no
    float Conv/Gemm left and no QLinearAdd.
    """
    from edgecnn.export.artifacts import check_image_input, load_images, load_onnx
    from edgecnn.export.quantize import CalibrationError, quantize
    from edgecnn.runtime.data import resolve_data_dir

    check_image_input(load_onnx(args.model), args.model)  # before reading data: a bad model fails fast
    data_dir = resolve_data_dir(args.data)
    if args.samples < 1:
        raise CalibrationError(f"--samples {args.samples}: the calibration set is empty; use at least 1 training image")
    calibration, _ = load_images(data_dir, "train", args.samples, "to calibrate on (the calibration set is empty)")
    test_images, test_labels = load_images(data_dir, "test", args.eval_samples, "to measure accuracy on")
    result = quantize(
        args.model,
        args.out,
        calibration,
        per_channel=args.per_channel,
        method=args.calibration,
        reduce_range=not args.full_range_weights,
        test_images=test_images,
        test_labels=test_labels,
        calibration_source=f"{data_dir} train[:{len(calibration)}]",
        progress=True,
    )
    float_size, int8_size = args.model.stat().st_size, result.path.stat().st_size
    print(
        f"wrote {result.path} ({int8_size / 1e6:.2f} MB, {100 * int8_size / float_size:.1f}% of the float file) "
        f"and {result.sidecar}"
    )
    print(
        f"calibration: {args.calibration}, {len(calibration)} training images, "
        f"{'per-channel' if args.per_channel else 'per-tensor'} weights, "
        f"{'full-range' if args.full_range_weights else 'reduce-range [-64, 64]'}"
    )
    print("onnxruntime runs: " + ", ".join(f"{op} x{n}" for op, n in result.optimized_ops.items()))
    print(
        f"test accuracy on {len(test_images)} images: float {100 * result.float_accuracy:.2f}%, "
        f"int8 {100 * result.int8_accuracy:.2f}% "
        f"({100 * (result.int8_accuracy - result.float_accuracy):+.2f} pp)"
    )
    return 0


def evaluate_command(args) -> int:
    """test accuracy of an ONNX model (float or int8) in onnxruntime

    Run an ONNX model in onnxruntime (default optimisation level) on the test images and print its
    accuracy.
    """
    from edgecnn.export.artifacts import check_image_input, load_images, load_onnx
    from edgecnn.export.evaluate import accuracy
    from edgecnn.runtime.data import resolve_data_dir

    check_image_input(load_onnx(args.model), args.model)
    images, labels = load_images(resolve_data_dir(args.data), "test", args.samples, "to evaluate on")
    acc = accuracy(args.model, images, labels, desc="evaluate")
    print(f"{args.model}: test accuracy {100 * acc:.2f}% ({round(acc * len(labels))}/{len(labels)} images)")
    return 0


def compile_command(args) -> int:
    """compile an ONNX model into a native .ecnn model file

    Compile a float32 ONNX model (as tf2onnx exports the reference CNN) into the native runtime's
    .ecnn file (docs/file-format.md): NHWC layout, folded constants, fused activations, planned
    arena. Prints a per-layer table (op, output shape, weight bytes, MACs) and the arena size. int8
    models (QDQ from `edgecnn quantize`, or QOperator) become native int8 ops with onnxruntime's
    integer arithmetic and int8 weights. A .tflite file, a .keras file or a TensorFlow SavedModel
    folder is first converted with tf2onnx (needs the train extra: pip install 'edgecnn[train]');
    the ONNX model is kept beside the output.
    """
    from edgecnn.export.compiler import compile_model, compile_onnx, explain_model
    from edgecnn.export.compiler.report import export_hint
    from edgecnn.export.direct_import import to_onnx

    source = args.model
    args.model, converted = to_onnx(source, args.out)
    if converted:
        print(converted)
    if args.explain:
        found = explain_model(args.model)
        for p in found.problems:
            print(f"{p.node}  {p.op_type}: {p.reason}")
            hint = export_hint(p.reason)
            if hint:
                print(f"    hint: {hint}")
        if found.unchecked:
            print(
                f"not checked ({len(found.unchecked)}, their input shapes are unknown after an unsupported node): "
                + ", ".join(found.unchecked)
            )
        print(
            f"{args.model}: {len(found.problems)} of {found.nodes} nodes not supported"
            if found.problems
            else f"{args.model}: all {found.nodes} nodes supported"
        )
        return 1 if found.problems else 0
    if args.emit_c is None:
        out = args.out or source.with_suffix(".ecnn")
        report = compile_onnx(args.model, out)
        print(report.format_table())
        print(f"wrote {out} ({report.file_bytes:,} bytes)")
        return 0
    from edgecnn.export.embed import emit_c
    from edgecnn.runtime.files import write_bytes

    blob, report = compile_model(args.model)
    print(report.format_table())
    if args.out:
        write_bytes(args.out, blob)
        print(f"wrote {args.out} ({len(blob):,} bytes)")
    c_path, h_path, ops_path = emit_c(blob, args.emit_c)
    print(f"wrote {c_path}, {h_path} ({len(blob):,} model bytes) and {ops_path}")
    return 0

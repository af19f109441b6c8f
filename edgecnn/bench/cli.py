"""`edgecnn bench`: the command line (registration imports nothing heavy)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from edgecnn.runtime.command_line import add_command, positive_int
from edgecnn.runtime.errors import EdgecnnError

DEFAULT_RUN_DIR = Path("runs/default")
DEFAULT_ZOO_DIR = Path("runs/zoo")
RUNTIMES = ("native", "onnxruntime", "litert")  # edgecnn.bench.engines.RUNTIMES, without its imports


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected numbers ≥ 1, got {text!r}")
    return list(dict.fromkeys(values))


def _choices(allowed: tuple):
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        wrong = [v for v in values if v not in allowed]
        if wrong or not values:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}; got {text!r}")
        return list(dict.fromkeys(values))

    return parse


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def register(subparsers) -> None:
    from edgecnn.bench.suite import CHOICES

    p = add_command(subparsers, "bench", bench_command, epilog="models and groups for --models: " + ", ".join(CHOICES))
    what = p.add_argument_group("what to run")
    what.add_argument("model", nargs="?", type=Path, metavar="MODEL.onnx", help="one float ONNX model (else the suite)")
    what.add_argument("--int8", type=Path, help="its int8 ONNX model")
    what.add_argument("--name", help="its name in the table (default: the file name, or its folder's for model.onnx)")
    what.add_argument("--keras", type=Path, help="the Keras model LiteRT converts (default: the ONNX sidecar's source)")
    what.add_argument("--tflite", type=Path, help="a float .tflite for LiteRT instead of converting --keras")
    what.add_argument("--tflite-int8", type=Path, help="an int8 .tflite for LiteRT instead of converting --keras")
    what.add_argument(
        "--models",
        nargs="+",
        metavar="NAME",
        help="suite models or groups (default: all, unless MODEL or --models-dir is given)",
    )
    what.add_argument("--models-dir", type=Path, help="also every NAME.onnx (+ NAME.int8.onnx) of this folder")
    what.add_argument(
        "--run-dir",
        type=Path,
        default=DEFAULT_RUN_DIR,
        help=f"where the reference model is (default {DEFAULT_RUN_DIR}, written by `make run`)",
    )
    what.add_argument(
        "--zoo",
        type=Path,
        default=DEFAULT_ZOO_DIR,
        help=f"the tiny zoo's folder, built there when missing (default {DEFAULT_ZOO_DIR})",
    )
    what.add_argument("--data", help="MNIST-format folder: LiteRT's int8 calibration of the reference model")
    how = p.add_argument_group("how")
    how.add_argument(
        "--dtype", type=_choices(("float", "int8")), default=["float", "int8"], help="float,int8 (default both)"
    )
    how.add_argument("--batch", type=_int_list, default=[1, 8, 64], help="batch sizes (default 1,8,64)")
    how.add_argument(
        "--engines",
        type=_choices(RUNTIMES),
        default=list(RUNTIMES),
        help="native,onnxruntime,litert (default all three)",
    )
    how.add_argument("--no-litert", action="store_true", help="same as leaving litert out of --engines")
    how.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="threads per engine: onnxruntime intra-op threads, LiteRT num_threads, native threads= (default 1)",
    )
    how.add_argument("--runs", type=positive_int, default=100, help="rounds per cell at most (default 100)")
    how.add_argument(
        "--min-runs",
        type=positive_int,
        default=10,
        help="rounds per cell at least, even past --max-seconds (default 10)",
    )
    how.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=5.0,
        help="a cell stops after this many seconds once it has --min-runs rounds (default 5)",
    )
    how.add_argument("--warmup", type=int, default=5, help="untimed calls per engine first (default 5)")
    how.add_argument(
        "--per-layer",
        "--layers",
        dest="per_layer",
        action="store_true",
        help="also time each native layer alone (time, MACs, GMAC/s, share)",
    )
    how.add_argument(
        "--ort-profile",
        action="store_true",
        help="also onnxruntime's own per-node times (its profiler, on a separate session)",
    )
    how.add_argument("--no-memory", action="store_true", help="skip the peak-memory probe processes")
    out = p.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write DIR/bench.json, bench.png, bench.txt and the compiled .ecnn files (DIR/ecnn/)",
    )
    out.add_argument("--json", type=Path, help="write every figure to this JSON file")
    out.add_argument("--plot", type=Path, help="write the plot PNG here")


def _model_name(path: Path) -> str:
    stem = path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.stem
    return path.resolve().parent.name if stem == "model" else stem


def collect_models(args, log) -> list:
    from edgecnn.bench import suite

    engines = [e for e in args.engines if not (args.no_litert and e == "litert")]
    litert = "litert" in engines
    models = []
    if args.model is not None:
        tflite = {"float": args.tflite, "int8": args.tflite_int8}
        models.append(
            suite.onnx_model(
                args.name or _model_name(args.model),
                args.model,
                args.int8,
                keras=args.keras,
                tflite=tflite,
                litert=litert,
                data_dir=args.data,
            )
        )
    if args.models_dir is not None:
        models += suite.folder_models(args.models_dir)
    names = suite.select(args.models) if args.models or not models else []
    if "reference" in names:
        models.append(suite.reference_model(args.run_dir, litert=litert, data_dir=args.data))
    models += suite.zoo_models(args.zoo, [n for n in names if n != "reference"], log=log)
    for model in models:
        model.variants = [v for v in model.variants if v.dtype in args.dtype]
    return models


class Progress:
    """A progress bar on a terminal; one line per cell otherwise (logs)."""

    def __init__(self):
        self.bar = None
        self.terminal = sys.stderr.isatty()

    def __call__(self, done: int, total: int, line: str) -> None:
        if not self.terminal:
            if done:
                print(f"bench [{done}/{total}] {line}", flush=True)
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                self.terminal = False
                return self(done, total, line)
            self.bar = tqdm(total=total, desc="bench", unit="cell", file=sys.stderr, leave=False)
        if line:
            self.bar.set_postfix_str(line[:60], refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def bench_command(args) -> int:
    """benchmark the native runtime against onnxruntime and LiteRT

    Time the native runtime, onnxruntime and LiteRT on the same models in one process, interleaved
    round by round, float and int8, at several batch sizes; print a table (medians with their
    spread, native ÷ the faster other engine, throughput), the CPU, ISA level, kernels and machine
    load; optionally per-layer times, a JSON file and a plot. Without MODEL: the standard suite (the
    reference model of `make run` and the tiny zoo, built on first use). See docs/benchmarks.md.
    """
    from edgecnn.bench.run import Settings, run_bench
    from edgecnn.bench.tables import format_layers, format_table
    from edgecnn.runtime.files import write_json, write_text

    if args.model is None and any(v is not None for v in (args.int8, args.keras, args.tflite, args.tflite_int8)):
        raise EdgecnnError("--int8, --keras, --tflite and --tflite-int8 describe MODEL.onnx; give MODEL.onnx too")
    if args.model is not None and not args.model.is_file():
        raise EdgecnnError(f"model file not found: {args.model}")
    if args.warmup < 0:
        raise EdgecnnError(f"--warmup must be ≥ 0, got {args.warmup}")
    engines = [e for e in args.engines if not (args.no_litert and e == "litert")]
    settings = Settings(
        batches=args.batch,
        runs=args.runs,
        min_runs=min(args.min_runs, args.runs),
        max_seconds=args.max_seconds,
        warmup=args.warmup,
        threads=args.threads,
        engines=engines,
        per_layer=args.per_layer,
        ort_profile=args.ort_profile,
        memory=not args.no_memory,
    )
    if "native" in engines:
        from edgecnn.bench.engines import check_native_threads

        check_native_threads(args.threads)  # before building or compiling anything
    models = collect_models(args, log=lambda line: print(line, flush=True))
    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="edgecnn-bench-") as tmp:
        work = args.out / "ecnn" if args.out else Path(tmp)
        try:
            results = run_bench(models, settings, work, on_cell=progress)
        finally:
            progress.close()
    text = format_table(results)
    if results["layers"] or results["ort_nodes"]:
        text += "\n\n" + format_layers(results)
    print(text)
    written = []
    json_path = args.json or (args.out / "bench.json" if args.out else None)
    plot_path = args.plot or (args.out / "bench.png" if args.out else None)
    if json_path:
        written.append(write_json(json_path, results))
    if plot_path:
        from edgecnn.bench.plot import plot

        written.append(plot(results, plot_path))
    if args.out:
        written.append(write_text(args.out / "bench.txt", text + "\n"))
    for path in written:
        print(f"wrote {path}")
    return 0


def probe_main(argv: list[str]) -> int:
    """`python -m edgecnn.bench --rss-probe RUNTIME PATH THREADS SHAPE DTYPE RUNS` (the memory probe)."""
    from edgecnn.bench.measure import rss_probe_main

    if len(argv) != 7 or argv[0] != "--rss-probe":
        raise SystemExit("usage: edgecnn bench ... (this module's own entry is the memory probe)")
    return rss_probe_main(argv[1:])

"""`edgecnn bench`: the native runtime against onnxruntime, measured in one process.

How the numbers are made, so that ratios are fair:
- Every engine runs the same input in the same process, and the engines are
  interleaved run by run (the order rotates every round), so a slow patch of the
  machine hits all of them alike. Ratios therefore come from one run.
- Each figure is a median (with p90/p99) of many timed calls after a warm-up.
- onnxruntime sessions use the same thread count as the native runtime, at
  onnxruntime's default graph optimisation level (where its int8 kernels are fused).
- Peak resident memory is taken from a separate process per engine that only loads
  and runs that engine (`python -m edgecnn.bench --rss-probe ...`).
- The weight-streaming floor is weight bytes / read bandwidth measured over a
  buffer of the same size: at batch 1 the model is one matrix-vector product, so
  no engine can beat the time it takes to read every weight once (from cache: the
  buffer is read again right away, as an engine called in a loop sees its weights).
  Beside it, "cold read": the same read after evicting the buffer (from memory, as in
  the interleaved runs, where the engines evict each other's weights); NumPy reads one
  stream, so a kernel reading several streams with prefetch can beat it: a reference
  point, not a floor. At batch 1 every engine is also timed alone, call after call
  ("alone ms", its weights in cache): the figure to hold against the floor.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require
from edgecnn.runtime.files import staged_file, write_text

INPUT_SHAPE = (28, 28, 1)


@dataclass
class Engine:
    """One way of running the model: a name, a callable and what it costs to hold."""

    name: str  # e.g. "native int8"
    runtime: str  # "native" | "onnxruntime" | "litert"
    precision: str  # "float" | "int8"
    model_path: Path
    run: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    weight_bytes: int | None = None
    arena_bytes: Callable[[int], int] | None = field(default=None, repr=False)
    model: object | None = field(default=None, repr=False)  # native engines: the edgecnn Model

    @property
    def file_bytes(self) -> int:
        return self.model_path.stat().st_size


@dataclass
class Measurement:
    engine: str
    batch: int
    runs: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    images_per_s: float
    latency_vs_onnxruntime: float | None = None  # this median / onnxruntime's, same precision
    floor_ms: float | None = None  # weight bytes / bandwidth from cache (batch 1, native)
    floor_cold_ms: float | None = None  # "cold read": weight bytes / NumPy's bandwidth from memory
    alone_ms: float | None = None  # batch 1: median of calls in a row, this engine only


# --------------------------------------------------------------------------- engines


def onnxruntime_engine(onnx_path: Path, precision: str, threads: int) -> Engine:
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: x})[0]

    return Engine(f"onnxruntime {precision}", "onnxruntime", precision, onnx_path, run)


def native_engine(ecnn_path: Path, precision: str) -> Engine:
    from edgecnn.runtime import Model

    model = Model.load(ecnn_path)
    arenas = {}  # batch -> arena, reused call after call (onnxruntime keeps its arena too)

    def run(x: np.ndarray) -> np.ndarray:
        n = len(x)
        if n not in arenas:
            arenas[n] = model.new_arena(n)
        return model.predict(x, batch_size=n, arena=arenas[n])

    return Engine(
        f"native {precision}",
        "native",
        precision,
        ecnn_path,
        run,
        weight_bytes=model.weight_bytes,
        arena_bytes=model.arena_size,
        model=model,
    )


def litert_engine(tflite_path: Path, precision: str, threads: int) -> Engine:
    interpreter_module = require("ai_edge_litert.interpreter")
    # XNNPACK is LiteRT's default CPU delegate for float and int8 models.
    interpreter = interpreter_module.Interpreter(model_path=str(tflite_path), num_threads=threads)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    allocated_for = [None]

    def run(x: np.ndarray) -> np.ndarray:
        if allocated_for[0] != x.shape:  # resizing happens in the warm-up, never in a timed call
            interpreter.resize_tensor_input(input_index, list(x.shape))
            interpreter.allocate_tensors()
            allocated_for[0] = x.shape
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    return Engine(f"litert {precision}", "litert", precision, tflite_path, run)


def litert_is_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ai_edge_litert") is not None


def keras_source(float_onnx: Path) -> Path | None:
    """The Keras model an ONNX file was exported from: its sidecar's `source`, else model.keras beside it."""
    sidecar = float_onnx.with_name(float_onnx.name + ".json")
    if sidecar.is_file():
        try:
            source = json.loads(sidecar.read_text()).get("source")
        except json.JSONDecodeError:
            source = None
        if source and str(source).endswith(".keras") and Path(source).is_file():
            return Path(source)
    candidate = float_onnx.with_name("model.keras")
    return candidate if candidate.is_file() else None


def ensure_tflite(keras_path: Path, data_dir: str | None) -> tuple[Path, Path]:
    """LiteRT float and int8 files converted from keras_path, cached beside it."""
    from edgecnn.export.litert import keras_to_tflite

    float_path = keras_path.with_suffix(".tflite")
    int8_path = keras_path.with_suffix(".int8.tflite")
    fresh = lambda p: p.exists() and p.stat().st_mtime >= keras_path.stat().st_mtime  # noqa: E731
    if not fresh(float_path):
        keras_to_tflite(keras_path, float_path)
    if not fresh(int8_path):
        from edgecnn.runtime.data import load_split, resolve_data_dir, to_model_input

        images, _ = load_split(resolve_data_dir(data_dir), "train", limit=200)  # training images only
        keras_to_tflite(keras_path, int8_path, calibration_images=to_model_input(images))
    return float_path, int8_path


def compiled_path(onnx_path: Path) -> Path:
    """Where the bench keeps the .ecnn compiled from an ONNX file: beside it."""
    name = onnx_path.name[: -len(".onnx")] if onnx_path.name.endswith(".onnx") else onnx_path.name
    return onnx_path.with_name(name + ".ecnn")


def ensure_compiled(onnx_path: Path) -> Path:
    """Compile onnx_path to .ecnn beside it. Always recompiled (a second or two): an older
    .ecnn may come from an older compiler (e.g. without packed weights) and would time
    the wrong kernels."""
    out = compiled_path(onnx_path)
    from edgecnn.export.compiler import compile_onnx

    compile_onnx(onnx_path, out)
    return out


# ------------------------------------------------------------------------- measuring


EVICT_BYTES = 96 << 20  # more than the last-level cache of the CPUs this runs on


def measure_read_bandwidth(nbytes: int, repeats: int = 15, cold: bool = False) -> float:
    """Bytes per second for reading a buffer of `nbytes` once (median over repeats); cold:
    each read after reading EVICT_BYTES of other memory (the buffer comes from DRAM)."""
    buffer = np.ones(max(nbytes // 8, 1), dtype=np.float64)
    evict = np.ones(EVICT_BYTES // 8, dtype=np.float64) if cold else None
    buffer.sum()  # fault the pages in before timing
    seconds = []
    for _ in range(repeats):
        if evict is not None:
            evict.sum()
        start = time.perf_counter()
        buffer.sum()
        seconds.append(time.perf_counter() - start)
    return buffer.nbytes / statistics.median(seconds)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def time_engines(
    engines: list[Engine], batch: int, runs: int, warmup: int, images: np.ndarray, progress=None
) -> dict[str, list[float]]:
    """Interleave the engines run by run; return each engine's call times in ms."""
    x = np.ascontiguousarray(images[:batch])
    for engine in engines:
        for _ in range(warmup):
            engine.run(x)
    times: dict[str, list[float]] = {e.name: [] for e in engines}
    for round_index in range(runs):
        shift = round_index % len(engines)
        for engine in engines[shift:] + engines[:shift]:
            start = time.perf_counter_ns()
            engine.run(x)
            times[engine.name].append((time.perf_counter_ns() - start) / 1e6)
        if progress is not None:
            progress.update(1)
    return times


def time_alone(engine: Engine, batch: int, runs: int, images: np.ndarray) -> float:
    """Median ms of `runs` calls in a row of one engine (after one untimed call)."""
    x = np.ascontiguousarray(images[:batch])
    engine.run(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        engine.run(x)
        times.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(times)


def time_layers(engine: Engine, batch: int, runs: int, warmup: int, images: np.ndarray) -> list[dict]:
    """Per-op medians of a native engine: every round runs the ops one by one (one whole
    inference, each op timed alone). Each figure includes one Python -> C call (about a
    microsecond), so tiny ops read a little high."""
    model = engine.model
    run_op, _ = model.op_runner(np.ascontiguousarray(images[:batch]))
    layers = model.layers
    times = [[] for _ in layers]
    for round_index in range(warmup + runs):
        for i in range(len(layers)):
            start = time.perf_counter_ns()
            run_op(i)
            if round_index >= warmup:
                times[i].append((time.perf_counter_ns() - start) / 1e6)
    medians = [statistics.median(t) for t in times]
    total = sum(medians)
    return [
        {"engine": engine.name, "batch": batch, "index": layer.index, "op": layer.op,
         "output_shape": list(layer.output_shape), "weight_bytes": layer.weight_bytes, "macs": layer.macs,
         "median_ms": m, "share": m / total if total else 0.0}
        for layer, m in zip(layers, medians)
    ]


def format_layers(rows: list[dict]) -> str:
    header = f"{'engine':<13} {'batch':>5} {'#':>2} {'op':<16} {'output':<12} {'median ms':>10} {'share':>6} {'GMAC/s':>7}"
    lines = [header, "-" * len(header)]
    for r in rows:
        gmacs = r["macs"] * r["batch"] / (r["median_ms"] * 1e6) if r["macs"] and r["median_ms"] else None
        lines.append(
            f"{r['engine']:<13} {r['batch']:>5} {r['index']:>2} {r['op']:<16} {'x'.join(map(str, r['output_shape'])):<12} "
            f"{r['median_ms']:>10.3f} {100 * r['share']:>5.1f}% {f'{gmacs:.1f}' if gmacs else '-':>7}"
        )
    return "\n".join(lines)


def summarise(engine: Engine, batch: int, times_ms: list[float]) -> Measurement:
    median = statistics.median(times_ms)
    return Measurement(
        engine=engine.name,
        batch=batch,
        runs=len(times_ms),
        median_ms=median,
        p90_ms=percentile(times_ms, 90),
        p99_ms=percentile(times_ms, 99),
        images_per_s=batch / (median / 1e3),
    )


def add_ratios(measurements: list[Measurement], engines: list[Engine]) -> None:
    """latency ratio = this engine's median / onnxruntime's, same precision and batch (<1: faster)."""
    by_name = {e.name: e for e in engines}
    reference = {
        (by_name[m.engine].precision, m.batch): m.median_ms
        for m in measurements
        if by_name[m.engine].runtime == "onnxruntime"
    }
    for m in measurements:
        ref = reference.get((by_name[m.engine].precision, m.batch))
        if ref is not None:
            m.latency_vs_onnxruntime = m.median_ms / ref


def peak_rss_kib(engine: Engine, threads: int, batch: int, runs: int = 20) -> int:
    """Peak resident memory of a fresh process that only loads and runs this engine."""
    cmd = [
        sys.executable, "-m", "edgecnn.bench", "--rss-probe", engine.runtime,
        str(engine.model_path), str(threads), str(batch), str(runs),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EdgecnnError(f"memory probe for {engine.name} failed: {result.stderr.strip()[-500:]}")
    return int(result.stdout.strip().splitlines()[-1])


def rss_probe(runtime: str, model_path: str, threads: int, batch: int, runs: int) -> int:
    """Body of the memory-probe process: load one engine, run it, print peak RSS in KiB."""
    x = np.random.default_rng(0).random((batch, *INPUT_SHAPE), dtype=np.float32)
    if runtime == "native":
        engine = native_engine(Path(model_path), "probe")
    elif runtime == "onnxruntime":
        engine = onnxruntime_engine(Path(model_path), "probe", threads)
    elif runtime == "litert":
        engine = litert_engine(Path(model_path), "probe", threads)
    elif runtime == "baseline":  # Python + NumPy alone: what every engine pays anyway
        engine = None
    else:
        raise SystemExit(f"unknown runtime {runtime}")
    for _ in range(runs if engine else 0):
        engine.run(x)
    print(peak_rss_self_kib())
    return 0


def peak_rss_self_kib() -> int:
    """This process's own peak resident memory in KiB. Linux: VmHWM of /proc/self/status.
    Not getrusage's ru_maxrss: Linux carries that high-water mark over fork + exec, so a
    probe started by a big parent (this bench, with TensorFlow loaded for LiteRT) would
    report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -------------------------------------------------------------------------- reporting


def format_table(results: dict) -> str:
    engines = {e["name"]: e for e in results["engines"]}
    header = (
        f"{'engine':<17} {'batch':>5} {'median ms':>10} {'p90 ms':>9} {'p99 ms':>9} "
        f"{'img/s':>10} {'lat/ORT':>7} {'floor ms':>9} {'cold read':>10} {'alone ms':>9}"
    )
    lines = [header, "-" * len(header)]
    fmt = lambda v: f"{v:.3f}" if v is not None else "-"  # noqa: E731
    for m in results["measurements"]:
        ratio = f"{m['latency_vs_onnxruntime']:.2f}" if m["latency_vs_onnxruntime"] else "-"
        lines.append(
            f"{m['engine']:<17} {m['batch']:>5} {m['median_ms']:>10.3f} {m['p90_ms']:>9.3f} "
            f"{m['p99_ms']:>9.3f} {m['images_per_s']:>10.0f} {ratio:>7} {fmt(m['floor_ms']):>9} "
            f"{fmt(m.get('floor_cold_ms')):>10} {fmt(m.get('alone_ms')):>9}"
        )
    lines.append("")
    header = f"{'engine':<17} {'file bytes':>11} {'weight bytes':>13} {'arena bytes (b=1)':>18} {'peak RSS MiB':>13}"
    lines += [header, "-" * len(header)]
    for name, e in engines.items():
        weight = f"{e['weight_bytes']:,}" if e["weight_bytes"] else "-"
        arena = f"{e['arena_bytes_batch1']:,}" if e["arena_bytes_batch1"] else "-"
        rss = f"{e['peak_rss_kib'] / 1024:.1f}" if e.get("peak_rss_kib") else "-"
        lines.append(f"{name:<17} {e['file_bytes']:>11,} {weight:>13} {arena:>18} {rss:>13}")
    if results.get("baseline_rss_kib"):
        lines.append(f"(Python + NumPy alone: {results['baseline_rss_kib'] / 1024:.1f} MiB peak RSS)")
    lines += results.get("notes", [])
    bw = results["read_bandwidth_gb_s"]
    cold = results.get("read_bandwidth_cold_gb_s")
    lines.append(f"read bandwidth over a weight-sized buffer: {bw:.1f} GB/s from cache (floor ms), "
                 f"{cold:.1f} GB/s from memory (cold read); CPU: {results['cpu']}; "
                 f"native kernels: {results.get('native_isa')}")
    lines.append("median ms: engines interleaved (each finds its weights evicted by the others); "
                 "alone ms: one engine's calls in a row")
    return "\n".join(lines)


def plot(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batches = sorted({m["batch"] for m in results["measurements"]})
    names = [e["name"] for e in results["engines"]]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        rows = {m["batch"]: m for m in results["measurements"] if m["engine"] == name}
        xs = np.arange(len(batches)) + i * width
        axes[0].bar(xs, [rows[b]["median_ms"] / b for b in batches], width, label=name)
        axes[1].bar(xs, [rows[b]["images_per_s"] for b in batches], width, label=name)
    floors = [m["floor_ms"] for m in results["measurements"] if m["batch"] == 1 and m["floor_ms"]]
    if floors and 1 in batches:
        axes[0].hlines(min(floors), -0.1, 0.9, colors="k", linestyles="dashed")
    for ax, title in zip(axes, ["latency per image, ms (median; dashed: batch-1 weight-streaming floor)", "throughput, images/s"]):
        ax.set_xticks(np.arange(len(batches)) + 0.4 - width / 2)
        ax.set_xticklabels([f"batch {b}" for b in batches])
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"edgecnn vs onnxruntime, {results['threads']} thread(s), {results['cpu']}", fontsize=10)
    fig.tight_layout()
    with staged_file(out) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


# ------------------------------------------------------------------------------- run


def run_bench(
    float_onnx: Path,
    int8_onnx: Path | None,
    batches: list[int],
    threads: int,
    runs: int,
    warmup: int = 5,
    measure_memory: bool = True,
    show_progress: bool = True,
    keras_path: Path | None = None,
    use_litert: bool = True,
    data_dir: str | None = None,
    layers: bool = False,
) -> dict:
    for path in [float_onnx] + ([int8_onnx] if int8_onnx else []):
        if not path.is_file():
            raise EdgecnnError(f"model file not found: {path}")
    engines = [native_engine(ensure_compiled(float_onnx), "float"), onnxruntime_engine(float_onnx, "float", threads)]
    if int8_onnx is not None:
        engines += [native_engine(ensure_compiled(int8_onnx), "int8"), onnxruntime_engine(int8_onnx, "int8", threads)]
    notes = []
    if use_litert:
        keras_path = keras_path or keras_source(float_onnx)
        if not litert_is_installed():
            notes.append("LiteRT skipped: ai-edge-litert is not installed (pip install 'edgecnn[train]')")
        elif keras_path is None:
            notes.append("LiteRT skipped: no Keras model found (give --keras MODEL.keras)")
        else:
            tflite_float, tflite_int8 = ensure_tflite(keras_path, data_dir)
            engines.append(litert_engine(tflite_float, "float", threads))
            if int8_onnx is not None:
                engines.append(litert_engine(tflite_int8, "int8", threads))

    rng = np.random.default_rng(0)
    images = rng.random((max(batches), *INPUT_SHAPE), dtype=np.float32)

    floor_weight_bytes = min(e.weight_bytes for e in engines if e.weight_bytes)
    bandwidth = measure_read_bandwidth(floor_weight_bytes)
    bandwidth_cold = measure_read_bandwidth(floor_weight_bytes, repeats=7, cold=True)

    progress = None
    if show_progress:
        try:
            from tqdm import tqdm

            progress = tqdm(total=runs * len(batches), desc="bench", unit="round", file=sys.stderr)
        except ImportError:
            progress = None
    measurements: list[Measurement] = []
    for batch in batches:
        times = time_engines(engines, batch, runs, warmup, images, progress)
        for engine in engines:
            m = summarise(engine, batch, times[engine.name])
            if engine.weight_bytes and batch == 1:
                m.floor_ms = engine.weight_bytes / bandwidth * 1e3
                m.floor_cold_ms = engine.weight_bytes / bandwidth_cold * 1e3
            if batch == 1:
                m.alone_ms = time_alone(engine, batch, runs, images)
            measurements.append(m)
    if progress is not None:
        progress.close()
    add_ratios(measurements, engines)
    layer_rows = []
    if layers:
        for batch in batches:
            for engine in engines:
                if engine.model is not None:
                    layer_rows += time_layers(engine, batch, runs, warmup, images)

    engine_rows = []
    for e in engines:
        engine_rows.append(
            {
                "name": e.name,
                "runtime": e.runtime,
                "precision": e.precision,
                "model": str(e.model_path),
                "file_bytes": e.file_bytes,
                "weight_bytes": e.weight_bytes,
                "arena_bytes_batch1": e.arena_bytes(1) if e.arena_bytes else None,
                "peak_rss_kib": peak_rss_kib(e, threads, batches[0]) if measure_memory else None,
            }
        )
    baseline = None
    if measure_memory:
        probe = subprocess.run(
            [sys.executable, "-m", "edgecnn.bench", "--rss-probe", "baseline", "-", "1", "1", "0"],
            capture_output=True, text=True, check=True,
        )
        baseline = int(probe.stdout.strip().splitlines()[-1])
    return {
        "cpu": cpu_name(),
        "threads": threads,
        "runs": runs,
        "batches": batches,
        "read_bandwidth_gb_s": bandwidth / 1e9,
        "read_bandwidth_cold_gb_s": bandwidth_cold / 1e9,
        "notes": notes,
        "baseline_rss_kib": baseline,
        "engines": engine_rows,
        "measurements": [asdict(m) for m in measurements],
        "layers": layer_rows,
        "native_isa": next((e.model.isa for e in engines if e.model is not None), None),
    }


def parse_batches(text: str) -> list[int]:
    try:
        batches = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--batch takes comma-separated whole numbers, got {text!r}") from None
    if not batches or min(batches) < 1:
        raise argparse.ArgumentTypeError(f"--batch sizes must be ≥ 1, got {text!r}")
    return batches


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark the native runtime against onnxruntime",
        description="Compile what is needed, then time native float/int8 against onnxruntime "
        "float/int8 in one process, interleaved; print a table, optionally write JSON and a plot.",
    )
    parser.add_argument("model", type=Path, help="float ONNX model")
    parser.add_argument("--int8", type=Path, help="int8 ONNX model from `edgecnn quantize`")
    parser.add_argument("--batch", type=parse_batches, default=[1, 8, 64], help="batch sizes (default 1,8,64)")
    parser.add_argument("--threads", type=positive_int, default=1, help="threads for every engine (default 1)")
    parser.add_argument("--runs", type=positive_int, default=200, help="timed runs per engine and batch (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--keras", type=Path, help="Keras model for LiteRT (default: the ONNX sidecar's source)")
    parser.add_argument("--no-litert", action="store_true", help="leave LiteRT out even if it is installed")
    parser.add_argument("--data", help="MNIST-format folder for LiteRT's int8 calibration (training images)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory probe processes")
    parser.add_argument("--layers", action="store_true",
                        help="also time every op of the native engines alone (where the time goes)")
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--plot", type=Path, help="write a bar chart PNG here")
    parser.set_defaults(func=bench_command)


def bench_command(args) -> int:
    if args.threads != 1:
        raise EdgecnnError("the native runtime is single-threaded per call; use --threads 1")
    results = run_bench(
        args.model, args.int8, args.batch, args.threads, args.runs, args.warmup, not args.no_memory,
        keras_path=args.keras, use_litert=not args.no_litert, data_dir=args.data, layers=args.layers,
    )
    print(format_table(results))
    if results["layers"]:
        print()
        print(format_layers(results["layers"]))
    if args.json:
        write_text(args.json, json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    if args.plot:
        plot(results, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--rss-probe":
        _, _, runtime_name, path, n_threads, n_batch, n_runs = sys.argv
        sys.exit(rss_probe(runtime_name, path, int(n_threads), int(n_batch), int(n_runs)))
    raise SystemExit("usage: edgecnn bench ... (this module's own entry is the memory probe)")

"""Run the benchmark over a list of models: load every engine, time every cell, collect the figures.

A cell is (model, data type, batch). Every engine of a cell runs the same input array in
this one process; an engine that cannot run a model (the native compiler refuses it, no
.tflite, a load error) is recorded with its reason and the others still run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from edgecnn.bench import measure
from edgecnn.bench.engines import (
    NATIVE_1T,
    RUNTIMES,
    LiteRTEngine,
    NativeEngine,
    OrtEngine,
    engine_versions,
    litert_installed,
    native_info,
)
from edgecnn.bench.suite import BenchModel, compile_native, make_inputs, onnx_input
from edgecnn.runtime.errors import EdgecnnError

SCHEMA = "edgecnn-bench/2"


@dataclass
class Settings:
    batches: list[int] = field(default_factory=lambda: [1, 8, 64])
    runs: int = 100  # rounds per cell at most
    min_runs: int = 10  # rounds per cell at least, even past max_seconds
    max_seconds: float = 5.0  # per cell, once min_runs are done
    warmup: int = 5
    threads: int = 1
    engines: list[str] = field(default_factory=lambda: list(RUNTIMES))
    per_layer: bool = False
    ort_profile: bool = False
    memory: bool = True
    seed: int = 0


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, EdgecnnError) else f"{type(exc).__name__}: {text}"


class Cells:
    """The plan: every (model, variant) with its input spec and the batches it runs."""

    def __init__(self, models: list[BenchModel], settings: Settings):
        self.items = []  # (model, variant, spec or None, error, batches)
        for model in models:
            for variant in model.variants if not model.missing else []:
                try:
                    spec, error = onnx_input(variant.onnx), ""
                except EdgecnnError as exc:
                    spec, error = None, str(exc)
                batches = [] if spec is None else [spec.fixed_batch] if spec.fixed_batch else list(settings.batches)
                self.items.append((model, variant, spec, error, batches))

    @property
    def total(self) -> int:
        return sum(len(b) for *_, b in self.items)


class Collector:
    def __init__(self):
        self.models, self.engine_status, self.measurements, self.comparisons = [], [], [], []
        self.skipped, self.not_compiled, self.layers, self.layer_totals, self.ort_nodes = [], [], [], [], []
        self.notes = []
        self.native_model = None  # the first native Model loaded: what the library chose


def _load_engines(model, variant, spec, settings, work_dir, out: Collector) -> dict:
    """{runtime: engine} of the engines that loaded; a status row for every engine asked for."""
    engines, rows = {}, {}

    def status(runtime, state, reason="", path=None):
        rows[runtime] = {
            "model": model.name,
            "dtype": variant.dtype,
            "engine": runtime,
            "status": state,
            "reason": reason,
            "file": str(path) if path else None,
        }

    if "native" in settings.engines:
        ecnn = work_dir / f"{model.name}.{variant.dtype}.ecnn"
        reason = compile_native(variant.onnx, ecnn)
        if reason:
            status("native", "not compiled", reason, variant.onnx)
            out.not_compiled.append(
                {"model": model.name, "dtype": variant.dtype, "onnx": str(variant.onnx), "reason": reason}
            )
        else:
            try:
                engine = NativeEngine(ecnn, variant.dtype, settings.threads)
            except EdgecnnError as exc:
                status("native", "failed", f"the compiled model does not load: {exc}", ecnn)
            else:
                if engine.model.input_dtype != spec.dtype or tuple(engine.model.input_shape) != spec.shape:
                    status(
                        "native",
                        "failed",
                        f"the compiled model takes {engine.model.input_dtype} "
                        f"{engine.model.input_shape} input, the ONNX model {spec.dtype} {spec.shape}",
                        ecnn,
                    )
                else:
                    engines["native"] = engine
                    if settings.threads > 1:
                        engines[NATIVE_1T] = NativeEngine(ecnn, variant.dtype, 1)
                    status("native", "ok", path=ecnn)
                    out.native_model = out.native_model or engine.model
    if "onnxruntime" in settings.engines:
        try:
            engines["onnxruntime"] = OrtEngine(variant.onnx, variant.dtype, settings.threads)
            status("onnxruntime", "ok", path=variant.onnx)
        except Exception as exc:
            status("onnxruntime", "failed", _reason(exc), variant.onnx)
    if "litert" in settings.engines:
        if not litert_installed():
            status("litert", "skipped", "ai-edge-litert is not installed (pip install 'edgecnn[train]')")
        elif variant.tflite is None:
            status("litert", "skipped", variant.tflite_note or "no .tflite file")
        else:
            try:
                engine = LiteRTEngine(variant.tflite, variant.dtype, settings.threads)
                detail = engine.interpreter.get_input_details()[0]
                if detail["dtype"] != spec.dtype or tuple(int(d) for d in detail["shape"][1:]) != spec.shape:
                    raise EdgecnnError(
                        f"the .tflite takes {detail['dtype'].__name__} {tuple(detail['shape'][1:])} "
                        f"input, the ONNX model {spec.dtype} {spec.shape}"
                    )
                engines["litert"] = engine
                status("litert", "ok", path=variant.tflite)
            except Exception as exc:
                status("litert", "skipped" if isinstance(exc, EdgecnnError) else "failed", _reason(exc), variant.tflite)
    for runtime in settings.engines:
        row = rows[runtime]
        engine = engines.get(runtime)
        row.update(
            file_bytes=Path(row["file"]).stat().st_size if row["file"] and Path(row["file"]).is_file() else None,
            weight_bytes=engine.weight_bytes if engine else None,
            arena_bytes_batch1=engine.arena_bytes(1) if engine else None,
            kernels=engine.kernels() if isinstance(engine, NativeEngine) else None,
            peak_rss_kib=None,
        )
        out.engine_status.append(row)
    return engines


def _comparison(model: str, dtype: str, batch: int, medians: dict) -> dict:
    others = {k: v for k, v in medians.items() if k not in ("native", NATIVE_1T)}
    best = min(others, key=others.get) if others else None
    native = medians.get("native")
    row = {
        "model": model,
        "dtype": dtype,
        "batch": batch,
        **{f"{k}_ms": medians.get(k) for k in RUNTIMES},
        "best_other": best,
        "best_other_ms": others.get(best),
        "native_vs_best": None,
    }
    if native and best:
        row["native_vs_best"] = native / others[best]
    for k in ("onnxruntime", "litert"):
        row[f"native_vs_{k}"] = native / medians[k] if native and medians.get(k) else None
    one_thread = medians.get(NATIVE_1T)
    row["native_1t_ms"] = one_thread
    row["native_speedup_over_1t"] = one_thread / native if native and one_thread else None
    return row


def _run_cell(model, variant, batch, x, engines, settings, floor, out: Collector) -> dict:
    """Time one cell; returns {runtime: median ms} of the engines that ran."""
    live = {}
    for runtime, engine in engines.items():
        try:  # one untimed call: an engine that fails here is reported, the others are timed
            engine.prepare(batch)
            engine.run(x)
            live[runtime] = engine
        except Exception as exc:
            out.skipped.append(
                {
                    "model": model.name,
                    "dtype": variant.dtype,
                    "batch": batch,
                    "engine": runtime,
                    "reason": f"failed at batch {batch}: {_reason(exc)}",
                }
            )
    if not live:
        return {}
    names = list(live)
    times = measure.time_interleaved(
        [live[n] for n in names],
        x,
        settings.runs,
        settings.warmup,
        min_runs=settings.min_runs,
        max_seconds=settings.max_seconds,
        settle=settings.threads > 1,
    )
    medians = {}
    for runtime, t in zip(names, times):
        stats = measure.Stats.of(t)
        medians[runtime] = stats.median_ms
        row = {
            "model": model.name,
            "dtype": variant.dtype,
            "batch": batch,
            "engine": runtime,
            **stats.as_dict(),
            "images_per_s": batch / (stats.median_ms / 1e3),
            "alone_ms": None,
            "floor_ms": None,
            "floor_cold_ms": None,
        }
        if batch == 1:
            row["alone_ms"] = measure.time_alone(
                live[runtime], x, settings.runs, max_seconds=settings.max_seconds / 2
            ).median_ms
            if runtime == "native" and floor:
                row["floor_ms"] = live[runtime].weight_bytes / floor[0] * 1e3
                row["floor_cold_ms"] = live[runtime].weight_bytes / floor[1] * 1e3
        out.measurements.append(row)
    return medians


def _per_layer(model, variant, batch, x, engine: NativeEngine, settings, out: Collector) -> None:
    engine.prepare(batch)
    timing = measure.time_layers(
        engine.model, x, settings.runs, settings.warmup, whole=engine.run, max_seconds=settings.max_seconds
    )
    stats = timing.ops
    total = sum(s.median_ms for s in stats)
    for layer, s in zip(engine.model.layers, stats):
        macs = layer.macs * batch
        out.layers.append(
            {
                "model": model.name,
                "dtype": variant.dtype,
                "batch": batch,
                "index": layer.index,
                "op": layer.op,
                "kernel": layer.kernel,
                "output_shape": list(layer.output_shape),
                "weight_bytes": layer.weight_bytes,
                "macs": macs,
                "median_ms": s.median_ms,
                "p10_ms": s.p10_ms,
                "p90_ms": s.p90_ms,
                "share": s.median_ms / total if total else 0.0,
                "gmac_per_s": macs / (s.median_ms * 1e6) if macs and s.median_ms else None,
            }
        )
    out.layer_totals.append(
        {
            "model": model.name,
            "dtype": variant.dtype,
            "batch": batch,
            "sum_ms": total,
            "rounds_ms": timing.rounds.median_ms,
            "whole_ms": timing.whole.median_ms,
            "runs": timing.rounds.runs,
        }
    )


def run_bench(models: list[BenchModel], settings: Settings, work_dir: Path, on_cell=None) -> dict:
    """Benchmark `models`; on_cell(done, total, line) first with done 0, then after each cell
    (progress). Returns the results
    (the schema of bench.json, docs/benchmarks.md)."""
    if not settings.engines:
        raise EdgecnnError("no engine to run")
    if "native" in settings.engines:
        from edgecnn.bench.engines import check_native_threads

        check_native_threads(settings.threads)
    started, load_start = time.perf_counter(), measure.load_average()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    work_dir.mkdir(parents=True, exist_ok=True)
    out = Collector()
    cells = Cells(models, settings)
    done = 0
    if on_cell is not None:
        on_cell(0, cells.total, "")
    for model in models:
        out.models.append(
            {
                "name": model.name,
                "group": model.group,
                "values": model.values,
                "macs": model.macs,
                "missing": model.missing or None,
                "variants": [],
            }
        )
    by_name = {m["name"]: m for m in out.models}
    for model, variant, spec, error, batches in cells.items:
        described = {
            "dtype": variant.dtype,
            "onnx": str(variant.onnx),
            "tflite": str(variant.tflite or "") or None,
            "tflite_note": variant.tflite_note or None,
            "error": error or None,
            "input": None
            if spec is None
            else {"shape": list(spec.shape), "dtype": spec.dtype.name, "fixed_batch": spec.fixed_batch},
            "batches": batches,
        }
        by_name[model.name]["variants"].append(described)
        if spec is None:
            continue
        if spec.fixed_batch:
            for batch in settings.batches:
                if batch != spec.fixed_batch:
                    out.skipped.append(
                        {
                            "model": model.name,
                            "dtype": variant.dtype,
                            "batch": batch,
                            "engine": None,
                            "reason": f"the graph's batch is fixed at {spec.fixed_batch}",
                        }
                    )
        engines = _load_engines(model, variant, spec, settings, work_dir, out)
        native = engines.get("native")
        floor = None
        if native is not None and native.weight_bytes:
            floor = (
                measure.read_bandwidth(native.weight_bytes),
                measure.read_bandwidth(native.weight_bytes, repeats=7, cold=True),
            )
        inputs = make_inputs(spec, model.values, variant.input_quant, max(batches), settings.seed)
        for batch in batches:
            x = inputs[:batch]
            medians = _run_cell(model, variant, batch, x, engines, settings, floor, out) if engines else {}
            out.comparisons.append(_comparison(model.name, variant.dtype, batch, medians))
            if settings.per_layer and "native" in medians:
                _per_layer(model, variant, batch, x, native, settings, out)
            if settings.ort_profile and "onnxruntime" in medians:
                for row in measure.ort_node_profile(
                    variant.onnx, x, settings.threads, settings.min_runs, settings.warmup, work_dir
                ):
                    out.ort_nodes.append({"model": model.name, "dtype": variant.dtype, "batch": batch, **row})
            done += 1
            if on_cell is not None:
                on_cell(done, cells.total, _cell_line(model.name, variant.dtype, batch, medians))
        if settings.memory:
            shape = (batches[0], *spec.shape)
            for row in out.engine_status:
                if row["model"] == model.name and row["dtype"] == variant.dtype and row["engine"] in engines:
                    try:
                        row["peak_rss_kib"] = measure.probe_peak_rss(
                            row["engine"], Path(row["file"]), settings.threads, shape, spec.dtype.name
                        )
                    except EdgecnnError as exc:  # the timings stand without it
                        out.notes.append(f"{model.name} {variant.dtype} {row['engine']}: no peak RSS: {exc}")
        del engines, native
    baseline = measure.probe_peak_rss("baseline", None, 1, (1,), "float32") if settings.memory else None
    versions = engine_versions()
    machine = {**measure.machine(), "load_start": load_start, "load_end": measure.load_average()}
    return {
        "schema": SCHEMA,
        "created": created,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine,
        "cpu": machine["cpu"],
        "threads": settings.threads,
        "settings": asdict(settings),
        "engines": {
            "native": {**native_info(out.native_model), "threads": settings.threads},
            "onnxruntime": {
                "version": versions["onnxruntime"],
                "intra_op_threads": settings.threads,
                "inter_op_threads": 1,
                "execution_mode": "sequential",
                "optimization": "all (default)",
                "spinning": "stops when a call returns (session.force_spinning_stop)",
            },
            "litert": {
                "version": versions["litert"],
                "num_threads": settings.threads,
                "delegate": "XNNPACK (LiteRT's default CPU delegate)",
            },
        },
        "models": out.models,
        "engine_status": out.engine_status,
        "measurements": out.measurements,
        "comparisons": out.comparisons,
        "skipped": out.skipped,
        "not_compiled": out.not_compiled,
        "layers": out.layers,
        "layer_totals": out.layer_totals,
        "ort_nodes": out.ort_nodes,
        "baseline_rss_kib": baseline,
        "notes": out.notes,
    }


def _cell_line(model: str, dtype: str, batch: int, medians: dict) -> str:
    figures = ", ".join(f"{k} {v:.3f} ms" for k, v in medians.items()) or "no engine ran"
    return f"{model} {dtype} batch {batch}: {figures}"

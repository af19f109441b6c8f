"""`edgecnn bench` end to end with few runs (no timing is asserted, only what the tool reports and
writes): the reference model, a tiny-zoo model on all three engines, a model the native compiler
refuses, a graph with a fixed batch, the JSON schema, the interleaving order, the per-layer table,
and the --threads contract."""

import dataclasses
import json
import re

import numpy as np
import pytest
from needs import need

need("onnx")
need("onnxruntime")

from edgecnn.bench import measure  # noqa: E402
from edgecnn.cli import main  # noqa: E402
from edgecnn.runtime.model import Layer  # noqa: E402

FAST = ["--runs", "3", "--min-runs", "2", "--warmup", "1", "--max-seconds", "2"]


# ------------------------------------------------------------------------- small ONNX models


def _gemm_model(path, op: str, batch=None):
    """input (batch, 16) -> Gemm(16 -> 8) -> op -> output; batch None = any."""
    onnx = need("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b")
    dim = batch if batch else "N"
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "w", "b"], ["h"]), helper.make_node(op, ["h"], ["output"])],
        "bench_test",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [dim, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [dim, 8])],
        [weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


# ----------------------------------------------------------------------------- the schema


ENGINES = ("native", "onnxruntime", "litert")
CELL = {"model", "dtype", "batch"}  # what every timed row is of
STATS = {f.name for f in dataclasses.fields(measure.Stats)}  # a measurement's statistics
LAYER = {f.name for f in dataclasses.fields(Layer)}  # a per-layer row's description of the op


def _check_schema(results: dict) -> None:
    """Every section of bench.json with the keys and types docs/benchmarks.md describes."""
    assert results["schema"] == "edgecnn-bench/2"
    number = (int, float)
    for key in (
        "cpu",
        "logical_cpus",
        "usable_cpus",
        "system",
        "python",
        "numpy",
        "cpu_features",
        "load_start",
        "load_end",
    ):
        assert key in results["machine"], key
    assert all(isinstance(v, number) for v in results["machine"]["load_start"])
    assert results["threads"] >= 1 and isinstance(results["seconds"], number)
    settings = results["settings"]
    for key in (
        "batches",
        "runs",
        "min_runs",
        "max_seconds",
        "warmup",
        "threads",
        "engines",
        "per_layer",
        "ort_profile",
        "memory",
    ):
        assert key in settings, key
    native = results["engines"]["native"]
    for key in ("version", "library", "isa", "isa_source", "isa_levels", "threads", "threads_option"):
        assert key in native, key
    assert results["engines"]["onnxruntime"]["intra_op_threads"] == results["threads"]
    assert results["engines"]["litert"]["num_threads"] == results["threads"]
    for model in results["models"]:
        assert set(model) >= {"name", "group", "values", "macs", "missing", "variants"}
        for v in model["variants"]:
            assert set(v) >= {"dtype", "onnx", "tflite", "tflite_note", "error", "input", "batches"}
    for row in results["engine_status"]:
        assert row["engine"] in ENGINES
        assert row["status"] in ("ok", "not compiled", "failed", "skipped")
        assert (row["status"] == "ok") == (not row["reason"])
        assert set(row) >= {
            "model",
            "dtype",
            "file",
            "file_bytes",
            "weight_bytes",
            "arena_bytes_batch1",
            "kernels",
            "peak_rss_kib",
        }
    for m in results["measurements"]:
        assert set(m) >= CELL | STATS | {"engine", "images_per_s", "alone_ms", "floor_ms", "floor_cold_ms"}
        assert 0 < m["min_ms"] <= m["p10_ms"] <= m["median_ms"] <= m["p90_ms"] <= m["max_ms"]
        assert m["runs"] >= 1 and m["images_per_s"] == pytest.approx(m["batch"] / m["median_ms"] * 1e3)
        assert (m["alone_ms"] is not None) == (m["batch"] == 1)
    for c in results["comparisons"]:
        medians, ratios = {f"{e}_ms" for e in ENGINES}, {f"native_vs_{e}" for e in ENGINES[1:]}
        assert set(c) >= CELL | medians | ratios | {"best_other", "best_other_ms", "native_vs_best"}
        others = {k: c[f"{k}_ms"] for k in ("onnxruntime", "litert") if c[f"{k}_ms"]}
        if c["native_ms"] and others:
            assert c["best_other_ms"] == min(others.values())
            assert c["native_vs_best"] == pytest.approx(c["native_ms"] / c["best_other_ms"])
    for row in results["not_compiled"]:
        assert row["reason"] and set(row) >= {"model", "dtype", "onnx"}
    for row in results["skipped"]:
        assert row["reason"] and set(row) >= CELL | {"engine"}
    for row in results["layers"]:
        assert set(row) >= CELL | LAYER | {"median_ms", "p10_ms", "p90_ms", "share", "gmac_per_s"}
    for row in results["layer_totals"]:
        assert set(row) >= CELL | {"sum_ms", "rounds_ms", "whole_ms", "runs"}
    json.dumps(results)  # plain JSON all the way down


# ------------------------------------------------------------------------------ end to end


def run_bench(capsys, json_path, *args):
    """`edgecnn bench ARGS`, which must exit 0: (the results it wrote to json_path, checked
    against the schema, and what it printed)."""
    assert main(["bench", *args]) == 0
    printed = capsys.readouterr().out
    results = json.loads(json_path.read_text())
    _check_schema(results)
    return results, printed


def test_bench_reference_model_end_to_end(reference_onnx_path, reference_int8_onnx_path, tmp_path, capsys):
    out = tmp_path / "out"
    int8 = ["--int8", str(reference_int8_onnx_path), "--name", "ref"]
    flags = ["--batch", "1,3", *FAST, "--per-layer", "--ort-profile", "--out", str(out)]
    results, printed = run_bench(capsys, out / "bench.json", str(reference_onnx_path), *int8, *flags)
    assert (out / "bench.txt").read_text().strip() in printed

    # one line per cell when the output is not a terminal (logs)
    assert re.findall(r"^bench \[(\d+)/4\] ref (float|int8) batch (1|3): native", printed, re.M)
    # the header: CPU, ISA level, engine versions, threads and load
    for text in ("CPU ", "ISA level", "onnxruntime  1.", "intra_op_num_threads 1", "load average", "rotating order"):
        assert text in printed
    rows = {(m["dtype"], m["batch"], m["engine"]) for m in results["measurements"]}
    assert rows == {(d, b, e) for d in ("float", "int8") for b in (1, 3) for e in ("native", "onnxruntime")}
    assert all(2 <= m["runs"] <= 3 for m in results["measurements"])
    assert all(c["native_vs_onnxruntime"] > 0 for c in results["comparisons"])
    assert re.search(
        r"^ref\s+int8\s+3\s+[\d.]+ ±\d+%\s+[\d.]+ ±\d+%\s+n/a\s+[\d.]+ ORT\s+[\d,]+\s+[\d,]+$", printed, re.M
    )

    # LiteRT had no Keras model to convert: listed with the reason, not dropped
    litert = [r for r in results["engine_status"] if r["engine"] == "litert"]
    assert {r["status"] for r in litert} == {"skipped"} and "Keras" in litert[0]["reason"]
    assert "ref float, ref int8 LiteRT: skipped: no Keras model" in printed

    # memory: every engine that ran has a peak RSS from its own probe process; the batch-1 floor
    ok = [r for r in results["engine_status"] if r["status"] == "ok"]
    assert ok and all(r["peak_rss_kib"] > 0 for r in ok) and results["baseline_rss_kib"] > 0
    native = {r["dtype"]: r for r in ok if r["engine"] == "native"}
    assert native["float"]["weight_bytes"] > native["int8"]["weight_bytes"] > 0
    assert all(
        (m["floor_ms"] is not None) == (m["engine"] == "native" and m["batch"] == 1) for m in results["measurements"]
    )

    # per layer: every native layer of every cell, shares summing to 1, the slowest marked
    from edgecnn.runtime import Model

    for dtype in ("float", "int8"):
        layers = Model.load(out / "ecnn" / f"ref.{dtype}.ecnn").layers
        for batch in (1, 3):
            rows = [r for r in results["layers"] if (r["dtype"], r["batch"]) == (dtype, batch)]
            assert [r["op"] for r in rows] == [layer.op for layer in layers]
            assert sum(r["share"] for r in rows) == pytest.approx(1.0)
            assert all(r["macs"] == layer.macs * batch for r, layer in zip(rows, layers))
    assert "native per layer: ref float, batch 1" in printed and "<- slowest" in printed
    assert "CONV_2D" in printed and "FULLY_CONNECTED" in printed
    assert "onnxruntime per node (its profiler): ref int8, batch 3" in printed
    assert results["ort_nodes"] and all(r["median_ms"] >= 0 for r in results["ort_nodes"])

    png = (out / "bench.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out / "bench.png") as image:
        assert image.size[0] > 400 and image.size[1] > 300


def test_bench_zoo_model_on_three_engines(tiny_zoo, tmp_path, capsys):
    need("ai_edge_litert.interpreter")
    out_json = tmp_path / "bench.json"
    zoo = ["--models", "kws_dscnn", "--zoo", str(tiny_zoo.dir)]
    results, printed = run_bench(
        capsys, out_json, *zoo, "--batch", "1,2", *FAST, "--no-memory", "--json", str(out_json)
    )
    assert [m["name"] for m in results["models"]] == ["kws_dscnn"]
    engines = {(m["dtype"], m["engine"]) for m in results["measurements"]}
    assert {("float", "onnxruntime"), ("float", "litert"), ("int8", "onnxruntime"), ("int8", "litert")} <= engines
    # int8 runs on int8 input, quantized with the model's own input scale
    assert results["models"][0]["variants"][1]["input"]["dtype"] == "int8"
    # the native engine ran each dtype, or that dtype is listed with the compiler's reason
    status_of = {r["dtype"]: r for r in results["engine_status"] if r["engine"] == "native"}
    for dtype, row in status_of.items():
        if row["status"] == "ok":
            assert (dtype, "native") in engines
        else:
            assert row["status"] == "not compiled"
            listed = [n for n in results["not_compiled"] if n["dtype"] == dtype]
            assert listed and listed[0]["reason"] and f"kws_dscnn {dtype}: " in printed


def test_bench_lists_a_model_the_compiler_refuses(tmp_path, capsys):
    path = _gemm_model(tmp_path / "erf.onnx", "Erf")
    out_json = tmp_path / "bench.json"
    results, printed = run_bench(
        capsys, out_json, str(path), "--batch", "1,4", *FAST, "--no-memory", "--json", str(out_json)
    )
    assert [(r["model"], r["dtype"]) for r in results["not_compiled"]] == [("erf", "float")]
    assert "Erf" in results["not_compiled"][0]["reason"]
    assert "Not compiled by the native compiler" in printed and "erf float: " in printed and "Erf" in printed
    # the rest of the benchmark ran: onnxruntime at both batches, the native column says why it is empty
    assert {(m["engine"], m["batch"]) for m in results["measurements"]} == {("onnxruntime", 1), ("onnxruntime", 4)}
    assert re.search(r"^erf\s+float\s+4\s+not compiled\s+[\d.]+ ±\d+%", printed, re.M)


def test_bench_runs_a_fixed_batch_graph_at_its_batch_only(tmp_path, capsys):
    path = _gemm_model(tmp_path / "fixed.onnx", "Relu", batch=2)
    out_json = tmp_path / "bench.json"
    flags = ["--batch", "1,2,8", *FAST, "--no-memory", "--engines", "native,onnxruntime", "--json", str(out_json)]
    results, printed = run_bench(capsys, out_json, str(path), *flags)
    assert {m["batch"] for m in results["measurements"]} == {2}
    assert results["models"][0]["variants"][0]["input"]["fixed_batch"] == 2
    for batch in (1, 8):
        assert re.search(rf"^fixed\s+float\s+{batch}\s+not run: the graph's batch is fixed at 2$", printed, re.M)


def test_bench_refuses_a_missing_model(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "missing.onnx"), "--runs", "1", "--no-memory", "--no-litert"]) == 2
    assert "not found" in capsys.readouterr().err


def test_bench_lists_a_missing_reference_run(tmp_path, capsys):
    out_json = tmp_path / "bench.json"
    assert (
        main(["bench", "--models", "reference", "--run-dir", str(tmp_path / "nothing"), "--json", str(out_json)]) == 0
    )
    results = json.loads(out_json.read_text())
    assert "make run" in results["models"][0]["missing"]
    assert "reference: " in capsys.readouterr().out


# --------------------------------------------------------------------------------- threads


def test_threads_above_one_refused_for_a_single_threaded_native_runtime(tmp_path, capsys, monkeypatch):
    from edgecnn.bench import engines

    monkeypatch.setattr(engines, "native_accepts_threads", lambda: False)
    path = _gemm_model(tmp_path / "m.onnx", "Relu")
    assert main(["bench", str(path), "--threads", "2", *FAST, "--no-memory"]) == 2
    err = capsys.readouterr().err
    assert "--threads 2" in err and "--engines onnxruntime,litert" in err
    out_json = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                str(path),
                "--threads",
                "2",
                *FAST,
                "--no-memory",
                "--engines",
                "onnxruntime",
                "--batch",
                "1",
                "--json",
                str(out_json),
            ]
        )
        == 0
    )
    results = json.loads(out_json.read_text())
    assert results["threads"] == 2 and results["engines"]["onnxruntime"]["intra_op_threads"] == 2
    out = capsys.readouterr().out
    assert "intra_op_num_threads 2" in out and "spinning stops when a call returns" in out


def test_native_on_several_threads_is_compared_with_itself_on_one_in_the_same_rounds(tmp_path, capsys):
    """Its speed-up over one thread comes from one run: same rests, same neighbours."""
    from edgecnn.bench.engines import NATIVE_1T

    path = _gemm_model(tmp_path / "m.onnx", "Relu")
    out_json = tmp_path / "bench.json"
    argv = ["bench", str(path), "--threads", "2", *FAST, "--no-memory", "--engines", "native,onnxruntime"]
    assert main([*argv, "--batch", "1,8", "--json", str(out_json)]) == 0
    results = json.loads(out_json.read_text())
    timed = {(m["engine"], m["batch"]) for m in results["measurements"]}
    assert {(NATIVE_1T, 1), (NATIVE_1T, 8), ("native", 1), ("native", 8)} <= timed
    for c in results["comparisons"]:
        assert c["best_other"] == "onnxruntime"  # the one-thread run is not another engine
        assert c["native_speedup_over_1t"] == pytest.approx(c["native_1t_ms"] / c["native_ms"])
    out = capsys.readouterr().out
    assert "native 2T speed-up" in out and "the same model on one native thread" in out


def test_onnxruntime_workers_stop_spinning_when_a_call_returns():
    """Else they spin for milliseconds after each call and take a core from the engine timed next."""
    from edgecnn.bench.engines import ort_options

    assert ort_options(2).get_session_config_entry("session.force_spinning_stop") == "1"


def test_threads_reach_a_native_runtime_that_takes_them(tmp_path, monkeypatch):
    from edgecnn.bench import engines
    from edgecnn.export.compiler import compile_onnx
    from edgecnn.runtime import Model

    seen = []
    plain_load = Model.load

    def load(path, threads=None):  # a runtime whose Model.load takes threads=
        seen.append(threads)
        return plain_load(path)

    monkeypatch.setattr(Model, "load", staticmethod(load))
    assert engines.native_accepts_threads()
    ecnn = tmp_path / "m.ecnn"
    compile_onnx(_gemm_model(tmp_path / "m.onnx", "Relu"), ecnn)
    engines.NativeEngine(ecnn, "float", 1)
    engines.NativeEngine(ecnn, "float", 3)
    assert seen == [1, 3]  # threads=1 explicitly too: a runtime's default may be every core


# ------------------------------------------------------------------------------ measuring


class _Recorder:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def prepare(self, batch):
        self.log.append(("prepare", self.name))

    def run(self, x):
        self.log.append(("run", self.name))


def test_interleaving_runs_every_engine_once_per_round_in_rotating_order():
    log = []
    engines = [_Recorder(n, log) for n in "ABC"]
    times = measure.time_interleaved(engines, np.zeros((1, 4)), runs=5, warmup=2)
    warm = [
        ("prepare", "A"),
        ("run", "A"),
        ("run", "A"),
        ("prepare", "B"),
        ("run", "B"),
        ("run", "B"),
        ("prepare", "C"),
        ("run", "C"),
        ("run", "C"),
    ]
    assert log[:9] == warm
    rounds = [[name for _, name in log[9 + 3 * r : 12 + 3 * r]] for r in range(5)]
    assert rounds == [list("ABC"), list("BCA"), list("CAB"), list("ABC"), list("BCA")]
    assert [len(t) for t in times] == [5, 5, 5]
    assert measure.rotation(4, 6) == [2, 3, 0, 1]


def test_a_cell_stops_at_its_time_budget_after_the_minimum_rounds():
    ticks = iter(range(0, 10**12, 10**8))  # every clock reading is 0.1 s after the one before
    engines = [_Recorder("A", []), _Recorder("B", [])]
    times = measure.time_interleaved(
        engines, np.zeros((1, 4)), runs=1000, warmup=0, min_runs=3, max_seconds=0.5, clock=lambda: next(ticks)
    )
    assert [len(t) for t in times] == [3, 3]  # 0.5 s passed within the first rounds; the minimum still ran
    assert all(t == pytest.approx(100.0) for t in times[0])  # ms between two readings


def test_per_layer_times_add_up_to_about_the_whole_inference(reference_onnx_path, tmp_path):
    from edgecnn.bench.engines import NativeEngine
    from edgecnn.export.compiler import compile_onnx

    ecnn = tmp_path / "ref.ecnn"
    compile_onnx(reference_onnx_path, ecnn)
    engine = NativeEngine(ecnn, "float", 1)
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    engine.prepare(len(x))
    timing = measure.time_layers(engine.model, x, runs=60, warmup=3, whole=engine.run)
    assert len(timing.ops) == len(engine.model.layers) and timing.rounds.runs == timing.whole.runs == 60
    # Each op alone, one Python -> C call each, against one call for all, round by round: the same
    # work on the same machine, so a round of ops lands near the whole. Compared on the fastest
    # of each, the least disturbed (on a shared machine a burst of load can cover most rounds and
    # move a median several-fold), with loose bounds.
    assert 0.5 < timing.rounds.min_ms / timing.whole.min_ms < 2.0, timing
    # and the ops' fastest times add up to about the fastest round (never more: every round is a sum of them)
    assert 0.5 < sum(s.min_ms for s in timing.ops) / timing.rounds.min_ms <= 1.0 + 1e-9, timing


def test_stats_and_short_reasons():
    from edgecnn.bench.suite import short_reason

    s = measure.Stats.of([float(v) for v in range(1, 101)])
    assert (s.runs, s.min_ms, s.max_ms, s.median_ms) == (100, 1.0, 100.0, 50.5)
    assert s.p10_ms == pytest.approx(10.9) and s.p90_ms == pytest.approx(90.1)
    long = "node '" + "a/" * 60 + "b' (QLinearConv): the scale differs\n(run `edgecnn compile --explain`)"
    short = short_reason(long)
    assert short.startswith("node 'a/a/") and "…" in short and short.endswith("the scale differs")

"""The benchmark's results as text: the header (machine, engines, load), the main table, the
models or engines that did not run and why, memory, and the per-layer tables."""

from __future__ import annotations

from collections import Counter

from edgecnn.bench.engines import LABELS, RUNTIMES
from edgecnn.bench.suite import short_reason

GOAL_LATENCY = 0.8  # native ÷ best other engine at batch 1 (issue goal); throughput goal: ≤ 1.0 at 8 and 64


def format_load(values) -> str:
    return " ".join(f"{v:.2f}" for v in values) if values else "unknown"


def format_header(results: dict) -> str:
    m, e, s = results["machine"], results["engines"], results["settings"]
    native, ort, litert = e["native"], e["onnxruntime"], e["litert"]
    features = " ".join(m["cpu_features"]) if m.get("cpu_features") else "unknown"
    isa = native.get("isa") or "unknown (no native model was loaded)"
    source = f" ({native['isa_source']})" if native.get("isa_source") else ""
    levels = native.get("isa_levels")
    runnable = f"; levels this CPU runs: {', '.join(k for k, ok in levels.items() if ok)}" if levels else ""
    lines = [
        f"CPU          {m['cpu']}; {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable); {m['system']}",
        f"ISA          CPU features: {features}",
        f"native       edgecnn {native['version']} (library {native.get('library') or 'unknown'}), "
        f"ISA level {isa}{source}{runnable}; {native['threads']} thread(s)",
        f"onnxruntime  {ort['version'] or 'not installed'}: intra_op_num_threads {ort['intra_op_threads']}, "
        f"inter_op_num_threads {ort['inter_op_threads']}, {ort['execution_mode']}, graph optimisation {ort['optimization']}"
        + (f", spinning {ort['spinning']}" if ort.get("spinning") else ""),
        f"LiteRT       {litert['version'] or 'not installed'}: num_threads {litert['num_threads']}, {litert['delegate']}",
        f"load         1/5/15-min load average {format_load(m.get('load_start'))} at start, {format_load(m.get('load_end'))} at end"
        + (
            f" (on {m['usable_cpus']} CPUs: a busy machine; check the spread before trusting a ratio)"
            if _busy(m)
            else ""
        ),
        f"timing       engines interleaved, each round runs every engine once in rotating order; per cell up to "
        f"{s['runs']} rounds (at least {s['min_runs']}; a cell stops after {s['max_seconds']:g} s), "
        f"{s['warmup']} warm-up calls per engine; medians ± half the p10-p90 range",
    ]
    return "\n".join(lines)


def _busy(machine: dict) -> bool:
    load = machine.get("load_start") or machine.get("load_end")
    return bool(load) and max(load[0], (machine.get("load_end") or load)[0]) > 0.5 * (machine.get("usable_cpus") or 1)


def _status(results: dict) -> dict:
    return {(r["model"], r["dtype"], r["engine"]): r for r in results["engine_status"]}


def _cell(m: dict | None, status: dict | None) -> str:
    if m is not None:
        return f"{m['median_ms']:.3f} ±{100 * (m['p90_ms'] - m['p10_ms']) / 2 / m['median_ms']:.0f}%"
    if status is None:
        return "-"
    return {"not compiled": "not compiled", "skipped": "n/a", "failed": "failed"}.get(status["status"], "failed")


def main_rows(results: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the main table (one row per model x dtype x batch), as strings."""
    engines = [r for r in RUNTIMES if r in results["settings"]["engines"]]
    header = [
        "model",
        "dtype",
        "batch",
        *[f"{LABELS[r]} ms" for r in engines],
        "native÷best",
        "native img/s",
        "best img/s",
    ]
    threads = results["settings"]["threads"]
    if threads > 1:  # the native model on one thread, timed in the same rounds
        header.append(f"native {threads}T speed-up")
    measured = {(m["model"], m["dtype"], m["batch"], m["engine"]): m for m in results["measurements"]}
    status = _status(results)
    fixed = {(s["model"], s["dtype"], s["batch"]): s["reason"] for s in results["skipped"] if s["engine"] is None}
    rows = []
    comparisons = {(c["model"], c["dtype"], c["batch"]): c for c in results["comparisons"]}
    for model in results["models"]:
        for variant in model["variants"]:
            dtype = variant["dtype"]
            for batch in results["settings"]["batches"] if variant["input"] else []:
                key = (model["name"], dtype, batch)
                if key in fixed:
                    rows.append([model["name"], dtype, str(batch), f"not run: {fixed[key]}"] + [""] * (len(header) - 4))
                    continue
                if key not in comparisons:
                    continue
                c = comparisons[key]
                cells = [_cell(measured.get((*key, r)), status.get((model["name"], dtype, r))) for r in engines]
                ratio = f"{c['native_vs_best']:.2f} {LABELS[c['best_other']]}" if c["native_vs_best"] else "-"
                native_tp = f"{batch / c['native_ms'] * 1e3:,.0f}" if batch > 1 and c.get("native_ms") else ""
                best_tp = f"{batch / c['best_other_ms'] * 1e3:,.0f}" if batch > 1 and c.get("best_other_ms") else ""
                rows.append([model["name"], dtype, str(batch), *cells, ratio, native_tp, best_tp])
                if threads > 1:
                    speedup = c.get("native_speedup_over_1t")
                    rows[-1].append(f"{speedup:.2f}×" if speedup else "-")
            for batch in variant["batches"]:  # a fixed batch outside --batch still runs
                key = (model["name"], dtype, batch)
                if batch not in results["settings"]["batches"] and key in comparisons:
                    c = comparisons[key]
                    cells = [_cell(measured.get((*key, r)), status.get((model["name"], dtype, r))) for r in engines]
                    ratio = f"{c['native_vs_best']:.2f} {LABELS[c['best_other']]}" if c["native_vs_best"] else "-"
                    rows.append([model["name"], dtype, f"{batch} (fixed)", *cells, ratio, "", ""])
                    if threads > 1:
                        speedup = c.get("native_speedup_over_1t")
                        rows[-1].append(f"{speedup:.2f}×" if speedup else "-")
    return header, rows


def _align(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [len(h) for h in header]
    notes = [row[3].startswith("not run:") and not any(row[4:]) for row in rows]
    for row, note in zip(rows, notes):
        for i, cell in enumerate(row[:3] if note else row):
            widths[i] = max(widths[i], len(cell))
    left = {0, 1}

    def fmt(row):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    lines = [fmt(header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    for row, note in zip(rows, notes):
        if note:  # a note in place of the figures
            lines.append("  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3]]))
        else:
            lines.append(fmt(row))
    return lines


def format_main(results: dict) -> str:
    header, rows = main_rows(results)
    lines = _align(header, rows)
    lines.append(
        "ms: median ± half the p10-p90 range; native÷best: native median ÷ the faster of onnxruntime and "
        f"LiteRT (goal ≤ {GOAL_LATENCY} at batch 1, ≤ 1.0 at batch 8 and 64); img/s at batch > 1"
    )
    threads = results["settings"]["threads"]
    if threads > 1:
        lines.append(
            f"native {threads}T speed-up: the same model on one native thread, timed in the same rounds "
            f"with the same rests, ÷ native on {threads} threads"
        )
    return "\n".join(lines)


def format_problems(results: dict) -> str:
    """What did not run, with the reason: never dropped silently."""
    lines = []
    if results["not_compiled"]:
        lines.append("Not compiled by the native compiler (onnxruntime and LiteRT still timed):")
        for row in results["not_compiled"]:
            lines.append(f"  {row['model']} {row['dtype']}: {short_reason(row['reason'])}")
    other = [r for r in results["engine_status"] if r["status"] in ("failed", "skipped")]
    missing = [m for m in results["models"] if m["missing"]]
    broken = [(m["name"], v) for m in results["models"] for v in m["variants"] if v["error"]]
    at_batch = [s for s in results["skipped"] if s["engine"] is not None]
    if results.get("notes"):
        lines += ["Notes:"] + [f"  {note}" for note in results["notes"]]
    if other or missing or broken or at_batch:
        lines.append("Not run:")
        for m in missing:
            lines.append(f"  {m['name']}: {short_reason(m['missing'])}")
        for name, v in broken:
            lines.append(f"  {name} {v['dtype']}: {short_reason(v['error'])}")
        same: dict = {}  # one line per engine and reason, however many models share it
        for r in other:
            same.setdefault((r["engine"], r["status"], short_reason(r["reason"])), []).append(
                f"{r['model']} {r['dtype']}"
            )
        for (engine, state, reason), where in same.items():
            lines.append(
                f"  {', '.join(where)} {LABELS[engine]}: {state}: {reason}"
                if len(where) < 3
                else f"  {LABELS[engine]} {state} on {len(where)} models ({', '.join(where)}): {reason}"
            )
        for s in at_batch:
            lines.append(
                f"  {s['model']} {s['dtype']} {LABELS[s['engine']]} batch {s['batch']}: {short_reason(s['reason'])}"
            )
    return "\n".join(lines)


def format_kernels(results: dict) -> str:
    """The native kernels chosen per model, most used first."""
    rows = [r for r in results["engine_status"] if r["engine"] == "native" and r["status"] == "ok"]
    if not rows:
        return ""
    lines = ["native kernels (layers per kernel):"]
    for r in rows:
        counts = Counter(k or "?" for k in r["kernels"] or [])
        lines.append(f"  {r['model']} {r['dtype']}: " + ", ".join(f"{k} ×{n}" for k, n in counts.most_common()))
    return "\n".join(lines)


def format_memory(results: dict) -> str:
    rows = [r for r in results["engine_status"] if r["status"] == "ok"]
    if not rows:
        return ""
    rss = any(r["peak_rss_kib"] for r in rows)
    header = ["model", "dtype", "engine", "file bytes", "weight bytes", "arena bytes (b=1)"] + ["peak RSS MiB"] * rss
    body = [
        [
            r["model"],
            r["dtype"],
            LABELS[r["engine"]],
            f"{r['file_bytes']:,}" if r["file_bytes"] else "-",
            f"{r['weight_bytes']:,}" if r["weight_bytes"] else "-",
            f"{r['arena_bytes_batch1']:,}" if r["arena_bytes_batch1"] else "-",
        ]
        + [f"{r['peak_rss_kib'] / 1024:.1f}" if r["peak_rss_kib"] else "-"] * rss
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    fmt = lambda row: "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    lines = [fmt(header), "-" * (sum(widths) + 2 * (len(widths) - 1)), *map(fmt, body)]
    if results.get("baseline_rss_kib"):
        lines.append(
            f"peak RSS: a fresh process that loads one engine and runs it (Python + NumPy alone: "
            f"{results['baseline_rss_kib'] / 1024:.1f} MiB)"
        )
    floors = [m for m in results["measurements"] if m.get("floor_ms")]
    for m in floors:
        lines.append(
            f"{m['model']} {m['dtype']} batch 1: native {m['median_ms']:.3f} ms interleaved, "
            f"{m['alone_ms']:.3f} ms alone; streaming its weights once takes {m['floor_ms']:.3f} ms from "
            f"cache, {m['floor_cold_ms']:.3f} ms from memory (NumPy read)"
        )
    return "\n".join(lines)


def format_table(results: dict) -> str:
    """Everything the terminal shows except the per-layer tables."""
    parts = [
        format_header(results),
        format_main(results),
        format_problems(results),
        format_kernels(results),
        format_memory(results),
    ]
    return "\n\n".join(p for p in parts if p)


def format_layers(results: dict) -> str:
    """Per model, dtype and batch: each native layer's time, MACs, GMAC/s and share; the slowest marked."""
    out = []
    totals = {(t["model"], t["dtype"], t["batch"]): t for t in results["layer_totals"]}
    groups: dict = {}
    for r in results["layers"]:
        groups.setdefault((r["model"], r["dtype"], r["batch"]), []).append(r)
    for key, rows in groups.items():
        t = totals[key]
        out.append(
            f"native per layer: {key[0]} {key[1]}, batch {key[2]}: each op run alone, medians of {t['runs']} "
            f"rounds; the ops' medians add up to {t['sum_ms']:.3f} ms, a round of them to {t['rounds_ms']:.3f} "
            f"ms, the whole inference in one call {t['whole_ms']:.3f} ms"
        )
        slowest = max(rows, key=lambda r: r["median_ms"])
        ow = max(len("op"), *(len(r["op"]) for r in rows))
        kw = max(len("kernel"), *(len(r["kernel"] or "unknown") for r in rows))
        sw = max(len("output"), *(len("x".join(map(str, r["output_shape"]))) for r in rows))
        header = f"  {'#':>3}  {'op':<{ow}}  {'kernel':<{kw}}  {'output':<{sw}}  {'MACs':>13} {'ms':>9} {'share':>6} {'GMAC/s':>7}"
        out += [header, "  " + "-" * (len(header) - 2)]
        for r in rows:
            gmacs = f"{r['gmac_per_s']:.1f}" if r["gmac_per_s"] else "-"
            mark = "  <- slowest" if r is slowest else ""
            out.append(
                f"  {r['index']:>3}  {r['op']:<{ow}}  {(r['kernel'] or 'unknown'):<{kw}}  "
                f"{'x'.join(map(str, r['output_shape'])):<{sw}}  {r['macs']:>13,} {r['median_ms']:>9.4f} "
                f"{100 * r['share']:>5.1f}% {gmacs:>7}{mark}"
            )
        out.append("")
    nodes: dict = {}
    for r in results.get("ort_nodes", []):
        nodes.setdefault((r["model"], r["dtype"], r["batch"]), []).append(r)
    for key, rows in nodes.items():
        top = sorted(rows, key=lambda r: -r["median_ms"])[:10]
        out.append(
            f"onnxruntime per node (its profiler): {key[0]} {key[1]}, batch {key[2]}: the {len(top)} slowest "
            f"of {len(rows)} nodes, sum of all {sum(r['median_ms'] for r in rows):.3f} ms"
        )
        for r in top:
            name = short_reason(f"'{r['node']}'", 60)
            out.append(f"  {r['op']:<22} {r['median_ms']:>9.4f} ms {100 * r['share']:>5.1f}%  {name}")
        out.append("")
    return "\n".join(out).rstrip()


# ------------------------------------------------------------------- for the run report


def summary_rows(results: dict) -> list[list]:
    """[figure, value, note] rows for the run report's summary: every batch-1 median."""
    comparisons = {(c["model"], c["dtype"], c["batch"]): c for c in results["comparisons"]}
    rows = []
    for m in results["measurements"]:
        if m["batch"] != 1:
            continue
        c = comparisons.get((m["model"], m["dtype"], 1), {})
        if m["engine"] == "native" and c.get("native_vs_best"):
            note = f"{c['native_vs_best']:.2f}× {LABELS[c['best_other']]}, the faster other engine"
        else:
            note = f"{m['median_ms'] / c['onnxruntime_ms']:.2f}× ORT" if c.get("onnxruntime_ms") else ""
        rows.append(
            [f"batch-1 latency, {m['model']} {m['dtype']}, {LABELS[m['engine']]}", f"{m['median_ms']:.3f} ms", note]
        )
    return rows


def measurement_rows(results: dict) -> tuple[list[str], list[list]]:
    """Every measurement with its spread, for the run report."""
    header = [
        "model",
        "dtype",
        "engine",
        "batch",
        "runs",
        "median ms",
        "p10 ms",
        "p90 ms",
        "images/s",
        "alone ms (batch 1)",
        "weight-streaming floor ms",
    ]
    rows = [
        [
            m["model"],
            m["dtype"],
            LABELS[m["engine"]],
            m["batch"],
            m["runs"],
            round(m["median_ms"], 4),
            round(m["p10_ms"], 4),
            round(m["p90_ms"], 4),
            round(m["images_per_s"]),
            round(m["alone_ms"], 4) if m["alone_ms"] else "-",
            round(m["floor_ms"], 4) if m["floor_ms"] else "-",
        ]
        for m in results["measurements"]
    ]
    return header, rows


def memory_rows(results: dict) -> tuple[list[str], list[list]]:
    header = ["model", "dtype", "engine", "file bytes", "weight bytes", "arena bytes (batch 1)", "peak RSS MiB"]
    rows = [
        [
            r["model"],
            r["dtype"],
            LABELS[r["engine"]],
            r["file_bytes"] or "-",
            r["weight_bytes"] or "-",
            r["arena_bytes_batch1"] or "-",
            round(r["peak_rss_kib"] / 1024, 1) if r["peak_rss_kib"] else "-",
        ]
        for r in results["engine_status"]
        if r["status"] == "ok"
    ]
    return header, rows

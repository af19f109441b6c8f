"""The run report: RUN_DIR/report.html (one self-contained file) and RUN_DIR/report.md.

Every number comes from an artifact a stage wrote (metrics.json, the ONNX sidecars,
verify.*.json, bench.json); the report only arranges them. Images are embedded as
data URIs so the HTML opens from disk with no server.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from edgecnn.runtime.files import write_text

SECTIONS = (
    "Summary",
    "Settings",
    "Training",
    "Export and quantization",
    "Verification",
    "Benchmark",
    "Memory and flash",
    "Reproduce",
)


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _flatten(data, prefix: str = "") -> list[tuple[str, object]]:
    """Scalar leaves of a JSON object as (dotted key, value) pairs; lists of scalars kept whole."""
    rows: list[tuple[str, object]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            rows += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        return rows  # large nested tables (confusion matrices, histories) are shown elsewhere
    else:
        rows.append((prefix, data))
    return rows


def _fmt(value) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


class Report:
    """Collects sections once and renders them as HTML and Markdown."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.sections: list[tuple[str, list]] = []

    def section(self, title: str) -> list:
        blocks: list = []
        self.sections.append((title, blocks))
        return blocks

    # Blocks are ("p", text), ("table", header, rows), ("img", path, caption), ("pre", text).
    def to_markdown(self) -> str:
        out = [f"# edgecnn run report: {self.run_dir}", ""]
        for title, blocks in self.sections:
            out += [f"## {title}", ""]
            for block in blocks:
                kind = block[0]
                if kind == "p":
                    out += [block[1], ""]
                elif kind == "table":
                    header, rows = block[1], block[2]
                    out.append("| " + " | ".join(header) + " |")
                    out.append("|" + "---|" * len(header))
                    out += ["| " + " | ".join(_fmt(c).replace("|", "\\|") for c in row) + " |" for row in rows]
                    out.append("")
                elif kind == "img":
                    out += [f"![{block[2]}]({Path(block[1]).name})", ""]
                elif kind == "pre":
                    out += ["```", block[1], "```", ""]
        return "\n".join(out)

    def to_html(self) -> str:
        parts = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>edgecnn report: {html.escape(str(self.run_dir))}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
            "color:#222}table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;"
            "padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
            "img{max-width:100%;border:1px solid #eee}figure{margin:1em 0}figcaption{color:#666;font-size:.9em}"
            "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}nav a{margin-right:1em}</style></head><body>",
            f"<h1>edgecnn run report</h1><p>Run folder: <code>{html.escape(str(self.run_dir))}</code></p><nav>",
        ]
        parts += [f"<a href='#{_anchor(t)}'>{html.escape(t)}</a>" for t, _ in self.sections]
        parts.append("</nav>")
        for title, blocks in self.sections:
            parts.append(f"<section id='{_anchor(title)}'><h2>{html.escape(title)}</h2>")
            for block in blocks:
                kind = block[0]
                if kind == "p":
                    parts.append(f"<p>{html.escape(block[1])}</p>")
                elif kind == "table":
                    header, rows = block[1], block[2]
                    parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
                    for row in rows:
                        parts.append("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>")
                    parts.append("</table>")
                elif kind == "img":
                    data = base64.b64encode(Path(block[1]).read_bytes()).decode()
                    parts.append(
                        f"<figure><img alt='{html.escape(block[2])}' src='data:image/png;base64,{data}'>"
                        f"<figcaption>{html.escape(block[2])}</figcaption></figure>"
                    )
                elif kind == "pre":
                    parts.append(f"<pre>{html.escape(block[1])}</pre>")
            parts.append("</section>")
        # Self-check for whoever opens the file (and the headless-browser test): every embedded
        # image decoded, recorded on <body data-images="loaded/total">.
        parts.append(
            "<script>addEventListener('load',()=>{const i=[...document.images];"
            "document.body.dataset.images=i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+i.length;});"
            "</script>"
        )
        parts.append("</body></html>")
        return "\n".join(parts)


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _image(blocks: list, path: Path, caption: str) -> None:
    if path.is_file():
        blocks.append(("img", path, caption))
    else:
        blocks.append(("p", f"{path.name} was not produced by this run."))


def build_report(run_dir: Path, stages, state: dict) -> Report:
    r = run_dir
    metrics = _load(r / "metrics.json") or {}
    onnx_info = _load(r / "model.onnx.json") or {}
    int8_info = _load(r / "model.int8.onnx.json") or {}
    verify_float = _load(r / "verify.float.json")
    verify_int8 = _load(r / "verify.int8.json")
    bench = _load(r / "bench.json")
    report = Report(r)

    summary = report.section("Summary")
    test = metrics.get("test", {})
    accuracy = int8_info.get("accuracy") or {}
    rows = [
        ["Keras test accuracy", _pct(test.get("accuracy")), f"{test.get('count', 'n/a')} test images"],
        [
            "onnxruntime float accuracy",
            _pct(accuracy.get("float")),
            f"{accuracy.get('test_images', 'n/a')} test images",
        ],
        [
            "onnxruntime int8 accuracy",
            _pct(accuracy.get("int8")),
            f"{accuracy.get('difference_pp', 'n/a')} pp vs float, {accuracy.get('test_images', 'n/a')} test images",
        ],
    ]
    for precision, verify in (("float", verify_float), ("int8", verify_int8)):
        if not verify:
            continue
        images = f"{verify['samples']} test images, edgecnn verify"
        rows.append(
            [
                f"native {precision} accuracy (onnxruntime on the same images)",
                f"{_pct(verify['native_accuracy'])} ({_pct(verify['onnxruntime_accuracy'])})",
                images,
            ]
        )
        rows.append([f"native {precision} vs onnxruntime: top-1 agreement", _pct(verify["top1_agreement"]), images])
        rows.append(
            [
                f"native {precision} vs onnxruntime: largest |probability difference|",
                verify["max_abs_diff"],
                f"tolerance {verify['tolerance']}",
            ]
        )
        logits = verify.get("extra", {}).get("int8_logits")
        if logits:
            rows.append(
                [
                    "int8 logits bit-identical to onnxruntime",
                    _pct(logits["identical_fraction"]),
                    f"{logits['identical']:,} of {logits['values']:,} values, "
                    f"largest difference {logits['max_step_diff']} steps",
                ]
            )
    if bench:
        from edgecnn.bench.tables import summary_rows

        rows += summary_rows(bench)
    summary.append(("table", ["figure", "value", "note"], rows))
    summary.append(
        ("p", f"Training took {metrics.get('wall_seconds', 'n/a')} s for {metrics.get('epochs', 'n/a')} epochs.")
    )

    settings = report.section("Settings")
    settings.append(("table", ["setting", "value"], _flatten(metrics.get("settings", {}))))

    training = report.section("Training")
    _image(training, r / "history.png", "loss and accuracy, training and validation")
    _image(training, r / "augment.png", "augmented training samples (the `--augment seed` preset, the strongest)")
    _image(training, r / "confusion.png", "confusion matrix on the test set")
    per_class = test.get("per_class_accuracy") or {}
    if per_class:
        training.append(("table", ["class", "test accuracy"], [[k, _pct(v)] for k, v in per_class.items()]))

    _ablation_section(report, r / "ablation")

    export = report.section("Export and quantization")
    export.append(("table", ["float ONNX", "value"], _flatten({k: v for k, v in onnx_info.items() if k != "versions"})))
    export.append(("table", ["int8 ONNX", "value"], _flatten({k: v for k, v in int8_info.items() if k != "versions"})))

    verification = report.section("Verification")
    for name, data in (("float: native vs onnxruntime", verify_float), ("int8: native vs onnxruntime", verify_int8)):
        if data is None:
            verification.append(("p", f"{name}: not run."))
        else:
            verification.append(("table", [name, "value"], _flatten(data)))

    bench_section = report.section("Benchmark")
    memory = report.section("Memory and flash")
    if bench:
        from edgecnn.bench import tables

        machine = bench["machine"]
        bench_section.append(
            (
                "p",
                f"CPU: {machine['cpu']}; {bench['threads']} thread per engine; engines interleaved "
                f"round by round; medians. Load average {tables.format_load(machine['load_start'])} at "
                f"start, {tables.format_load(machine['load_end'])} at end.",
            )
        )
        bench_section.append(("table", *tables.main_rows(bench)))
        _image(bench_section, r / "bench.png", "native time ÷ the faster of onnxruntime and LiteRT, per batch")
        bench_section.append(("table", *tables.measurement_rows(bench)))
        memory.append(("table", *tables.memory_rows(bench)))
        memory.append(("pre", tables.format_table(bench)))
    else:
        bench_section.append(("p", "The benchmark was not run."))
    sizes = _load(Path(__file__).resolve().parent.parent / "native" / "build" / "size.json")
    if sizes:
        memory.append(("table", ["target", "library text bytes"], [[k, v] for k, v in sizes.items()]))

    reproduce = report.section("Reproduce")
    reproduce.append(("p", "Each number above comes from one of these commands, run in this order:"))
    reproduce.append(("pre", "\n".join(stage.command for stage in stages)))
    timings = [[name, record.get("seconds", 0.0)] for name, record in state.get("stages", {}).items()]
    reproduce.append(("table", ["stage", "seconds (last run)"], timings))
    return report


def _ablation_section(report: Report, folder: Path) -> None:
    """`edgecnn ablate`'s table and plot, when RUN_DIR/ablation/ablation.json exists."""
    ablation = _load(folder / "ablation.json")
    if not ablation:
        return
    section = report.section("Augmentation ablation")
    cells = {(c["preset"], c["size"]): c for c in ablation.get("cells", [])}
    presets, sizes = ablation.get("presets", []), ablation.get("sizes", [])
    rows = []
    for size in sizes:
        epochs = next((c["epochs"] for (_, s), c in cells.items() if s == size), "")
        rows.append(
            [
                f"{size:,}",
                epochs,
                *[_pct(cells[(p, size)]["test_accuracy"]) if (p, size) in cells else "not run" for p in presets],
            ]
        )
    host = ablation.get("host", {})
    section.append(
        (
            "p",
            f"Test accuracy per augmentation preset and training-set size (`edgecnn ablate`, seed "
            f"{ablation.get('seed')}, CPU {host.get('processor', 'n/a')}); docs/training.md reads it.",
        )
    )
    section.append(("table", ["training images", "epochs", *presets], rows))
    _image(section, folder / "ablation.png", "test accuracy against training-set size, per preset")


def write_report(run_dir: Path, stages, state: dict) -> list[Path]:
    report = build_report(run_dir, stages, state)
    written = []
    for name, text in (("report.html", report.to_html()), ("report.md", report.to_markdown())):
        written.append(write_text(run_dir / name, text))
    return written

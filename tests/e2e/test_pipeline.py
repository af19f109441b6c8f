"""`edgecnn pipeline --quick` end to end on real data, its resumability, and its report in a browser.

One quick run (a couple of minutes on 2 cores) is shared by the tests in this module.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

EDGECNN = [sys.executable, "-m", "edgecnn.cli"]
STAGES = (
    "augment preview",
    "train",
    "export",
    "quantize",
    "compile float",
    "compile int8",
    "verify float",
    "verify int8",
    "bench",
)
REPORT_SECTIONS = (
    "summary",
    "settings",
    "training",
    "export-and-quantization",
    "verification",
    "benchmark",
    "memory-and-flash",
    "reproduce",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("pipeline") / "run"
    result = subprocess.run(
        [*EDGECNN, "pipeline", "--quick", "--out", str(out), "--data", str(data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"pipeline failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out, result.stdout


def test_quick_run_writes_every_artifact(quick_run):
    out, stdout = quick_run
    for name in (
        "model.keras",
        "metrics.json",
        "augment.png",
        "history.png",
        "confusion.png",
        "model.onnx",
        "model.int8.onnx",
        "model.ecnn",
        "model.int8.ecnn",
        "verify.float.json",
        "verify.int8.json",
        "bench.json",
        "bench.png",
        "report.html",
        "report.md",
        "pipeline.json",
    ):
        assert (out / name).is_file(), f"{name} missing from {out}"
    for stage in STAGES:
        assert re.search(rf"\] {re.escape(stage)}: done in [0-9.]+ s", stdout), f"no timing line for {stage}"
    verify_int8 = json.loads((out / "verify.int8.json").read_text())
    assert verify_int8["passed"] and verify_int8["extra"]["int8_logits"]["identical_fraction"] == 1.0
    assert json.loads((out / "verify.float.json").read_text())["max_abs_diff"] <= 1e-5


def test_rerun_skips_unchanged_stages(quick_run, data_dir):
    out, _ = quick_run
    result = subprocess.run(
        [*EDGECNN, "pipeline", "--quick", "--out", str(out), "--data", str(data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in STAGES:
        assert f"] {stage}: inputs unchanged, skipped" in result.stdout, f"{stage} ran again:\n{result.stdout}"


def test_report_markdown_has_the_figures(quick_run):
    out, _ = quick_run
    text = (out / "report.md").read_text()
    for heading in ("## Summary", "## Verification", "## Benchmark", "## Reproduce"):
        assert heading in text
    assert "int8 logits bit-identical to onnxruntime | 100.00%" in text
    assert "edgecnn quantize" in text and "edgecnn bench" in text  # the commands to reproduce


def test_report_renders_in_headless_chromium(quick_run, tmp_path):
    out, _ = quick_run
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the report test needs headless Chromium: apt-get install chromium (make test does it as root)"
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    url = (out / "report.html").resolve().as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in REPORT_SECTIONS:
        assert f'id="{section}"' in dom.stdout, f"section {section} missing from the rendered report"
    loaded = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert loaded, "the report's load handler did not run"
    assert loaded.group(1) == loaded.group(2) and int(loaded.group(2)) >= 4, f"images decoded: {loaded.group(0)}"
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,2400", url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and shot.stat().st_size > 50_000, result.stderr[-2000:]
    keep = os.environ.get("EDGECNN_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

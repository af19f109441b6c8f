"""`edgecnn bench` end to end (few runs, small batches, no timing assertions) on the session's
reference float and int8 models (tests/conftest.py, shared with the other tests): the table,
--layers, --json and --plot outputs, and the memory probes."""
import json

import pytest

from needs import need




need("onnx")
need("onnxruntime")

from edgecnn.cli import main  # noqa: E402
from edgecnn.runtime import Model  # noqa: E402


def test_bench_end_to_end_with_layers_json_and_plot(reference_onnx_path, reference_int8_onnx_path, tmp_path, capsys):
    # Copies: the bench writes the compiled .ecnn beside each ONNX file.
    float_path, int8_path = tmp_path / "m.onnx", tmp_path / "m.int8.onnx"
    float_path.write_bytes(reference_onnx_path.read_bytes())
    int8_path.write_bytes(reference_int8_onnx_path.read_bytes())
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    status = main(["bench", str(float_path), "--int8", str(int8_path), "--batch", "1,3", "--runs", "3",
                   "--warmup", "1", "--no-litert", "--layers", "--json", str(out_json), "--plot", str(out_png)])
    assert status == 0
    printed = capsys.readouterr().out
    for engine in ("native float", "onnxruntime float", "native int8", "onnxruntime int8"):
        assert engine in printed
    assert "CONV_2D" in printed and "FULLY_CONNECTED" in printed  # the --layers table

    results = json.loads(out_json.read_text())
    engines = {e["name"]: e for e in results["engines"]}
    assert set(engines) == {"native float", "onnxruntime float", "native int8", "onnxruntime int8"}
    assert all(e["peak_rss_kib"] > 0 for e in engines.values())
    assert results["baseline_rss_kib"] > 0
    assert engines["native float"]["weight_bytes"] > engines["native int8"]["weight_bytes"] > 0
    rows = {(m["engine"], m["batch"]): m for m in results["measurements"]}
    assert set(rows) == {(name, batch) for name in engines for batch in (1, 3)}
    for m in rows.values():
        assert m["runs"] == 3 and m["median_ms"] > 0 and m["images_per_s"] > 0
        assert m["latency_vs_onnxruntime"] > 0
        assert (m["floor_ms"] is not None) == (m["batch"] == 1 and m["engine"].startswith("native"))
        assert (m["floor_cold_ms"] is not None) == (m["floor_ms"] is not None)
        assert (m["alone_ms"] is not None) == (m["batch"] == 1)
    assert results["native_isa"] in Model.isa_levels()

    layers = results["layers"]
    assert {(r["engine"], r["batch"]) for r in layers} == {(n, b) for n in ("native float", "native int8") for b in (1, 3)}
    for engine in ("native float", "native int8"):
        ops = [r["op"] for r in layers if r["engine"] == engine and r["batch"] == 1]
        assert "CONV_2D" in ops and "FULLY_CONNECTED" in ops
        shares = [r["share"] for r in layers if r["engine"] == engine and r["batch"] == 3]
        assert abs(sum(shares) - 1.0) < 1e-6

    png = out_png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out_png) as image:
        assert image.size[0] > 400 and image.size[1] > 200


def test_bench_refuses_a_missing_model(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "missing.onnx"), "--runs", "1", "--no-memory", "--no-litert"]) == 2
    assert "not found" in capsys.readouterr().err

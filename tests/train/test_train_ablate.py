"""`edgecnn ablate` end to end on a tiny grid (real training, 2 presets x 2 sizes, 1 epoch), its
outputs, resuming, and the ablation section of the pipeline's report."""

import json

import pytest

from edgecnn.cli import main
from edgecnn.runtime.errors import require

require("tensorflow")
from edgecnn.train import ablate  # noqa: E402

SIZES = "200,400"


def _ablate(out, data_dir, *extra):
    return main(
        [
            "ablate",
            "--out",
            str(out),
            "--data",
            str(data_dir),
            "--presets",
            "none,light",
            "--sizes",
            SIZES,
            "--epochs",
            "200:1,400:1",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def tiny_ablation(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("ablation")
    assert _ablate(out, data_dir) == 0
    return out


def test_writes_json_markdown_and_plot(tiny_ablation):
    result = json.loads((tiny_ablation / "ablation.json").read_text())
    assert result["presets"] == ["none", "light"] and result["sizes"] == [200, 400]
    cells = {(c["preset"], c["size"]): c for c in result["cells"]}
    assert set(cells) == {("none", 200), ("light", 200), ("none", 400), ("light", 400)}
    for (preset, size), cell in cells.items():
        metrics = json.loads((tiny_ablation / "cells" / f"{preset}-{size}" / "metrics.json").read_text())
        assert cell["test_accuracy"] == metrics["test"]["accuracy"] and cell["epochs"] == 1
        assert cell["train_images"] == size * 9 // 10 and cell["validation_accuracy"] is not None
    table = (tiny_ablation / "ablation.md").read_text()
    assert table.splitlines()[0] == "| training images | epochs | none | light |"
    light = 100 * cells[("light", 400)]["test_accuracy"]
    gain = light - 100 * cells[("none", 400)]["test_accuracy"]
    assert "| 400 | 1 | " in table and f"{light:.2f} ({gain:+.2f})" in table
    assert (tiny_ablation / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_reuses_finished_cells(tiny_ablation, data_dir, capsys):
    before = (tiny_ablation / "cells" / "none-200" / "metrics.json").stat().st_mtime_ns
    assert _ablate(tiny_ablation, data_dir) == 0
    assert capsys.readouterr().out.count("done before") == 4
    assert (tiny_ablation / "cells" / "none-200" / "metrics.json").stat().st_mtime_ns == before


def test_report_has_the_ablation_section(tiny_ablation, tmp_path):
    import shutil

    from edgecnn.report import build_report

    run = tmp_path / "run"
    shutil.copytree(tiny_ablation, run / "ablation")
    report = build_report(run, [], {})
    titles = [title for title, _ in report.sections]
    assert "Augmentation ablation" in titles
    html = report.to_html()
    assert "Augmentation ablation" in html and "data:image/png;base64," in html
    assert "Augmentation ablation" not in [t for t, _ in build_report(tmp_path / "empty", [], {}).sections]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--presets", "none,heavy"], "unknown heavy"),
        (["--sizes", "1234"], "epoch count"),
        (["--epochs", "1000:x"], "SIZE:EPOCHS"),
    ],
)
def test_bad_arguments_are_clear_errors(argv, fragment, capsys, tmp_path):
    try:
        status = main(["ablate", "--out", str(tmp_path), *argv])
    except SystemExit as exc:  # argparse
        status = exc.code
    assert status == 2 and fragment in capsys.readouterr().err


def test_markdown_table_marks_missing_cells():
    cells = [{"preset": "none", "size": 10, "epochs": 3, "test_accuracy": 0.5}]
    table = ablate.markdown_table(cells, ["none", "light"], [10])
    assert "| 10 | 3 | 50.00 | not run |" in table

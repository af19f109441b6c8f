"""`edgecnn ablate`: which augmentation pays, at which training-set size.

Trains the reference CNN for every preset x training-set size (one `edgecnn train` process per
cell, so each starts from a clean TensorFlow state and can be read on its own), then writes:

    OUT/ablation.json   every cell: preset, size, epochs, test and validation accuracy, seconds
    OUT/ablation.md     the test-accuracy table (rows: sizes, columns: presets)
    OUT/ablation.png    test accuracy against training-set size, one line per preset
    OUT/cells/<preset>-<size>/   each cell's `edgecnn train` artifacts and train.log

The size is `--limit`: the first N training images, of which the preset's validation split is
held out (so 60,000 with the default preset is exactly what `make run` trains on). Small sizes
get more epochs, so every cell runs a comparable number of optimizer steps and converges.
A cell whose metrics.json already holds the same command is not trained again: an interrupted
ablation continues where it stopped. Several `edgecnn ablate` processes may share one OUT (a cell
being trained holds OUT/cells/<cell>/running.pid); the outputs always gather every finished cell.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import subprocess
import sys
import time

from edgecnn.runtime.errors import EdgecnnError
from edgecnn.runtime.files import write_json, write_text
from edgecnn.runtime.machine import cpu_name

# Sizes and epochs per size (about 350-5,000 optimizer steps at batch 128; the 60,000 cell is
# the default run) are defined with the command's flags, which must not import TensorFlow.
from edgecnn.train.cli import ABLATE_EPOCHS as EPOCHS
from edgecnn.train.cli import ABLATE_SIZES as SIZES  # noqa: F401

# Column order of the table: no augmentation first, then the default, then the strongest.
PRESET_ORDER = ("none", "light", "flip", "erase", "strong", "mild", "seed")


def cell_name(preset: str, size: int) -> str:
    return f"{preset}-{size}"


def cell_command(data_dir, cell_dir, preset: str, size: int, epochs: int, seed: int) -> list[str]:
    return [
        "train",
        "--data",
        str(data_dir),
        "--out",
        str(cell_dir),
        "--augment",
        preset,
        "--limit",
        str(size),
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
    ]


def _cell_result(cell_dir: pathlib.Path, command: list[str]) -> dict | None:
    """The finished cell's figures, or None when it has not run with exactly `command`."""
    try:
        record = json.loads((cell_dir / "cell.json").read_text())
        metrics = json.loads((cell_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    if record.get("command") != command:
        return None
    validation = metrics.get("validation") or {}
    return {
        "test_accuracy": metrics["test"]["accuracy"],
        "validation_accuracy": validation.get("accuracy"),
        "train_images": metrics["data"]["train_count"],
        "validation_images": metrics["data"]["validation_count"],
        "train_seconds": metrics["train_seconds"],
    }


def run_cell(data_dir, out_dir: pathlib.Path, preset: str, size: int, epochs: int, seed: int) -> dict | None:
    """Train one cell (None when another ablate process is training it), or read its finished result."""
    cell_dir = out_dir / "cells" / cell_name(preset, size)
    command = cell_command(data_dir, cell_dir, preset, size, epochs, seed)
    cell = {"preset": preset, "size": size, "epochs": epochs, "command": "edgecnn " + " ".join(command)}
    done = _cell_result(cell_dir, command)
    if done is not None:
        print(f"{cell_name(preset, size)}: done before, test accuracy {done['test_accuracy']:.4f}", flush=True)
        return {**cell, **done}
    cell_dir.mkdir(parents=True, exist_ok=True)
    owner = _running_elsewhere(cell_dir)
    if owner:
        print(f"{cell_name(preset, size)}: being trained by process {owner}; skipped here", flush=True)
        return None
    lock = cell_dir / "running.pid"
    lock.write_text(str(os.getpid()))
    print(f"{cell_name(preset, size)}: {cell['command']}", flush=True)
    t0 = time.perf_counter()
    try:
        with open(cell_dir / "train.log", "w") as log:
            status = subprocess.call(
                [sys.executable, "-m", "edgecnn.cli", *command], stdout=log, stderr=subprocess.STDOUT
            )
    finally:
        lock.unlink(missing_ok=True)
    if status != 0:
        raise EdgecnnError(f"cell {cell_name(preset, size)} failed (exit {status}); see {cell_dir / 'train.log'}")
    write_json(cell_dir / "cell.json", {"command": command})
    result = _cell_result(cell_dir, command)
    print(
        f"{cell_name(preset, size)}: test accuracy {result['test_accuracy']:.4f} ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    return {**cell, **result}


def _running_elsewhere(cell_dir: pathlib.Path) -> int | None:
    """The id of another live `edgecnn ablate` process training this cell, if any."""
    try:
        pid = int((cell_dir / "running.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() else None


def markdown_table(cells: list[dict], presets: list[str], sizes: list[int]) -> str:
    """Test accuracy (%) per size and preset, with each preset's gain over "none" when both ran."""
    index = {(c["preset"], c["size"]): c for c in cells}
    header = "| training images | epochs | " + " | ".join(presets) + " |"
    lines = [header, "|" + "---:|" * (len(presets) + 2)]
    for size in sizes:
        row = [f"{size:,}", str(next((c["epochs"] for c in cells if c["size"] == size), ""))]
        base = index.get(("none", size))
        for preset in presets:
            cell = index.get((preset, size))
            if cell is None:
                row.append("not run")
                continue
            text = f"{100 * cell['test_accuracy']:.2f}"
            if base is not None and preset != "none":
                text += f" ({100 * (cell['test_accuracy'] - base['test_accuracy']):+.2f})"
            row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def plot(cells: list[dict], presets: list[str], path) -> pathlib.Path:
    from edgecnn.train.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for preset in presets:
        points = sorted((c["size"], 100 * c["test_accuracy"]) for c in cells if c["preset"] == preset)
        if points:
            ax.plot(*zip(*points, strict=True), "o-", label=preset)
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (images, before the validation split)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("augmentation presets vs training-set size (Fashion-MNIST)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, path)


def finished_cells(out_dir: pathlib.Path) -> list[dict]:
    """Every finished cell under OUT/cells, whichever `edgecnn ablate` ran it (several may run at
    once on different sizes or presets), sorted by size then preset."""
    cells = []
    for record_path in sorted((out_dir / "cells").glob("*/cell.json")):
        try:
            command = json.loads(record_path.read_text())["command"]
            flags = dict(zip(command[1::2], command[2::2], strict=False))  # "train", then --flag value pairs
            cell = {"preset": flags["--augment"], "size": int(flags["--limit"]), "epochs": int(flags["--epochs"])}
        except (OSError, ValueError, KeyError, TypeError):
            continue
        result = _cell_result(record_path.parent, command)
        if result is not None:
            cells.append({**cell, "command": "edgecnn " + " ".join(command), **result})
    return sorted(cells, key=lambda c: (c["size"], c["preset"]))


def write_outputs(out_dir: pathlib.Path, seed: int) -> None:
    """ablation.json/.md/.png from every finished cell in OUT."""
    cells = finished_cells(out_dir)
    sizes = sorted({c["size"] for c in cells})
    found = {c["preset"] for c in cells}
    presets = [p for p in PRESET_ORDER if p in found] + sorted(found - set(PRESET_ORDER))
    write_json(
        out_dir / "ablation.json",
        {
            "presets": presets,
            "sizes": sizes,
            "seed": seed,
            "cells": cells,
            "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "processor": cpu_name()},
        },
    )
    write_text(out_dir / "ablation.md", markdown_table(cells, presets, sizes))
    if cells:
        plot(cells, presets, out_dir / "ablation.png")


def ablate(data_dir, out_dir, presets: list[str], sizes: list[int], epochs: dict = EPOCHS, seed: int = 0) -> list[dict]:
    """Run every cell (sizes outer, so the cheap ones finish first), rewriting the outputs after each."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cells = []
    for size in sizes:
        for preset in presets:
            cell = run_cell(data_dir, out_dir, preset, size, epochs[size], seed)
            if cell is not None:
                cells.append(cell)
            write_outputs(out_dir, seed)
    cells = finished_cells(out_dir)
    print(markdown_table(cells, [p for p in PRESET_ORDER if any(c["preset"] == p for c in cells)], sizes))
    print(f"ablation written to {out_dir / 'ablation.json'}, ablation.md, ablation.png")
    return cells

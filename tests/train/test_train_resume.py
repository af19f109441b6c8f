"""No lost work: a real `edgecnn train` subprocess is killed (SIGKILL) right after its first
epoch checkpoint, then `edgecnn train --resume DIR` finishes the run: every artifact exists,
the history holds every epoch exactly once, no half-written file is left under a final name."""

import json
import subprocess
import sys
import time
import zipfile

import pytest

EPOCHS = 4
FINAL = ("model.keras", "metrics.json", "history.png", "confusion.png")


def _train_cmd(*args):
    return [sys.executable, "-m", "edgecnn.cli", "train", *args]


def test_killed_training_resumes_from_its_checkpoint(tmp_path, data_dir):
    out = tmp_path / "run"
    small = [
        "--data",
        str(data_dir),
        "--limit",
        "1200",
        "--epochs",
        str(EPOCHS),
        "--batch-size",
        "100",
        "--filters",
        "4",
        "--dense-units",
        "16",
        "8",
        "--augment",
        "none",
    ]
    proc = subprocess.Popen(
        _train_cmd("--out", str(out), *small), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    state_file = out / "checkpoint" / "state.json"
    try:
        while not state_file.exists():  # the first epoch checkpoint (written atomically)
            if proc.poll() is not None:
                pytest.fail(
                    f"training exited ({proc.returncode}) before its first checkpoint:\n{proc.stderr.read()[-3000:]}"
                )
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup code runs
    finally:
        proc.kill()
        proc.wait()
    done = json.loads(state_file.read_text())["epoch"]
    assert 1 <= done <= EPOCHS
    assert not any((out / name).exists() for name in FINAL), "killed before the end, yet final artifacts exist"

    result = subprocess.run(_train_cmd("--resume", str(out), "--data", str(data_dir)), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"after epoch {done} of {EPOCHS}" in result.stdout

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == EPOCHS and metrics["resumed_after_epoch"] == done
    assert len(metrics["history"]["loss"]) == EPOCHS and len(metrics["history"]["val_loss"]) == EPOCHS
    assert len(metrics["epoch_seconds"]) == EPOCHS
    assert (
        metrics["settings"]["dense_units"] == [16, 8] and metrics["settings"]["limit"] == 1200
    )  # the run's own settings
    assert all((out / name).is_file() for name in FINAL)
    assert zipfile.is_zipfile(out / "model.keras")
    assert not (out / "checkpoint").exists(), "the checkpoint is removed once the run is complete"
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name], "temporary files left behind"


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path, data_dir):
    result = subprocess.run(
        _train_cmd("--resume", str(tmp_path), "--data", str(data_dir)), capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "no checkpoint" in result.stderr and "edgecnn train --out DIR" in result.stderr

"""Training in logs and CI: one line per epoch when stdout is not a terminal; model.keras holds
the model only (no optimizer state), the resumable checkpoint holds the optimizer too."""

import io
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from edgecnn.runtime.errors import require

require("tensorflow")
h5py = require("h5py")
keras = require("keras")
from edgecnn.train import checkpoint, trainer  # noqa: E402

EPOCHS = 3


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    assert trainer.progress_verbosity(_Terminal()) == 1
    assert trainer.progress_verbosity(io.StringIO()) == 2


@pytest.fixture(scope="module")
def redirected_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("manners")
    log = out / "train.log"
    cmd = [sys.executable, "-m", "edgecnn.cli", "train", "--out", str(out / "run"), "--data", str(data_dir)]
    cmd += ["--limit", "1000", "--epochs", str(EPOCHS), "--batch-size", "50", "--dense-units", "32", "16"]
    with open(log, "w") as f:
        status = subprocess.call(cmd, stdout=f, stderr=subprocess.DEVNULL, timeout=600)
    assert status == 0, log.read_text()[-3000:]
    return out / "run", log.read_text()


def test_redirected_log_has_one_line_per_epoch_and_no_bar_redraws(redirected_run):
    _, text = redirected_run
    assert "\r" not in text and "\b" not in text, "progress-bar redraws in a redirected log"
    epoch_lines = [line for line in text.splitlines() if re.match(r"^\d+/\d+ - .*loss", line)]
    assert len(epoch_lines) == EPOCHS, text[-2000:]
    assert all(line.startswith("18/18 - ") for line in epoch_lines), epoch_lines  # 900 images / 50


def _h5_groups(keras_zip) -> set:
    with zipfile.ZipFile(keras_zip) as z, z.open("model.weights.h5") as raw, h5py.File(io.BytesIO(raw.read())) as h5:
        return set(h5.keys())


def test_model_keras_has_no_optimizer_state(redirected_run):
    run, _ = redirected_run
    assert "optimizer" not in _h5_groups(run / "model.keras")
    assert getattr(keras.models.load_model(run / "model.keras"), "optimizer", None) is None  # uncompiled


def test_checkpoint_keeps_the_optimizer_state(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.ones((8, 4), np.float32), np.zeros(8, np.int32), epochs=1, verbose=0)
    state = checkpoint.save(tmp_path, model, 1, {"loss": [1.0]}, [0.1], trainer.TrainSettings())
    saved = tmp_path / "checkpoint" / "epoch-1.keras"
    assert state.is_file() and "optimizer" in _h5_groups(saved)
    assert int(keras.models.load_model(saved).optimizer.iterations) == 1

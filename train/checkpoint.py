"""Epoch checkpoints: an interrupted `edgecnn train` loses at most the epoch it was in.

After every epoch the trainer's callback writes, into OUT/checkpoint/:

    epoch-K.keras   the model after K epochs, with its optimizer state (the step counter
                    that drives the learning-rate schedule included)
    state.json      {"epoch": K, "model": "epoch-K.keras", "history": ..., "epoch_seconds":
                    ..., "settings": ...}: what has been done, and with which settings

each through edgecnn.runtime.files (temporary name, then rename), model first and
state.json last, so state.json always names a complete model. `edgecnn train --resume OUT`
reloads both and trains the remaining epochs (`train(..., resume=True)`). When the run
finishes, its final artifacts are written and the checkpoint folder is removed.

On resume the weights, optimizer state and schedule continue exactly; the shuffling and
augmentation of the remaining epochs restart from the seed, so the result is not bit
identical to an uninterrupted run (it is as good a run).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil

from edgecnn.runtime.errors import EdgecnnError
from edgecnn.runtime.files import staged_file, write_json

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"


def checkpoint_dir(out_dir) -> pathlib.Path:
    return pathlib.Path(out_dir) / CHECKPOINT_DIR


def settings_to_dict(settings) -> dict:
    return dataclasses.asdict(settings)


def settings_from_dict(values: dict, settings_cls, augment_cls):
    """Rebuild TrainSettings (tuples and the nested AugmentConfig) from state.json."""
    values = dict(values)
    values["augmentation"] = augment_cls(**values["augmentation"])
    for name in ("dense_units", "dropout"):
        values[name] = tuple(values[name])
    return settings_cls(**values)


def save(out_dir, model, epoch: int, history: dict, epoch_seconds: list, settings) -> pathlib.Path:
    """Write the epoch-`epoch` checkpoint (model, then state.json) and drop the older model."""
    folder = checkpoint_dir(out_dir)
    name = f"epoch-{epoch}.keras"
    with staged_file(folder / name) as tmp:
        model.save(tmp)
    write_json(
        folder / STATE_FILE,
        {
            "epoch": epoch,
            "model": name,
            "history": history,
            "epoch_seconds": epoch_seconds,
            "settings": settings_to_dict(settings),
        },
    )
    for old in folder.glob("epoch-*.keras"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder / STATE_FILE


def load(out_dir) -> dict:
    """state.json of OUT/checkpoint, with "model_path"; EdgecnnError saying what is wrong."""
    out_dir = pathlib.Path(out_dir)
    path = checkpoint_dir(out_dir) / STATE_FILE
    if not path.is_file():
        finished = (out_dir / "metrics.json").is_file()
        raise EdgecnnError(
            f"--resume {out_dir}: no checkpoint ({path} is missing); "
            + (
                "the run there has already finished (metrics.json exists)"
                if finished
                else "start the run with `edgecnn train --out DIR` (it checkpoints every epoch)"
            )
        )
    try:
        state = json.loads(path.read_text())
        state["model_path"] = checkpoint_dir(out_dir) / state["model"]
        int(state["epoch"]), state["settings"], state["history"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EdgecnnError(f"{path} is damaged ({type(exc).__name__}: {exc}); start the run again") from None
    if not state["model_path"].is_file():
        raise EdgecnnError(f"{path} names {state['model_path']}, which is missing; start the run again")
    return state


def remove(out_dir) -> None:
    """The run finished: its final artifacts replace the checkpoint."""
    shutil.rmtree(checkpoint_dir(out_dir), ignore_errors=True)

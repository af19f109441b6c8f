"""Training figures (matplotlib, Agg backend), written atomically (edgecnn.runtime.files)."""

import pathlib

import numpy as np

from edgecnn.runtime.errors import require
from edgecnn.runtime.files import staged_file


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    matplotlib = require("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path) -> pathlib.Path:
    plt = pyplot()
    with staged_file(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return pathlib.Path(path)


def plot_history(history: dict, path) -> pathlib.Path:
    """Loss and accuracy per epoch, training and (if present) validation."""
    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key, title in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        ax.plot(epochs, history[key], "o-", label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)


def plot_confusion(matrix: np.ndarray, class_names, path, title: str = "") -> pathlib.Path:
    """Confusion matrix (rows: true class, columns: predicted), counts in each cell."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 7))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="white" if count > threshold else "black")
    ax.set_title(title or "confusion matrix (test set)")
    return save_figure(fig, path)

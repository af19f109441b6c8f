"""`edgecnn train` end to end on a few hundred real images, and its error handling."""

import json

import numpy as np
import pytest

from edgecnn.cli import main
from edgecnn.runtime import data
from edgecnn.runtime.errors import require

LIMIT = 300  # training images in the tiny runs: enough to learn something in one epoch


def run_cli(capsys, *argv):
    status = main(["train", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def data_dir():
    # Raises DatasetNotFoundError ("apt-get install dataset-fashion-mnist ...") when missing: a failure, not a skip.
    return data.resolve_data_dir(None)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, data_dir):
    """One epoch on LIMIT real images, no augmentation, small dense layers: every artifact, a few seconds."""
    out = tmp_path_factory.mktemp("run")
    status = main(
        [
            "train",
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--limit",
            str(LIMIT),
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--augment",
            "mild",
            "--dense-units",
            "64",
            "32",
            "--seed",
            "5",
        ]
    )
    return status, out


def test_tiny_run_writes_every_artifact(tiny_run):
    status, out = tiny_run
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.keras", "metrics.json", "history.png", "confusion.png"]
    ), "missing artifact or temp file left"
    for png in ("history.png", "confusion.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tiny_run_metrics_are_sane(tiny_run):
    _, out = tiny_run
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert test["count"] == 10000 and metrics["epochs"] == 1
    assert 0.3 < test["accuracy"] <= 1.0, "one epoch on 300 images should beat chance (0.1) clearly"
    confusion = np.array(test["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.trace(confusion) / 10000 == pytest.approx(test["accuracy"])
    assert list(test["per_class_accuracy"]) == list(data.FASHION_MNIST_CLASSES)
    assert (metrics["data"]["train_count"], metrics["data"]["validation_count"]) == (270, 30)
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 1 for v in metrics["history"].values())
    settings = metrics["settings"]
    assert settings["augment_preset"] == "mild" and settings["augmentation"]["horizontal_flip"] is True
    assert settings["optimizer"] == "adam" and settings["learning_rate"] == 1e-3 and settings["limit"] == LIMIT
    assert settings["dense_units"] == [64, 32] and settings["seed"] == 5
    assert metrics["wall_seconds"] >= metrics["train_seconds"] >= sum(metrics["epoch_seconds"]) > 0
    assert "tensorflow" in metrics["versions"] or "tensorflow-cpu" in metrics["versions"]


def test_saved_model_reproduces_the_reported_accuracy(tiny_run, data_dir):
    keras = require("keras")
    _, out = tiny_run
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model.layers[1], keras.layers.Normalization), "mild normalises inside the model"
    images, labels = data.load_split(data_dir, "test")
    accuracy = float(np.mean(model.predict(data.to_model_input(images), verbose=0).argmax(1) == labels))
    assert accuracy == json.loads((out / "metrics.json").read_text())["test"]["accuracy"]


def test_same_seed_same_result(tmp_path, data_dir, capsys):
    results = []
    for name in ("a", "b"):
        status, out, _ = run_cli(
            capsys,
            "--data",
            data_dir,
            "--out",
            tmp_path / name,
            "--limit",
            200,
            "--epochs",
            1,
            "--batch-size",
            50,
            "--augment",
            "seed",
            "--dense-units",
            16,
            16,
            "--seed",
            11,
        )
        assert status == 0
        assert str(tmp_path / name) in out, "the command must say where the artifacts are"
        results.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert results[0]["history"] == results[1]["history"]
    assert results[0]["test"] == results[1]["test"]


def test_preview_only_writes_the_png(tmp_path, data_dir, capsys):
    status, out, _ = run_cli(capsys, "--data", data_dir, "--augment", "seed", "--preview-augment", tmp_path / "p.png")
    assert status == 0 and "p.png" in out
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    status, _, err = run_cli(capsys, "--data", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert status == 2
    assert err.startswith("edgecnn train: error: no dataset folder at")
    assert "apt-get install dataset-fashion-mnist" in err and "Traceback" not in err


def test_folder_without_idx_files_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli(capsys, "--data", tmp_path / "empty", "--out", tmp_path / "o")
    assert status == 2 and "train-images-idx3-ubyte" in err and "apt-get install" in err


def test_out_is_required_for_training(data_dir, capsys):
    status, _, err = run_cli(capsys, "--data", data_dir)
    assert status == 2 and "--out DIR is required" in err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--epochs", "0"], "--epochs: must be a positive integer"),
        (["--epochs", "two"], "--epochs: not an integer"),
        (["--optimizer", "rmsprop"], "--optimizer: invalid choice"),
        (["--lr", "-1"], "--lr: must be positive"),
        (["--validation-split", "1.5"], "--validation-split: must be a fraction in [0, 1)"),
        (["--shear", "120"], "--shear: must be degrees in [0, 90]"),
        (["--augment", "heavy"], "--augment: invalid choice"),
        (["--activation", "tanh"], "--activation: invalid choice"),
        (["--dense-units", "512"], "--dense-units: expected 2 arguments"),
    ],
)
def test_bad_flags_are_argparse_errors(argv, fragment, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--out", "unused", *argv])
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err

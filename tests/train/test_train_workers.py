"""`edgecnn train --workers 2`: two local worker processes (MultiWorkerMirroredStrategy over
127.0.0.1) train one model; the loss falls, only the chief writes artifacts, and the chief's
model.keras exports to ONNX and compiles to .ecnn, both matching onnxruntime."""

import json
import subprocess
import sys

import numpy as np
import pytest

from edgecnn.runtime.errors import EdgecnnError, require

require("tensorflow")
from edgecnn.train import distributed  # noqa: E402

LIMIT = 1600  # 1,440 training images: 5 global batches of 256 per epoch (2 workers x 128)


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("workers") / "run"
    cmd = [sys.executable, "-m", "edgecnn.cli", "train", "--workers", "2", "--out", str(out), "--data", str(data_dir)]
    cmd += ["--limit", str(LIMIT), "--epochs", "2", "--filters", "8", "--dense-units", "64", "32", "--augment", "light"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"two-worker training failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out, proc.stdout


def test_chief_prints_the_global_batch_and_learning_rate_scale(two_worker_run):
    _, stdout = two_worker_run
    assert "global batch 256 = 128 per worker x 2" in stdout
    assert "learning rate 0.001 x 2 = 0.002" in stdout


def test_loss_falls_and_only_the_chief_writes_artifacts(two_worker_run):
    out, _ = two_worker_run
    metrics = json.loads((out / "metrics.json").read_text())
    loss = metrics["history"]["loss"]
    assert len(loss) == 2 and loss[1] < loss[0] < 2.4, loss  # 2.30 = ln 10, an untrained 10-class model
    # 10 optimizer steps in all: well above the 10% of chance, far from converged.
    assert metrics["workers"] == 2 and metrics["test"]["accuracy"] > 0.3
    # The chief's artifacts, worker 1's log; no second model, no leftover backup.
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["model.keras", "metrics.json", "history.png", "confusion.png", "worker-1.log"]), names
    assert "training finished; the chief writes the artifacts" in (out / "worker-1.log").read_text()


def test_chief_model_exports_and_matches_onnxruntime(two_worker_run, tmp_path, data_dir):
    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.export.compiler import compile_onnx
    from edgecnn.export.onnx_export import keras_to_onnx, load_keras_model, max_abs_difference
    from edgecnn.runtime import data
    from edgecnn.runtime.model import Model

    out, _ = two_worker_run
    model = load_keras_model(out / "model.keras")
    images = data.to_model_input(data.load_split(data_dir, "test", limit=200)[0])
    onnx_path = keras_to_onnx(model, tmp_path / "model.onnx")
    assert max_abs_difference(model, onnx_path, images) < 1e-5
    compile_onnx(onnx_path, tmp_path / "model.ecnn")
    expected = run_onnx(ort_session(onnx_path), images)
    np.testing.assert_allclose(Model.load(tmp_path / "model.ecnn").predict(images), expected, atol=1e-5, rtol=0)


def test_tf_config_parsing():
    config = {"cluster": {"worker": ["a:1", "b:2", "c:3"]}, "task": {"type": "worker", "index": 2}}
    cluster = distributed.cluster_from_env({"TF_CONFIG": json.dumps(config)})
    assert (cluster.workers, cluster.task_name, cluster.is_chief) == (3, "worker-2", False)
    config = {"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "worker", "index": 0}}
    cluster = distributed.cluster_from_env({"TF_CONFIG": json.dumps(config)})
    assert (cluster.workers, cluster.is_chief) == (2, False)
    assert distributed.cluster_from_env({}) is None


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("{not json", "TF_CONFIG is not valid"),
        ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG is not valid"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "task index 3"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "task type 'ps'"),
    ],
)
def test_bad_tf_config_is_a_clear_error(text, fragment):
    with pytest.raises(EdgecnnError, match=fragment):
        distributed.cluster_from_env({"TF_CONFIG": text})


def test_local_configs_form_one_cluster_on_distinct_ports():
    configs = [json.loads(c) for c in distributed.local_tf_configs(3)]
    hosts = configs[0]["cluster"]["worker"]
    assert len(set(hosts)) == 3 and all(h.startswith("127.0.0.1:") for h in hosts)
    assert [c["task"]["index"] for c in configs] == [0, 1, 2]
    assert all(c["cluster"]["worker"] == hosts for c in configs)

"""Data-parallel training on several processes or machines: tf.distribute.MultiWorkerMirroredStrategy.

A cluster is described by the TF_CONFIG environment variable, the convention every TensorFlow
launcher follows (Kubernetes' TFJob, Slurm wrappers, ...):

    {"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", "index": 0}}

Worker 0 is the chief (or the "chief" task when the cluster names one): it alone writes the
artifacts; the other workers write theirs into a temporary folder that is removed. Every worker
keeps its own BackupAndRestore folder, OUT/backup/<type>-<index>, so a restarted worker resumes
from the last finished epoch.

Without TF_CONFIG, `edgecnn train --workers N` (N > 1) starts N local worker processes on
127.0.0.1 (launch_local), for trying it on one machine.

--batch-size is per worker: the global batch is batch_size * workers, and the learning rate is
scaled by the same factor (the linear scaling rule of Goyal et al. 2017, "Accurate, Large
Minibatch SGD"), so one epoch takes workers-times fewer steps at a comparable step size.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import socket
import subprocess
import sys

from edgecnn.runtime.errors import EdgecnnError

TF_CONFIG = "TF_CONFIG"


@dataclasses.dataclass(frozen=True)
class Cluster:
    workers: int  # tasks that train (chief included)
    task_type: str
    task_index: int
    has_chief: bool = False  # the cluster names a "chief" task (else worker 0 is the chief)

    @property
    def is_chief(self) -> bool:
        return self.task_type == "chief" or (self.task_type == "worker" and self.task_index == 0 and not self.has_chief)

    @property
    def task_name(self) -> str:
        return f"{self.task_type}-{self.task_index}"


def cluster_from_env(environ=os.environ) -> Cluster | None:
    """The cluster TF_CONFIG describes, or None when it is unset; EdgecnnError naming the bad field."""
    text = environ.get(TF_CONFIG)
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, task_index = str(task["type"]), int(task["index"])
        chiefs, workers = list(cluster.get("chief", [])), list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError) as exc:
        raise EdgecnnError(
            f"{TF_CONFIG} is not valid: {type(exc).__name__}: {exc} (expected "
            '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}})'
        ) from None
    if task_type not in ("chief", "worker"):
        raise EdgecnnError(f"{TF_CONFIG} task type {task_type!r}: edgecnn train runs 'chief' or 'worker' tasks")
    members = chiefs if task_type == "chief" else workers
    if not 0 <= task_index < len(members):
        raise EdgecnnError(f"{TF_CONFIG} task index {task_index} but the cluster lists {len(members)} {task_type}(s)")
    return Cluster(
        workers=len(chiefs) + len(workers), task_type=task_type, task_index=task_index, has_chief=bool(chiefs)
    )


def make_strategy():
    """MultiWorkerMirroredStrategy over TF_CONFIG's cluster. Must run before any other TensorFlow op."""
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
    )


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 now (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_tf_configs(workers: int) -> list[str]:
    """One TF_CONFIG per local worker process, the cluster on 127.0.0.1 free ports."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    return [json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}}) for i in range(workers)]


def launch_local(train_argv: list[str], workers: int, out_dir) -> int:
    """Run `edgecnn <train_argv>` as `workers` local processes forming one cluster; the chief's
    output goes to this terminal, worker i's to OUT/worker-i.log. Returns the first failing
    worker's exit status (0 when all succeed)."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    configs = local_tf_configs(workers)
    print(f"launching {workers} local workers: {json.loads(configs[0])['cluster']['worker']}", flush=True)
    procs, logs = [], []
    try:
        for index, config in enumerate(configs):
            env = {**os.environ, TF_CONFIG: config}
            if index == 0:
                stdout = None
            else:
                log = open(out_dir / f"worker-{index}.log", "w")  # noqa: SIM115 - closed below
                logs.append(log)
                stdout = log
            cmd = [sys.executable, "-m", "edgecnn.cli", *train_argv]
            procs.append(subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.STDOUT if stdout else None))
        statuses = [proc.wait() for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    failed = [(i, s) for i, s in enumerate(statuses) if s != 0]
    if failed:
        index, status = failed[0]
        where = "above" if index == 0 else str(out_dir / f"worker-{index}.log")
        print(f"worker {index} failed with exit status {status} (its output: {where})", file=sys.stderr)
        return status
    return 0


def prepare_model_for_fit(model, strategy, sample_batch) -> None:
    """Work around two Keras 3 faults with MultiWorkerMirroredStrategy (keras-team/keras#20585):

    - fit() builds the metrics from the first distributed batch, reduced across workers with a
      collective op that rejects the integer labels: the model is built here from one local
      batch instead, and fit's build step (already done) is skipped for this model;
    - fit() reduces each step's scalar logs with axis=0, which a scalar has not: scalar logs are
      averaged across workers with axis=None (the same mean, without the bad axis).
    Both are private Keras functions; this runs only for cluster runs, after the strategy exists.
    """
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    if not getattr(keras_tf_trainer.reduce_per_replica, "edgecnn_scalar_mean", False):
        keep = keras_tf_trainer.reduce_per_replica

        def reduce_per_replica(values, strategy, reduction):
            if reduction in ("auto", "mean") and keras_tf_trainer._collective_all_reduce_multi_worker(strategy):
                import tensorflow as tf

                def mean(value):
                    if keras_tf_trainer._is_per_replica_instance(value):
                        return strategy.reduce("MEAN", value, axis=None)
                    return value

                return tf.nest.map_structure(mean, values)
            return keep(values, strategy, reduction)

        reduce_per_replica.edgecnn_scalar_mean = True
        keras_tf_trainer.reduce_per_replica = reduce_per_replica

    images, labels = sample_batch
    with strategy.scope():
        model._symbolic_build(data_batch=(images, labels, None))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None

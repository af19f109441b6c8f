"""Multi-threaded inference (Model.load(threads=N)): the outputs are bit-identical for 1, 2, 3 and
7 threads, float and int8, fast and reference kernels, on the reference model and every tiny zoo
model, at batches where the layers split; one model hammered by 8 Python threads gives every
caller the single-threaded result; the threads argument, its errors, the CLI flag, and a fork()
child. No timing here (edgecnn bench measures speed).
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edgecnn.runtime.errors import ThreadsError
from edgecnn.runtime.model import Model, default_threads

THREAD_COUNTS = (2, 3, 7)
BATCHES = (1, 7, 64)


def _inputs(model: Model, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (n, *model.input_shape)
    if model.input_dtype == np.float32:
        return rng.random(shape, dtype=np.float32)
    info = np.iinfo(model.input_dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(model.input_dtype)


def _assert_same_bits(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype, what
    same = got.view(np.uint8) == want.view(np.uint8)
    if not same.all():
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        pytest.fail(f"{what}: {int((~same).sum())} bytes differ, largest difference {diff.max():.3g}")


def _check_thread_counts(blob: bytes, name: str, batches=BATCHES, reference: bool = False) -> None:
    """Every thread count gives the single-threaded bytes, at each batch."""
    single = Model.from_bytes(blob, threads=1)
    assert single.threads == 1
    models = {t: Model.from_bytes(blob, threads=t) for t in THREAD_COUNTS}
    for n in batches:
        x = _inputs(single, n, seed=n)
        want = single.predict(x, reference=reference)
        for t, model in models.items():
            assert model.threads == t
            _assert_same_bits(model.predict(x, reference=reference), want, f"{name}, batch {n}, {t} threads")


@pytest.fixture(scope="module")
def reference_blobs(reference_onnx_path, reference_int8_onnx_path):
    from edgecnn.export.compiler import compile_model

    return {"float": compile_model(reference_onnx_path)[0], "int8": compile_model(reference_int8_onnx_path)[0]}


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_reference_model_is_identical_for_any_thread_count(reference_blobs, kind):
    _check_thread_counts(reference_blobs[kind], f"reference {kind}")


def test_reference_kernels_are_identical_for_any_thread_count(reference_blobs):
    for kind, blob in reference_blobs.items():
        _check_thread_counts(blob, f"reference {kind}, reference kernels", batches=(1, 9), reference=True)


def test_tiny_zoo_models_are_identical_for_any_thread_count(tiny_zoo, tmp_path):
    """Every tiny zoo model (MLPerf Tiny and Keras-Applications blocks), float and int8 (its float
    ONNX quantized as tests/model_zoo.py does: QDQ, per channel, uint8 activations)."""
    from model_zoo import quantize_zoo_model

    from edgecnn.export.compiler import compile_model

    for name in tiny_zoo.models:
        float_blob = compile_model(str(tiny_zoo.onnx(name, "float")))[0]
        _check_thread_counts(float_blob, f"{name} float", batches=(1, 16))
        calibration = _inputs(Model.from_bytes(float_blob, threads=1), 16, seed=5)
        quantize_zoo_model(tiny_zoo.onnx(name, "float"), tmp_path / f"{name}.int8.onnx", calibration)
        _check_thread_counts(compile_model(str(tmp_path / f"{name}.int8.onnx"))[0], f"{name} int8", batches=(1, 16))


def test_eight_python_threads_hammering_one_model(reference_blobs):
    """One model (2 pool threads) shared by 8 Python threads calling predict at once (the GIL is
    released in C): every call returns what a single-threaded model gives for its input."""
    for kind, blob in reference_blobs.items():
        shared = Model.from_bytes(blob, threads=2)
        single = Model.from_bytes(blob, threads=1)
        inputs = [_inputs(single, 1 + i % 5 * 7, seed=100 + i) for i in range(8)]
        wants = [single.predict(x) for x in inputs]
        failures, start = [], threading.Barrier(8)

        def hammer(i, shared=shared, inputs=inputs, wants=wants, failures=failures, kind=kind, start=start):
            try:
                start.wait()
                arena = shared.new_arena(len(inputs[i])) if i % 2 else None  # own arena, or a fresh one per call
                for _ in range(15):
                    got = shared.predict(inputs[i], arena=arena)
                    if not np.array_equal(got.view(np.uint8), wants[i].view(np.uint8)):
                        failures.append(f"{kind} thread {i}: output differs")
                        return
            except Exception as exc:  # reported below, with the thread that raised it
                failures.append(f"{kind} thread {i}: {exc!r}")

        workers = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert not failures, failures


def test_default_threads_is_the_cpus_this_process_may_use(reference_blobs):
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_threads() == expected
    assert Model.from_bytes(reference_blobs["float"]).threads == expected
    assert f"threads={expected}" in repr(Model.from_bytes(reference_blobs["float"]))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, [2], 5000])
def test_bad_thread_counts_are_refused_clearly(reference_blobs, bad):
    with pytest.raises(ThreadsError, match="threads must be a whole number from 1 to 1024") as info:
        Model.from_bytes(reference_blobs["float"], threads=bad)
    assert isinstance(info.value, ValueError)


def test_numpy_integer_thread_count(reference_blobs):
    assert Model.from_bytes(reference_blobs["float"], threads=np.int64(3)).threads == 3


def test_models_release_their_pools(reference_blobs):
    """Models come and go (each starts and stops a pool): nothing leaks threads."""
    before = threading.active_count(), len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0
    for _ in range(30):
        model = Model.from_bytes(reference_blobs["int8"], threads=3)
        model.predict(_inputs(model, 4))
        del model
    after = threading.active_count(), len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0
    assert after == before


def test_a_fork_child_runs_its_copy_single_threaded(reference_blobs):
    """The child of fork() has no pool threads: its predict runs on one thread and gives the same
    bytes (no hang on the parent's workers)."""
    if not hasattr(os, "fork"):
        pytest.fail("this test needs os.fork (POSIX)")
    model = Model.from_bytes(reference_blobs["float"], threads=3)
    x = _inputs(model, 16)
    want = model.predict(x)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the bytes, exit without running the parent's finalizers
        try:
            os.write(write, model.predict(x).tobytes())
        finally:
            os._exit(0)
    os.close(write)
    got = b""
    while chunk := os.read(read, 1 << 16):
        got += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    _assert_same_bits(np.frombuffer(got, dtype=want.dtype).reshape(want.shape), want, "fork child")
    _assert_same_bits(model.predict(x), want, "parent after the fork")


def test_predict_command_threads_flag(tmp_path, reference_blobs, fashion_test_subset):
    """`edgecnn predict --threads N` prints what --threads 1 prints; a bad N is a usage error."""
    model = tmp_path / "model.ecnn"
    model.write_bytes(reference_blobs["float"])
    images = []
    for i in range(3):
        images.append(tmp_path / f"{i}.pgm")
        images[-1].write_bytes(b"P5\n28 28\n255\n" + fashion_test_subset[0][i].tobytes())

    def run(*threads):
        return subprocess.run(
            [sys.executable, "-m", "edgecnn", "predict", str(model), *map(str, images), *threads],
            capture_output=True,
            text=True,
        )

    one, three = run("--threads", "1"), run("--threads", "3")
    assert one.returncode == three.returncode == 0, one.stderr + three.stderr
    assert one.stdout == three.stdout and one.stdout.count("\n") == 3
    bad = run("--threads", "0")
    assert bad.returncode == 2 and "--threads: expected a whole number >= 1, got '0'" in bad.stderr


def test_threads_that_cannot_start_raise_a_clear_error(tmp_path):
    """In a process whose address space has no room for a thread's stack, Model.load(threads=16)
    raises ThreadsError naming the cause (and starts nothing); threads=1 still loads."""
    if not sys.platform.startswith("linux"):
        pytest.fail("this test needs Linux (/proc/self/statm, RLIMIT_AS)")
    model = Path(__file__).resolve().parents[2] / "native" / "fuzz" / "corpus" / "float_relu.ecnn"
    script = f"""
import os, resource, numpy as np
from edgecnn.runtime.model import Model
from edgecnn.runtime.errors import ThreadsError
Model.load({str(model)!r}, threads=1)  # everything imported and allocated once
before = len(os.listdir("/proc/self/task"))  # the interpreter's own threads (OpenBLAS, ...)
pages = int(open("/proc/self/statm").read().split()[0])
limit = pages * os.sysconf("SC_PAGESIZE") + (4 << 20)  # less than one 8 MB thread stack
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    Model.load({str(model)!r}, threads=16)
except ThreadsError as exc:
    print("ThreadsError:", exc)
print("threads=1:", Model.load({str(model)!r}, threads=1).threads, "new tasks:", len(os.listdir("/proc/self/task")) - before)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (
        "ThreadsError: " in done.stdout
        and "cannot start 16 threads: the thread pool could not start a thread" in done.stdout
    ), done.stdout
    assert "threads=1: 1 new tasks: 0" in done.stdout, done.stdout

"""Timing, statistics and the machine: how every figure of the benchmark is taken.

- Interleaved: each round runs every engine once, in an order that rotates every round
  (round r starts with engine r mod k), so a slow patch of a shared machine, a frequency
  change or another engine's cache footprint falls on all engines alike.
- With several threads per engine, each timed call follows an untimed call of the same engine
  (what the previous engine left in the cache falls on the untimed call), then a pause of
  REST_S, so the timed call starts with every engine's workers asleep: the native pool's
  workers sleep 50 us after their last item, and onnxruntime's are told to stop spinning when a
  call returns (session.force_spinning_stop; by default they spin on for milliseconds and take
  a core from the engine timed next). Both engines then pay the same wake-up, as in an
  application that calls them now and then.
- Each engine gets `warmup` untimed calls first (allocation, first-touch page faults,
  onnxruntime's and XNNPACK's lazy set-up).
- A cell (model, data type, batch) runs `runs` rounds, or fewer when it passes
  `max_seconds` after at least `min_runs` rounds: a large model at batch 64 would otherwise
  take minutes. The rounds actually run are recorded.
- Figures are medians with the spread: p10/p90 and min/max of the calls.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError
from edgecnn.runtime.machine import cpu_name


@dataclass
class Stats:
    runs: int
    median_ms: float
    p10_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, times_ms: list[float]) -> Stats:
        a = np.asarray(times_ms, dtype=np.float64)
        p10, p90, p99 = np.percentile(a, [10, 90, 99])
        return cls(
            len(a),
            float(np.median(a)),
            float(p10),
            float(p90),
            float(p99),
            float(a.min()),
            float(a.max()),
            float(a.mean()),
        )

    @property
    def spread(self) -> float:
        """Half the p10-p90 range as a fraction of the median (the table's ±)."""
        return (self.p90_ms - self.p10_ms) / 2 / self.median_ms if self.median_ms else 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def rotation(count: int, round_index: int) -> list[int]:
    """The engine order of one round: a rotation by round_index of 0..count-1."""
    shift = round_index % count
    return list(range(shift, count)) + list(range(shift))


REST_S = 0.001  # longer than any engine's spin after a call returns


def time_interleaved(
    engines,
    x: np.ndarray,
    runs: int,
    warmup: int,
    *,
    min_runs: int = 1,
    max_seconds: float | None = None,
    settle: bool = False,
    clock=time.perf_counter_ns,
) -> list[list[float]]:
    """Each engine's call times in ms, engines interleaved round by round (see the module docstring).

    engines: objects with prepare(batch) and run(x); returns one list per engine, same order."""
    for engine in engines:
        engine.prepare(len(x))
        for _ in range(warmup):
            engine.run(x)
    times: list[list[float]] = [[] for _ in engines]
    started = clock()
    for round_index in range(runs):
        for i in rotation(len(engines), round_index):
            if settle:  # the previous engine's cache contents, then every pool's workers asleep
                engines[i].run(x)
                time.sleep(REST_S)
            start = clock()
            engines[i].run(x)
            times[i].append((clock() - start) / 1e6)
        if max_seconds is not None and round_index + 1 >= min_runs and (clock() - started) / 1e9 >= max_seconds:
            break
    return times


def time_alone(engine, x: np.ndarray, runs: int, *, max_seconds: float | None = None) -> Stats:
    """One engine's calls in a row (its weights stay in cache), after one untimed call."""
    engine.prepare(len(x))
    engine.run(x)
    times = []
    started = time.perf_counter()
    for _ in range(runs):
        start = time.perf_counter_ns()
        engine.run(x)
        times.append((time.perf_counter_ns() - start) / 1e6)
        if max_seconds is not None and len(times) >= 3 and time.perf_counter() - started >= max_seconds:
            break
    return Stats.of(times)


@dataclass
class LayerTiming:
    ops: list[Stats]  # each op alone
    rounds: Stats  # the ops of one round added up: one inference op by op
    whole: Stats | None  # the same inference in one call, in the same rounds


def time_layers(
    model, x: np.ndarray, runs: int, warmup: int, *, whole=None, max_seconds: float | None = None
) -> LayerTiming:
    """Per-op timing of a native Model: every round runs the ops one by one (one whole inference,
    each op timed alone, its inputs left in cache by the op before), then `whole(x)` once when given
    (the same inference in one call), so both see the same machine. Each op's time includes one
    Python -> C call (about a microsecond), so tiny ops read a little high. On a busy machine the
    sum of the ops' medians tends to read lower than the rounds' median: a pause lands in one op's
    samples, whose median ignores it, but in every round's total."""
    run_op, _ = model.op_runner(x)
    count = len(model.layers)
    times: list[list[float]] = [[] for _ in range(count)]
    rounds: list[float] = []
    wholes: list[float] = []
    started = time.perf_counter()
    for round_index in range(warmup + runs):
        this_round = []
        for i in range(count):
            start = time.perf_counter_ns()
            run_op(i)
            this_round.append((time.perf_counter_ns() - start) / 1e6)
        if whole is not None:
            start = time.perf_counter_ns()
            whole(x)
            elapsed = (time.perf_counter_ns() - start) / 1e6
        if round_index >= warmup:
            for i, t in enumerate(this_round):
                times[i].append(t)
            rounds.append(sum(this_round))
            if whole is not None:
                wholes.append(elapsed)
        if max_seconds is not None and round_index >= warmup + 2 and time.perf_counter() - started >= max_seconds:
            break
    return LayerTiming([Stats.of(t) for t in times], Stats.of(rounds), Stats.of(wholes) if wholes else None)


def ort_node_profile(path: Path, x: np.ndarray, threads: int, runs: int, warmup: int, work_dir: Path) -> list[dict]:
    """onnxruntime's own per-node kernel times (SessionOptions.enable_profiling) on a separate
    session: [{"node", "op", "median_ms", "share"}] in the order the nodes first ran."""
    from edgecnn.bench.engines import OrtEngine

    engine = OrtEngine(path, "", threads, profile_prefix=str(work_dir / "ort_profile"))
    for _ in range(warmup + runs):
        engine.run(x)
    trace = Path(engine.session.end_profiling())
    try:
        events = json.loads(trace.read_text())
    finally:
        trace.unlink(missing_ok=True)
    per_node: dict[str, list[float]] = {}
    ops = {}
    for event in events:
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time"):
            node = name[: -len("_kernel_time")]
            per_node.setdefault(node, []).append(event.get("dur", 0) / 1e3)
            ops[node] = event.get("args", {}).get("op_name", "")
    medians = {node: statistics.median(t[warmup:] or t) for node, t in per_node.items()}
    total = sum(medians.values())
    return [
        {"node": node, "op": ops[node], "median_ms": m, "share": m / total if total else 0.0}
        for node, m in medians.items()
    ]


# ----------------------------------------------------------------------------- memory


EVICT_BYTES = 96 << 20  # more than the last-level cache of the CPUs this runs on


def read_bandwidth(nbytes: int, repeats: int = 15, cold: bool = False) -> float:
    """Bytes per second reading a buffer of nbytes once (median); cold: after reading
    EVICT_BYTES of other memory, so the buffer comes from DRAM."""
    buffer = np.ones(max(nbytes // 8, 1), dtype=np.float64)
    evict = np.ones(EVICT_BYTES // 8, dtype=np.float64) if cold else None
    buffer.sum()  # fault the pages in before timing
    seconds = []
    for _ in range(repeats):
        if evict is not None:
            evict.sum()
        start = time.perf_counter()
        buffer.sum()
        seconds.append(time.perf_counter() - start)
    return buffer.nbytes / statistics.median(seconds)


def peak_rss_self_kib() -> int:
    """This process's peak resident memory in KiB: VmHWM of /proc/self/status on Linux (not
    getrusage's ru_maxrss: Linux carries that over fork + exec, so a probe started by this
    big process would report the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib // 1024 if sys.platform == "darwin" else kib  # macOS says bytes


def probe_peak_rss(runtime: str, path: Path | None, threads: int, shape: tuple, dtype: str, runs: int = 20) -> int:
    """Peak resident memory (KiB) of a fresh process that only loads `runtime` on `path` and runs
    it on a batch of `shape`; runtime "baseline": Python + NumPy alone."""
    cmd = [
        sys.executable,
        "-m",
        "edgecnn.bench",
        "--rss-probe",
        runtime,
        str(path or "-"),
        str(threads),
        json.dumps(list(shape)),
        dtype,
        str(runs),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EdgecnnError(f"memory probe for {runtime} {path} failed: {result.stderr.strip()[-500:]}")
    return int(result.stdout.strip().splitlines()[-1])


def rss_probe_main(argv: list[str]) -> int:
    """Body of the probe process (`python -m edgecnn.bench --rss-probe ...`)."""
    runtime, path, threads, shape, dtype, runs = argv
    if runtime != "baseline":
        from edgecnn.bench.engines import load_engine

        shape = json.loads(shape)
        engine = load_engine(runtime, Path(path), "probe", int(threads))
        x = np.zeros(shape, dtype=dtype)
        engine.prepare(shape[0])
        for _ in range(int(runs)):
            engine.run(x)
    print(peak_rss_self_kib())
    return 0


# ------------------------------------------------------------------------------ machine


# CPU features that decide which kernels an engine can use, as /proc/cpuinfo spells them.
ISA_FEATURES = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512dq",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_int8",
    "amx_bf16",
    "asimd",
    "asimddp",
    "neon",
    "i8mm",
    "sve",
)


def cpu_features() -> list[str] | None:
    """The ISA_FEATURES this CPU reports (Linux), or None where /proc/cpuinfo is not there."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
    return [f for f in ISA_FEATURES if f in flags]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine() -> dict:
    return {
        "cpu": cpu_name(),
        "cpu_features": cpu_features(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }

"""The three engines behind one interface: native (edgecnn), onnxruntime and LiteRT.

An engine is loaded once per model and data type, `prepare(batch)` sizes it for a batch
(untimed: arenas, tensor allocation), then `run(x)` is the call the benchmark times, the
one a user's application makes. Every engine gets the same thread count: `threads`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

RUNTIMES = ("native", "onnxruntime", "litert")
# With --threads N > 1 the native model also runs on one thread in the same rounds: its own
# speed-up is then measured under the same conditions (same rests, same neighbours).
NATIVE_1T = "native_1t"
LABELS = {"native": "native", "onnxruntime": "ORT", "litert": "LiteRT", NATIVE_1T: "native 1 thread"}


class Engine:
    runtime = ""

    def __init__(self, path: Path, dtype: str, threads: int):
        self.path = Path(path)
        self.dtype = dtype
        self.threads = threads
        self.weight_bytes: int | None = None
        self.model = None  # native only: the edgecnn Model

    @property
    def name(self) -> str:
        return f"{self.runtime} {self.dtype}"

    def prepare(self, batch: int) -> None:
        """Get ready for calls of `batch` samples; never timed."""

    def run(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def arena_bytes(self, batch: int) -> int | None:
        return None


# --------------------------------------------------------------------------- native


def native_accepts_threads() -> bool:
    """Whether this edgecnn runtime's Model.load takes threads= (a multi-threaded build)."""
    from edgecnn.runtime import Model

    return "threads" in inspect.signature(Model.load).parameters


def check_native_threads(threads: int) -> None:
    if threads != 1 and not native_accepts_threads():
        raise EdgecnnError(
            f"--threads {threads}: this edgecnn runtime runs one thread per call (its Model.load takes no "
            "threads=); use --threads 1, or time only the other engines with "
            "--engines onnxruntime,litert"
        )


class NativeEngine(Engine):
    runtime = "native"

    def __init__(self, path: Path, dtype: str, threads: int):
        super().__init__(path, dtype, threads)
        from edgecnn.runtime import Model

        check_native_threads(threads)
        # Always explicit where accepted: a runtime's default may be every core.
        self.model = Model.load(path, threads=threads) if native_accepts_threads() else Model.load(path)
        self.weight_bytes = self.model.weight_bytes
        self._arena = None

    def prepare(self, batch: int) -> None:
        # One arena reused call after call, as a server would (onnxruntime keeps its own too).
        self._arena = self.model.new_arena(batch)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x, batch_size=len(x), arena=self._arena)

    def arena_bytes(self, batch: int) -> int | None:
        return self.model.arena_size(batch)

    def kernels(self) -> list[str]:
        """The kernel of each layer."""
        return [layer.kernel for layer in self.model.layers]


def native_info(model=None) -> dict:
    """What the native library says about itself; `model` (a loaded Model) for the ISA level."""
    import edgecnn

    info = {
        "version": edgecnn.__version__,
        "library": None,
        "isa": None,
        "isa_source": None,
        "isa_levels": None,
        "threads_option": False,
    }
    try:
        from edgecnn.runtime import Model
        from edgecnn.runtime._native import ffi, lib

        info["library"] = ffi.string(lib.ecnn_version()).decode()
        info["threads_option"] = native_accepts_threads()
        info["isa_levels"] = Model.isa_levels()
    except ImportError:
        return info
    if model is not None:
        info["isa"], info["isa_source"] = model.isa, "Model.isa: the level chosen at load"
    return info


# ---------------------------------------------------------------------------- onnxruntime


class OrtEngine(Engine):
    runtime = "onnxruntime"

    def __init__(self, path: Path, dtype: str, threads: int, profile_prefix: str | None = None):
        super().__init__(path, dtype, threads)
        ort = require("onnxruntime")
        self.session = ort.InferenceSession(
            str(path), ort_options(threads, profile_prefix), providers=["CPUExecutionProvider"]
        )
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise EdgecnnError(f"{path}: the benchmark runs models with one input; this one has {len(inputs)}")
        self._input = inputs[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input: x})[0]


def ort_options(threads: int, profile_prefix: str | None = None):
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Its workers still spin between the ops of a call, but stop when the call returns, as the
    # native pool's do within 50 us (measure.py: how the benchmark times several threads).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    # The default optimisation level (all): where onnxruntime fuses its int8 kernels.
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return options


# --------------------------------------------------------------------------------- LiteRT


class LiteRTEngine(Engine):
    runtime = "litert"

    def __init__(self, path: Path, dtype: str, threads: int):
        super().__init__(path, dtype, threads)
        module = require("ai_edge_litert.interpreter")
        # XNNPACK is LiteRT's default CPU delegate for float and int8 models.
        self.interpreter = module.Interpreter(model_path=str(path), num_threads=threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._shape = None

    def prepare(self, batch: int) -> None:
        shape = list(self.interpreter.get_input_details()[0]["shape"])
        shape[0] = batch
        if self._shape != shape:
            self.interpreter.resize_tensor_input(self._input, shape, strict=False)
            self.interpreter.allocate_tensors()
            self._shape = shape

    def run(self, x: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self._input, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output)


def litert_installed() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


ENGINE_CLASSES = {"native": NativeEngine, "onnxruntime": OrtEngine, "litert": LiteRTEngine}


def load_engine(runtime: str, path: Path, dtype: str, threads: int) -> Engine:
    return ENGINE_CLASSES[runtime](path, dtype, threads)


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def engine_versions() -> dict:
    return {"onnxruntime": _distribution_version("onnxruntime"), "litert": _distribution_version("ai-edge-litert")}

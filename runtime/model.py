"""`Model`: run a compiled .ecnn model with the native C library.

The raw cffi layer (`edgecnn.runtime._native`: `ffi`, `lib`) mirrors
native/include/edgecnn.h one to one. This module is the friendly layer: it checks
shapes and dtypes, passes NumPy buffers to C without copying (`ffi.from_buffer`),
allocates outputs and the arena with NumPy, and turns each C status code into a typed
exception carrying the library's message.

cffi's out-of-line API mode releases the GIL around every C call, so `predict` runs
in parallel from several threads (each call has its own arena; the model is read-only).
Each model also splits every inference over its own thread pool (`threads`, default: the
CPUs this process may use), with results identical to one thread's.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edgecnn.runtime.buffers import (
    ARENA_ALIGN,
    IO_ALIGN,
    aligned_copy,
    aligned_empty,
    buffer_args,
    model_buffer,
)
from edgecnn.runtime.errors import (
    EdgecnnError,
    InputError,
    IsaError,
    ModelFormatError,
    ModelVersionError,
    NativeError,
    NativeRunError,
    ThreadsError,
    UnsupportedModelError,
    native_extension,
)

DEFAULT_BATCH = 256  # samples per native call in predict(): bounds the arena (bytes/sample x 256)

KIND_NAMES = {1: "input", 2: "output", 3: "activation", 4: "constant", 5: "scratch"}
DTYPES = {1: np.dtype(np.float32), 2: np.dtype(np.int8), 3: np.dtype(np.uint8), 4: np.dtype(np.int32)}


def default_threads() -> int:
    """The CPUs this process may run on (its affinity mask, as onnxruntime's default): the
    thread count Model.load uses when none is given."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


# A child of fork() has none of its parent's pool threads: its models run single-threaded.
_FORKS = [0]


def _after_fork_in_child() -> None:
    _FORKS[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _stop_pool(lib: Any, parallel: Any, memory: np.ndarray, forks: int) -> None:
    """weakref.finalize callback: join the pool's workers (only in the process that started them),
    then `memory` may go."""
    if forks == _FORKS[0]:
        lib.ecnn_pool_destroy(parallel)


@dataclass(frozen=True)
class Layer:
    """One op of the compiled model, in execution order."""

    index: int
    op: str
    output_shape: tuple  # per sample
    weight_bytes: int
    macs: int  # multiply-accumulates per sample
    kernel: str = ""  # the kernel the native library runs for it at the model's ISA level


class Model:
    """A loaded .ecnn model. Create with `Model.load(path, threads=N)` or `Model.from_bytes(data)`.

    Threads: each inference is split over `threads` threads (default: the CPUs this process may
    use, `len(os.sched_getaffinity(0))`, as onnxruntime does; `threads=1`: the single-threaded
    path, no pool). The model's pool of threads - 1 workers is started once, at load, in memory
    NumPy allocates, and stopped when the model is garbage collected. Every output element is
    computed by one thread, the same way: results are bit-identical for any thread count.

    Many Python threads may use one Model at once: predict() releases the GIL, each call runs its
    own inference in its own arena (pass `arena=` arrays only one call at a time), and a call that
    finds the model's pool busy with another call's layer runs that layer on its own thread:
    concurrent calls are safe and give the same results, they just share the pool. After
    os.fork() the child's copy of a model runs single-threaded.
    """

    def __init__(self, buffer: np.ndarray, source: str, threads: int | None = None) -> None:
        """Use load() / from_bytes(). `buffer`: 64-byte aligned uint8 array holding the file."""
        ffi, lib = native_extension()
        self._ffi, self._lib = ffi, lib
        self._buffer = buffer  # the C model points into it: keep it alive
        self.source = source
        self._parallel = ffi.NULL  # ecnn_parallel * of the model's pool, or NULL: one thread
        self._forks = _FORKS[0]
        self._handle = ffi.new("ecnn_model *")
        self._arena_sizes: dict[int, int] = {}  # batch -> arena_size(batch)
        self._arena_buf: tuple[Any, Any] = (None, None)  # predict(): the last caller arena and its cffi buffer
        status = lib.ecnn_model_init(self._handle, ffi.from_buffer(buffer), buffer.nbytes)
        if status != lib.ECNN_OK:
            raise self._init_error(status)
        info = ffi.new("ecnn_model_info *")
        self._check(lib.ecnn_model_get_info(self._handle, info), "ecnn_model_get_info")
        self.format_version = int(info.version)
        self.file_bytes = int(info.file_size)
        self.weight_bytes = int(info.weight_bytes)
        self.activation_bytes = int(info.activation_bytes)  # per sample, before planning
        self._arena_fixed = int(info.arena_fixed)
        self._arena_per_sample = int(info.arena_per_sample)
        self._num_ops = int(info.num_ops)
        inp, out = self._tensor(info.input), self._tensor(info.output)
        self.input_shape = inp["shape"]
        self.output_shape = out["shape"]
        self.input_dtype = inp["dtype"]
        self.output_dtype = out["dtype"]
        self._in_sample_bytes = inp["size"]
        self._out_sample_bytes = out["size"]
        # The batch the ONNX graph fixes (ecnn_run takes exactly it), or 0: any batch.
        self.batch = int(info.batch)
        self.metadata = self._metadata()
        # The graph's whole fixed-shape input is one sample (input_shape includes its first axis).
        self.whole = bool(self.metadata.get("whole"))
        self.threads = self._start_pool(threads)

    def _start_pool(self, threads: int | None) -> int:
        """Start the model's thread pool; returns the thread count."""
        ffi, lib = self._ffi, self._lib
        given = threads is not None
        if not given:
            threads = default_threads()
        if (
            isinstance(threads, bool)
            or not isinstance(threads, (int, np.integer))
            or not 1 <= threads <= lib.ECNN_POOL_MAX_THREADS
        ):
            raise ThreadsError(
                f"threads must be a whole number from 1 to {lib.ECNN_POOL_MAX_THREADS}, got {threads!r} "
                "(omit it for one thread per CPU this process may use)"
            )
        threads = int(threads)
        if threads == 1:
            return 1
        size = ffi.new("size_t *")
        status = lib.ecnn_pool_size(threads, size)
        if status == lib.ECNN_OK:
            memory = np.empty(int(size[0]), dtype=np.uint8)
            parallel = ffi.new("ecnn_parallel *")
            status = lib.ecnn_pool_init(
                parallel, ffi.from_buffer(memory, require_writable=True), memory.nbytes, threads
            )
        if status == lib.ECNN_E_UNSUPPORTED and not given:
            return 1  # a native library built without threads: the default is what it can do
        if status != lib.ECNN_OK:
            raise ThreadsError(
                f"{self.source}: cannot start {threads} threads: {self._message(status)}"
                + (
                    " (this build of the native library has no threads; use threads=1)"
                    if status == lib.ECNN_E_UNSUPPORTED
                    else ""
                )
            )
        self._parallel = parallel
        # stops the workers before `memory` goes; holds no reference to the model
        self._pool_finalizer = weakref.finalize(self, _stop_pool, lib, parallel, memory, self._forks)
        return threads

    def _parallel_arg(self) -> Any:
        """The ecnn_parallel * for a run: the model's pool, or NULL (one thread; a fork() child)."""
        return self._parallel if self._forks == _FORKS[0] else self._ffi.NULL

    # -- construction ------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str], threads: int | None = None) -> Model:
        """Load an .ecnn file. threads: how many threads each inference uses (default: the CPUs
        this process may use; 1: single-threaded)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            buffer = model_buffer(size)
            with open(path, "rb") as f:
                if f.readinto(buffer.data) != size:
                    raise EdgecnnError(f"{path}: file changed while reading")
        except FileNotFoundError:
            raise EdgecnnError(f"{path}: no such model file") from None
        except IsADirectoryError:
            raise EdgecnnError(f"{path}: is a directory, expected an .ecnn model file") from None
        except OSError as exc:
            raise EdgecnnError(f"{path}: cannot read ({exc.strerror})") from None
        return cls(buffer, str(path), threads)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, threads: int | None = None) -> Model:
        """From bytes / bytearray / memoryview (copied once into an aligned buffer); threads as load()."""
        view = memoryview(data).cast("B")
        buffer = model_buffer(view.nbytes)
        buffer[:] = np.frombuffer(view, dtype=np.uint8)
        return cls(buffer, "<bytes>", threads)

    # -- errors ------------------------------------------------------------------------
    def _message(self, status: int) -> str:
        return self._ffi.string(self._lib.ecnn_status_string(status)).decode()

    def _init_error(self, status: int) -> NativeError:
        lib, ffi = self._lib, self._ffi
        op, tensor = ffi.new("int32_t *"), ffi.new("int32_t *")
        detail = ffi.string(lib.ecnn_model_error(self._handle, op, tensor)).decode()
        where = "".join(f", {name} {value[0]}" for name, value in (("op", op), ("tensor", tensor)) if value[0] >= 0)
        if status == lib.ECNN_E_ISA:
            return IsaError(
                f"{self.source}: {detail}; this CPU runs "
                f"{', '.join(k for k, runs in self.isa_levels().items() if runs)}",
                status,
                detail,
            )
        if status == lib.ECNN_E_VERSION:
            return ModelVersionError(
                f"{self.source}: file format version {self._handle.version}, library supports "
                f"{lib.ECNN_FORMAT_VERSION_MIN} to {lib.ECNN_FORMAT_VERSION}: recompile the model with this "
                "edgecnn version (edgecnn compile model.onnx --out model.ecnn)",
                status,
                detail,
            )
        cls = UnsupportedModelError if status == lib.ECNN_E_UNSUPPORTED else ModelFormatError
        hint = {
            lib.ECNN_E_MAGIC: " (is this an .ecnn file? compile ONNX models with `edgecnn compile`)",
            lib.ECNN_E_TRUNCATED: " (incomplete copy or download?)",
            lib.ECNN_E_CRC: " (the file was modified or damaged after compilation; recompile it)",
            lib.ECNN_E_UNSUPPORTED: " (compiled for a newer edgecnn? upgrade the library or recompile)",
        }.get(status, "")
        return cls(f"{self.source}: {self._message(status)}: {detail}{where}{hint}", status, detail)

    def _check(self, status: int, call: str) -> None:
        if status != self._lib.ECNN_OK:
            raise NativeRunError(f"{call}: {self._message(status)}", status)

    # -- introspection -------------------------------------------------------------------
    def _tensor(self, index: int) -> dict[str, Any]:
        info = self._ffi.new("ecnn_tensor_info *")
        self._check(self._lib.ecnn_model_tensor(self._handle, index, info), "ecnn_model_tensor")
        return {
            "kind": KIND_NAMES.get(info.kind, str(info.kind)),
            "dtype": DTYPES[info.dtype],
            "shape": tuple(int(info.dims[i]) for i in range(info.rank)),
            "size": int(info.size),
        }

    def _metadata(self) -> dict[str, Any]:
        """The file's metadata section (format version 2; {} without one): the ONNX model's input
        and output names, shapes and types, and its model properties (docs/file-format.md)."""
        text, size = self._ffi.new("const char **"), self._ffi.new("uint32_t *")
        self._check(self._lib.ecnn_model_metadata(self._handle, text, size), "ecnn_model_metadata")
        if size[0] == 0:
            return {}
        raw = bytes(self._ffi.buffer(text[0], size[0]))
        try:
            meta = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelFormatError(f"{self.source}: the metadata section is not UTF-8 JSON ({exc})", 0, "") from None
        if not isinstance(meta, dict):
            raise ModelFormatError(f"{self.source}: the metadata section is not a JSON object", 0, "")
        return meta

    def arena_size(self, batch: int = 1) -> int:
        """Exact arena bytes ecnn_run needs for `batch` samples."""
        size = self._arena_sizes.get(batch)
        if size is None:  # cached: predict() checks the caller's arena on every call
            out = self._ffi.new("size_t *")
            self._check(self._lib.ecnn_arena_size(self._handle, int(batch), out), "ecnn_arena_size")
            size = self._arena_sizes[batch] = int(out[0])
        return size

    @property
    def arena_bytes(self) -> int:
        """Arena bytes for one sample (the batch-N arena is arena_size(N))."""
        return self.arena_size(1)

    @property
    def layers(self) -> list[Layer]:
        ffi, lib = self._ffi, self._lib
        rows = []
        for i in range(self._num_ops):
            info = ffi.new("ecnn_op_info *")
            self._check(lib.ecnn_model_op(self._handle, i, info), "ecnn_model_op")
            out = self._tensor(info.outputs[0])
            name = ffi.string(lib.ecnn_op_name(info.op_type)).decode()
            rows.append(
                Layer(
                    i,
                    name,
                    out["shape"],
                    int(info.weight_bytes),
                    int(info.macs_per_sample),
                    ffi.string(info.kernel).decode(),
                )
            )
        return rows

    def summary(self) -> str:
        lines = [
            f"{self.source}: .ecnn format v{self.format_version}, {self.file_bytes:,} bytes, "
            f"kernels for ISA level {self.isa}, {self.threads} thread(s)"
        ]
        n = str(self.batch) if self.batch else "N"  # the batch the graph fixes, or any
        lines.append(f"  input  {n} x {'x'.join(map(str, self.input_shape))} {self.input_dtype}")
        for layer in self.layers:
            lines.append(
                f"  {layer.index:2d} {layer.op:<16} {n} x {'x'.join(map(str, layer.output_shape)):<12} "
                f"weights {layer.weight_bytes:>12,} B  MACs {layer.macs:>12,}  {layer.kernel}"
            )
        lines.append(
            f"  weights {self.weight_bytes:,} B; arena {self._arena_fixed:,} + N x {self._arena_per_sample:,} B "
            f"(all activations would take N x {self.activation_bytes:,} B)"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Model({self.source!r}, input={self.input_shape}, output={self.output_shape}, "
            f"weights={self.weight_bytes:,} B, arena={self.arena_bytes:,} B/sample, threads={self.threads})"
        )

    # -- inference ------------------------------------------------------------------------
    def _as_input(self, x: Any) -> tuple[np.ndarray, bool]:
        """(N, *input_shape) C-contiguous array of input_dtype, and whether x was a single sample."""
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged nested lists, ...
            raise InputError(f"input is not an array ({exc})") from None
        shape = self.input_shape
        channel_1 = shape[-1:] == (1,)
        single = x.shape == shape or (channel_1 and x.shape == shape[:-1])
        if single:
            x = x[np.newaxis]
        if channel_1 and x.ndim == len(shape) and x.shape[1:] == shape[:-1]:
            x = x[..., np.newaxis]  # images without the channel axis, e.g. straight from an IDX file
        if x.ndim != len(shape) + 1 or x.shape[1:] != shape:
            batch = str(self.batch) if self.batch else "N"
            single_too = f" or a single ({', '.join(map(str, shape))})" if self.batch in (0, 1) else ""
            raise InputError(
                f"input has shape {x.shape}; the model takes ({', '.join((batch, *map(str, shape)))}){single_too}"
            )
        if self.input_dtype != np.float32:
            # A uint8/int8-input model takes its values as they are (raw pixels; the model does its own
            # scaling): no silent cast, no /255.
            if x.dtype != self.input_dtype:
                raise InputError(
                    f"input dtype is {x.dtype}; this model takes {self.input_dtype} input "
                    f"(e.g. raw pixels), pass an array of dtype {self.input_dtype}"
                )
            return np.ascontiguousarray(x), single
        if x.dtype == np.uint8:
            # pixels -> [0, 1], as edgecnn.runtime.data.to_model_input; only for image inputs (one or
            # three channels, NHWC or NCHW): uint8 values of a feature vector mean nothing here.
            if not (len(shape) == 3 and (shape[-1] in (1, 3) or shape[0] in (1, 3))):
                raise InputError(
                    f"uint8 input to a model that takes ({', '.join(map(str, shape))}), not an image; "
                    "pass float32 values"
                )
            x = x.astype(np.float32) / np.float32(255.0)
        elif x.dtype != np.float32:
            raise InputError(
                f"input dtype is {x.dtype}; pass float32 values in [0, 1] or uint8 pixels (e.g. x.astype(np.float32))"
            )
        return np.ascontiguousarray(x), single

    @staticmethod
    def _nonfinite_error(x: np.ndarray) -> InputError:
        """The error for input x that holds NaN or infinity, which the library refused
        (ECNN_RUN_FINITE_INPUT: the float kernels do not propagate them as IEEE arithmetic
        would, so the answer would be silently meaningless; README, "Robustness")."""
        finite = np.isfinite(x)
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        return InputError(
            f"input holds {int(finite.size - np.count_nonzero(finite))} NaN or infinite value(s), the first "
            f"at index {first} ({x[first]}); the model takes finite float32 values in [0, 1]"
        )

    @property
    def isa(self) -> str:
        """The ISA kernel level the model runs at, e.g. "avx512vnni", "avx2", "dotprod", "neon" or
        "portable": the best one of this CPU, or the level the environment variable EDGECNN_ISA
        named when the model was loaded. Each layer's kernel: `layers[i].kernel`."""
        return self._ffi.string(self._lib.ecnn_model_isa(self._handle)).decode()

    @staticmethod
    def isa_levels() -> dict[str, bool]:
        """Every ISA level of this build (name -> whether this CPU runs it), baseline first."""
        ffi, lib = native_extension()
        levels: dict[str, bool] = {}
        runs = ffi.new("int *")
        while True:
            name = lib.ecnn_isa_level(len(levels), runs)
            if name == ffi.NULL:
                return levels
            levels[ffi.string(name).decode()] = bool(runs[0])

    def _batch_rule(self) -> str:
        shape = ", ".join(map(str, (self.batch, *self.input_shape)))
        return f"the model's graph fixes the batch at {self.batch}: it takes input of shape ({shape})"

    def _check_batch(self, n: int) -> None:
        """predict() runs a fixed-batch model on whole batches of its size only."""
        if self.batch and n % self.batch:
            raise InputError(
                f"input has {n} samples; {self._batch_rule()} (predict also takes a multiple of "
                f"{self.batch} samples and runs them {self.batch} at a time)"
            )

    def new_arena(self, batch: int) -> np.ndarray:
        """An aligned arena for `batch` samples, to pass to predict(arena=...) call after call
        (as a long-running server would: no allocation per call). One per thread."""
        return aligned_empty(self.arena_size(batch), ARENA_ALIGN)

    def _check_arena(self, arena: object, batch: int) -> None:
        """A caller's arena: what ecnn_run would refuse, said in Python terms (InputError)."""
        need = self.arena_size(batch)
        hint = f"use model.new_arena({batch})"
        if not isinstance(arena, np.ndarray) or not arena.flags.c_contiguous or not arena.flags.writeable:
            raise InputError(f"the arena must be a writable C-contiguous NumPy array; {hint}")
        if arena.nbytes < need:
            raise InputError(f"arena of {arena.nbytes:,} bytes; {batch} samples per call need {need:,}; {hint}")
        if need and arena.ctypes.data % ARENA_ALIGN:
            raise InputError(f"the arena does not start at a multiple of {ARENA_ALIGN} bytes; {hint}")

    def predict(
        self,
        x: npt.ArrayLike,
        batch_size: int = DEFAULT_BATCH,
        reference: bool = False,
        arena: np.ndarray | None = None,
        check_finite: bool = True,
    ) -> np.ndarray:
        """Class probabilities float32 (N, *output_shape) for x of shape (N, *input_shape).

        x: float32 in [0, 1] or uint8 pixels (divided by 255); a model whose ONNX input is
        uint8/int8 (input_dtype) takes exactly that dtype, unscaled; (N, 28, 28) and a single
        (28, 28, 1) image are accepted too (a single image gives N = 1). Runs `batch_size`
        samples per native call (the arena is sized for that). reference=True runs the
        plain reference kernels instead of the fast ones (the oracle; slow). arena: from
        new_arena(b) with b >= the samples per call; default: a fresh one per call.
        check_finite=False passes NaN and +-Inf on to the C library instead of raising
        InputError: defined behaviour, never a crash; int8 models quantize them as onnxruntime
        does (NaN and -Inf to the lowest code, +Inf to the highest), float models give
        unspecified values.
        """
        # Few Python steps: at batch 1 the call is short, and in a busy process each numpy or
        # cffi step comes back with cold caches (tens of microseconds each, measured). An array
        # that already is what _as_input returns skips it; the C library checks the input for
        # NaN and infinity and the arena's size and alignment, and the error that names the
        # problem is worked out only when it refuses.
        if not (
            type(x) is np.ndarray
            and x.dtype == self.input_dtype
            and x.shape[1:] == self.input_shape
            and x.flags.c_contiguous
        ):
            x, _ = self._as_input(x)
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        n = x.shape[0]
        self._check_batch(n)
        out = np.empty((n, *self.output_shape), dtype=self.output_dtype)
        if n == 0:
            return out
        chunk = self.batch or min(n, batch_size)
        ffi, lib = self._ffi, self._lib
        cached = self._arena_buf  # (arena, its cffi buffer) of the last caller arena: a server passes the same one
        if arena is None:
            arena = self.new_arena(chunk)
            arena_buf = ffi.from_buffer(arena, require_writable=True)
        elif cached[0] is arena:
            arena_buf = cached[1]
        else:
            if type(arena) is not np.ndarray:
                self._check_arena(arena, chunk)  # raises
            try:
                arena_buf = ffi.from_buffer(arena, require_writable=True)
            except ValueError:  # read-only or not contiguous
                self._check_arena(arena, chunk)
                raise
            self._arena_buf = (arena, arena_buf)  # one assignment: safe with predict() in threads
        flags = (lib.ECNN_RUN_REFERENCE if reference else 0) | (lib.ECNN_RUN_FINITE_INPUT if check_finite else 0)
        parallel = self._parallel_arg()
        for start in range(0, n, chunk):
            xs, ys = (x, out) if chunk == n else (x[start : start + chunk], out[start : start + chunk])
            status = self._run_chunk(xs, ys, flags, arena_buf, arena.nbytes, parallel)
            if status == lib.ECNN_E_ALIGN:
                # The library takes 4-byte aligned input and output; a slice of int8 samples whose
                # size is not a multiple of 4 (or a caller's int8 array) may start elsewhere.
                # Staged only once the library refuses: reading an address from NumPy costs about
                # a microsecond a buffer, a tenth of a small model's inference. (Refused again:
                # the arena, which _check_arena names.)
                staged = aligned_empty(ys.nbytes, IO_ALIGN, ys.dtype).reshape(ys.shape)
                status = self._run_chunk(aligned_copy(xs), staged, flags, arena_buf, arena.nbytes, parallel)
                ys[...] = staged
            if status != lib.ECNN_OK:
                if status == lib.ECNN_E_NONFINITE:
                    raise self._nonfinite_error(x)
                if status in (lib.ECNN_E_ARENA, lib.ECNN_E_ALIGN):
                    self._check_arena(arena, chunk)  # the caller's arena: an InputError naming why
                self._check(status, "ecnn_run_ops_parallel")
        return out

    def _run_chunk(
        self, xs: np.ndarray, ys: np.ndarray, flags: int, arena_buf: Any, arena_bytes: int, parallel: Any
    ) -> int:
        """One ecnn_run_ops_parallel call over all ops: its status. ys is predict's own output
        array (writable: no check, which costs a third of a microsecond a call)."""
        ffi = self._ffi
        return self._lib.ecnn_run_ops_parallel(
            self._handle,
            xs.shape[0],
            0,
            self._num_ops,
            flags,
            ffi.from_buffer(xs),
            xs.nbytes,
            ffi.from_buffer(ys),
            ys.nbytes,
            arena_buf,
            arena_bytes,
            parallel,
        )

    def op_runner(self, x: npt.ArrayLike) -> tuple[Callable[[int], None], np.ndarray]:
        """A callable run_op(i) that runs op i alone on the batch x (its arena persists between
        calls, so running ops 0, 1, ... in order is one whole inference). For timing single
        ops: `edgecnn bench --layers`. x as in predict(); returns (run_op, output array)."""
        x, _ = self._as_input(x)
        if self.batch and x.shape[0] != self.batch:
            raise InputError(f"input has {x.shape[0]} samples; {self._batch_rule()}")
        out = np.empty((x.shape[0], *self.output_shape), dtype=self.output_dtype)
        arena = aligned_empty(self.arena_size(x.shape[0]), ARENA_ALIGN)
        lib, handle, n = self._lib, self._handle, x.shape[0]
        args = buffer_args(self._ffi, x, out, arena)
        keep = (x, arena)  # the buffers must outlive the C pointers

        parallel = self._parallel_arg()
        # No op, just the input check: once here, not in every timed op
        checked = lib.ecnn_run_ops_parallel(handle, n, 0, 0, lib.ECNN_RUN_FINITE_INPUT, *args, parallel)
        if checked == lib.ECNN_E_NONFINITE:
            raise self._nonfinite_error(x)

        def run_op(i: int) -> None:
            assert keep is not None
            self._check(lib.ecnn_run_ops_parallel(handle, n, i, i + 1, 0, *args, parallel), "ecnn_run_ops_parallel")

        return run_op, out

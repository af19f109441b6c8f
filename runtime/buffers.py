"""The NumPy buffers the C library takes: aligned as it requires, the model's weights on
transparent huge pages where the OS offers them, and passed to C without a copy."""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np
import numpy.typing as npt

ARENA_ALIGN = 64  # ECNN_ARENA_ALIGN
IO_ALIGN = 4  # input and output buffers (f32 is read through typed pointers)
MODEL_ALIGN = 64  # weights are 64-byte aligned in the file: keep them so in memory


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A copy of `a` whose data starts at a multiple of IO_ALIGN."""
    copy = aligned_empty(a.nbytes, IO_ALIGN, a.dtype).reshape(a.shape)
    copy[...] = a
    return copy


def aligned_empty(nbytes: int, align: int, dtype: npt.DTypeLike = np.uint8) -> np.ndarray:
    """A 1-D array of `nbytes` bytes whose data starts at a multiple of `align`."""
    raw = np.empty(nbytes + align, dtype=np.uint8)
    start = (-raw.ctypes.data) % align
    return raw[start : start + nbytes].view(dtype)


HUGE_PAGE = 2 << 20  # x86-64 / AArch64 transparent huge page size


def model_buffer(nbytes: int) -> np.ndarray:
    """A buffer for the model file: 64-byte aligned; from 2 MiB up it starts on a 2 MiB
    boundary of an anonymous mapping marked MADV_HUGEPAGE where the OS offers it, so the
    weights the kernels stream sit on transparent huge pages (fewer TLB misses: batch 1
    streams every weight once; measured ~15 % on the float model here). Only the whole
    2 MiB blocks are marked, so resident memory stays the file size."""
    madvise = getattr(mmap.mmap, "madvise", None)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if nbytes < HUGE_PAGE or madvise is None or advice is None:
        return aligned_empty(nbytes, MODEL_ALIGN)
    try:
        # private: a shared anonymous mapping is shmem, which THP leaves alone by default
        region = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE)  # untouched slack costs nothing
        start = (-np.frombuffer(region, dtype=np.uint8, count=1).ctypes.data) % HUGE_PAGE
        region.madvise(advice, start, nbytes // HUGE_PAGE * HUGE_PAGE)
    except (OSError, ValueError):  # no THP in this kernel/container: a plain aligned buffer
        return aligned_empty(nbytes, MODEL_ALIGN)
    return np.frombuffer(region, dtype=np.uint8, count=nbytes, offset=start)  # keeps region alive


def buffer_args(ffi: Any, x: np.ndarray, out: np.ndarray, arena: np.ndarray) -> tuple[Any, ...]:
    """ecnn_run's (pointer, bytes) pairs of the input, output and arena, without copying."""
    return (
        ffi.from_buffer(x),
        x.nbytes,
        ffi.from_buffer(out, require_writable=True),
        out.nbytes,
        ffi.from_buffer(arena, require_writable=True),
        arena.nbytes,
    )

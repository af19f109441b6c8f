"""Hostile inputs to the Python runtime: every bad array gets an InputError (an EdgecnnError
and a ValueError) naming the problem; odd-but-valid arrays (strided, Fortran order,
read-only) give exactly the answer of a plain contiguous copy; the GIL is released
while the C library runs.

The models are the fuzzer's seeds (native/fuzz/corpus, written by native/fuzz/make_seeds.py
from small real float and int8 models): quick to load, no TensorFlow needed.
"""

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edgecnn.runtime import Model
from edgecnn.runtime.errors import EdgecnnError, InputError, ModelFormatError

CORPUS = Path(__file__).resolve().parents[2] / "native" / "fuzz" / "corpus"
SEEDS = ("float_relu.ecnn", "int8_per_channel.ecnn")


@pytest.fixture(scope="module", params=SEEDS)
def model(request):
    return Model.load(CORPUS / request.param)


def images(model, n=5, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, *model.input_shape)).astype(np.float32)


def _with(x, index, value):
    x = x.copy()
    x[index] = value
    return x


# (case, make the bad array from good float32 input x, what the message must say)
BAD_INPUTS = [
    (
        "NaN",
        lambda x: _with(x, (1, 2, 3, 0), np.nan),
        r"1 NaN or infinite value\(s\), the first at index \(1, 2, 3, 0\)",
    ),
    ("+Inf", lambda x: _with(x, (0, 0, 0, 0), np.inf), "NaN or infinite"),
    ("-Inf", lambda x: _with(x, (4, 7, 7, 0), -np.inf), "NaN or infinite"),
    ("float64", lambda x: x.astype(np.float64), "dtype is float64"),
    ("float16", lambda x: x.astype(np.float16), "dtype is float16"),
    ("big-endian float32", lambda x: x.astype(">f4"), "dtype is >f4"),
    ("int32", lambda x: (x * 255).astype(np.int32), "dtype is int32"),
    ("bool", lambda x: x > 0.5, "dtype is bool"),
    ("complex64", lambda x: x.astype(np.complex64), "dtype is complex64"),
    ("strings", lambda x: x.astype(str), "dtype is <U"),
    ("object", lambda x: x.astype(object), "dtype is object"),
    ("wrong channels", lambda x: np.repeat(x, 3, axis=-1), r"shape \(5, 8, 8, 3\)"),
    ("wrong height", lambda x: x[:, :-1], r"shape \(5, 7, 8, 1\)"),
    ("flattened", lambda x: x.reshape(5, -1), r"shape \(5, 64\)"),
    ("rank 5", lambda x: x[None], r"shape \(1, 5, 8, 8, 1\)"),
    ("scalar", lambda x: np.float32(0.5), r"shape \(\)"),
    ("nested lists (float64)", lambda x: x.tolist(), "dtype is float64"),
    ("ragged list", lambda x: [x[0].tolist(), x[1, :3].tolist()], "input is not an array"),
]


@pytest.mark.parametrize("case, make_bad, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_an_input_error(model, case, make_bad, message):
    with pytest.raises(InputError, match=message) as info:
        model.predict(make_bad(images(model)))
    assert isinstance(info.value, EdgecnnError) and isinstance(info.value, ValueError)


def test_batch_size_below_one_is_an_input_error(model):
    with pytest.raises(InputError, match="batch_size must be >= 1"):
        model.predict(images(model), batch_size=0)


# Arrays that are valid but not the plain C-contiguous float32 the C library reads.
ODD_LAYOUTS = [
    ("every other sample (strided view)", lambda x: np.repeat(x, 2, axis=0)[::2]),
    ("reversed batch (negative stride)", lambda x: x[::-1][::-1]),
    ("Fortran order", np.asfortranarray),
    ("read-only", lambda x: _readonly(x)),
    ("read-only view of bytes", lambda x: np.frombuffer(x.tobytes(), np.float32).reshape(x.shape)),
    ("no channel axis", lambda x: x[..., 0]),
]


def _readonly(x):
    x = x.copy()
    x.setflags(write=False)
    return x


@pytest.mark.parametrize("case, make", ODD_LAYOUTS, ids=[c[0] for c in ODD_LAYOUTS])
def test_odd_layouts_give_the_contiguous_answer(model, case, make):
    x = images(model)
    expected = model.predict(np.ascontiguousarray(x))
    got = model.predict(make(x))
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.array_equal(got, expected), case


def test_empty_batch_gives_an_empty_result(model):
    out = model.predict(np.zeros((0, *model.input_shape), np.float32))
    assert out.shape == (0, *model.output_shape)


def test_finite_extremes_are_accepted(model):
    """Huge, tiny, negative and denormal finite values are not refused and give finite
    probabilities (int8: QUANTIZE saturates; float: the softmax subtracts the max)."""
    x = images(model, n=4)
    x[0] = 3.0e38
    x[1] = -3.0e38
    x[2] = 1.0e-45
    x[3, ::2] = -1.0
    out = model.predict(x)
    assert out.shape == (4, *model.output_shape)
    int8 = any(layer.op in ("QUANTIZE",) for layer in model.layers)
    if int8:  # saturated int8 codes: ordinary probabilities
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_empty_and_garbage_bytes_are_format_errors():
    with pytest.raises(ModelFormatError, match="truncated"):
        Model.from_bytes(b"")
    with pytest.raises(ModelFormatError, match="magic"):
        Model.from_bytes(bytes(range(256)) * 4)


def test_a_directory_is_not_a_model(tmp_path):
    with pytest.raises(EdgecnnError, match="is a directory"):
        Model.load(tmp_path)


def test_gil_is_released_during_inference():
    """A thread that is ready to run gets the GIL while the main thread is inside the C
    library. The switch interval is raised so far that the interpreter never hands the GIL
    over by itself: the other thread can only run during the native call if the call
    released the GIL (cffi API mode does). No timing is measured: the helper thread records
    how many native calls had *returned* when it ran; 0 means it ran inside the call."""
    model = Model.load(CORPUS / "float_relu.ecnn")
    x = images(model, n=20000)  # one native call of many samples
    returned = [0]
    seen = []
    go = threading.Event()
    helper = threading.Thread(target=lambda: (go.wait(), seen.append(returned[0])))
    old = sys.getswitchinterval()
    helper.start()
    try:
        sys.setswitchinterval(1000.0)
        go.set()  # the helper is runnable now, but needs the GIL
        model.predict(x, batch_size=len(x))
        returned[0] += 1
    finally:
        sys.setswitchinterval(old)
        helper.join()
    assert seen == [0], "the helper thread only ran after the native call returned: the GIL was held"


def test_check_finite_false_passes_nan_and_inf_to_the_library(model):
    """The opt-out: NaN/±Inf reach the C library, which never crashes on them. An int8 model
    quantizes them as onnxruntime's QuantizeLinear does (NaN and -Inf to the lowest code, +Inf
    to the highest), so its probabilities stay ordinary; a float model's output is unspecified."""
    x = images(model, n=3)
    x[0, 0, 0, 0], x[1, 1, 1, 0], x[2, 2, 2, 0] = np.nan, np.inf, -np.inf
    out = model.predict(x, check_finite=False)
    assert out.shape == (3, *model.output_shape)
    if any(layer.op == "QUANTIZE" for layer in model.layers):
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
        # NaN quantizes like -Inf: the lowest code
        y = x.copy()
        y[0, 0, 0, 0] = -np.inf
        assert np.array_equal(model.predict(y, check_finite=False)[0], out[0])


def _misaligned(nbytes):
    raw = np.empty(nbytes + 130, np.uint8)
    start = (-raw.ctypes.data) % 64 + 1
    return raw[start : start + nbytes]


def _readonly_arena(model, n):
    arena = model.new_arena(n)
    arena.setflags(write=False)
    return arena


BAD_ARENAS = [
    ("too small", lambda m, n: m.new_arena(n - 1), "need"),
    ("misaligned", lambda m, n: _misaligned(m.arena_size(n)), "multiple of 64"),
    ("read-only", _readonly_arena, "writable"),
    ("not contiguous", lambda m, n: np.repeat(m.new_arena(n), 2)[::2], "C-contiguous"),
    ("not an array", lambda m, n: bytearray(m.arena_size(n)), "NumPy array"),
]


@pytest.mark.parametrize("case, make, message", BAD_ARENAS, ids=[c[0] for c in BAD_ARENAS])
def test_bad_caller_arena_is_an_input_error(model, case, make, message):
    x = images(model)
    with pytest.raises(InputError, match=message):
        model.predict(x, arena=make(model, len(x)))


def test_caller_arena_reused_gives_the_same_answer(model):
    x = images(model)
    arena = model.new_arena(len(x))
    first = model.predict(x, arena=arena)
    assert np.array_equal(model.predict(x, arena=arena), first)
    assert np.array_equal(model.predict(x), first)


@pytest.mark.parametrize("seed", sorted(p.name for p in CORPUS.glob("*.ecnn")))
def test_fuzz_seeds_are_in_the_format_the_compiler_writes(seed):
    # Seeds of an older version only reach the version check's paths: fuzzing them would miss
    # the current loader's sections (regenerate with `make -C native/fuzz seeds`).
    from edgecnn.runtime._native import lib

    model = Model.load(CORPUS / seed)
    assert model.format_version == lib.ECNN_FORMAT_VERSION, f"{seed}: run make -C native/fuzz seeds"


def test_an_input_off_a_4_byte_boundary_gives_the_aligned_answer(model):
    x = images(model)
    raw = np.empty(x.nbytes + 8, np.uint8)
    offset = (1 - raw.ctypes.data) % 4  # the data starts 1 byte past a 4-byte boundary
    odd = raw[offset : offset + x.nbytes].view(x.dtype).reshape(x.shape)
    odd[...] = x
    assert odd.ctypes.data % 4 == 1
    np.testing.assert_array_equal(model.predict(odd), model.predict(x))

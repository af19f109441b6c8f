"""The fast (packed-weight, SIMD) kernels against the reference kernels on whole models:
the library runs the same file both ways (`predict(reference=True)` = ecnn_run_ops with
ECNN_RUN_REFERENCE). Float and int8 must agree BIT FOR BIT (the fast float kernels keep the
reference summation order; int8 sums are exact), at every ISA kernel level this CPU runs
(EDGECNN_ISA). Kernel-level odd-size cases are in native/tests/test_kernels.c (run by
`make -C native test` at every level)."""

import struct
import zlib

import numpy as np
import pytest
from needs import need

onnx = need("onnx")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgecnn.export.compiler import compile_model  # noqa: E402
from edgecnn.runtime import Model  # noqa: E402
from edgecnn.runtime.errors import IsaError, ModelFormatError  # noqa: E402

# The ISA kernel levels this CPU runs (the C tests say which others were compiled, not run).
LEVELS = [name for name, runs in Model.isa_levels().items() if runs]


def _assert_same(fast, ref, what):
    diff = np.abs(fast.astype(np.float64) - ref.astype(np.float64))
    assert np.array_equal(fast, ref), (
        f"{what}: fast and reference kernels differ in {np.count_nonzero(diff)} "
        f"values, largest difference {diff.max():.3g}"
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("which", ["float", "int8"])
def test_reference_model_fast_equals_reference_kernels(
    which, level, reference_onnx_path, reference_int8_onnx_path, fashion_test_subset, monkeypatch
):
    monkeypatch.setenv("EDGECNN_ISA", level)
    path = reference_onnx_path if which == "float" else reference_int8_onnx_path
    images = fashion_test_subset[0][:64]
    packed = Model.from_bytes(compile_model(path)[0])
    plain = Model.from_bytes(compile_model(path, pack=False)[0])  # a file as edgecnn 0.1 wrote it still runs
    assert packed.isa == plain.isa == level
    expected = plain.predict(images, reference=True)
    for model, label in ((packed, "packed"), (plain, "plain")):
        _assert_same(model.predict(images, reference=True), expected, f"{which} {label} reference")
        for batch in (1, 7, 64):  # a sample's result does not depend on its batch
            got = model.predict(images, batch_size=batch)
            if label == "packed" or which == "int8":
                _assert_same(got, expected, f"{which} {label} fast, batch {batch}")
            else:  # plain float files use the older 4-lane kernel: another summation order
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_tiny_zoo_cnns_fast_equal_reference_kernels(kind, tiny_zoo, monkeypatch):
    """The CNNs of the tiny zoo (ResNet-8's residual blocks, DS-CNN's and MobileNet's depthwise
    and pointwise convs, the Keras-Applications blocks), float and int8 (full-integer TFLite
    models: QUANTIZE / DEQUANTIZE around the float groups, the int8 ADD, the int8 convs), at
    every level: the level's fast kernels give the reference kernels' bits, one sample per call
    and at a batch that crosses several conv row tiles; int8 inputs span the whole code range."""
    rng = np.random.default_rng(18)
    fast_ops = ("CONV_2D",) if kind == "float" else ("QUANTIZE", "DEQUANTIZE")
    for name in tiny_zoo.models:
        data = compile_model(str(tiny_zoo.onnx(name, kind)))[0]
        for level in LEVELS:
            monkeypatch.setenv("EDGECNN_ISA", level)
            model = Model.from_bytes(data, threads=1)
            assert model.isa == level
            if kind == "float":
                x = rng.standard_normal((5, *model.input_shape)).astype(np.float32)
            else:
                info = np.iinfo(model.input_dtype)
                x = rng.integers(info.min, info.max, (5, *model.input_shape), endpoint=True).astype(model.input_dtype)
            expected = model.predict(x, reference=True)
            _assert_same(model.predict(x), expected, f"{name} {kind} at {level}, batch 5")
            # one sample per call: views of x and out that start off a 4-byte boundary when an int8
            # sample is not a multiple of 4 bytes (the runtime stages them)
            _assert_same(model.predict(x, batch_size=1), expected, f"{name} {kind} at {level}, batch 1")
            kernels = {layer.kernel for layer in model.layers if layer.op in fast_ops}
            assert kind == "float" or kernels, f"{name}: no {fast_ops} layer"
            assert not any(k.endswith("_ref") for k in kernels), f"{name} at {level}: {kernels}"


def test_int8_gives_the_same_codes_at_every_level(reference_int8_onnx_path, fashion_test_subset, monkeypatch):
    """Exact integer sums: the levels' int8 kernels differ, the outputs do not."""
    data, images = compile_model(reference_int8_onnx_path)[0], fashion_test_subset[0][:32]
    outputs = {}
    for level in LEVELS:
        monkeypatch.setenv("EDGECNN_ISA", level)
        model = Model.from_bytes(data)
        assert model.isa == level and all(layer.kernel for layer in model.layers)
        outputs[level] = model.predict(images, batch_size=7)
    for level, got in outputs.items():
        _assert_same(got, outputs["portable"], f"int8 at {level} vs portable")


def test_each_layer_names_its_kernel(reference_onnx_path, monkeypatch):
    monkeypatch.delenv("EDGECNN_ISA", raising=False)
    model = Model.from_bytes(compile_model(reference_onnx_path)[0])
    assert model.isa == LEVELS[-1]  # the best level this CPU runs (the levels are listed in that order)
    kernels = {layer.op: layer.kernel for layer in model.layers}
    assert kernels["FULLY_CONNECTED"].startswith("fc_f32_panel16_")  # packed weights: the fast kernel
    assert kernels["SOFTMAX"] == "softmax_f32_ref"
    assert f"kernels for ISA level {model.isa}" in model.summary()
    monkeypatch.setenv("EDGECNN_ISA", "portable")
    portable = Model.from_bytes(compile_model(reference_onnx_path)[0])
    assert {layer.op: layer.kernel for layer in portable.layers}["FULLY_CONNECTED"] == "fc_f32_panel16_portable"


@pytest.mark.parametrize(
    "value, says", [("sse9", r"not a level of this build \(portable"), ("PORTABLE", "not a level of this build")]
)
def test_edgecnn_isa_that_is_no_level_is_a_clear_error(value, says, reference_onnx_path, monkeypatch):
    monkeypatch.setenv("EDGECNN_ISA", value)
    with pytest.raises(IsaError, match=says) as error:
        Model.from_bytes(compile_model(reference_onnx_path)[0])
    assert "this CPU runs portable" in str(error.value)


def test_edgecnn_isa_level_this_cpu_lacks_is_a_clear_error(reference_onnx_path, monkeypatch):
    lacking = [name for name, runs in Model.isa_levels().items() if not runs]
    if not lacking:  # this CPU runs every level of the build: nothing to refuse (the C tests cover qemu's)
        assert set(LEVELS) == set(Model.isa_levels())
        return
    monkeypatch.setenv("EDGECNN_ISA", lacking[0])
    with pytest.raises(IsaError, match="does not support"):
        Model.from_bytes(compile_model(reference_onnx_path)[0])


def _dense_model(k, o, relu, seed):
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["a"])]
    nodes.append(helper.make_node("Relu" if relu else "Identity", ["a"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", o])],
        initializer=[
            numpy_helper.from_array(rng.normal(0, 1, (k, o)).astype(np.float32), "w"),
            numpy_helper.from_array(rng.normal(0, 1, o).astype(np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 300), o=st.integers(1, 70), n=st.integers(1, 13), relu=st.booleans(), seed=st.integers(0, 2**16)
)
def test_packed_dense_layer_is_bit_identical_to_the_reference(k, o, n, relu, seed):
    """Odd K and O (not multiples of 16 or any vector width), any batch, panels padded."""
    model = Model.from_bytes(compile_model(_dense_model(k, o, relu, seed))[0])
    x = np.random.default_rng(seed + 1).normal(0, 1, (n, k)).astype(np.float32)
    _assert_same(model.predict(x), model.predict(x, reference=True), f"dense K={k} O={o} N={n}")


def _int8_fc_weights(blob):
    """(record offset, data offset, size) of every packed int8 FULLY_CONNECTED weight (layout 2 or 4)."""
    count, data = struct.unpack_from("<I", blob, 20)[0], struct.unpack_from("<I", blob, 40)[0]
    rows = []
    for i in range(count):
        at = struct.unpack_from("<I", blob, 12)[0] + 48 * i  # header_size + record
        if blob[at] == 4 and blob[at + 1] == 2 and blob[at + 44] in (2, 4):  # CONSTANT, i8, FC_PANEL8X4(_W64)
            offset, size = struct.unpack_from("<II", blob, at + 24)
            rows.append((at, data + offset, size))
    return rows


def _reseal(blob):
    struct.pack_into("<I", blob, len(blob) - 4, zlib.crc32(bytes(blob[:-4])) & 0xFFFFFFFF)
    return bytes(blob)


def test_reduce_range_int8_weights_take_the_w64_layout_and_the_loader_checks_its_claim(
    reference_int8_onnx_path, fashion_test_subset
):
    """onnxruntime's default quantization keeps weights in [-64, 64]: the compiler marks them
    FC_PANEL8X4_W64 (the exact maddubs path on AVX2). The same weights marked FC_PANEL8X4 take
    the sign-extending path: both must give the reference kernels' bytes. A file claiming W64
    with a weight outside [-64, 64] is refused (the fast kernel would saturate silently)."""
    blob = bytearray(compile_model(reference_int8_onnx_path)[0])
    weights = _int8_fc_weights(blob)
    assert weights and all(blob[at + 44] == 4 for at, _, _ in weights), "reference int8 FC weights not marked W64"
    images = fashion_test_subset[0][:13]
    w64 = Model.from_bytes(bytes(blob))
    expected = w64.predict(images, reference=True)
    for batch in (1, 5, 13):
        _assert_same(w64.predict(images, batch_size=batch), expected, f"W64 layout, batch {batch}")
    plain_claim = bytearray(blob)
    for at, _, _ in weights:
        plain_claim[at + 44] = 2
    _assert_same(Model.from_bytes(_reseal(plain_claim)).predict(images, batch_size=5), expected, "FC_PANEL8X4 layout")
    for bad in (65, -65 & 0xFF, 0x80):
        lying = bytearray(blob)
        lying[weights[0][1] + 3] = bad
        with pytest.raises(ModelFormatError, match=r"outside \[-64, 64\]"):
            Model.from_bytes(_reseal(lying))

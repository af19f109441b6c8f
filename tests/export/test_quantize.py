"""int8 quantization: fused int8 kernels in onnxruntime, reduce-range weights, float Softmax,
calibration on training images only, and the CLI's errors."""

import gzip
import json
import struct

import numpy as np
import pytest
from test_export import SHAPES, run_cli, wrong_shape_onnx  # noqa: F401  (shared helpers)

REDUCED_WEIGHT_RANGE = (-64, 64)


def int8_weights(model):
    """The quantized weight tensors: int8 initializers feeding a DequantizeLinear as input 0."""
    from onnx import TensorProto, numpy_helper

    int8 = {t.name: t for t in model.graph.initializer if t.data_type == TensorProto.INT8}
    return [
        numpy_helper.to_array(int8[n.input[0]])
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in int8
    ]


@pytest.fixture(scope="module")
def calibration_images(train_subset):
    return train_subset[0][:200]


@pytest.mark.parametrize("activation, filters, dense_units", SHAPES)
def test_int8_graph_runs_fused_int8_kernels(
    tiny_model_factory, calibration_images, tmp_path, activation, filters, dense_units
):
    import onnx

    from edgecnn.export.quantize import optimized_op_counts, quantize_onnx

    _, float_path = tiny_model_factory(activation, filters, dense_units)
    int8_path = quantize_onnx(float_path, tmp_path / "model.int8.onnx", calibration_images)
    ops = optimized_op_counts(int8_path)  # the graph onnxruntime runs at its default level
    assert ops.get("QLinearConv") == 1, ops
    assert ops.get("QGemm") == 3, ops  # all three Dense layers, bias folded in as int32
    for float_op in ("Conv", "Gemm", "MatMul", "QLinearAdd", "QLinearSoftmax", "Add"):
        assert float_op not in ops, f"{float_op} left in onnxruntime's optimized graph: {ops}"
    model = onnx.load(str(int8_path))
    # Softmax stays float, fed by the last DequantizeLinear.
    producers = {out: node for node in model.graph.node for out in node.output}
    (softmax,) = [n for n in model.graph.node if n.op_type == "Softmax"]
    assert producers[softmax.input[0]].op_type == "DequantizeLinear"
    weights = int8_weights(model)
    assert len(weights) == 4  # conv + 3 dense
    low, high = REDUCED_WEIGHT_RANGE
    assert all(w.min() >= low and w.max() <= high for w in weights), [(w.min(), w.max()) for w in weights]


def test_int8_batch_dimension_stays_dynamic(tiny_model_factory, calibration_images, fashion_test_subset, tmp_path):
    import onnxruntime as ort

    from edgecnn.export.quantize import quantize_onnx
    from edgecnn.runtime.data import to_model_input

    _, float_path = tiny_model_factory("relu")
    int8_path = quantize_onnx(float_path, tmp_path / "model.int8.onnx", calibration_images)
    session = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 28, 28, 1]
    images = to_model_input(fashion_test_subset[0][:9])
    batched = session.run(None, {"input": images})[0]
    singles = np.concatenate([session.run(None, {"input": images[i : i + 1]})[0] for i in range(9)])
    assert batched.shape == (9, 10)
    np.testing.assert_array_equal(batched, singles)


def test_full_range_and_per_tensor_options(tiny_model_factory, calibration_images, tmp_path):
    import onnx

    from edgecnn.export.quantize import quantize_onnx

    _, float_path = tiny_model_factory("relu")
    full = onnx.load(str(quantize_onnx(float_path, tmp_path / "full.onnx", calibration_images, reduce_range=False)))
    # Symmetric full range: every weight tensor's largest magnitude maps to 127.
    assert all(np.abs(w).max() == 127 for w in int8_weights(full))
    per_tensor = onnx.load(str(quantize_onnx(float_path, tmp_path / "pt.onnx", calibration_images, per_channel=False)))
    scales = {t.name: t for t in per_tensor.graph.initializer}
    weight_dq = [
        n
        for n in per_tensor.graph.node
        if n.op_type == "DequantizeLinear"
        and n.input[0] in scales
        and scales[n.input[0]].data_type == onnx.TensorProto.INT8
    ]
    assert weight_dq and all(list(scales[n.input[1]].dims) == [] for n in weight_dq)


def activation_scales(model):
    """Scale of every per-tensor QuantizeLinear (the calibrated activation ranges), by tensor name."""
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return {n.input[0]: float(values[n.input[1]]) for n in model.graph.node if n.op_type == "QuantizeLinear"}


def test_calibration_methods_give_their_own_ranges(tiny_model_factory, calibration_images, tmp_path, monkeypatch):
    import onnx

    from edgecnn.export import quantize

    # The entropy search is pure Python, quadratic in the histogram size: a smaller one keeps this fast.
    monkeypatch.setitem(quantize.CALIBRATORS, "entropy", ("Entropy", {"num_bins": 512, "num_quantized_bins": 128}))
    _, float_path = tiny_model_factory("relu")
    scales = {}
    for method in quantize.CALIBRATION_METHODS:
        path = quantize.quantize_onnx(float_path, tmp_path / f"{method}.onnx", calibration_images, method=method)
        quantize.check_int8_kernels(path)
        scales[method] = activation_scales(onnx.load(str(path)))
    minmax = scales["minmax"]
    assert minmax.keys() == scales["entropy"].keys() == scales["percentile"].keys()
    # Entropy and percentile clip outliers: no range wider than MinMax's, some narrower
    # (onnxruntime's own entropy defaults would reproduce MinMax exactly).
    for method in ("entropy", "percentile"):
        assert all(scales[method][t] <= minmax[t] * (1 + 1e-6) for t in minmax), (method, scales)
        assert any(scales[method][t] < minmax[t] * (1 - 1e-3) for t in minmax), (method, scales)


def test_reference_int8_model(reference_onnx_path, reference_int8_onnx_path, fashion_test_subset):
    """The shared fixture: fused kernels, and int8 predictions close to float ones."""
    import onnxruntime as ort

    from edgecnn.export.quantize import check_int8_kernels
    from edgecnn.runtime.data import to_model_input

    ops = check_int8_kernels(reference_int8_onnx_path)
    assert ops.get("QLinearConv") == 1 and ops.get("QGemm") == 3, ops
    images, _labels = fashion_test_subset
    x = to_model_input(images)
    run = lambda p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]  # noqa: E731
    float_pred, int8_pred = run(reference_onnx_path).argmax(1), run(reference_int8_onnx_path).argmax(1)
    agreement = np.mean(float_pred == int8_pred)
    assert agreement >= 0.97, f"int8 and float agree on only {agreement:.1%} of {len(x)} test images"
    assert reference_int8_onnx_path.stat().st_size <= 0.28 * reference_onnx_path.stat().st_size


def test_kernel_check_rejects_float_and_unfused_models(tiny_model_factory, calibration_images, tmp_path):
    import onnx
    from onnxruntime.quantization import QuantFormat, quantize_static

    from edgecnn.export.quantize import Int8KernelError, check_int8_kernels, make_calibration_reader

    _, float_path = tiny_model_factory("relu")
    with pytest.raises(Int8KernelError, match="no fused int8 kernel"):
        check_int8_kernels(float_path)

    def quantize_raw_export(**options):
        raw = tmp_path / "raw.int8.onnx"
        calibration = make_calibration_reader(calibration_images, "input")
        quantize_static(
            str(float_path),
            str(raw),
            calibration,
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            **options,
        )
        return raw

    # onnxruntime's own defaults on the raw export: Softmax becomes QLinearSoftmax (rejected) ...
    with pytest.raises(Int8KernelError, match="QLinearSoftmax"):
        check_int8_kernels(quantize_raw_export())
    # ... and without the MatMul + Add -> Gemm fusion the Dense biases stay float Adds (rejected).
    softmax = [n.name for n in onnx.load(str(float_path)).graph.node if n.op_type == "Softmax"]
    with pytest.raises(Int8KernelError, match="float compute ops left unfused: Add"):
        check_int8_kernels(quantize_raw_export(nodes_to_exclude=softmax))


def test_calibration_reads_training_images_only(tiny_model_factory, data_dir, tmp_path, monkeypatch, capsys):
    from edgecnn.export import quantize
    from edgecnn.runtime import data
    from edgecnn.runtime.data import to_model_input

    reads, calibrated = [], []
    real_load_split, real_reader = data.load_split, quantize.make_calibration_reader

    def spy_load_split(data_dir, split, limit=None):
        reads.append((split, limit))
        return real_load_split(data_dir, split, limit)

    def spy_reader(images, *args, **kwargs):
        calibrated.append(np.array(images))
        return real_reader(images, *args, **kwargs)

    monkeypatch.setattr(data, "load_split", spy_load_split)
    monkeypatch.setattr(quantize, "make_calibration_reader", spy_reader)
    _, float_path = tiny_model_factory("relu")
    status, _stdout, stderr = run_cli(
        capsys,
        "quantize",
        float_path,
        "--out",
        tmp_path / "q.onnx",
        "--data",
        data_dir,
        "--samples",
        150,
        "--eval-samples",
        100,
    )
    assert status == 0, stderr
    assert reads == [("train", 150), ("test", 100)]  # test images only for the accuracy figures
    (images,) = calibrated
    np.testing.assert_array_equal(images, to_model_input(real_load_split(data_dir, "train", 150)[0]))
    sidecar = json.loads((tmp_path / "q.onnx.json").read_text())
    assert sidecar["quantization"]["calibration"]["samples"] == 150
    assert sidecar["quantization"]["calibration"]["split"] == "train"
    assert sidecar["quantization"]["reduce_range"] is True and sidecar["quantization"]["per_channel"] is True
    assert (
        sidecar["quantization"]["int8_weight_range"][0] >= -64 and sidecar["quantization"]["int8_weight_range"][1] <= 64
    )
    assert sidecar["accuracy"]["test_images"] == 100
    assert "QGemm" in sidecar["onnxruntime_optimized_ops"]
    assert sidecar["size_ratio"] == round((tmp_path / "q.onnx").stat().st_size / float_path.stat().st_size, 4)


def test_quantize_cli_empty_calibration_set(tiny_model_factory, data_dir, tmp_path, capsys):
    _, float_path = tiny_model_factory("relu")
    out = tmp_path / "q.onnx"
    status, _, stderr = run_cli(capsys, "quantize", float_path, "--out", out, "--data", data_dir, "--samples", 0)
    assert status == 2 and "calibration set is empty" in stderr
    # A dataset folder whose training split holds no images at all.
    empty = tmp_path / "empty-data"
    empty.mkdir()
    write_idx_split(empty, "train", np.zeros((0, 28, 28), np.uint8))
    write_idx_split(empty, "test", np.zeros((5, 28, 28), np.uint8))
    status, _, stderr = run_cli(capsys, "quantize", float_path, "--out", out, "--data", empty)
    assert status == 2 and "calibration set is empty" in stderr and "holds none" in stderr
    assert not out.exists()


def test_quantize_rejects_empty_array(tiny_model_factory, tmp_path):
    from edgecnn.export.quantize import CalibrationError, quantize_onnx

    _, float_path = tiny_model_factory("relu")
    with pytest.raises(CalibrationError, match="calibration set is empty"):
        quantize_onnx(float_path, tmp_path / "q.onnx", np.zeros((0, 28, 28, 1), np.float32))


def write_idx_split(folder, split, images):
    """Write an MNIST-format split (gzip IDX) holding `images` (uint8 (N, 28, 28)) and zero labels."""
    prefix = "train" if split == "train" else "t10k"
    n = len(images)
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + images.astype(np.uint8).tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + np.zeros(n, np.uint8).tobytes())


def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            return {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return set()


def _ort_matmul_integer(a_uint8, w_int8):
    """onnxruntime's u8s8 integer GEMM (the MLAS kernel QLinearConv/QGemm use) with an int32 output."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    k, n = w_int8.shape
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w"], ["y"])],
        "u8s8",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, ["M", k])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, ["M", n])],
        [numpy_helper.from_array(w_int8, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"a": a_uint8})[0]


@pytest.mark.parametrize("weight_limit", [64, 127], ids=["reduce-range", "full-range"])
def test_why_reduce_range_is_the_default(weight_limit):
    """onnxruntime's u8s8 GEMM is exact with weights in [-64, 64] on every CPU; with full-range
    weights it saturates (vpmaddubsw adds two u8*s8 products into an int16) on x86 without VNNI."""
    import platform

    rng = np.random.default_rng(0)
    a = np.concatenate([np.full((1, 256), 255, np.uint8), rng.integers(0, 256, (31, 256)).astype(np.uint8)])
    w = np.concatenate(
        [
            np.full((256, 1), weight_limit, np.int8),
            rng.integers(-weight_limit, weight_limit + 1, (256, 63)).astype(np.int8),
        ],
        axis=1,
    )
    exact = a.astype(np.int64) @ w.astype(np.int64)
    got = _ort_matmul_integer(a, w)
    flags = _cpu_flags()
    x86_without_vnni = platform.machine() in ("x86_64", "AMD64") and not ({"avx512_vnni", "avx_vnni"} & flags)
    if weight_limit == 64:
        np.testing.assert_array_equal(got, exact)
    elif x86_without_vnni:
        # 255*127 + 255*127 = 64770 > 32767: the all-255 row times the all-127 column must saturate.
        assert got[0, 0] < exact[0, 0], "expected onnxruntime's u8s8 kernel to saturate on this CPU (no VNNI)"
    elif "avx512_vnni" in flags or "avx_vnni" in flags:
        np.testing.assert_array_equal(got, exact)  # vpdpbusd accumulates in int32: exact
    else:
        pytest.skip(f"full-range u8s8 behaviour not characterised on {platform.machine()} (reduce-range is checked)")

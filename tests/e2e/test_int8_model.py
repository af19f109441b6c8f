"""The reference CNN, int8 end to end: `edgecnn quantize` output -> .ecnn -> native, bit-exact
with onnxruntime on real test images; weights a quarter of the float file; verify's figures."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def int8_pair(reference_int8_onnx_path, tmp_path_factory):
    from edgecnn.export.compiler import compile_onnx

    out = tmp_path_factory.mktemp("int8") / "model.int8.ecnn"
    return reference_int8_onnx_path, out, compile_onnx(reference_int8_onnx_path, out)


def test_reference_model_int8_logits_bit_identical(int8_pair, fashion_test_subset):
    import onnx

    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.export.compiler import compile_model, quantized_output_model
    from edgecnn.export.quantize import optimized_op_counts
    from edgecnn.runtime import Model
    from edgecnn.runtime.data import to_model_input
    from edgecnn.verify_int8 import _ort_run, match_codes

    onnx_path, ecnn_path, _ = int8_pair
    images, labels = fashion_test_subset
    x = to_model_input(images)
    cut, scale, zp = quantized_output_model(onnx.load(str(onnx_path)))
    cut_path = ecnn_path.with_name("cut.onnx")
    onnx.save(cut, str(cut_path))
    ops = optimized_op_counts(cut_path)
    assert ops.get("QGemm") == 3 and ops.get("QLinearConv") == 1 and "Gemm" not in ops, ops  # still fused
    reference = _ort_run(cut, x)[0]
    native = Model.from_bytes(compile_model(cut)[0]).predict(x)
    codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zp  # noqa: E731
    match = match_codes("logits", "QGemm", codes(native), codes(reference))
    assert match.identical == match.values, (
        f"{match.values - match.identical} of {match.values} int8 logits differ from onnxruntime, "
        f"largest by {match.max_step_diff} steps (first at image #{match.first_sample})"
    )

    # The full model (float Softmax after the int8 logits): same classes, same accuracy.
    probabilities = Model.load(ecnn_path).predict(x)
    ort_probabilities = run_onnx(ort_session(onnx_path), x)
    assert np.array_equal(probabilities.argmax(1), ort_probabilities.argmax(1))
    assert np.mean(probabilities.argmax(1) == labels) == np.mean(ort_probabilities.argmax(1) == labels)
    assert np.abs(probabilities - ort_probabilities).max() <= 1e-5


def test_reference_model_int8_weights_are_a_quarter(int8_pair, reference_onnx_path):
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime import Model

    _, ecnn_path, report = int8_pair
    int8 = Model.load(ecnn_path)
    float_blob, float_report = compile_model(reference_onnx_path)
    assert int8.weight_bytes == report.weight_bytes
    ratio = report.weight_bytes / float_report.weight_bytes
    assert ratio <= 0.26, f"int8 weights are {ratio:.1%} of the float ones"
    assert report.file_bytes / len(float_blob) <= 0.26
    # The float model's ops (test_compiler lists them), the ones between the normalisation and the
    # Softmax on int8 codes: a QUANTIZE after the two CHANNEL_ARITH, a DEQUANTIZE before the float
    # SOFTMAX. MAX_POOL_2D too runs on the codes: onnxruntime's float MaxPool between its Q/DQ pairs, exactly.
    ops = [layer.op for layer in int8.layers]
    float_ops = [layer.op for layer in Model.from_bytes(float_blob).layers]
    assert float_ops[:2] == ["CHANNEL_ARITH", "CHANNEL_ARITH"] and float_ops[-1] == "SOFTMAX", float_ops
    assert ops == [*float_ops[:2], "QUANTIZE", *float_ops[2:-1], "DEQUANTIZE", "SOFTMAX"], (ops, float_ops)


def test_verify_cli_reports_int8_figures(int8_pair, capsys):
    from edgecnn.cli import main

    onnx_path, ecnn_path, _ = int8_pair
    status = main(["verify", str(onnx_path), str(ecnn_path), "--samples", "100", "--layers", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert status == 0 and figures["passed"] and figures["kind"] == "int8"
    assert figures["extra"]["ecnn_is_fresh_compile"] is True
    assert figures["extra"]["int8_logits"]["identical_fraction"] == 1.0
    layers = figures["extra"]["int8_layers"]
    # onnxruntime runs the MaxPool in float (its output pair is read twice, by Shape and Transpose,
    # so it stays int8 while the Conv's becomes uint8) and requantizes for the first QGemm
    quantized = ["QuantizeLinear", "QLinearConv", "QuantizeLinear", "QuantizeLinear", "QGemm", "QGemm", "QGemm"]
    assert [row["op"] for row in layers] == quantized
    assert all(row["identical_fraction"] == 1.0 and row["max_step_diff"] == 0 for row in layers)


def test_verify_layers_on_a_float_model_is_an_error(reference_onnx_path, tmp_path, capsys):
    from edgecnn.cli import main
    from edgecnn.export.compiler import compile_onnx

    ecnn = tmp_path / "model.ecnn"
    compile_onnx(reference_onnx_path, ecnn)
    assert main(["verify", str(reference_onnx_path), str(ecnn), "--samples", "10", "--layers"]) == 2
    assert "not an int8 model" in capsys.readouterr().err


@pytest.mark.parametrize("activation", ["leaky_relu", "relu"])
@pytest.mark.parametrize("per_channel", [True, False])
def test_small_quantized_models_bit_identical(
    tiny_model_factory, train_subset, fashion_test_subset, tmp_path, activation, per_channel
):
    """`edgecnn quantize` variants: LeakyRelu (onnxruntime: QLinearLeakyRelu, a table built with float
    math; native: DEQUANTIZE -> float LeakyRelu -> QUANTIZE, the same operations) and per-tensor weights."""
    import onnx

    from edgecnn.export.compiler import quantized_output_model
    from edgecnn.export.quantize import quantize_onnx
    from edgecnn.runtime.data import to_model_input
    from edgecnn.verify_int8 import _native_run, _ort_run, match_codes

    _, float_path = tiny_model_factory(activation)
    int8_path = quantize_onnx(float_path, tmp_path / "m.int8.onnx", train_subset[0][:200], per_channel=per_channel)
    cut, scale, zp = quantized_output_model(onnx.load(str(int8_path)))
    x = to_model_input(fashion_test_subset[0][:300])
    codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zp  # noqa: E731
    match = match_codes("logits", "QGemm", codes(_native_run(cut, x, None)), codes(_ort_run(cut, x)[0]))
    assert match.identical == match.values, match


def test_qoperator_uint8_model_bit_identical(tiny_model_factory, train_subset, fashion_test_subset, tmp_path):
    """A whole QOperator-format model with uint8 activations (quantize_static's other format)."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgecnn.export.compiler import quantized_output_model
    from edgecnn.export.quantize import QUANTIZED_OP_TYPES, make_calibration_reader
    from edgecnn.runtime.data import to_model_input
    from edgecnn.verify_int8 import _native_run, _ort_run, match_codes

    _, float_path = tiny_model_factory("relu")
    prepared, out = tmp_path / "prepared.onnx", tmp_path / "qop.onnx"
    quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
    softmax = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Softmax"]
    quantize_static(
        str(prepared),
        str(out),
        make_calibration_reader(train_subset[0][:200], "input"),
        quant_format=QuantFormat.QOperator,
        op_types_to_quantize=list(QUANTIZED_OP_TYPES),
        nodes_to_exclude=softmax,
        per_channel=True,
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    model = onnx.load(str(out))
    assert {"QLinearConv", "QGemm"} <= {n.op_type for n in model.graph.node}
    cut, scale, zp = quantized_output_model(model)
    x = to_model_input(fashion_test_subset[0][:300])
    codes = lambda v: np.rint(v.astype(np.float64) / float(scale)).astype(np.int64) + zp  # noqa: E731
    match = match_codes("logits", "QGemm", codes(_native_run(cut, x, None)), codes(_ort_run(cut, x)[0]))
    assert match.identical == match.values, match

"""The ONNX -> .ecnn compiler: graphs as tf2onnx exports them, the file layout, the arena
plan, and clear errors for what it cannot compile."""

import json
import struct
import zlib

import numpy as np
import pytest
from needs import need

onnx = need("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgecnn.export.compiler import CompileError, compile_model, compile_onnx  # noqa: E402
from edgecnn.runtime.optable import Kind  # noqa: E402


def _model(nodes, in_shape, out_shape, inits=(), batch="N"):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, *in_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, *out_shape])],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_reference_model_compiles_to_the_expected_native_ops(reference_onnx_path):
    _blob, report = compile_model(reference_onnx_path)
    ops = [row.op for row in report.layers]
    # Normalization (Sub, Mul), conv+relu, pool, three dense layers (bias and relu fused), softmax;
    # no RESHAPE or transpose left: the layout is NHWC throughout.
    assert ops == [
        "CHANNEL_ARITH(sub)",
        "CHANNEL_ARITH(mul)",
        "CONV_2D+relu",
        "MAX_POOL_2D",
        "FULLY_CONNECTED+relu",
        "FULLY_CONNECTED+relu",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ], ops
    assert report.layers[2].output_shape == ("N", 26, 26, 16)
    assert report.layers[4].macs == 25 * 25 * 16 * 512
    # Stored weight bytes: the dense weights are packed in panels of 16 outputs (docs/file-format.md,
    # "Packed weights"), so 200 and 10 outputs are padded to 208 and 16.
    assert report.weight_bytes == 4 * (3 * 3 * 16 + 16 + 10000 * 512 + 512 + 512 * 208 + 200 + 200 * 16 + 10 + 2)
    # The normalised image (28*28 floats) and the conv output (26*26*16) are live together:
    # the floor. Sub/Mul run in place, the pool writes over the conv output.
    assert report.arena_bytes_per_sample == 3136 + 43264
    assert report.arena_bytes_per_sample < report.activation_bytes
    table = report.format_table()
    assert "arena" in table and "MACs" in table and "FULLY_CONNECTED+relu" in table


def test_file_layout_follows_format_md(reference_onnx_path, tmp_path):
    report = compile_onnx(reference_onnx_path, tmp_path / "m.ecnn")
    data = (tmp_path / "m.ecnn").read_bytes()
    fields = struct.unpack_from("<4s19I", data)
    magic, version, file_size, header_size, flags, num_tensors, tensors_offset, num_ops = fields[:8]
    ops_offset, ops_size, data_offset, data_size = fields[8:12]
    batch, metadata_offset, metadata_size, reserved = fields[16:20]
    assert (magic, version, header_size, flags, tensors_offset) == (b"ECNN", 2, 80, 0, 80)
    assert batch == 0 and reserved == 0  # the reference model runs any batch
    assert ops_offset + ops_size <= metadata_offset and metadata_offset % 4 == 0
    assert metadata_offset + metadata_size <= data_offset
    meta = json.loads(data[metadata_offset : metadata_offset + metadata_size])
    assert meta["inputs"][0]["shape"][0] is None or isinstance(meta["inputs"][0]["shape"][0], str)  # free batch
    assert file_size == len(data) == report.file_bytes
    assert struct.unpack_from("<I", data, file_size - 4)[0] == zlib.crc32(data[:-4])
    assert ops_offset == 80 + 48 * num_tensors and data_offset % 64 == 0
    assert data_offset + data_size == file_size - 4 and num_ops == len(report.layers)
    for i in range(num_tensors):
        kind, _dtype, _rank, _axis = struct.unpack_from("<4B", data, 80 + 48 * i)
        offset = struct.unpack_from("<I", data, 80 + 48 * i + 24)[0]
        if kind in (Kind.CONSTANT, Kind.ACTIVATION):
            assert offset % 64 == 0


def test_fixed_batch_gemm_graph_compiles_like_the_dynamic_one():
    """tf2onnx with batch 1 emits Gemm and a constant flatten shape; the result is the same native graph."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(12, 5)).astype(np.float32)
    b = rng.normal(size=5).astype(np.float32)
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "W", "B"], ["g"]),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    fixed = _model(nodes, (2, 2, 3), (5,), [("shape", np.array([1, 12], np.int64)), ("W", w), ("B", b)], batch=1)
    dyn = _model(nodes, (2, 2, 3), (5,), [("shape", np.array([-1, 12], np.int64)), ("W", w), ("B", b)])
    blob_fixed, rep_fixed = compile_model(fixed)
    blob_dyn, rep_dyn = compile_model(dyn)
    assert [r.op for r in rep_fixed.layers] == [r.op for r in rep_dyn.layers] == ["FULLY_CONNECTED", "SOFTMAX"]
    # the same tensors and ops; the header records the fixed batch, the metadata each model's shape
    header = lambda blob: struct.unpack_from("<I", blob, 12)[0]  # noqa: E731
    assert header(blob_fixed) == header(blob_dyn) == 80
    assert struct.unpack_from("<I", blob_fixed, 64)[0] == 1 and struct.unpack_from("<I", blob_dyn, 64)[0] == 0
    ops_end = lambda blob: sum(struct.unpack_from("<II", blob, 32))  # noqa: E731
    assert blob_fixed[80 : ops_end(blob_fixed)] == blob_dyn[80 : ops_end(blob_dyn)]
    data = lambda blob: blob[struct.unpack_from("<I", blob, 40)[0] : -4]  # noqa: E731
    assert data(blob_fixed) == data(blob_dyn)


def test_chain_of_dense_layers_ping_pongs_between_two_buffers():
    rng = np.random.default_rng(1)
    nodes, inits, prev = [], [], "x"
    for i in range(5):
        out = "y" if i == 4 else f"h{i}"
        nodes.append(helper.make_node("MatMul", [prev, f"W{i}"], [out]))
        inits.append((f"W{i}", rng.normal(size=(64, 64)).astype(np.float32)))
        prev = out
    _, report = compile_model(_model(nodes, (64,), (64,), inits))
    assert report.activation_bytes == 4 * 64 * 4  # four intermediate tensors of 64 floats
    assert report.arena_bytes_per_sample == 2 * 256  # two alternating buffers


def test_elementwise_op_runs_in_place():
    # (the Relu fuses into the MatMul, so the Sub cannot fold into its bias and runs as an op)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Relu", ["m"], ["r"]),
        helper.make_node("Sub", ["r", "K"], ["s"]),
        helper.make_node("Sigmoid", ["s"], ["g"]),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    inits = [("W", np.eye(16, dtype=np.float32)), ("K", np.float32(0.5))]
    _, report = compile_model(_model(nodes, (16,), (16,), inits))
    assert report.activation_bytes == 3 * 64 and report.arena_bytes_per_sample == 64


@pytest.mark.parametrize(
    "nodes, inits, in_shape, out_shape, expected",
    [
        ([helper.make_node("Sin", ["x"], ["y"], name="my_sin")], [], (4,), (4,), ["node 'my_sin' (Sin)", "supported"]),
        (
            [helper.make_node("Div", ["x", "x"], ["y"], name="twice")],
            [],
            (4,),
            (4,),
            ["node 'twice' (Div)", "two runtime tensors"],
        ),
        (
            [
                helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
                helper.make_node("Flatten", ["t"], ["y"], axis=2, name="flat"),
            ],
            [],
            (2, 3),
            (6,),
            ["node 'flat' (Flatten)", "batch"],
        ),
        (
            [helper.make_node("Gemm", ["x", "W"], ["y"], transA=1, name="g")],
            [("W", np.ones((3, 3), np.float32))],
            (3,),
            (3,),
            ["node 'g' (Gemm)", "transA"],
        ),
        ([helper.make_node("MatMul", ["x", "x2"], ["y"], name="mm")], [], (3,), (3,), ["node 'mm' (MatMul)", "input"]),
        (
            [helper.make_node("Softmax", ["x"], ["y"], axis=0, name="sm")],
            [],
            (3, 4),
            (3, 4),
            ["node 'sm' (Softmax)", "batch"],
        ),
    ],
)
def test_unsupported_graphs_fail_naming_the_node_and_op(nodes, inits, in_shape, out_shape, expected):
    with pytest.raises(CompileError) as info:
        compile_model(_model(nodes, in_shape, out_shape, inits))
    for text in expected:
        assert text in str(info.value), str(info.value)


def test_fixed_batch_larger_than_one_compiles_and_runs_that_batch_only():
    from edgecnn.runtime import Model
    from edgecnn.runtime.errors import InputError

    model = _model([helper.make_node("Relu", ["x"], ["y"])], (4,), (4,), batch=8)
    native = Model.from_bytes(compile_model(model)[0])
    assert native.batch == 8 and native.input_shape == (4,)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    np.testing.assert_array_equal(native.predict(x), np.maximum(x, 0))
    with pytest.raises(InputError, match=r"fixes the batch at 8: it takes input of shape \(8, 4\)"):
        native.predict(x[:3])


def test_compile_command_writes_the_file_and_prints_the_table(reference_onnx_path, tmp_path, capsys):
    from edgecnn.cli import main

    out = tmp_path / "ref.ecnn"
    assert main(["compile", str(reference_onnx_path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "CONV_2D+relu" in printed and "arena:" in printed and f"wrote {out}" in printed


def test_compile_command_reports_a_missing_file(tmp_path, capsys):
    from edgecnn.cli import main

    assert main(["compile", str(tmp_path / "nope.onnx")]) == 2
    assert "no such ONNX file" in capsys.readouterr().err


def test_supported_ops_in_messages_are_the_registered_lowerings():
    from edgecnn.export.compiler.graph import LOWERINGS

    with pytest.raises(CompileError) as info:
        compile_model(_model([helper.make_node("Sin", ["x"], ["y"], name="s")], (4,), (4,)))
    listed = str(info.value).split("supported: ", 1)[1]
    for (domain, op_type), reg in LOWERINGS.items():
        assert (op_type in listed) == reg.listed, (domain, op_type)
    assert "com.microsoft: QGemm" in listed


TEMPLATE_CHECK = """
import numpy as np, onnxruntime as ort
from onnx import TensorProto, helper
from edgecnn.export.compiler import CompileError, compile_model
from edgecnn.runtime import Model

graph = helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
try:
    compile_model(model)
    raise SystemExit("Neg compiled before the template was imported")
except CompileError:
    pass
import edgecnn.export.compiler.ops.TEMPLATE  # registers its example op
x = np.random.default_rng(0).normal(size=(5, 3, 4)).astype(np.float32)
expected = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
assert np.array_equal(Model.from_bytes(compile_model(model)[0]).predict(x), expected)
print("ok")
"""


def test_the_op_template_works_once_imported():
    """ops/TEMPLATE.py is not registered, but a copy of it lowers its example op (Neg) exactly as
    onnxruntime computes it; run in its own process so the registration does not leak."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", TEMPLATE_CHECK], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("outputs, packed", [(2, False), (10, False), (64, True), (130, True)])
def test_g4_weights_are_packed_unless_padding_would_swell_a_small_head(outputs, packed):
    """FC_PANEL16 pads a G4 weight to whole panels of 16 outputs: a 2-output head would take 8x
    its flash on a microcontroller, for a layer too small to be worth a fast kernel."""
    from edgecnn.export.compiler.ir import DType, Layout, NOp, NTensor
    from edgecnn.export.compiler.passes.pack import pack_weights

    w = np.arange(outputs * 40, dtype=np.float32).reshape(outputs, 40)
    tensors = [
        NTensor(Kind.ACTIVATION, (40,)),
        NTensor(Kind.CONSTANT, w.shape, DType.F32, w.reshape(-1)),
        NTensor(Kind.ACTIVATION, (outputs,)),
    ]
    pack_weights(tensors, [NOp("FULLY_CONNECTED_G4", [0, 1, None], [2])])
    assert tensors[1].layout == (Layout.FC_PANEL16 if packed else Layout.PLAIN)
    assert tensors[1].size >= w.nbytes and (packed or np.array_equal(tensors[1].data, w.reshape(-1)))

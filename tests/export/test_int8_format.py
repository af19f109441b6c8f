"""int8 in the .ecnn file: what the compiler writes (int8 weights, per-channel scales as data)
and what the C loader refuses (bad scales and zero points, unsupported fused activations,
accumulators that could overflow), each with a message naming the problem."""

import struct
import zlib

import numpy as np
import pytest
from test_int8_ops import Builder, dense_case

HEADER = 80  # format version 2
RECORD = 48


def compiled_dense(**kwargs):
    from edgecnn.export.compiler import compile_model

    model, x, *_ = dense_case(np.random.default_rng(7), fmt="qgemm", **kwargs)
    blob, report = compile_model(model)
    return bytearray(blob), report, x


def tensors(blob):
    """(index, record offset, kind, dtype, quant_count, scale_offset, zp_offset) of every tensor."""
    count = struct.unpack_from("<I", blob, 20)[0]
    rows = []
    for i in range(count):
        at = HEADER + RECORD * i
        kind, dtype = blob[at], blob[at + 1]
        qcount, soff, zoff = struct.unpack_from("<III", blob, at + 32)
        rows.append((i, at, kind, dtype, qcount, soff, zoff))
    return rows


def reseal(blob):
    struct.pack_into("<I", blob, len(blob) - 4, zlib.crc32(bytes(blob[:-4])) & 0xFFFFFFFF)
    return bytes(blob)


def load(blob):
    from edgecnn.runtime import Model

    return Model.from_bytes(reseal(blob))


def test_file_holds_int8_weights_and_per_channel_quantization():
    blob, report, x = compiled_dense(k=40, o=7)
    rows = tensors(blob)
    data = struct.unpack_from("<I", blob, 40)[0]
    kinds_dtypes = {(kind, dtype) for _, _, kind, dtype, *_ in rows}
    assert (4, 2) in kinds_dtypes and (4, 4) in kinds_dtypes  # int8 weight and int32 bias constants
    weight = next(r for r in rows if r[2] == 4 and r[3] == 2)
    assert weight[4] == 7  # one scale per output channel
    scales = np.frombuffer(bytes(blob[data + weight[5] : data + weight[5] + 28]), "<f4")
    assert np.all(scales > 0) and len(np.unique(scales)) > 1
    # int8 weights (one byte each; a packed layout may pad a panel) + int32 bias, far below float32's 4 bytes
    assert 40 * 7 + 7 * 4 <= report.weight_bytes <= 40 * 8 + 7 * 4 < 40 * 7 * 4
    load(blob).predict(x)  # and the C loader accepts it


@pytest.mark.parametrize(
    "edit, message",
    [
        ("scale_zero", "quantization scale is not a finite number > 0"),
        ("scale_nan", "quantization scale is not a finite number > 0"),
        ("zero_point_range", "zero point outside the dtype's range"),
        ("activation_per_channel", "int8 activation is not quantized per tensor"),
        ("leaky_relu", "int8 op with a fused activation other than Relu"),
    ],
)
def test_loader_refuses_bad_int8_tensors(edit, message):
    from edgecnn.runtime.errors import NativeError

    blob, _, _ = compiled_dense()
    rows = tensors(blob)
    data = struct.unpack_from("<I", blob, 40)[0]
    activation = next(r for r in rows if r[2] in (1, 2, 3) and r[3] == 2)  # an int8 runtime tensor
    weight = next(r for r in rows if r[2] == 4 and r[3] == 2)
    if edit == "scale_zero":
        struct.pack_into("<f", blob, data + activation[5], 0.0)
    elif edit == "scale_nan":
        struct.pack_into("<f", blob, data + weight[5], float("nan"))
    elif edit == "zero_point_range":
        struct.pack_into("<i", blob, data + activation[6], 128)
    elif edit == "activation_per_channel":
        # The FC output [O] gets the weight's O scales and zero points: valid per-channel data.
        output = next(
            r for r in rows if r[2] in (2, 3) and r[3] == 2 and struct.unpack_from("<I", blob, r[1] + 4)[0] == weight[4]
        )
        struct.pack_into("<III", blob, output[1] + 32, weight[4], weight[5], weight[6])
        blob[output[1] + 3] = 0
    else:  # FULLY_CONNECTED's `act` param -> LeakyRelu: the int8 kernel only folds Relu
        ops_offset = struct.unpack_from("<I", blob, 32)[0]
        pos, n_ops = ops_offset, struct.unpack_from("<I", blob, 28)[0]
        for _ in range(n_ops):
            op_type, size = struct.unpack_from("<HH", blob, pos)
            if op_type == 3:
                struct.pack_into("<I", blob, pos + size - 12, 2)
            pos += size
    with pytest.raises(NativeError) as exc:
        load(blob)
    assert message in str(exc.value)


def test_loader_refuses_an_accumulator_that_could_overflow():
    from edgecnn.runtime.errors import UnsupportedModelError

    # 120,000 terms of up to |x - zx| * |w| >= 148 * 128 exceed int32 in the worst case.
    blob, _, _ = compiled_dense(k=120000, o=1)
    with pytest.raises(UnsupportedModelError, match="accumulator could overflow"):
        load(blob)


def test_compiler_refuses_int8_ops_it_cannot_run():
    """A QLinearAdd whose FIRST operand is a constant (onnxruntime's kernel for that case rounds
    differently from the one the int8 ADD reproduces): a clear compile error naming the node."""
    from edgecnn.export.compiler import CompileError, compile_model

    bld = Builder()
    scale, zp = np.float32(0.1), np.uint8(128)
    t = bld.node("Transpose", ["input"], perm=[0, 3, 1, 2])
    q = bld.q(t, scale, zp)
    k = bld.const(np.full((1, 2, 1, 1), 130, np.uint8))
    s, z = bld.const(scale), bld.const(zp)
    added = bld.node("QLinearAdd", [k, s, z, q, s, z, s, z], domain="com.microsoft")
    out = bld.node("Transpose", [bld.dq(added, scale, zp)], perm=[0, 2, 3, 1])
    with pytest.raises(CompileError, match=r"QLinearAdd.*constant as its first operand is not supported"):
        compile_model(bld.model((4, 4, 2), out))


def test_compiler_refuses_mismatched_quantization():
    """A QLinearConv whose x_scale differs from the scale its input was quantized with."""
    from onnx import numpy_helper
    from test_int8_ops import conv_case

    from edgecnn.export.compiler import CompileError, compile_model

    model, *_ = conv_case(np.random.default_rng(8), fmt="qop")
    conv = next(n for n in model.graph.node if n.op_type == "QLinearConv")
    init = next(t for t in model.graph.initializer if t.name == conv.input[1])
    init.CopyFrom(numpy_helper.from_array(np.float32(0.5), init.name))
    with pytest.raises(CompileError, match="differ from those its producer quantized it with"):
        compile_model(model)

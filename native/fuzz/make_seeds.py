"""Build the fuzzer's seed corpus: small real .ecnn files, float and int8.

Each seed is a small CNN written with onnx.helper in the shape tf2onnx gives the reference
model (NHWC input, Transpose to NCHW, Conv, MaxPool, Transpose back, flatten, MatMul/Gemm,
Softmax), with every op and option the compiler emits: CHANNEL_ARITH normalisation, Relu /
LeakyRelu / Clip, padding, stride, dilation, groups, ceil_mode pooling. The int8 seeds are
those models quantized by onnxruntime's quantize_static (QDQ, per-channel and per-tensor,
int8 and uint8 activations), exactly as `edgecnn quantize` does. Everything is compiled by
edgecnn.export.compiler, so the seeds are what the real tools write (a few KB each).

    .venv/bin/python native/fuzz/make_seeds.py native/fuzz/corpus
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

SEED = 20261125


def float_model(
    name,
    rng,
    *,
    hw=(8, 8),
    c=1,
    filters=3,
    k=3,
    conv=None,
    pool=None,
    act="Relu",
    hidden=16,
    classes=10,
    normalize=True,
    gemm=False,
    batch="N",
):
    """A float ONNX CNN: [Sub, Mul] -> Conv(+act) -> MaxPool -> flatten -> dense(+act) -> dense -> Softmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    conv = {"pads": [0, 0, 0, 0], "strides": [1, 1], "dilations": [1, 1], "group": 1, **(conv or {})}
    pool = {"kernel_shape": [2, 2], "strides": [1, 1], **(pool or {})}
    inits, nodes = [], []

    def const(arr, prefix):
        nm = f"{prefix}_{len(inits)}"
        inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def activation(x, out):
        if act == "Relu":
            nodes.append(helper.make_node("Relu", [x], [out]))
        elif act == "LeakyRelu":
            nodes.append(helper.make_node("LeakyRelu", [x], [out], alpha=0.1))
        else:  # Clip(0, 6)
            nodes.append(helper.make_node("Clip", [x, const(np.float32(0), "lo"), const(np.float32(6), "hi")], [out]))
        return out

    x = "input"
    if normalize:
        nodes.append(
            helper.make_node("Sub", [x, const(rng.uniform(0.1, 0.3, c).astype(np.float32), "mean")], ["centred"])
        )
        nodes.append(
            helper.make_node(
                "Mul", ["centred", const(rng.uniform(2, 4, c).astype(np.float32), "inv_std")], ["normalized"]
            )
        )
        x = "normalized"
    nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
    w = rng.normal(0, 0.5, (filters, c // conv["group"], k, k)).astype(np.float32)
    nodes.append(
        helper.make_node(
            "Conv",
            ["nchw", const(w, "conv_w"), const(rng.normal(0, 0.1, filters).astype(np.float32), "conv_b")],
            ["conv"],
            kernel_shape=[k, k],
            **conv,
        )
    )
    activation("conv", "conv_act")
    nodes.append(helper.make_node("MaxPool", ["conv_act"], ["pool"], **pool))
    nodes.append(helper.make_node("Transpose", ["pool"], ["nhwc"], perm=[0, 2, 3, 1]))
    nodes.append(helper.make_node("Flatten", ["nhwc"], ["flat"], axis=1))
    # The flattened size follows from the shapes; let ONNX shape inference find it.
    probe = helper.make_model(
        helper.make_graph(
            nodes,
            "probe",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, *hw, c])],
            [helper.make_tensor_value_info("flat", TensorProto.FLOAT, None)],
            inits,
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    inferred = onnx.shape_inference.infer_shapes(probe).graph.output[0]
    features = inferred.type.tensor_type.shape.dim[1].dim_value
    w1 = rng.normal(0, 1 / np.sqrt(features), (features, hidden)).astype(np.float32)
    w2 = rng.normal(0, 1 / np.sqrt(hidden), (hidden, classes)).astype(np.float32)
    b1, b2 = (rng.normal(0, 0.1, n).astype(np.float32) for n in (hidden, classes))
    if gemm:
        nodes.append(
            helper.make_node("Gemm", ["flat", const(w1.T.copy(), "fc1_w"), const(b1, "fc1_b")], ["fc1"], transB=1)
        )
    else:
        nodes.append(helper.make_node("MatMul", ["flat", const(w1, "fc1_w")], ["fc1_mm"]))
        nodes.append(helper.make_node("Add", ["fc1_mm", const(b1, "fc1_b")], ["fc1"]))
    activation("fc1", "fc1_act")
    nodes.append(helper.make_node("Gemm", ["fc1_act", const(w2, "fc2_w"), const(b2, "fc2_b")], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1))
    for i, node in enumerate(nodes):  # quantize_static's nodes_to_exclude matches by name: none may be empty
        node.name = f"{node.op_type.lower()}_{i}"
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, *hw, c])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def issue6_model(rng):
    """The issue-6 float ops in one small graph: an NCHW input (TRANSPOSE in), Pad + depthwise
    Conv, BatchNormalization, a residual Add + Relu, Sigmoid gate (Mul of two tensors), channel
    Concat, AveragePool with count_include_pad and ceil_mode, GlobalAveragePool, Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c, hw = 4, (7, 6)
    w = lambda *shape: numpy_helper.from_array(rng.normal(0, 0.5, shape).astype(np.float32))  # noqa: E731
    inits = {
        "pads": numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
        "dw": w(c, 1, 3, 3),
        "pw": w(c, c, 1, 1),
        "bn_s": w(c),
        "bn_b": w(c),
        "bn_m": w(c),
        "bn_v": numpy_helper.from_array(rng.uniform(0.5, 2, c).astype(np.float32)),
        "fc": w(10, 2 * c),
        "fc_b": w(10),
    }
    for name, t in inits.items():
        t.name = name
    nodes = [
        helper.make_node("Pad", ["input", "pads"], ["padded"]),
        helper.make_node("Conv", ["padded", "dw"], ["dconv"], group=c),
        helper.make_node("BatchNormalization", ["dconv", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"]),
        helper.make_node("Add", ["bn", "input"], ["res"]),
        helper.make_node("Relu", ["res"], ["res_relu"]),
        helper.make_node("Conv", ["res_relu", "pw"], ["pconv"]),
        helper.make_node("Sigmoid", ["pconv"], ["gate"]),
        helper.make_node("Mul", ["res_relu", "gate"], ["gated"]),
        helper.make_node("Concat", ["gated", "res_relu"], ["cat"], axis=1),
        helper.make_node(
            "AveragePool",
            ["cat"],
            ["avg"],
            kernel_shape=[3, 2],
            strides=[2, 2],
            pads=[1, 0, 1, 1],
            ceil_mode=1,
            count_include_pad=1,
        ),
        helper.make_node("GlobalAveragePool", ["avg"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc", "fc_b"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "issue6",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, *hw])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        list(inits.values()),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def quantized(model, rng, tmp: Path, *, per_channel=True, activation="int8"):
    """quantize_static QDQ, as export/quantize.py runs it (Softmax kept in float)."""
    import onnx
    from onnxruntime import quantization
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, prepared, out = tmp / "float.onnx", tmp / "prepared.onnx", tmp / "int8.onnx"
    onnx.save(model, str(src))
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    samples = [{"input": rng.uniform(0, 1, (4, *shape)).astype(np.float32)} for _ in range(4)]

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.items = iter(samples)

        def get_next(self):
            return next(self.items, None)

    excluded = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type == "Softmax"]
    qtype = quantization.QuantType.QInt8 if activation == "int8" else quantization.QuantType.QUInt8
    quantization.quantize_static(
        str(prepared),
        str(out),
        Reader(),
        quant_format=quantization.QuantFormat.QDQ,
        op_types_to_quantize=["Conv", "Gemm", "MatMul", "MaxPool", "Relu", "Transpose", "Reshape", "Flatten"],
        nodes_to_exclude=excluded,
        per_channel=per_channel,
        reduce_range=True,
        activation_type=qtype,
        weight_type=quantization.QuantType.QInt8,
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
    )
    return onnx.load(str(out))


def float_seeds(rng) -> dict:
    """The float seed models: the reference CNN's structure with Relu, then with LeakyRelu,
    padding, stride and ceil_mode pooling, then with Clip, dilation, groups and Gemm."""
    return {
        "float_relu": float_model("float_relu", rng),
        "float_leaky_pad_stride": float_model(
            "float_leaky",
            rng,
            act="LeakyRelu",
            hw=(9, 7),
            conv={"pads": [1, 1, 1, 1], "strides": [2, 1]},
            pool={"pads": [0, 0, 1, 1], "ceil_mode": 1},
        ),
        "float_clip_dilated_group_gemm": float_model(
            "float_clip",
            rng,
            act="Clip",
            c=2,
            filters=4,
            hw=(8, 6),
            conv={"dilations": [2, 1], "group": 2},
            gemm=True,
            normalize=False,
            batch=1,
        ),
    }


def seeds(rng, tmp: Path) -> dict:
    f = float_seeds(rng)
    q = {
        "int8_per_channel": quantized(f["float_relu"], rng, tmp),
        "int8_per_tensor_uint8": quantized(f["float_relu"], rng, tmp, per_channel=False, activation="uint8"),
        "int8_pad_stride": quantized(f["float_leaky_pad_stride"], rng, tmp),
    }
    return {**f, **q, "float_issue6_ops": issue6_model(rng)}


def main(out_dir: str) -> int:
    from edgecnn.export.compiler import compile_model
    from edgecnn.runtime.files import write_bytes

    out = Path(out_dir)
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory(prefix="edgecnn-seeds-") as tmp:
        for name, model in seeds(rng, Path(tmp)).items():
            blob, report = compile_model(model)
            write_bytes(out / f"{name}.ecnn", blob)
            print(
                f"{out / (name + '.ecnn')}: {len(blob):,} bytes, {len(report.layers)} ops: "
                + ", ".join(row.op for row in report.layers)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent / "corpus")))

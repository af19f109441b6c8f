"""Sub-models for comparing quantized values with onnxruntime (`edgecnn verify`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgecnn.export.compiler.errors import CompileError
from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import onnx


def nodes_feeding(model: onnx.ModelProto, tensor: str) -> onnx.ModelProto:
    """A copy of `model` keeping only the nodes that `tensor` depends on (outputs left to the caller)."""
    onnx = require("onnx")
    producer = {o: n for n in model.graph.node for o in n.output}
    needed, stack = set(), [tensor]
    while stack:
        node = producer.get(stack.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(i for i in node.input if i)
    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    del cut.graph.node[:]
    cut.graph.node.extend(n for n in model.graph.node if id(n) in needed)
    return cut


def quantized_output_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, np.float32, int]:
    """(model, scale, zero_point): a copy of an int8 model cut right after its last
    DequantizeLinear (the float tail, e.g. Softmax, removed), and that DequantizeLinear's
    per-tensor scale and zero point.

    Its float output is (q - zero_point) * scale of the last quantized tensor q, so two
    runtimes agree on q exactly when they agree on these floats bit for bit, and
    round(output / scale) + zero_point recovers q (exact: |q - zero_point| <= 255). Cutting
    after the DequantizeLinear, not before, matters: onnxruntime fuses the last Gemm into
    QGemm only when a DequantizeLinear follows its QuantizeLinear (checked on onnxruntime
    1.32; with the int8 tensor as graph output it runs that Gemm in float).
    Raises CompileError when the output does not come from a DequantizeLinear through
    single-input float ops.
    """
    onnx = require("onnx")
    graph = model.graph
    if len(graph.output) != 1:
        raise CompileError(f"the graph has {len(graph.output)} outputs; expected one")
    producer = {o: n for n in graph.node for o in n.output}
    inits = {t.name: t for t in graph.initializer}
    name = graph.output[0].name
    while True:
        node = producer.get(name)
        if node is None:
            raise CompileError(
                f"no DequantizeLinear found before the output '{graph.output[0].name}': not an int8 model?"
            )
        if node.op_type == "DequantizeLinear" and node.input[0] not in inits:
            break
        runtime_inputs = [i for i in node.input if i and i not in inits]
        if len(runtime_inputs) != 1:
            raise CompileError(
                f"node '{node.name}' ({node.op_type}) between the last DequantizeLinear and the output "
                "has several runtime inputs; cannot cut the float tail off"
            )
        name = runtime_inputs[0]
    scale = onnx.numpy_helper.to_array(inits[node.input[1]]) if node.input[1] in inits else None
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    zp = onnx.numpy_helper.to_array(inits[zp_name]) if zp_name in inits else np.zeros((), np.uint8)
    if scale is None or scale.size != 1 or zp.size != 1:
        raise CompileError("the last DequantizeLinear is not per tensor with constant scale and zero point")
    out = nodes_feeding(model, name)
    del out.graph.output[:]
    out.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return out, np.float32(scale.reshape(-1)[0]), int(zp.reshape(-1)[0])

"""The float layers of an int8 QDQ graph, in onnxruntime's order of operations.

onnxruntime runs a DequantizeLinear -> Conv / Gemm / MatMul -> QuantizeLinear group it does not
fuse (int8 activations on x86: the first and last layers of a full-integer TFLite model, the
layers reading a residual branch) in float, through MLAS. Its sums are not the native float
kernels' (pixel-major, one chain of fused multiply-adds), and a last-bit difference moves a
QuantizeLinear by one step now and then, so these layers are rewritten:

- Gemm / MatMul: at batch 1 (a TFLite model's batch) MLAS's SGEMM takes its M=1 kernel, which
  starts at the bias and adds k in groups of four unfused products: the native op
  FULLY_CONNECTED_G4 (`rewrite_float_gemms`). At larger batches onnxruntime itself sums
  otherwise (fused multiply-adds in K slices), so its output for a sample depends on the batch
  it runs in; the compiler follows batch 1.
- Conv: im2col (K in channel, row, column order), an SGEMM in K slices (`sgemm_stride_k`, each
  a chain of fused multiply-adds from zero), the bias added last: the native op CONV_2D_SLICED
  (`rewrite_float_convs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgecnn.export.compiler.passes.node_index import NodeIndex, with_nodes
from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import onnx

# The nodes rewrite_float_gemms and rewrite_float_convs write (lowered in ops/gemm.py and
# ops/conv.py); not onnxruntime ops.
EDGECNN_DOMAIN = "ai.edgecnn"
GEMM_BATCH1 = "GemmBatch1"
CONV_SLICED = "ConvSliced"
# MLAS (mlasi.h): the SGEMM slices of N and K.
SGEMM_STRIDE_N = 128
SGEMM_STRIDE_K = 128


def sgemm_stride_k(n: int, k: int) -> int:
    """The K slice MlasSgemmOperation uses for an (M x K) x (K x N) product, A not transposed,
    on one thread (more threads split N, and a narrower N widens the K slice)."""
    stride_n, stride_k = SGEMM_STRIDE_N, SGEMM_STRIDE_K
    if n >= k:
        while stride_k // 2 >= k:
            stride_n, stride_k = stride_n * 2, stride_k // 2
    else:
        while stride_n > 16 and stride_n // 2 >= n:
            stride_n, stride_k = stride_n // 2, stride_k * 2
    return stride_k


def rewrite_float_gemms(model: onnx.ModelProto, shapes: dict) -> onnx.ModelProto:
    """Gemm / MatMul (+ its bias Add, which onnxruntime fuses into the Gemm) on a DequantizeLinear
    of a runtime tensor, weights a DequantizeLinear of a 2-D initializer: an edgecnn
    `GemmBatch1(A, B, C)` node (transB as the Gemm's), lowered to FULLY_CONNECTED_G4, the sum
    onnxruntime's batch-1 SGEMM kernel computes (see the module docstring). Only for a 2-D A
    (`shapes`: value_shapes of the graph before fusion); a MatMul of a feature map keeps the
    native order."""
    helper = require("onnx").helper
    graph = model.graph
    index = NodeIndex(graph)
    inits, dq = index.inits, index.dequantize_of
    replaced = {}
    for node in graph.node:
        if node.op_type not in ("Gemm", "MatMul") or node.domain not in ("", "ai.onnx") or len(node.input) < 2:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("transA", 0) or float(attrs.get("alpha", 1.0)) != 1.0 or float(attrs.get("beta", 1.0)) != 1.0:
            continue
        dw = dq(node.input[1], True)
        if dq(node.input[0], False) is None or dw is None or inits[dw.input[0]].ndim != 2:
            continue
        if len(shapes.get(node.input[0], ())) != 2:
            continue
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else ""
        out, bias_add = node.output[0], None
        if node.op_type == "MatMul":  # MatMul -> Add(bias): onnxruntime makes it one Gemm
            users = index.readers.get(out, [])
            if len(users) == 1 and users[0].op_type == "Add" and out not in index.outputs:
                other = [i for i in users[0].input if i != out]
                if len(other) == 1 and (other[0] in inits or dq(other[0], True) is not None):
                    bias_add, bias, out = users[0], other[0], users[0].output[0]
        new = helper.make_node(
            GEMM_BATCH1,
            [node.input[0], node.input[1], bias],
            [out],
            name=node.name or out,
            domain=EDGECNN_DOMAIN,
            transB=int(attrs.get("transB", 0)),
        )
        # At the bias Add's place when there is one: tf2onnx may write the bias's DQ after the MatMul.
        replaced[id(node)] = []
        replaced[id(bias_add or node)] = [new]
    if not replaced:
        return model
    return with_nodes(model, [m for n in graph.node for m in replaced.get(id(n), [n])], domain=EDGECNN_DOMAIN)


def rewrite_float_convs(model: onnx.ModelProto, shapes: dict) -> onnx.ModelProto:
    """Conv on a DequantizeLinear of a runtime tensor with weights a DequantizeLinear of an
    initializer (a float layer of an int8 graph): MLAS unfolds the input (im2col, K in channel,
    row, column order), multiplies by the weights in K slices (sgemm_stride_k of the output
    pixels and K), each slice a chain of fused multiply-adds from zero, adds the slices in order
    and the bias last. The native float CONV_2D sums row, column, channel in one chain. When the
    orders differ (a kernel larger than 1x1 over several channels per group) or K needs several
    slices, the Conv becomes an edgecnn `ConvSliced` node (the Conv's inputs and attributes, and
    `k_slice`: the slice), lowered to CONV_2D_SLICED (ops/conv.py), which sums in that order.

    shapes: value_shapes of the graph before fusion; a Conv whose output it does not size keeps
    the native order."""
    helper = require("onnx").helper
    graph = model.graph
    index = NodeIndex(graph)
    inits, dq = index.inits, index.dequantize_of
    replaced = {}
    for node in graph.node:
        if node.op_type != "Conv" or node.domain not in ("", "ai.onnx") or len(node.input) < 2:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        dw = dq(node.input[1], True)
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or dq(node.input[0], False) is None:
            continue
        dims = shapes.get(node.output[0], ())
        if dw is None or inits[dw.input[0]].ndim != 4 or len(dims) != 4 or not dims[2] or not dims[3]:
            continue
        _, cg, kh, kw = inits[dw.input[0]].shape
        k = cg * kh * kw
        stride = sgemm_stride_k(dims[2] * dims[3], k)
        if (cg == 1 or kh * kw == 1) and k <= stride:
            continue  # the native order is MLAS's
        sliced = helper.make_node(
            CONV_SLICED, list(node.input), list(node.output), name=node.name, domain=EDGECNN_DOMAIN, k_slice=stride
        )
        sliced.attribute.extend(node.attribute)
        replaced[id(node)] = [sliced]
    if not replaced:
        return model
    return with_nodes(model, [m for n in graph.node for m in replaced.get(id(n), [n])], domain=EDGECNN_DOMAIN)


def value_shapes(model: onnx.ModelProto) -> dict:
    """{value name: its dims (0 where unknown)} from ONNX shape inference, run on the graph before
    fusion (inference stops at com.microsoft nodes); {} when inference fails: every layer it
    cannot size keeps the native order."""
    onnx = require("onnx")
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference is best effort
        return {}
    graph = inferred.graph
    return {
        vi.name: [d.dim_value if d.HasField("dim_value") else 0 for d in vi.type.tensor_type.shape.dim]
        for vi in [*graph.input, *graph.value_info]
    }

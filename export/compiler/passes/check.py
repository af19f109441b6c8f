"""After fusion: every op that touches int8/uint8 values must have an int8 kernel."""

from __future__ import annotations

from edgecnn.export.compiler.errors import CompileError
from edgecnn.export.compiler.ir import Act, DType, Kind, NOp, NTensor

# Native ops with an int8/uint8 kernel (docs/file-format.md "Quantized ops").
INT8_OPS = frozenset(
    {
        "CONV_2D",
        "CONV_INTEGER_2D",
        "FULLY_CONNECTED",
        "MAX_POOL_2D",
        "RESHAPE",
        "RESIZE_2D",
        "QUANTIZE",
        "DEQUANTIZE",
        "ADD",
        "MUL",
        "AVG_POOL_2D",
        "ACTIVATION",
        "CONCAT",
        "PAD",
        "TRANSPOSE",
    }
)


def check_native_ops(tensors: list[NTensor], ops: list[NOp]) -> None:
    """int8 tensors may only meet the ops (and fused activations) the int8 kernels implement."""
    for op in ops:
        quantized = any(
            t is not None and tensors[t].dtype != DType.F32 and tensors[t].kind != Kind.CONSTANT
            for t in op.inputs + op.outputs
        )
        if not quantized:
            continue
        where = " + ".join(op.names)
        if op.op not in INT8_OPS:
            raise CompileError(f"node '{where}': {op.op} on int8 values is not supported; dequantize before it")
        data = [t for t in op.inputs[:1] + op.outputs if t is not None]
        if op.op in ("ADD", "MUL", "CONCAT"):
            data = [t for t in op.inputs + op.outputs if t is not None]
        elif op.op in ("CONV_2D", "FULLY_CONNECTED"):
            data.append(op.inputs[1])
        if op.op not in ("QUANTIZE", "DEQUANTIZE") and any(tensors[t].dtype == DType.F32 for t in data):
            raise CompileError(
                f"node '{where}': {op.op} mixes float and int8 tensors (its inputs, "
                "weights and output must all be quantized)"
            )
        if op.op in ("CONV_2D", "FULLY_CONNECTED") and op.attrs["act"] not in (Act.NONE, Act.RELU):
            raise CompileError(f"node '{where}': only Relu can be fused into an int8 op")
        if op.op in ("ADD", "MUL") and op.attrs["act"] != Act.NONE:
            raise CompileError(f"node '{where}': no activation can be fused into an int8 {op.op}")

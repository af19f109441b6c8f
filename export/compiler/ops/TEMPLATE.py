"""TEMPLATE: how to lower one more ONNX op. Copy this file; it is not imported, so `Neg` below
is not registered until a copy of it is.

Steps:
1. The native op it becomes must be in the op table (`edgecnn.runtime.optable.OPS`, read from
   the C header): its name and parameter fields. A new native op is added on the C side first
   (its load-time check and its kernel), with its fields in the header.
2. Copy this file to `ops/<family>.py`, or the function into the family module it belongs to
   (activation, elementwise, shape, ...). Put the ONNX op type(s) in `@lowers(...)`; a
   `com.microsoft` op gets `domain="com.microsoft"`; `note=` qualifies it in the supported list.
3. Checks first: every attribute or input the native op cannot do is refused here with
   `raise low.fail("... is not supported; ...")`, saying what is supported. The message
   reaches the user with the node's name.
4. Lower: read runtime inputs as views (`low.view_input`), weights as constants
   (`low.const_input`, `low.const_tensor`); `low.materialize(view, perm)` when the native op
   needs another axis order; make the output (`low.new_tensor` / `low.activation_like`), emit
   the native op with every parameter field by name (`low.emit(name, inputs, outputs, attrs)`)
   and record the output's view in `low.values`.
5. int8: the float lowering may run on quantized views too (the output then keeps the input's
   quantization, `low.activation_like`) when the native op has an int8 kernel that moves or
   selects codes; list it in `passes/check.py` INT8_OPS. An onnxruntime QLinear* form goes in
   the same module, built from the helpers in `ops/quantize.py` (see ops/pool.py, ops/conv.py).
6. Import the module in `ops/__init__.py` (a new file) and add a test that compares the native
   result with onnxruntime (tests/export/test_ops_float_*.py, tests/export/test_ops_int8_*.py).
"""

from __future__ import annotations

import numpy as np

from edgecnn.export.compiler.graph import Lowering, View, attrs, lowers
from edgecnn.export.compiler.ir import Arith, DType, Kind


@lowers("Neg")
def lower_neg(low: Lowering, node) -> None:
    """Neg(X) = -X: CHANNEL_ARITH multiplying by -1 (exact, as onnxruntime's Neg)."""
    # Checks: Neg has no attributes; an unknown one is refused rather than ignored.
    for name in attrs(node):
        raise low.fail(f"attribute '{name}' is not supported")
    v = low.view_input(node, 0)
    if low.tensors[v.tensor].dtype != DType.F32:
        raise low.fail("Neg of int8 values is not supported; dequantize before it")
    # Lowering: CHANNEL_ARITH works elementwise in any storage order, so the view's own order stays.
    k = low.const_tensor(np.float32([-1.0]))
    y = low.new_tensor(Kind.ACTIVATION, low.tensors[v.tensor].dims)
    low.emit("CHANNEL_ARITH", [v.tensor, k], [y], {"func": Arith.MUL, "const_first": 0})
    low.values[node.output[0]] = View(y, v.shape, v.perm)

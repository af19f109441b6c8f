"""What the passes that rewrite an ONNX graph (qdq.py, ort_float.py) look up in it, and how they
write the rewritten graph back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from edgecnn.runtime.errors import require

if TYPE_CHECKING:
    import numpy as np
    import onnx


class NodeIndex:
    """An ONNX graph's initializers as arrays, the node writing each tensor, the nodes reading
    each tensor and the graph's output names."""

    def __init__(self, graph: onnx.GraphProto):
        numpy_helper = require("onnx").numpy_helper
        self.inits: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.producer: dict[str, onnx.NodeProto] = {o: n for n in graph.node for o in n.output}
        self.readers: defaultdict[str, list[onnx.NodeProto]] = defaultdict(list)
        for n in graph.node:
            for i in n.input:
                self.readers[i].append(n)
        self.outputs = {o.name for o in graph.output}

    def dequantize_of(self, name: str, const: bool) -> onnx.NodeProto | None:
        """The DequantizeLinear producing `name` from an initializer (const) or a runtime tensor."""
        n = self.producer.get(name)
        if n is None or n.op_type != "DequantizeLinear" or n.domain not in ("", "ai.onnx"):
            return None
        return n if (n.input[0] in self.inits) == const else None


def with_nodes(
    model: onnx.ModelProto,
    nodes: Iterable[onnx.NodeProto],
    new_inits: Iterable[onnx.TensorProto] = (),
    domain: str | None = None,
) -> onnx.ModelProto:
    """A copy of `model` whose graph runs `nodes`, with `new_inits` added to its initializers and
    the opset `domain` (version 1) imported when given and not yet imported."""
    onnx = require("onnx")
    result = onnx.ModelProto()
    result.CopyFrom(model)
    del result.graph.node[:]
    result.graph.node.extend(nodes)
    result.graph.initializer.extend(new_inits)
    if domain is not None and not any(o.domain == domain for o in result.opset_import):
        result.opset_import.append(onnx.helper.make_opsetid(domain, 1))
    return result

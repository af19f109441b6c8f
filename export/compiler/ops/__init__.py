"""ONNX op lowerings, one module per op family. Each module registers its lowerings with
`edgecnn.export.compiler.graph.lowers`; importing this package registers them all, in the
order of the supported-ops list refusal messages show. To add an op, copy TEMPLATE.py."""

from edgecnn.export.compiler.ops import (  # noqa: F401  (imported to register)
    activation,
    concat,
    conv,
    elementwise,
    gemm,
    integer,
    normalization,
    pad,
    pool,
    quantize,
    resize,
    shape,
    softmax,
)

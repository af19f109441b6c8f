"""The one error the compiler raises."""

from edgecnn.runtime.errors import EdgecnnError


class CompileError(EdgecnnError):
    """The ONNX model cannot be compiled; the message names the node, the op and what is supported."""

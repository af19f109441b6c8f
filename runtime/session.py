"""`InferenceSession`: onnxruntime's Python API over a compiled .ecnn model.

A script written for onnxruntime runs on edgecnn with the import and the constructor changed:

    import edgecnn                                      # import onnxruntime
    sess = edgecnn.InferenceSession("model.ecnn")       # onnxruntime.InferenceSession("model.onnx")
    inp = sess.get_inputs()[0]
    print(inp.name, inp.shape, inp.type)                # "image" ['N', 1, 28, 28] tensor(float)
    (probabilities,) = sess.run(None, {inp.name: x})

Names, shapes and types are the ONNX model's, which the compiler keeps in the file's metadata
section (docs/file-format.md "Metadata"); a file without one describes its input and output as
"input" and "output". As in onnxruntime, run() takes exactly the declared dtype and rank (no
uint8 -> float scaling, no added batch axis: that is Model.predict's convenience). Unlike
onnxruntime, a float input holding NaN or infinity raises InputError: edgecnn's float kernels
do not propagate them as IEEE arithmetic would.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgecnn.runtime.errors import InputError
from edgecnn.runtime.model import Model

# A free dimension: its ONNX name (dim_param), or None when it has none.
Dim = int | str | None

ORT_TYPES = {
    np.dtype(np.float32): "tensor(float)",
    np.dtype(np.int8): "tensor(int8)",
    np.dtype(np.uint8): "tensor(uint8)",
    np.dtype(np.int32): "tensor(int32)",
}


@dataclass(frozen=True)
class NodeArg:
    """An input or output as onnxruntime's NodeArg describes it."""

    name: str
    shape: list[Dim]
    type: str  # onnxruntime's spelling, e.g. "tensor(float)", "tensor(int8)"


@dataclass(frozen=True)
class ModelMetadata:
    """The model's description, as onnxruntime's ModelMetadata (get_modelmeta())."""

    producer_name: str = ""
    graph_name: str = ""
    domain: str = ""
    description: str = ""
    graph_description: str = ""
    version: int = 0
    custom_metadata_map: dict[str, str] = field(default_factory=dict)


def _load(source: str | os.PathLike[str] | bytes, threads: int | None) -> Model:
    """Model.load / Model.from_bytes, with `threads` where this Model takes it."""
    kwargs: dict[str, Any] = {}
    if threads is not None:
        if "threads" in inspect.signature(Model.load).parameters:
            kwargs["threads"] = threads
        elif threads != 1:
            raise InputError(f"threads={threads}: this edgecnn build runs every inference on one thread")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Model.from_bytes(source, **kwargs)
    return Model.load(source, **kwargs)


class InferenceSession:
    """Runs a compiled .ecnn model with onnxruntime's InferenceSession API.

    path_or_bytes: the .ecnn file (or its bytes). threads: threads per inference, where the
    library has them (default: as Model.load). The underlying Model is `self.model`.
    """

    def __init__(self, path_or_bytes: str | os.PathLike[str] | bytes, threads: int | None = None) -> None:
        self.model = _load(path_or_bytes, threads)
        meta: dict[str, Any] = getattr(self.model, "metadata", None) or {}
        self._meta = meta
        self._inputs = self._node_args(meta.get("inputs"), "input", self.model.input_dtype, self.model.input_shape)
        self._outputs = self._node_args(meta.get("outputs"), "output", self.model.output_dtype, self.model.output_shape)
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            raise InputError(
                f"{self.model.source}: the metadata lists {len(self._inputs)} inputs and "
                f"{len(self._outputs)} outputs; an .ecnn model has one of each"
            )

    def _node_args(
        self, listed: Any, default_name: str, dtype: np.dtype, sample_shape: tuple[int, ...]
    ) -> list[NodeArg]:
        if listed:
            return [NodeArg(str(a["name"]), list(a["shape"]), str(a["type"])) for a in listed]
        batch = int(getattr(self.model, "batch", 0))
        return [NodeArg(default_name, [batch or "N", *sample_shape], ORT_TYPES[np.dtype(dtype)])]

    def get_inputs(self) -> list[NodeArg]:
        return list(self._inputs)

    def get_outputs(self) -> list[NodeArg]:
        return list(self._outputs)

    def get_modelmeta(self) -> ModelMetadata:
        meta = self._meta
        return ModelMetadata(
            producer_name=str(meta.get("producer", "")),
            graph_name=str(meta.get("graph_name", "")),
            domain=str(meta.get("domain", "")),
            description=str(meta.get("description", "")),
            graph_description=str(meta.get("graph_description", "")),
            version=int(meta.get("version", 0)),
            custom_metadata_map={str(k): str(v) for k, v in (meta.get("custom") or {}).items()},
        )

    def _check_feed(self, input_feed: Mapping[str, Any]) -> np.ndarray:
        (inp,) = self._inputs
        unknown = sorted(set(input_feed) - {inp.name})
        if unknown:
            raise InputError(f"invalid input name(s) {unknown}; the model's input is {inp.name!r}")
        if inp.name not in input_feed:
            raise InputError(f"no value for the model's input {inp.name!r}")
        x = np.asarray(input_feed[inp.name])
        got = ORT_TYPES.get(x.dtype, f"numpy {x.dtype}")
        if got != inp.type:
            raise InputError(f"input {inp.name!r}: unexpected data type {got}, expected {inp.type}")
        # The batch is the first dimension unless the model runs its whole input as one sample.
        whole = bool(getattr(self.model, "whole", False))
        fixed = (
            tuple(self.model.input_shape)
            if whole
            else (int(getattr(self.model, "batch", 0)) or None, *self.model.input_shape)
        )
        if x.ndim != len(fixed) or any(f is not None and f != d for f, d in zip(fixed, x.shape)):
            want = ", ".join("N" if f is None else str(f) for f in fixed)
            raise InputError(f"input {inp.name!r} has shape {x.shape}; the model takes ({want})")
        return x

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: None = None
    ) -> list[np.ndarray]:
        """The outputs named in output_names (None: every output), in that order, for the
        inputs in input_feed ({name: array} of the declared dtype and shape)."""
        if run_options is not None:
            raise InputError("run_options: edgecnn has no run options; pass None")
        (out,) = self._outputs
        names = [out.name] if output_names is None else list(output_names)
        unknown = [n for n in names if n != out.name]
        if unknown:
            raise InputError(f"invalid output name(s) {unknown}; the model's output is {out.name!r}")
        x = self._check_feed(input_feed)
        whole = bool(getattr(self.model, "whole", False))
        y = self.model.predict(x[np.newaxis])[0] if whole else self.model.predict(x)
        return [y for _ in names]

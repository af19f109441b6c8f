"""Shared plumbing of export, quantize and evaluate: files, sidecars, ONNX inputs, batched runs.

Every file is written under a temporary name in the destination folder and
renamed into place (`staged_file`, `write_json`: edgecnn.runtime.files, the one helper
every writer uses), so a crash or a failed check never leaves a half-written (or
unchecked) model behind under the final name.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require
from edgecnn.runtime.files import staged_file, write_json  # noqa: F401 (re-exported for export/)

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
# The input contract of every model: NHWC float32 images in [0, 1], batch dimension dynamic.
IMAGE_SHAPE = (28, 28, 1)
BATCH_DIM = "batch"
EXPECTED_INPUT = f"(N, {', '.join(map(str, IMAGE_SHAPE))}) float32"
DEFAULT_BATCH_SIZE = 500


def sidecar_path(path) -> Path:
    """model.onnx -> model.onnx.json (settings and figures that travel with the file)."""
    return Path(str(path) + ".json")


def require_file(path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise EdgecnnError(f"{what} not found: {path}")
    if not path.is_file():
        raise EdgecnnError(f"{what} is not a file: {path}")
    return path


def _dims(value_info) -> list:
    """ONNX tensor shape as a list: ints for fixed dims, the name (or '?') for dynamic ones."""
    return [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value_info.type.tensor_type.shape.dim
    ]


def load_onnx(path):
    """Load an ONNX file, turning a missing or unreadable file into an EdgecnnError."""
    onnx = require("onnx")
    path = require_file(path, "ONNX model")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, ValueError, ... on a non-ONNX file
        raise EdgecnnError(f"{path} is not a readable ONNX model ({type(exc).__name__}: {exc})") from None


def describe_io(model) -> dict:
    """Names and shapes of the graph's real inputs (initializers excluded) and outputs."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    return {
        "inputs": [{"name": i.name, "shape": _dims(i)} for i in inputs],
        "outputs": [{"name": o.name, "shape": _dims(o)} for o in model.graph.output],
    }


def check_image_input(model, path) -> str:
    """Check the model takes one float32 (N, 28, 28, 1) input; return its name."""
    onnx = require("onnx")
    io = describe_io(model)
    if len(io["inputs"]) != 1:
        names = [i["name"] for i in io["inputs"]]
        raise EdgecnnError(f"{path}: expected one input of shape {EXPECTED_INPUT}, the model has {len(names)}: {names}")
    graph_input = next(i for i in model.graph.input if i.name == io["inputs"][0]["name"])
    shape = io["inputs"][0]["shape"]
    elem_type = graph_input.type.tensor_type.elem_type
    if len(shape) != 4 or tuple(shape[1:]) != IMAGE_SHAPE or elem_type != onnx.TensorProto.FLOAT:
        dtype = onnx.TensorProto.DataType.Name(elem_type).lower()
        shown = "(" + ", ".join(str(d) for d in shape) + ")"
        raise EdgecnnError(
            f"{path}: input '{graph_input.name}' has shape {shown} {dtype}, expected {EXPECTED_INPUT} "
            "(NHWC images in [0, 1])"
        )
    return graph_input.name


def ort_session(
    model, *, threads: int | None = None, optimize: bool = True, exact: bool = True, optimized_model_path=None
):
    """The onnxruntime CPU session every comparison uses: the default optimisation level (where
    it fuses its int8 kernels; optimize=False: the graph as written), exact integer arithmetic on
    every CPU (exact=False: onnxruntime's default mode, as users run it). `model`: a path or a
    ModelProto; `threads`: its intra-op threads (None: onnxruntime's default, every core).

    On x86 without VNNI, onnxruntime's u8 x s8 kernels add pairs of products in a saturating
    int16 (vpmaddubsw): with full-range int8 weights, as TFLite writes them, its codes are then
    not those of integer arithmetic. Its `session.x64quantprecision` mode runs u8 x u8 kernels
    instead, which are exact (a no-op on other CPUs). In onnxruntime 1.32 that mode fails to load
    a graph whose weight, scale or zero point initializer feeds two nodes ("Attempt to replace
    the existing tensor"), as tf2onnx's shared zero points do; each reader gets its own copy."""
    ort = require("onnxruntime")
    onnx = require("onnx")
    what = "ONNX model"
    if not isinstance(model, onnx.ModelProto):
        what = str(require_file(model, "ONNX model"))
        model = load_onnx(model)

    def session(graph, exact_mode: bool):
        options = ort.SessionOptions()
        options.log_severity_level = 3  # no warning about serialising NCHWc-optimised graphs
        if threads is not None:
            options.intra_op_num_threads = threads
        if not optimize:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        if optimized_model_path is not None:
            options.optimized_model_filepath = str(optimized_model_path)
        if exact_mode:
            options.add_session_config_entry("session.x64quantprecision", "1")
        return ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])

    if exact:
        try:
            return session(_one_reader_per_initializer(model), True)
        except Exception:
            # The mode converts weights to uint8 on the CPUs it acts on; a QOperator op on int8
            # activations (QLinearConv, QLinearMatMul written as such) then has no kernel. Such a
            # graph runs in the default mode, exact wherever its weights cannot saturate; any
            # real problem of the graph fails there too, and is named.
            pass
    try:
        return session(model, False)
    except Exception as exc:
        raise EdgecnnError(f"onnxruntime cannot load {what}: {exc}") from None


def _one_reader_per_initializer(model):
    """A copy of `model` in which every initializer read by several nodes is copied per reader."""
    onnx = require("onnx")
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    graph = copy.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    seen: dict[str, int] = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            if name not in initializers:
                continue
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                tensor = graph.initializer.add()
                tensor.CopyFrom(initializers[name])
                tensor.name = node.input[slot] = f"{name}/reader{seen[name]}"
    return copy


def batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def run_onnx(
    session, images: np.ndarray, *, batch_size: int = DEFAULT_BATCH_SIZE, desc: str | None = None
) -> np.ndarray:
    """Run a one-input model over `images` in batches (tqdm progress bar when `desc` is given)."""
    input_name = session.get_inputs()[0].name
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int) and fixed > 0:
        batch_size = fixed
        if len(images) % fixed:
            raise EdgecnnError(
                f"the model's batch size is fixed to {fixed}; {len(images)} images do not divide into it"
            )
    chunks = list(batches(len(images), batch_size))
    if desc is not None:
        tqdm = require("tqdm").tqdm
        chunks = tqdm(chunks, desc=desc, unit="batch", leave=False, disable=None)
    return np.concatenate([session.run(None, {input_name: images[s]})[0] for s in chunks])


def load_images(data_dir, split: str, samples: int | None, purpose: str):
    """(float32 model input, uint8 labels) of the first `samples` images of a split.

    `purpose` completes the error message, e.g. "to calibrate on".
    """
    from edgecnn.runtime.data import load_split, to_model_input

    if samples is not None and samples < 1:
        raise EdgecnnError(f"--samples {samples}: no {split} images {purpose}; use at least 1")
    images, labels = load_split(data_dir, split, limit=samples)
    if len(images) == 0:
        raise EdgecnnError(f"no {split} images {purpose}: the {split} split in {data_dir} holds none")
    return to_model_input(images), labels


def package_versions(*packages: str) -> dict:
    """Installed versions of the given distributions (recorded in sidecars)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in packages:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found

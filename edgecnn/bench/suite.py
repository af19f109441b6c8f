"""Which models the benchmark runs, where their files come from, and compiling them.

The standard suite:

    reference           the Fashion-MNIST CNN `make run` trains (RUN_DIR/model.onnx, model.int8.onnx;
                        LiteRT gets the same Keras model converted by LiteRT's own tools)
    mlperf              the MLPerf Tiny architectures of `edgecnn zoo`: ic_resnet8, kws_dscnn,
                        vww_mobilenetv1 (MobileNetV1-0.25, 96x96), ad_fc_autoencoder
    blocks              the zoo's Keras-Applications blocks (block_mbv2, block_se, ...)

For a zoo model every engine runs the same model: the .tflite files are what LiteRT runs
and the ONNX files (onnxruntime and the native compiler) are converted from them.
Besides the suite: one ONNX model given on the command line, or every NAME.onnx (with
NAME.int8.onnx) of a folder.
"""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.runtime.errors import EdgecnnError, require

MLPERF = ("ic_resnet8", "kws_dscnn", "vww_mobilenetv1", "ad_fc_autoencoder")
BLOCKS = ("block_mbv2", "block_resnet_bottleneck", "block_se", "block_dense_concat", "block_xception")
GROUPS = {
    "reference": ("reference",),
    "mlperf": MLPERF,
    "blocks": BLOCKS,
    "zoo": MLPERF + BLOCKS,
    "all": ("reference", *MLPERF, *BLOCKS),
}
CHOICES = tuple(GROUPS) + MLPERF + BLOCKS
DTYPES = ("float", "int8")


@dataclass
class Variant:
    """One data type of a model: the files each engine runs."""

    dtype: str
    onnx: Path | None
    tflite: Path | None = None
    tflite_note: str = ""  # why there is no .tflite
    input_quant: tuple | None = None  # (scale, zero point) of an int8 input, to make realistic inputs


@dataclass
class BenchModel:
    name: str
    group: str  # "reference" | "mlperf" | "blocks" | "custom"
    values: str = "image"  # inputs: "image" uniform in [0, 1), "features" standard normal
    variants: list[Variant] = field(default_factory=list)
    missing: str = ""  # why the model is not there at all
    macs: int | None = None  # per sample, as its source counts them


def select(names: list[str] | None) -> list[str]:
    """Suite names and group names -> model names in suite order."""
    wanted = set()
    for name in names or ["all"]:
        if name not in CHOICES:
            raise EdgecnnError(f"no model or group named {name!r}; choose from {', '.join(CHOICES)}")
        wanted.update(GROUPS.get(name, (name,)))
    return [n for n in GROUPS["all"] if n in wanted]


# ---------------------------------------------------------------------------- sources


def keras_source(float_onnx: Path) -> Path | None:
    """The Keras model an ONNX file was exported from: its sidecar's `source`, else model.keras beside it."""
    sidecar = float_onnx.with_name(float_onnx.name + ".json")
    if sidecar.is_file():
        try:
            source = json.loads(sidecar.read_text()).get("source")
        except (json.JSONDecodeError, AttributeError):
            source = None
        if source and str(source).endswith(".keras") and Path(source).is_file():
            return Path(source)
    candidate = float_onnx.with_name("model.keras")
    return candidate if candidate.is_file() else None


def ensure_tflite(keras_path: Path, data_dir: str | None, dtype: str) -> Path:
    """LiteRT's own conversion of keras_path (int8: calibrated on 200 training images), cached
    beside it while newer than the Keras file."""
    from edgecnn.export.litert import keras_to_tflite

    out = keras_path.with_suffix(".tflite" if dtype == "float" else ".int8.tflite")
    if out.exists() and out.stat().st_mtime >= keras_path.stat().st_mtime:
        return out
    if dtype == "float":
        return keras_to_tflite(keras_path, out)
    from edgecnn.runtime.data import load_split, resolve_data_dir, to_model_input

    images, _ = load_split(resolve_data_dir(data_dir), "train", limit=200)  # training images only
    return keras_to_tflite(keras_path, out, calibration_images=to_model_input(images))


def _keras_tflite(variant: Variant, keras_path: Path | None, data_dir: str | None) -> None:
    if keras_path is None:
        variant.tflite_note = "no Keras model to convert (give --keras MODEL.keras)"
        return
    try:
        variant.tflite = ensure_tflite(keras_path, data_dir, variant.dtype)
    except EdgecnnError as exc:
        variant.tflite_note = f"LiteRT conversion failed: {exc}"


def onnx_model(
    name: str,
    float_onnx: Path,
    int8_onnx: Path | None,
    *,
    group: str = "custom",
    keras: Path | None = None,
    tflite: dict | None = None,
    litert: bool = True,
    data_dir: str | None = None,
) -> BenchModel:
    """A model from ONNX files; LiteRT runs `tflite[dtype]` when given, else the Keras model
    (`keras`, or the one the ONNX file's sidecar names) converted by LiteRT."""
    model = BenchModel(name, group)
    paths = {"float": float_onnx, "int8": int8_onnx}
    for dtype, path in paths.items():
        if path is None:
            continue
        if not Path(path).is_file():
            model.missing = f"{path} not found"
            return model
        model.variants.append(Variant(dtype, Path(path)))
    keras = keras or (keras_source(Path(float_onnx)) if float_onnx else None)
    for variant in model.variants:
        given = (tflite or {}).get(variant.dtype)
        if given:
            variant.tflite = Path(given)
        elif litert:
            _keras_tflite(variant, keras, data_dir)
    return model


def reference_model(run_dir: Path, *, litert: bool = True, data_dir: str | None = None) -> BenchModel:
    float_onnx, int8_onnx = run_dir / "model.onnx", run_dir / "model.int8.onnx"
    if not float_onnx.is_file():
        return BenchModel(
            "reference",
            "reference",
            missing=f"{float_onnx} not found: run `make run` first (or point --run-dir at a run folder)",
        )
    return onnx_model(
        "reference",
        float_onnx,
        int8_onnx if int8_onnx.is_file() else None,
        group="reference",
        litert=litert,
        data_dir=data_dir,
    )


def zoo_models(zoo_dir: Path, names: list[str], *, log=print) -> list[BenchModel]:
    """The named tiny-zoo models, built into zoo_dir first when missing or stale (edgecnn zoo)."""
    if not names:
        return []
    try:
        from edgecnn.zoo import build_zoo

        zoo = build_zoo(zoo_dir, names, log=log)
    except EdgecnnError as exc:
        return [BenchModel(n, _group(n), missing=f"the zoo could not be built in {zoo_dir}: {exc}") for n in names]
    models = []
    for name in names:
        entry = zoo[name]
        folder = Path(entry["dir"])
        model = BenchModel(name, _group(name), values=entry.get("input_values", "image"), macs=entry.get("macs"))
        for dtype in DTYPES:
            quant = entry.get("tflite", {}).get(dtype, {}).get("input", {})
            model.variants.append(
                Variant(
                    dtype,
                    folder / f"model.{dtype}.onnx",
                    folder / f"model.{dtype}.tflite",
                    input_quant=(quant["scale"], quant["zero_point"]) if quant.get("scale") is not None else None,
                )
            )
        models.append(model)
    return models


def _group(name: str) -> str:
    return "mlperf" if name in MLPERF else "blocks"


def folder_models(folder: Path) -> list[BenchModel]:
    """Every NAME.onnx of a folder with NAME.int8.onnx beside it when there (tests/model_zoo.py's layout)."""
    if not folder.is_dir():
        raise EdgecnnError(f"--models-dir {folder}: not a folder")
    found = sorted(p for p in folder.glob("*.onnx") if not p.name.endswith(".int8.onnx"))
    if not found:
        raise EdgecnnError(f"--models-dir {folder}: no .onnx files")
    models = []
    for path in found:
        int8 = path.with_name(path.stem + ".int8.onnx")
        model = onnx_model(path.stem, path, int8 if int8.is_file() else None, litert=False)
        for variant in model.variants:
            variant.tflite_note = "no .tflite for a model from --models-dir"
        models.append(model)
    return models


# ----------------------------------------------------------------------------- inputs


@dataclass
class InputSpec:
    shape: tuple  # one sample
    dtype: np.dtype
    fixed_batch: int | None  # the graph's batch when it is a number, else None (any batch)


ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8}


def onnx_input(path: Path) -> InputSpec:
    onnx = require("onnx")
    graph = onnx.load(str(path), load_external_data=False).graph
    initializers = {t.name for t in graph.initializer}
    inputs = [v for v in graph.input if v.name not in initializers]
    if len(inputs) != 1:
        raise EdgecnnError(f"{path}: the benchmark runs models with one input; this one has {len(inputs)}")
    tensor = inputs[0].type.tensor_type
    if tensor.elem_type not in ONNX_DTYPES:
        raise EdgecnnError(f"{path}: input element type {tensor.elem_type} is not float32, uint8 or int8")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if not dims or any(d is None for d in dims[1:]):
        raise EdgecnnError(f"{path}: the input shape {dims} must be known apart from the batch")
    return InputSpec(tuple(dims[1:]), np.dtype(ONNX_DTYPES[tensor.elem_type]), dims[0] or None)


def make_inputs(spec: InputSpec, values: str, quant: tuple | None, n: int, seed: int = 0) -> np.ndarray:
    """n inputs of the kind the model takes; int8/uint8: quantized with the model's input scale
    when known (else uniform over the type's range)."""
    rng = np.random.default_rng(seed)
    shape = (n, *spec.shape)
    x = rng.random(shape, dtype=np.float32) if values == "image" else rng.standard_normal(shape, dtype=np.float32)
    if spec.dtype == np.float32:
        return x
    info = np.iinfo(spec.dtype)
    if quant is None:
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=spec.dtype)
    scale, zero_point = quant
    return np.clip(np.rint(x / scale) + zero_point, info.min, info.max).astype(spec.dtype)


# ----------------------------------------------------------------------------- compile


def compile_native(onnx_path: Path, out_path: Path) -> str:
    """Compile to .ecnn; returns "" or the compiler's reason for refusing the model (a crash of
    the compiler is a reason too: the rest of the benchmark still runs)."""
    from edgecnn.export.compiler import compile_onnx

    try:
        compile_onnx(onnx_path, out_path)
    except EdgecnnError as exc:
        return str(exc)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return f"compiler error {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
    return ""


def short_reason(reason: str, width: int = 160) -> str:
    """The first line of a reason, long quoted names (tf2onnx joins every fused TFLite op's name) cut."""
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    line = re.sub(r"'([^']{48,})'", lambda m: f"'{m.group(1)[:20]}…{m.group(1)[-20:]}'", line)
    return line if len(line) <= width else line[: width - 1] + "…"

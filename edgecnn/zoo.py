"""`edgecnn zoo`: the tiny test models, each as Keras, float and int8 TFLite, and ONNX from both.

For every model of edgecnn.train.tiny_models (the four MLPerf Tiny architectures and the
Keras-Applications blocks) the folder OUT/NAME/ receives:

    model.keras         the Keras model, deterministic random weights
    model.float.tflite  TFLiteConverter, float32
    model.int8.tflite   TFLiteConverter, full-integer int8 with int8 input and output
    model.float.onnx    tf2onnx from model.float.tflite
    model.int8.onnx     tf2onnx from model.int8.tflite

and OUT/manifest.json describes them: input shape and dtype (int8 scale and zero point), MACs,
parameters, file sizes and SHA-256, and how well each ONNX file agrees with the TFLite
interpreter (edgecnn.export.tflite.compare_tflite_onnx).

Building is deterministic (fixed seeds) and cached: a model whose manifest entry carries the
current key (a hash of the generator's source files and of the versions of TensorFlow, Keras,
tf2onnx, onnx, onnxruntime and LiteRT) and whose files are all there with the recorded hashes is not built again.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from edgecnn.runtime.command_line import add_command
from edgecnn.runtime.errors import EdgecnnError, require

CALIBRATION_SAMPLES = 32  # representative dataset of the int8 conversion
CALIBRATION_SEED = 101
CHECK_SAMPLES = 32  # inputs of the ONNX-vs-TFLite comparison
CHECK_SEED = 202
FILES = ("model.keras", "model.float.tflite", "model.int8.tflite", "model.float.onnx", "model.int8.onnx")
# Distributions whose version enters the cache key: the converters, and the engines whose figures the
# manifest records (tensorflow-cpu is how the train extra installs TensorFlow).
VERSIONED_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert")
MANIFEST = "manifest.json"


def _generator_modules():
    from edgecnn.export import onnx_export, tflite
    from edgecnn.train import tiny_models

    return [tiny_models, tflite, onnx_export, sys.modules[__name__]]


def generator_key() -> dict:
    """{"key": hex digest, "versions": {...}}: what a cached model must have been built with."""
    from edgecnn.export.artifacts import package_versions

    versions = package_versions(*VERSIONED_PACKAGES)
    digest = hashlib.sha256()
    for module in _generator_modules():
        digest.update(Path(module.__file__).name.encode() + b"\0" + Path(module.__file__).read_bytes())
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return {"key": digest.hexdigest(), "versions": versions}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load_manifest(out_dir: Path) -> dict:
    path = out_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise EdgecnnError(f"{path} is not a readable zoo manifest ({exc}); delete it to rebuild the zoo") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models", {}), dict):
        raise EdgecnnError(f"{path} is not a zoo manifest (no 'models' table); delete it to rebuild the zoo")
    return manifest


def is_up_to_date(entry: dict | None, model_dir: Path, key: str) -> bool:
    if not entry or entry.get("key") != key:
        return False
    files = entry.get("files", {})
    for name in FILES:
        path = model_dir / name
        if name not in files or not path.is_file() or files[name].get("sha256") != _sha256(path):
            return False
    return True


def _io(info) -> dict:
    described = {"name": info.name, "shape": info.shape, "dtype": info.dtype}
    if info.scale is not None:
        described.update(scale=info.scale, zero_point=info.zero_point)
    return described


def _onnx_io(path: Path) -> dict:
    from edgecnn.export.artifacts import load_onnx

    onnx = require("onnx")
    model = load_onnx(path)
    initializers = {t.name for t in model.graph.initializer}

    def describe(value):
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim]
        return {"name": value.name, "shape": dims, "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name}

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return {
        "opset": opset,
        "inputs": [describe(v) for v in model.graph.input if v.name not in initializers],
        "outputs": [describe(v) for v in model.graph.output],
        "nodes": len(model.graph.node),
    }


def build_model(name: str, model_dir: Path, key: str) -> dict:
    """Build one model's five files into model_dir; return its manifest entry."""
    from edgecnn.export import tflite
    from edgecnn.runtime.files import staged_file
    from edgecnn.train import tiny_models

    spec = tiny_models.spec(name)
    model_dir.mkdir(parents=True, exist_ok=True)
    paths = {f: model_dir / f for f in FILES}
    model = tiny_models.build(name)
    with staged_file(paths["model.keras"]) as tmp:
        model.save(tmp)
    tflite.keras_to_tflite_float(model, paths["model.float.tflite"])
    calibration = tiny_models.sample_inputs(name, CALIBRATION_SAMPLES, CALIBRATION_SEED)
    tflite.keras_to_tflite_int8(model, paths["model.int8.tflite"], calibration)
    tflite.tflite_to_onnx(paths["model.float.tflite"], paths["model.float.onnx"])
    tflite.tflite_to_onnx(paths["model.int8.tflite"], paths["model.int8.onnx"])

    check = tiny_models.sample_inputs(name, CHECK_SAMPLES, CHECK_SEED)
    agreement = {
        "float": tflite.compare_tflite_onnx(paths["model.float.tflite"], paths["model.float.onnx"], check),
        "int8": tflite.compare_tflite_onnx(
            paths["model.int8.tflite"], paths["model.int8.onnx"], check, float_tflite_path=paths["model.float.tflite"]
        ),
    }
    tflite_io = {kind: tflite.tflite_io(paths[f"model.{kind}.tflite"]) for kind in ("float", "int8")}
    return {
        "name": name,
        "key": key,
        "mlperf_tiny": spec.mlperf_tiny,
        "description": (spec.builder.__doc__ or "").strip().splitlines()[0],
        "input_shape": list(spec.input_shape),
        "input_values": spec.inputs,
        "macs": tiny_models.count_macs(model),
        "params": tiny_models.count_params(model),
        "tflite": {kind: {"input": _io(i), "output": _io(o)} for kind, (i, o) in tflite_io.items()},
        "onnx": {kind: _onnx_io(paths[f"model.{kind}.onnx"]) for kind in ("float", "int8")},
        "files": {f: {"bytes": paths[f].stat().st_size, "sha256": _sha256(paths[f])} for f in FILES},
        "agreement": {kind: a.as_dict() for kind, a in agreement.items()},
        "check": {"samples": CHECK_SAMPLES, "seed": CHECK_SEED},
        "calibration": {"samples": CALIBRATION_SAMPLES, "seed": CALIBRATION_SEED},
    }


def _progress(index: int, total: int, entry: dict, built: bool, seconds: float) -> str:
    f, q = entry["agreement"]["float"], entry["agreement"]["int8"]
    how = f"built in {seconds:.1f} s" if built else "up to date"
    most = int(q["max_abs_diff"])
    steps = f" (by up to {most} step{'s' if most > 1 else ''})" if q["differing"] else ""
    ok = "" if f["within_tolerance"] and q["within_tolerance"] else "  OUTSIDE TOLERANCE"
    return (
        f"zoo [{index}/{total}] {entry['name']:<24} {how:<17} {entry['macs']:>11,} MACs "
        f"{entry['params']:>8,} params | ONNX vs TFLite: float max diff {f['max_abs_diff']:.2g}, "
        f"int8 {q['differing']}/{q['values']} values differ{steps}{ok}"
    )


def build_zoo(out_dir, names=None, *, log=print) -> dict:
    """Build (or find up to date) the named models, all by default, into out_dir.

    Returns {name: manifest entry + "dir" (its folder) and "built" (False when it was up to date)}.
    """
    from edgecnn.runtime.files import format_json, write_text
    from edgecnn.train import tiny_models

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EdgecnnError(f"zoo output {out_dir} exists and is not a folder")
    names = list(tiny_models.NAMES if not names else dict.fromkeys(names))
    for name in names:
        tiny_models.spec(name)  # an unknown name fails here, before anything is built
    out_dir.mkdir(parents=True, exist_ok=True)
    generator = generator_key()
    manifest = _load_manifest(out_dir)
    models = manifest.get("models", {})
    result = {}
    for index, name in enumerate(names, start=1):
        model_dir = out_dir / name
        start = time.perf_counter()
        built = not is_up_to_date(models.get(name), model_dir, generator["key"])
        if built:
            models[name] = build_model(name, model_dir, generator["key"])
            manifest = {"generator": generator, "models": dict(sorted(models.items()))}
            write_text(out_dir / MANIFEST, format_json(manifest) + "\n")
        entry = models[name]
        if log is not None:
            log(_progress(index, len(names), entry, built, time.perf_counter() - start))
        result[name] = {**entry, "dir": str(model_dir), "built": built}
    return result


# ---------------------------------------------------------------------------------------
# Command line


def zoo_command(args) -> int:
    """build the tiny test models (MLPerf Tiny + Keras blocks) as .keras, .tflite and .onnx

    Build the tiny test models: the four MLPerf Tiny architectures (ResNet-8, DS-CNN,
    MobileNetV1-0.25, FC autoencoder) and Keras-Applications blocks, with deterministic random
    weights, each as model.keras, float and full-integer int8 .tflite (TFLiteConverter) and ONNX
    from each .tflite (tf2onnx), checked against the TFLite interpreter. Models already built by the
    same generator and package versions are kept.
    """
    start = time.perf_counter()
    zoo = build_zoo(args.out, args.only)
    outside = [
        name for name, entry in zoo.items() if not all(a["within_tolerance"] for a in entry["agreement"].values())
    ]
    built = sum(entry["built"] for entry in zoo.values())
    print(
        f"zoo: {len(zoo)} models in {args.out} ({built} built, {len(zoo) - built} up to date) "
        f"in {time.perf_counter() - start:.0f} s; manifest {Path(args.out) / MANIFEST}"
    )
    if outside:
        print(f"zoo: ONNX and TFLite disagree beyond the tolerance on: {', '.join(outside)}", file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    """Add `edgecnn zoo --out DIR [--only NAME ...]` (no TensorFlow import here)."""
    from edgecnn.train.tiny_models import NAMES

    p = add_command(subparsers, "zoo", zoo_command, epilog="models: " + ", ".join(NAMES))
    p.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to build into (OUT/NAME/, OUT/manifest.json)"
    )
    p.add_argument("--only", nargs="+", metavar="NAME", choices=NAMES, help="build only these models")

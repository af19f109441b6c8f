"""`edgecnn compile` of a model that is not ONNX yet: a .tflite file, a .keras file or a TensorFlow
SavedModel folder is converted with tf2onnx (the conversions of edgecnn.export.tflite) into an ONNX
file beside the output, which is then compiled as any ONNX model. The conversion needs the `train`
extra (TensorFlow, tf2onnx); without it the error names the `pip install` to run."""

from __future__ import annotations

from pathlib import Path

from edgecnn.runtime.errors import EdgecnnError, require

SAVED_MODEL_FILE = "saved_model.pb"
SAVED_MODEL_OPSET = 17


def source_kind(path: Path) -> str:
    """'onnx', 'tflite', 'keras' or 'saved_model' for a model path (by suffix; a folder is a SavedModel)."""
    if path.is_dir():
        if not (path / SAVED_MODEL_FILE).is_file():
            raise EdgecnnError(f"{path} is a folder without {SAVED_MODEL_FILE}: not a TensorFlow SavedModel")
        return "saved_model"
    kind = {".onnx": "onnx", ".tflite": "tflite", ".keras": "keras"}.get(path.suffix.lower())
    if kind is None:
        raise EdgecnnError(
            f"{path}: unknown model type '{path.suffix}'; compile takes .onnx, .tflite, .keras or a SavedModel folder"
        )
    return kind


def intermediate_onnx(model: Path, out: Path | None) -> Path:
    """Where the converted ONNX model goes: beside the output (its name with .onnx), or beside the
    model when there is no output file."""
    base = out if out is not None else model
    path = base.with_suffix(".onnx")
    if path.resolve() == model.resolve():
        raise EdgecnnError(f"{model}: the converted ONNX model would overwrite it; pass --out elsewhere")
    return path


def saved_model_to_onnx(folder: Path, out_path: Path, opset: int = SAVED_MODEL_OPSET) -> Path:
    """A SavedModel's serving signature (one input, one output) -> ONNX with tf2onnx, batch free."""
    from edgecnn.export.onnx_export import frozen_to_onnx
    from edgecnn.export.tflite import ConversionError, _captured_output, _tail, _tensorflow

    tf = _tensorflow()
    require("tf2onnx")  # missing: the error names the pip install before anything loads
    onnx = require("onnx")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from edgecnn.runtime.files import staged_file

    with _captured_output() as log:
        try:
            loaded = tf.saved_model.load(str(folder))
            signature = loaded.signatures.get("serving_default")
            if signature is None:
                raise EdgecnnError(f"{folder}: the SavedModel has no 'serving_default' signature")
            frozen = convert_variables_to_constants_v2(signature)
            if len(frozen.inputs) != 1 or len(frozen.outputs) != 1:
                raise EdgecnnError(
                    f"{folder}: the serving signature has {len(frozen.inputs)} inputs and {len(frozen.outputs)} "
                    "outputs; the native runtime needs one of each"
                )
            proto = frozen_to_onnx(frozen, folder.name, opset, "output")
        except EdgecnnError:
            raise
        except Exception as exc:
            raise ConversionError(
                f"tf2onnx could not convert the SavedModel {folder} ({type(exc).__name__}: {exc})" + _tail(log())
            ) from None
    onnx.checker.check_model(proto)
    with staged_file(out_path) as tmp:
        onnx.save(proto, str(tmp))
    return out_path


def to_onnx(model: Path, out: Path | None) -> tuple[Path, str]:
    """The ONNX file to compile for `model`, converting it first when it is not ONNX; returns the
    path and what was done ('' for an ONNX model)."""
    kind = source_kind(model)
    if kind == "onnx":
        return model, ""
    if not model.exists():
        raise EdgecnnError(f"{model}: no such file")
    target = intermediate_onnx(model, out)
    if kind == "tflite":
        from edgecnn.export.tflite import tflite_to_onnx

        tflite_to_onnx(model, target)
    elif kind == "keras":
        from edgecnn.export.tflite import keras_to_onnx

        keras_to_onnx(model, target)
    else:
        saved_model_to_onnx(model, target)
    return target, f"converted {model} with tf2onnx: wrote {target}"

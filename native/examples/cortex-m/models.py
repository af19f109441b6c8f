"""The int8 models `make cortex-m` runs, written to WORK/models/NAME.onnx (kept when present).

    python native/examples/cortex-m/models.py --work DIR [--only NAME ...]

- reference: the reference CNN's layers, narrowed to fit a microcontroller's flash (8 filters,
  dense units 32 and 16: the default's 10000 x 512 dense layer alone is 5 MB of int8 weights),
  trained briefly (`edgecnn train`, 1 epoch on 6000 images: the accuracy is not the point, the
  int8 arithmetic is), exported and quantized by edgecnn's own commands (`edgecnn export`,
  `edgecnn quantize`).
- ic_resnet8, kws_dscnn, vww_mobilenetv1, ad_fc_autoencoder: the MLPerf Tiny architectures of
  `edgecnn zoo` (deterministic random weights): the float ONNX model quantized by onnxruntime
  as `edgecnn quantize` does (QDQ, symmetric per-channel int8 weights in the reduced range,
  min-max ranges, Softmax in float) but with uint8 activations, with which onnxruntime fuses
  every group, residual Adds included, into integer kernels,
  calibrated on seeded uniform [0, 1) inputs, as `edgecnn quantize` only takes 28x28 images.
- ic_resnet8_tflite, kws_dscnn_tflite, vww_mobilenetv1_tflite, ad_fc_autoencoder_tflite: the
  same architectures' full-integer TFLite models as `edgecnn zoo` converts them to ONNX
  (model.int8.onnx): int8 input and output codes, int8 activations; onnxruntime runs their
  residual branches and the Softmax in float (QDQ groups it does not fuse), and the native
  runtime does the same to give onnxruntime's codes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ZOO = ("ic_resnet8", "kws_dscnn", "vww_mobilenetv1", "ad_fc_autoencoder")
TFLITE = tuple(f"{name}_tflite" for name in ZOO)
NAMES = ("reference", *ZOO, *TFLITE)
CALIBRATION_SAMPLES = 32
CALIBRATION_SEED = 7


def edgecnn(*args) -> None:
    command = [sys.executable, "-m", "edgecnn", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def reference(work: Path, out: Path) -> str:
    ref = work / "reference"
    if not (ref / "model.keras").exists():
        edgecnn(
            "train", "--out", ref, "--epochs", 1, "--limit", 6000, "--seed", 1, "--filters", 8, "--dense-units", 32, 16
        )
    edgecnn("export", ref / "model.keras", "--out", ref / "model.onnx")
    edgecnn("quantize", ref / "model.onnx", "--out", out, "--samples", 500, "--eval-samples", 500)
    return "edgecnn train (8 filters, dense 32 and 16, 1 epoch) + export + quantize"


def quantize_float(float_onnx: Path, out: Path) -> None:
    """onnxruntime's QDQ quantization with `edgecnn quantize`'s settings, on seeded inputs."""
    import onnx
    from onnxruntime import quantization
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgecnn.export.quantize import FLOAT_OP_TYPES, QUANTIZED_OP_TYPES, make_calibration_reader

    with tempfile.TemporaryDirectory(prefix="cortex-m-quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_onnx), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        graph_input = model.graph.input[0]
        shape = [d.dim_value or 1 for d in graph_input.type.tensor_type.shape.dim]
        samples = np.random.default_rng(CALIBRATION_SEED).random((CALIBRATION_SAMPLES, *shape[1:]), dtype=np.float32)

        quantization.quantize_static(
            str(prepared),
            str(out),
            make_calibration_reader(samples, graph_input.name, batch_size=1),
            quant_format=quantization.QuantFormat.QDQ,
            op_types_to_quantize=[*QUANTIZED_OP_TYPES, "Add", "AveragePool", "GlobalAveragePool"],
            nodes_to_exclude=[n.name for n in model.graph.node if n.op_type in FLOAT_OP_TYPES],
            per_channel=True,
            reduce_range=True,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )


def zoo_model(name: str, work: Path, out: Path) -> str:
    from edgecnn.zoo import build_zoo

    base = name.removesuffix("_tflite")
    models = build_zoo(work / "zoo", [base], log=lambda *_: None)
    folder = Path(models[base]["dir"])
    if name != base:
        shutil.copyfile(folder / "model.int8.onnx", out)
        return "edgecnn zoo full-integer TFLite model as ONNX (int8 input and output)"
    quantize_float(folder / "model.float.onnx", out)
    return "edgecnn zoo float ONNX, quantized by onnxruntime (QDQ)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    args = parser.parse_args(argv)
    (args.work / "models").mkdir(parents=True, exist_ok=True)
    for name in args.only:
        out = args.work / "models" / f"{name}.onnx"
        if out.exists():
            continue
        how = reference(args.work, out) if name == "reference" else zoo_model(name, args.work, out)
        (args.work / "models" / f"{name}.txt").write_text(how + "\n")
        print(f"{name}: {how}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

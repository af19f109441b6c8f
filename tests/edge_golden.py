"""Golden outputs for the edge targets: reference models compiled to .ecnn, a few real test
images as PGM files, and onnxruntime's outputs for them, all written on the host.

`edgecnn-run --raw MODEL IMAGE...` on each target (x86-64, and aarch64 / armv7 / riscv64
under qemu-user) must then give: the int8 logits bit for bit, the float outputs within
FLOAT_TOLERANCE (tests/native/test_edge_targets.py runs the comparison).

    .venv/bin/python tests/edge_golden.py --float-onnx model.onnx --int8-onnx model.int8.onnx \\
        --data /usr/share/datasets/fashion-mnist --out native/build/golden

Written to OUT (nothing here is committed: the models are generated at test time):
    NAME.ecnn, NAME.expected.npy   per model (float32 (images, outputs), onnxruntime's)
    image_I.pgm                    the test images (first `--images` of the test split)
    golden.json                    models, images, int8 output scale / zero point
Models: "float" (the float model, probabilities), "int8_logits" (the int8 model cut after its
last DequantizeLinear: its floats are (q - zp) * scale of the int8 logits q) and "int8"
(the whole int8 model, its float Softmax included).
"""

import argparse
import json
from pathlib import Path

import numpy as np

FLOAT_TOLERANCE = 1e-5
DEFAULT_IMAGES = 8


def write_pgm(path: Path, image: np.ndarray) -> None:
    """uint8 (H, W) -> binary P5 PGM, maxval 255 (edgecnn-run scales pixel / 255)."""
    path.write_bytes(b"P5\n%d %d\n255\n" % (image.shape[1], image.shape[0]) + image.tobytes())


def write_golden(float_onnx, int8_onnx, images_uint8: np.ndarray, out_dir) -> dict:
    """Compile the models, write images and onnxruntime's outputs to out_dir; returns golden.json's dict."""
    import onnx

    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.export.compiler import compile_model, quantized_output_model
    from edgecnn.runtime.data import to_model_input
    from edgecnn.verify_int8 import _ort_run

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x = to_model_input(images_uint8)
    image_names = []
    for i, image in enumerate(images_uint8):
        name = f"image_{i}.pgm"
        write_pgm(out / name, image)
        image_names.append(name)

    cut, scale, zero_point = quantized_output_model(onnx.load(str(int8_onnx)))
    expected = {
        "float": (compile_model(str(float_onnx))[0], run_onnx(ort_session(str(float_onnx)), x)),
        "int8_logits": (compile_model(cut)[0], _ort_run(cut, x)[0]),
        "int8": (compile_model(str(int8_onnx))[0], run_onnx(ort_session(str(int8_onnx)), x)),
    }
    for name, (blob, outputs) in expected.items():
        (out / f"{name}.ecnn").write_bytes(blob)
        np.save(out / f"{name}.expected.npy", np.asarray(outputs, dtype=np.float32).reshape(len(x), -1))
    golden = {
        "models": list(expected),
        "images": image_names,
        "int8_logits": {"scale": float(scale), "zero_point": int(zero_point)},
    }
    (out / "golden.json").write_text(json.dumps(golden, indent=2) + "\n")
    return golden


def int8_codes(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The int8 logits q behind dequantized floats (q - zp) * scale (exact, see quantized_output_model)."""
    return np.rint(np.asarray(values, dtype=np.float64) / scale).astype(np.int64) + zero_point


def parse_raw(text: str, count: int) -> np.ndarray:
    """`edgecnn-run --raw` output ("IMAGE: v0 v1 ..." per line) -> float32 (count, outputs)."""
    rows = [line.split(":", 1)[1].split() for line in text.splitlines() if line.strip()]
    if len(rows) != count:
        raise ValueError(f"edgecnn-run printed {len(rows)} result lines for {count} images:\n{text}")
    return np.array(rows, dtype=np.float64).astype(np.float32)


def main() -> int:
    from edgecnn.runtime.data import load_split

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--float-onnx", required=True, help="float ONNX model (edgecnn export)")
    parser.add_argument("--int8-onnx", required=True, help="its int8 QDQ quantization (edgecnn quantize)")
    parser.add_argument("--data", required=True, help="Fashion-MNIST IDX folder")
    parser.add_argument("--images", type=int, default=DEFAULT_IMAGES, help="test images to use")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    images, _ = load_split(args.data, "test", limit=args.images)
    golden = write_golden(args.float_onnx, args.int8_onnx, images, args.out)
    print(f"{args.out}: {len(golden['models'])} models, {len(golden['images'])} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

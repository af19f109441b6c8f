"""Edge targets: `edgecnn-run --raw` built for x86-64 and for aarch64, armv7 and riscv64 (run
under qemu-user) gives onnxruntime's outputs on golden models and real test images: the int8
logits bit for bit (and the same floats on every target), float outputs within 1e-5.

The binaries come from `make -C native` (host) and `make -C native cross` (`make test` builds
both before pytest); the golden files from tests/edge_golden.py, written here at test time.
"""

import shutil
import subprocess
from pathlib import Path

import edge_golden
import numpy as np
import pytest

NATIVE = Path(__file__).resolve().parents[2] / "native"
# target -> (edgecnn-run binary, emulator or None)
TARGETS = {
    "x86-64": (NATIVE / "build" / "edgecnn-run", None),
    "aarch64": (NATIVE / "build" / "cross" / "aarch64" / "edgecnn-run", "qemu-aarch64"),
    "armv7": (NATIVE / "build" / "cross" / "armv7" / "edgecnn-run", "qemu-arm"),
    "riscv64": (NATIVE / "build" / "cross" / "riscv64" / "edgecnn-run", "qemu-riscv64"),
}


@pytest.fixture(scope="module")
def golden(reference_onnx_path, reference_int8_onnx_path, fashion_test_subset, tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    images, _ = fashion_test_subset
    info = edge_golden.write_golden(
        reference_onnx_path, reference_int8_onnx_path, images[: edge_golden.DEFAULT_IMAGES], out
    )
    return out, info


def run_target(target: str, golden_dir: Path, model: str, images: list[str]) -> np.ndarray:
    binary, qemu = TARGETS[target]
    if not binary.exists():
        pytest.fail(
            f"{binary} is missing: build it with `make -C native {'cross' if qemu else ''}`".rstrip(), pytrace=False
        )
    if qemu and shutil.which(qemu) is None:
        pytest.fail(f"{qemu} is missing: apt-get install qemu-user", pytrace=False)
    command = ([qemu] if qemu else []) + [str(binary), "--raw", f"{model}.ecnn", *images]
    result = subprocess.run(command, cwd=golden_dir, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}): {result.stderr}"
    return edge_golden.parse_raw(result.stdout, len(images))


@pytest.fixture(scope="module")
def host_outputs(golden):
    out, info = golden
    return {model: run_target("x86-64", out, model, info["images"]) for model in info["models"]}


@pytest.mark.parametrize("target", list(TARGETS))
def test_target_matches_onnxruntime(target, golden, host_outputs):
    out, info = golden
    for model in info["models"]:
        expected = np.load(out / f"{model}.expected.npy")
        got = run_target(target, out, model, info["images"])
        assert got.shape == expected.shape, (model, got.shape, expected.shape)
        if model == "int8_logits":
            q = info["int8_logits"]
            codes = edge_golden.int8_codes(got, q["scale"], q["zero_point"])
            expected_codes = edge_golden.int8_codes(expected, q["scale"], q["zero_point"])
            differ = int((codes != expected_codes).sum())
            assert differ == 0, (
                f"{target}: {differ} of {codes.size} int8 logits differ from onnxruntime, "
                f"largest by {np.abs(codes - expected_codes).max()} steps"
            )
            assert np.array_equal(got, host_outputs[model]), f"{target}: int8 logits differ from the x86-64 build"
        else:
            worst = float(np.abs(got - expected).max())
            assert worst <= edge_golden.FLOAT_TOLERANCE, f"{target} {model}: largest difference {worst:.3g}"
            worst = float(np.abs(got - host_outputs[model]).max())
            assert worst <= edge_golden.FLOAT_TOLERANCE, f"{target} {model}: {worst:.3g} from the x86-64 build"

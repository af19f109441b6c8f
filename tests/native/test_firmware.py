"""native/examples/firmware: `edgecnn compile --emit-c` output linked into a program with no heap
and no filesystem, built and run on the host and on each edge target (qemu-user): it prints
the class the native runtime and onnxruntime give for the embedded test image."""

import shutil
import subprocess
from pathlib import Path

import pytest
from commands import parallel_make

NATIVE = Path(__file__).resolve().parents[2] / "native"
FIRMWARE = NATIVE / "examples" / "firmware"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# target -> (make variables, emulator or None); cross flags as native/Makefile's `cross`.
TARGETS = {
    "host": ({}, None),
    "aarch64": (
        {"CC": "aarch64-linux-gnu-gcc", "NM": "aarch64-linux-gnu-nm", "ARCH": "-march=armv8-a", "LDFLAGS": "-static"},
        "qemu-aarch64",
    ),
    "armv7": (
        {
            "CC": "arm-linux-gnueabihf-gcc",
            "NM": "arm-linux-gnueabihf-nm",
            "ARCH": "-march=armv7-a -mfpu=neon -mfloat-abi=hard",
            "LDFLAGS": "-static",
        },
        "qemu-arm",
    ),
    "riscv64": (
        {"CC": "riscv64-linux-gnu-gcc", "NM": "riscv64-linux-gnu-nm", "ARCH": "-march=rv64gc", "LDFLAGS": "-static"},
        "qemu-riscv64",
    ),
}


@pytest.fixture(scope="module")
def generated(tiny_model_factory, train_subset, fashion_test_subset, tmp_path_factory):
    """A small int8 model as model_data.c/.h, test image 0 as test_image.h, and the class expected."""
    from edgecnn.cli import main
    from edgecnn.export.artifacts import ort_session, run_onnx
    from edgecnn.export.embed import emit_c_image
    from edgecnn.export.quantize import quantize_onnx
    from edgecnn.runtime import Model
    from edgecnn.runtime.data import to_model_input

    out = tmp_path_factory.mktemp("firmware")
    _, float_onnx = tiny_model_factory()
    images, _ = train_subset
    int8_onnx = quantize_onnx(float_onnx, out / "tiny.int8.onnx", images[:200])
    assert (
        main(["compile", "--emit-c", str(out / "model_data.c"), "--out", str(out / "tiny.ecnn"), str(int8_onnx)]) == 0
    )
    test_images, _ = fashion_test_subset
    emit_c_image(test_images[0], out / "test_image.h")
    x = to_model_input(test_images[:1])
    native = int(Model.load(out / "tiny.ecnn").predict(x).argmax())
    reference = int(run_onnx(ort_session(str(int8_onnx)), x).argmax())
    assert native == reference, (native, reference)
    return out, native


def test_emit_c_header_states_sizes(generated):
    from edgecnn.runtime import Model

    out, _ = generated
    model = Model.load(out / "tiny.ecnn")
    header = (out / "model_data.h").read_text()
    assert f"#define MODEL_DATA_BYTES {(out / 'tiny.ecnn').stat().st_size}u" in header
    assert f"#define MODEL_DATA_ARENA_BYTES_1 {model.arena_size(1)}u" in header
    assert f"#define MODEL_DATA_BATCH {model.batch}u" in header  # 0: any batch


@pytest.mark.parametrize("target", list(TARGETS))
def test_firmware_prints_the_class(target, generated):
    out, expected = generated
    variables, qemu = TARGETS[target]
    for tool in [variables.get("CC", "cc")] + ([qemu] if qemu else []):
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is missing: `make cross-deps` (or apt-get install the packages "
                "`make -C native cross-deps` names)",
                pytrace=False,
            )
    build = out / f"build-{target}"
    if target == "host":
        # The firmware's make builds the host library as native/Makefile's default build (cc,
        # CFLAGS -O2, no ARCH, every ISA directory): its folder is native/build, whose objects
        # `make -C native test` (or `make -C native`) leaves up to date; compiling them again was
        # the longest test of this file.
        build.mkdir()
        (build / "lib").symlink_to(NATIVE / "build", target_is_directory=True)
    command = ["make", "-s", "-C", str(FIRMWARE), f"GEN={out}", f"OUT={build}"]
    command += [f"{k}={v}" for k, v in variables.items()]
    made = subprocess.run(command, capture_output=True, text=True, timeout=300, env=parallel_make())
    assert made.returncode == 0, f"{' '.join(command)}:\n{made.stdout}{made.stderr}"
    run = subprocess.run(
        ([qemu] if qemu else []) + [str(build / "firmware")], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == f"class {expected} {CLASSES[expected]}", run.stdout


def test_emit_c_needs_a_c_file_name(generated, tmp_path, capsys):
    from edgecnn.cli import main

    out, _ = generated
    assert main(["compile", "--emit-c", str(tmp_path / "model.txt"), str(out / "tiny.int8.onnx")]) == 2
    assert "must end in .c" in capsys.readouterr().err


@pytest.mark.parametrize("conv_linked", [True, False])
def test_library_linked_with_the_models_ops_only(generated, tmp_path, conv_linked):
    """--emit-c's model_data_ops.h builds a library that links the model's ops only; a build that
    leaves out one of them refuses the model at load with a status (no crash). The library is
    the plain C one (PORTABLE=1): the op selection is above the kernels, and the full library of
    each target links in test_firmware_prints_the_class."""
    out, expected = generated
    ops = (out / "model_data_ops.h").read_text()
    assert "#define ECNN_USES_CONV_2D 1" in ops and "#define ECNN_USES_RESIZE_2D 0" in ops
    gen = tmp_path / "gen"
    gen.mkdir()
    for name in ("model_data.c", "model_data.h", "test_image.h"):
        shutil.copy(out / name, gen / name)
    if not conv_linked:
        ops = ops.replace("#define ECNN_USES_CONV_2D 1", "#define ECNN_USES_CONV_2D 0")
    (gen / "model_data_ops.h").write_text(ops)
    build = tmp_path / "build"
    command = ["make", "-s", "-C", str(FIRMWARE), f"GEN={gen}", f"OUT={build}", "PORTABLE=1"]
    made = subprocess.run(
        [*command, f"CFLAGS=-O2 -DECNN_OPS_HEADER=model_data_ops.h -I{gen}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=parallel_make(),
    )
    assert made.returncode == 0, made.stdout + made.stderr
    symbols = subprocess.run(["nm", build / "firmware"], capture_output=True, text=True, check=True).stdout
    assert "ecnn_eval_resize_2d" not in symbols  # an op the model does not use is not in the program
    run = subprocess.run([build / "firmware"], capture_output=True, text=True, timeout=60)
    if conv_linked:
        assert "ecnn_eval_conv_2d" in symbols
        assert run.returncode == 0 and run.stdout.strip() == f"class {expected} {CLASSES[expected]}", run.stdout
    else:
        assert "ecnn_eval_conv_2d" not in symbols
        assert run.returncode == 2 and "left out of this build" in run.stdout, run.stdout

"""Firmware packages generated from native/ by one command each: the Arduino library (also a
PlatformIO library) of `make -C native dist-arduino` and the Zephyr module (native/zephyr,
and the stand-alone copy of `make -C native dist-zephyr`).

Debian's arduino-builder has only the AVR core (the ARM cores come from the Boards Manager,
online), so the Arduino library is built as the IDE builds a library (every .c file under src/,
only src/ on the include path) with arm-none-eabi-gcc and picolibc, and runs on Cortex-M boards
emulated by qemu-system-arm; its example sketch runs there against a stand-in for the Arduino
core (firmware/arduino_stub). Zephyr is not packaged by Debian or PyPI: the module's CMake code
runs under a stand-in for Zephyr's library functions (firmware/zephyr_shim) and its Kconfig is
parsed by kconfiglib, the parser Zephyr uses."""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from commands import c_version, need_tool, run
from small_onnx import CLASSES, INPUT_SHAPE, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
HERE = Path(__file__).resolve().parent / "firmware"
FLOAT_TOLERANCE = 1e-5  # the project's float agreement; int8 is exact
PACKAGES = "cmake gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm"

# Cortex-M boards qemu emulates: compiler flags, qemu machine.
BOARDS = {
    "cortex-m4f": ("-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16", "mps2-an386"),
    "cortex-m3": ("-mcpu=cortex-m3 -mthumb -mfloat-abi=soft", "mps2-an385"),
}
# How each tool compiles a library's C files: the Arduino IDE's C flags for ARM cores (GNU C11,
# -Os, no way for a library to add flags), PlatformIO's plus library.json's build.flags.
FLAVOURS = {
    "arduino": "-std=gnu11 -Os -ffunction-sections -fdata-sections",
    "platformio": "-std=gnu11 -Os -ffunction-sections -fdata-sections {library_json_flags}",
}
# picolibc's linker script takes the memory map as symbols: the MPS2 boards' 4 MiB code and data RAMs.
LINK = (
    "--specs=picolibc.specs --oslib=semihost --crt0=semihost -Wl,--gc-sections -Wl,--defsym=__flash=0x0 "
    "-Wl,--defsym=__flash_size=0x400000 -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 "
    "-Wl,--defsym=__stack_size=0x4000"
)


def need_module(name: str, package: str):
    try:
        return __import__(name)
    except ImportError:
        pytest.fail(f"the Python package {package} is missing: pip install -e '.[dev]' (or `make test`)", pytrace=False)


def firmware_sources() -> list[str]:
    """native/src's .c files of sources.mk's FIRMWARE_DIRS, relative to native/src."""
    line = next(row for row in (NATIVE / "sources.mk").read_text().splitlines() if row.startswith("FIRMWARE_DIRS"))
    dirs = line.split("=", 1)[1].split()
    return sorted(p.relative_to(NATIVE / "src").as_posix() for d in dirs for p in (NATIVE / "src" / d).glob("*.c"))


def compare(printed: str, expected: np.ndarray) -> None:
    """print_outputs.c's output (isa line, then each float's hex bits) against Model.predict's."""
    lines = printed.split()
    assert lines[:2] == ["isa", "portable"], printed
    got = np.array([int(h, 16) for h in lines[2:]], dtype=np.uint32).view(np.float32)
    assert got.shape == expected.shape, printed
    assert int(got.argmax()) == int(expected.argmax())
    diff = float(np.abs(got - expected).max())
    assert diff <= FLOAT_TOLERANCE, f"largest difference {diff:.3g} > {FLOAT_TOLERANCE}"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A folder with the tiny CNN as model_data.c/.h (`edgecnn compile --emit-c`), an image as
    test_image.h, and Model.predict's float32 outputs for it."""
    from edgecnn.cli import main
    from edgecnn.export.embed import emit_c_image
    from edgecnn.runtime import Model

    out = tmp_path_factory.mktemp("embedded")
    assert (
        main(
            [
                "compile",
                "--emit-c",
                str(out / "model_data.c"),
                "--out",
                str(out / "tiny.ecnn"),
                str(tiny_cnn(out / "tiny.onnx")),
            ]
        )
        == 0
    )
    image = (np.arange(64).reshape(INPUT_SHAPE[1:]) * 4).astype(np.uint8)
    emit_c_image(image, out / "test_image.h")
    x = image.reshape(1, *INPUT_SHAPE).astype(np.float32) / np.float32(255)
    expected = Model.load(out / "tiny.ecnn").predict(x)[0]
    assert expected.shape == (CLASSES,)
    return out, expected


# -- Arduino / PlatformIO ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def arduino(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("arduino") / "edgecnn"
    run(["make", "-s", "-C", NATIVE, "dist-arduino", f"OUT={out}"])
    return out


def test_arduino_library_properties(arduino):
    props = dict(
        line.split("=", 1) for line in (arduino / "library.properties").read_text().splitlines() if "=" in line
    )
    for key in (
        "name",
        "version",
        "author",
        "maintainer",
        "sentence",
        "paragraph",
        "category",
        "architectures",
        "includes",
    ):
        assert props.get(key), f"library.properties has no {key}"
    assert props["name"] == "edgecnn" and props["version"] == c_version()
    # the categories the Arduino library specification allows
    assert props["category"] in (
        "Display",
        "Communication",
        "Signal Input/Output",
        "Sensors",
        "Device Control",
        "Timing",
        "Data Storage",
        "Data Processing",
        "Other",
    )
    for header in props["includes"].split(","):
        assert (arduino / "src" / header.strip()).is_file()
    assert "avr" not in props["architectures"].split(",")  # 8-bit AVR: 16-bit int, 2 KB of RAM


def test_platformio_library_json(arduino):
    manifest = json.loads((arduino / "library.json").read_text())
    assert manifest["name"] == "edgecnn" and manifest["version"] == c_version()
    assert (arduino / manifest["build"]["srcDir"]).is_dir() and (arduino / manifest["build"]["includeDir"]).is_dir()
    assert (arduino / manifest["build"]["includeDir"] / manifest["headers"]).is_file()
    assert "-ffp-contract=off" in manifest["build"]["flags"]  # numerics: no FMA contraction


def test_arduino_library_holds_the_firmware_sources(arduino):
    """The same files as native/: no copy that could drift, no ISA directory, one example sketch."""
    library_c = sorted(p.relative_to(arduino / "src").as_posix() for p in (arduino / "src").rglob("*.c"))
    assert library_c == firmware_sources()
    for rel in library_c:
        assert (arduino / "src" / rel).read_bytes() == (NATIVE / "src" / rel).read_bytes(), rel
    for header in ("edgecnn.h", "edgecnn_ops.h"):
        assert (arduino / "src" / header).read_bytes() == (NATIVE / "include" / header).read_bytes()
    outside = [p for p in arduino.rglob("*.c") if (arduino / "src") not in p.parents]
    assert not outside
    assert [p.name for p in (arduino / "examples").rglob("*.ino")] == ["Classify.ino"]


def _cross_compile(sources: list[Path], flags: list[str], objects: Path) -> list[Path]:
    objects.mkdir(parents=True, exist_ok=True)

    def one(i_source):
        i, source = i_source
        obj = objects / f"{i:03d}_{source.stem}.o"
        run(["arm-none-eabi-gcc", *flags, "-c", source, "-o", obj])
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, enumerate(sources)))


@pytest.fixture(scope="module")
def library_objects(arduino, tmp_path_factory):
    """(flavour, board) -> (compiler flags, the library's objects), compiled once each."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        need_tool(tool, PACKAGES)
    library_json_flags = " ".join(json.loads((arduino / "library.json").read_text())["build"]["flags"])
    cache = {}

    def get(flavour: str, board: str):
        if (flavour, board) not in cache:
            flags = [
                *BOARDS[board][0].split(),
                *FLAVOURS[flavour].format(library_json_flags=library_json_flags).split(),
                "--specs=picolibc.specs",
                "-Wall",
                "-Wextra",
            ]
            library = sorted((arduino / "src").rglob("*.c"))  # what the IDE compiles: every .c under src/
            objects = _cross_compile(
                library, [*flags, f"-I{arduino / 'src'}"], tmp_path_factory.mktemp(f"{flavour}-{board}")
            )
            cache[flavour, board] = flags, objects
        return cache[flavour, board]

    return get


def _link_and_run(board: str, objects: list[Path], elf: Path) -> str:
    """Links a program for the board with picolibc, runs it on qemu; returns what it printed."""
    cpu, machine = BOARDS[board]
    linked = subprocess.run(
        ["arm-none-eabi-gcc", *cpu.split(), *LINK.split(), *map(str, objects), "-lm", "-o", str(elf)],
        capture_output=True,
        text=True,
    )
    if "picolibc.specs" in linked.stderr:
        pytest.fail(f"picolibc is missing: apt-get install picolibc-arm-none-eabi\n{linked.stderr}", pytrace=False)
    assert linked.returncode == 0, linked.stderr
    # semihosting: the program's stdout arrives on qemu's stderr, its exit status is qemu's
    ran = subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-semihosting", "-kernel", str(elf)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stderr


@pytest.mark.parametrize(
    "flavour,board", [("arduino", "cortex-m4f"), ("platformio", "cortex-m4f"), ("platformio", "cortex-m3")]
)
def test_arduino_library_runs_on_cortex_m(flavour, board, arduino, library_objects, embedded, tmp_path):
    gen, expected = embedded
    flags, objects = library_objects(flavour, board)
    program = _cross_compile(
        [HERE / "print_outputs.c", gen / "model_data.c"], [*flags, f"-I{arduino / 'src'}", f"-I{gen}"], tmp_path / "app"
    )
    compare(_link_and_run(board, program + objects, tmp_path / "firmware.elf"), expected)


def test_arduino_example_sketch_runs(arduino, library_objects, embedded, tmp_path):
    """examples/Classify/Classify.ino with the model beside it, as its comment says, compiled as
    the IDE compiles a sketch (C++, Arduino.h first) against a stand-in for the Arduino core."""
    from edgecnn.runtime import Model

    gen, _ = embedded
    flags, objects = library_objects("arduino", "cortex-m4f")
    stub = HERE / "arduino_stub"
    sketch = tmp_path / "Classify.cpp"
    shutil.copy(arduino / "examples" / "Classify" / "Classify.ino", sketch)
    cxx = [
        *BOARDS["cortex-m4f"][0].split(),
        "-Os",
        "-std=gnu++11",
        "-fno-exceptions",
        "-fno-rtti",
        "--specs=picolibc.specs",
        "-Wall",
        "-Wextra",
        f"-I{stub}",
        f"-I{arduino / 'src'}",
        f"-I{gen}",
    ]
    program = []
    for source in (sketch, stub / "main.cpp"):
        program.append(tmp_path / f"{source.stem}.o")
        run(["arm-none-eabi-g++", *cxx, "-include", stub / "Arduino.h", "-c", source, "-o", program[-1]])
    program += _cross_compile([gen / "model_data.c"], [*flags, f"-I{gen}"], tmp_path / "model")
    printed = _link_and_run("cortex-m4f", program + objects, tmp_path / "sketch.elf").splitlines()
    model = Model.load(gen / "tiny.ecnn")
    best = int(model.predict(np.full((1, *INPUT_SHAPE), 0.5, dtype=np.float32))[0].argmax())  # the sketch's input
    assert printed[0] == f"edgecnn {c_version()}, arena bytes: {model.arena_size(1)}", printed
    assert [line.split(" in ")[0] for line in printed[1:]] == [f"class {best}"] * 2, printed


# -- Zephyr ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zephyr_modules(tmp_path_factory) -> dict:
    """{"repository": the repository root, "dist-zephyr": the stand-alone copy}."""
    out = tmp_path_factory.mktemp("zephyr") / "edgecnn"
    run(["make", "-s", "-C", NATIVE, "dist-zephyr", f"OUT={out}"])
    return {"repository": NATIVE, "dist-zephyr": out}


@pytest.mark.parametrize("which", ["repository", "dist-zephyr"])
def test_zephyr_module_yml(which, zephyr_modules):
    yaml = need_module("yaml", "pyyaml")
    module = zephyr_modules[which]
    meta = yaml.safe_load((module / "zephyr" / "module.yml").read_text())
    assert meta["name"] == "edgecnn"
    assert (module / meta["build"]["cmake"] / "CMakeLists.txt").is_file()
    assert (module / meta["build"]["kconfig"]).is_file()


def test_zephyr_kconfig(tmp_path):
    kconfiglib = need_module("kconfiglib", "kconfiglib")
    # Zephyr's own Kconfig tree defines REQUIRES_FULL_LIBC (lib/libc/Kconfig): stand in for it
    top = tmp_path / "Kconfig"
    top.write_text(f'config REQUIRES_FULL_LIBC\n\tbool\n\nsource "{NATIVE / "zephyr" / "Kconfig"}"\n')
    kconf = kconfiglib.Kconfig(str(top), warn_to_stderr=False)
    assert not kconf.warnings, kconf.warnings
    edgecnn = kconf.syms["EDGECNN"]
    assert edgecnn.type == kconfiglib.BOOL and edgecnn.str_value == "n"  # off unless the app asks
    edgecnn.set_value("y")
    assert kconf.syms["REQUIRES_FULL_LIBC"].str_value == "y"


def _shim(module: Path, build: Path, config: str, app: list[Path], includes: Path) -> subprocess.CompletedProcess:
    need_tool("cmake", PACKAGES)
    return run(
        [
            "cmake",
            "-S",
            HERE / "zephyr_shim",
            "-B",
            build,
            f"-DMODULE_DIR={module}",
            f"-DCONFIG_EDGECNN={config}",
            f"-DAPP_SOURCES={';'.join(map(str, app))}",
            f"-DAPP_INCLUDES={includes}",
        ]
    )


@pytest.mark.parametrize("which", ["repository", "dist-zephyr"])
def test_zephyr_module_builds_a_library_that_runs_the_model(which, zephyr_modules, embedded, tmp_path):
    gen, expected = embedded
    configured = _shim(
        zephyr_modules[which], tmp_path / "build", "y", [HERE / "print_outputs.c", gen / "model_data.c"], gen
    )
    assert "module libraries: edgecnn" in configured.stdout
    run(["cmake", "--build", tmp_path / "build", "-j", str(os.cpu_count() or 1)])
    compare(run([tmp_path / "build" / "app"]).stdout, expected)


def test_zephyr_module_builds_nothing_unless_enabled(zephyr_modules, tmp_path):
    configured = _shim(zephyr_modules["repository"], tmp_path / "build", "", [], tmp_path)
    assert "-- module libraries: \n" in configured.stdout, configured.stdout

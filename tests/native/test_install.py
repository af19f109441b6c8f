"""The installable C library: native/Makefile (`make install`) and native/CMakeLists.txt
(`cmake --install`) compile the same files with the same flags (both read native/sources.mk),
install the same tree at any prefix, and a C program built against either, through pkg-config
or find_package(edgecnn), shared or static, gives what Model.predict gives."""

import json
import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest
from commands import c_version, need_tool, run
from small_onnx import compiled, sample_inputs, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
APP = NATIVE / "examples" / "app"
TOOLS = {"cmake": "cmake", "pkg-config": "pkgconf", "make": "make", "cc": "gcc"}


@pytest.fixture(scope="module")
def tools():
    for name, package in TOOLS.items():
        need_tool(name, package)


@pytest.fixture(scope="module")
def prefixes(tools, tmp_path_factory):
    """{"make": prefix of `make install`, "cmake": prefix of `cmake --install`}, both of the
    library without the ISA directories (PORTABLE=1, EDGECNN_PORTABLE=ON). What these tests check
    -- the installed files, their modes and links, the archive's members against each other, a
    program built against the prefix -- does not depend on the ISA directories, and compiling
    them (twice for CMake: static and shared) made this the slowest fixture of the suite; that
    both builds compile every ISA file with the same flags is the flags test's part
    (test_make_and_cmake_compile_the_same_files_with_the_same_flags, "host"). Make builds in
    native/build/portable, where `make -C native test` keeps the same objects (its test-portable
    step), CMake in native/build/cmake-portable: a rerun only relinks."""
    root = tmp_path_factory.mktemp("prefixes")
    jobs = str(os.cpu_count() or 1)
    portable = ["PORTABLE=1", f"BUILD={NATIVE / 'build' / 'portable'}"]
    run(["make", "-s", "-j", jobs, "-C", NATIVE, "install", *portable, f"PREFIX={root / 'make'}"])
    build = NATIVE / "build" / "cmake-portable"
    run(["cmake", "-S", NATIVE, "-B", build, "-DEDGECNN_PORTABLE=ON"])
    run(["cmake", "--build", build, "-j", jobs])
    run(["cmake", "--install", build, "--prefix", root / "cmake"])
    return {"make": root / "make", "cmake": root / "cmake"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(tiny CNN .ecnn, input file of 3 samples, Model.predict's output for them at the portable level)."""
    from edgecnn.runtime import Model

    out = tmp_path_factory.mktemp("model")
    ecnn = compiled(tiny_cnn(out / "tiny.onnx"), out / "tiny.ecnn")
    x = sample_inputs(3)
    x.tofile(out / "input.bin")
    with pytest.MonkeyPatch.context() as patch:  # the installed library's (portable) kernels
        patch.setenv("EDGECNN_ISA", "portable")
        return ecnn, out / "input.bin", Model.load(ecnn).predict(x)


# -- one list of files and flags -------------------------------------------------------------


def _flags(command: list[str]) -> tuple[str, frozenset]:
    """(the -O level in effect, every other flag) of one compile command; paths, -I, -o, -c,
    the shared build's -fPIC and CMake's <target>_EXPORTS define left out."""
    opt, rest, skip = "", set(), False
    for word in command[1:]:
        if skip:
            skip = False
        elif word in ("-o", "-c"):
            skip = True
        elif word.startswith("-O"):
            opt = word
        elif not (word.startswith("-I") or word == "-fPIC" or word.endswith("_EXPORTS") or not word.startswith("-")):
            rest.add(word)
    return opt, frozenset(rest)


def make_commands(*variables: str) -> dict:
    """source (relative to native/) -> _flags, from `make -n` of libedgecnn.a."""
    dry = run(["make", "-n", "-B", "-C", NATIVE, "BUILD=/nonexistent", *variables, "/nonexistent/libedgecnn.a"])
    commands = {}
    for line in dry.stdout.splitlines():
        words = shlex.split(line)
        if "-c" in words and "/nonexistent/obj/" in line:
            commands[words[words.index("-c") + 1]] = _flags(words)
    return commands


def cmake_commands(build: Path, *definitions: str) -> dict:
    """source (relative to native/) -> _flags of the static library, from CMake's compile_commands.json."""
    run(["cmake", "-S", NATIVE, "-B", build, "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", *definitions])
    commands = {}
    for entry in json.loads((build / "compile_commands.json").read_text()):
        if "edgecnn_static.dir" in entry.get("output", entry["command"]):
            source = Path(entry["file"]).resolve().relative_to(NATIVE).as_posix()
            commands[source] = _flags(shlex.split(entry["command"]))
    return commands


CONFIGURATIONS = {
    "host": ((), ()),
    "portable": (("PORTABLE=1",), ("-DEDGECNN_PORTABLE=ON",)),
    # configure only: CMake's compile commands for a cross compiler need no sysroot
    "aarch64": (
        ("CC=aarch64-linux-gnu-gcc",),
        ("-DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc", "-DCMAKE_SYSTEM_NAME=Linux", "-DCMAKE_SYSTEM_PROCESSOR=aarch64"),
    ),
}


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_make_and_cmake_compile_the_same_files_with_the_same_flags(configuration, tools, tmp_path):
    make_vars, cmake_defs = CONFIGURATIONS[configuration]
    if configuration == "aarch64":
        need_tool("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
    made = make_commands(*make_vars)
    cmade = cmake_commands(tmp_path / "build", *cmake_defs)
    assert made, "make -n listed no library object"
    assert sorted(made) == sorted(cmade), sorted(set(made) ^ set(cmade))
    different = {src: (made[src], cmade[src]) for src in made if made[src] != cmade[src]}
    assert not different, "\n".join(f"{src}:\n  make  {m}\n  cmake {c}" for src, (m, c) in different.items())
    # the per-ISA flags are there at all (not both builds missing them)
    isa = [
        flags for src, (_, flags) in made.items() if "/kernels/x86/avx512vnni/" in src or "/kernels/arm/dotprod/" in src
    ]
    if configuration == "portable":
        assert not isa
    else:
        assert isa and all("-mavx512vnni" in f or "-march=armv8.2-a+dotprod" in f for f in isa)


# -- the installed trees -----------------------------------------------------------------------


def _tree(prefix: Path) -> dict:
    """relative path -> (kind, symlink target or mode)."""
    tree = {}
    for path in sorted(prefix.rglob("*")):
        rel = path.relative_to(prefix).as_posix()
        if path.is_symlink():
            tree[rel] = ("link", os.readlink(path))
        elif path.is_file():
            tree[rel] = ("file", oct(path.stat().st_mode & 0o777))
    return tree


def _members(archive: Path) -> list[str]:
    names = run(["ar", "t", archive]).stdout.split()
    return sorted(n.replace(".c.o", ".o") for n in names)  # CMake names objects run.c.o, Make run.o


def test_make_install_and_cmake_install_give_the_same_tree(prefixes):
    made, cmade = _tree(prefixes["make"]), _tree(prefixes["cmake"])
    assert made == cmade
    for rel in made:
        if rel.startswith(("include/", "lib/pkgconfig/", "lib/cmake/")):
            assert (prefixes["make"] / rel).read_bytes() == (prefixes["cmake"] / rel).read_bytes(), rel
    assert _members(prefixes["make"] / "lib/libedgecnn.a") == _members(prefixes["cmake"] / "lib/libedgecnn.a")
    version = c_version()
    assert f"lib/libedgecnn.so.{version}" in made
    soname = run(["readelf", "-d", prefixes["make"] / f"lib/libedgecnn.so.{version}"]).stdout
    assert f"[libedgecnn.so.{'.'.join(version.split('.')[:2])}]" in soname


def test_pkg_config_describes_the_installed_library(prefixes):
    env = {**os.environ, "PKG_CONFIG_PATH": str(prefixes["make"] / "lib/pkgconfig")}
    version = run(["pkg-config", "--modversion", "edgecnn"], env=env).stdout.strip()
    assert version == c_version()
    libs = run(["pkg-config", "--libs", "--static", "edgecnn"], env=env).stdout.split()
    assert "-ledgecnn" in libs and "-lm" in libs
    include = run(["pkg-config", "--variable=includedir", "edgecnn"], env=env).stdout.strip()
    assert Path(include, "edgecnn.h").resolve() == (prefixes["make"] / "include/edgecnn.h").resolve()


# -- a C program against the installed library -------------------------------------------------


def _build_app(method: str, prefix: Path, static: bool, out: Path) -> Path:
    if method == "pkg-config":
        run(
            [
                "make",
                "-s",
                "-C",
                APP,
                f"OUT={out}",
                f"PKG_CONFIG_PATH={prefix / 'lib/pkgconfig'}",
                f"STATIC={int(static)}",
            ]
        )
    else:
        run(
            [
                "cmake",
                "-S",
                APP,
                "-B",
                out,
                f"-DCMAKE_PREFIX_PATH={prefix}",
                f"-DAPP_STATIC={'ON' if static else 'OFF'}",
            ]
        )
        run(["cmake", "--build", out])
    return out / "app"


@pytest.mark.parametrize("installed_by", ["make", "cmake"])
@pytest.mark.parametrize("method", ["pkg-config", "find_package"])
@pytest.mark.parametrize("linkage", ["shared", "static"])
def test_c_program_against_the_installed_library(installed_by, method, linkage, prefixes, model, tmp_path):
    ecnn, inputs, expected = model
    prefix = prefixes[installed_by]
    app = _build_app(method, prefix, linkage == "static", tmp_path / "app")
    libraries = run(["ldd", app], check=False).stdout if linkage == "shared" else ""
    if linkage == "shared":
        linked = [line for line in libraries.splitlines() if "libedgecnn" in line]
        assert linked and str(prefix.resolve()) in str(Path(linked[0].split("=>")[1].split("(")[0].strip()).resolve())
    else:
        assert "libedgecnn" not in run(["readelf", "-d", app]).stdout
    done = run([app, ecnn, inputs], env={k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"})
    got = np.array([[float(v) for v in line.split()] for line in done.stdout.splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(got, expected)  # the same library code: bit for bit


def _find_package(prefix: Path, version: str, tmp_path: Path) -> subprocess.CompletedProcess:
    source = tmp_path / version
    source.mkdir()
    (source / "CMakeLists.txt").write_text(
        f"cmake_minimum_required(VERSION 3.16)\nproject(v LANGUAGES C)\nfind_package(edgecnn {version} REQUIRED)\n"
    )
    return subprocess.run(
        ["cmake", "-S", str(source), "-B", str(source / "build"), f"-DCMAKE_PREFIX_PATH={prefix}"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_find_package_checks_the_version(prefixes, tmp_path):
    major, minor, _ = map(int, c_version().split("."))
    assert _find_package(prefixes["cmake"], f"{major}.{minor}", tmp_path).returncode == 0
    newer = _find_package(prefixes["cmake"], f"{major}.{minor + 1}", tmp_path)
    assert newer.returncode != 0 and "compatible with requested version" in newer.stderr, newer.stderr
    if major == 0 and minor > 0:  # before 1.0 another minor version is another ABI
        assert _find_package(prefixes["cmake"], f"0.{minor - 1}", tmp_path).returncode != 0

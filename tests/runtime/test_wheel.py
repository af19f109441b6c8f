"""Distribution: `pip wheel .` builds a wheel that installs into a fresh virtual environment and
runs a model there, with only numpy and cffi beside it, on this CPU and on an x86-64 without
AVX2 (qemu-x86_64 -cpu SandyBridge: the run-time dispatch picks the plain C kernels); the sdist
holds the native sources and builds the same wheel.

Offline: the wheels are built without build isolation (this environment's setuptools, wheel and
cffi) and installed with --no-index; numpy, cffi and pycparser come from this environment, linked
into a folder the fresh one reads through a .pth file."""

import importlib.metadata
import os
import platform
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from commands import parallel_make, run
from small_onnx import compiled, sample_inputs, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DEPS = ("numpy", "cffi", "pycparser")

SCRIPT = """
import sys
from pathlib import Path
import numpy as np
import edgecnn.runtime
from edgecnn.runtime import Model

assert Path(edgecnn.runtime.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), edgecnn.runtime.__file__
model = Model.load(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2])))
print(model.isa)
"""


def _link_distributions(names, folder: Path) -> None:
    """Symlinks the installed files of these distributions (packages, extension modules,
    .dist-info, vendored .libs) into folder."""
    folder.mkdir()
    for name in names:
        dist = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or ()} - {"..", "__pycache__"}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{"wheel": `pip wheel .`'s wheel, "sdist": the sdist, "sdist_wheel": the wheel built from it}."""
    out = tmp_path_factory.mktemp("dist")
    flags = ["--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir"]
    # The tree's wheel relinks the library `pip install -e .` built (native/build/python); the
    # sdist's is built from scratch in pip's folder, every ISA directory at -O3: in parallel.
    run([sys.executable, "-m", "pip", "wheel", *flags, "-w", out / "wheel", "."], cwd=ROOT, env=parallel_make())
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("the Python package build is missing: pip install -e '.[dev]' (or `make test`)", pytrace=False)
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", out / "sdist", "."], cwd=ROOT)
    (sdist,) = (out / "sdist").glob("*.tar.gz")
    run([sys.executable, "-m", "pip", "wheel", *flags, "-w", out / "sdist_wheel", sdist], cwd=out, env=parallel_make())
    (wheel,) = (out / "wheel").glob("*.whl")
    (sdist_wheel,) = (out / "sdist_wheel").glob("*.whl")
    return {"wheel": wheel, "sdist": sdist, "sdist_wheel": sdist_wheel}


@pytest.fixture(scope="module")
def fresh_venv(built, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed by its own pip, offline."""
    root = tmp_path_factory.mktemp("venv")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    _link_distributions(RUNTIME_DEPS, root / "deps")
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    Path(site, "edgecnn_test_deps.pth").write_text(str(root / "deps") + "\n")
    # the wheel's dependencies (numpy, cffi) are found installed; nothing is downloaded
    run([python, "-m", "pip", "install", "--no-index", "--find-links", built["wheel"].parent, "edgecnn"], cwd=root)
    run([python, "-m", "pip", "check"], cwd=root)
    return venv


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(tiny CNN .ecnn, input .npy)."""
    out = tmp_path_factory.mktemp("model")
    ecnn = compiled(tiny_cnn(out / "tiny.onnx"), out / "tiny.ecnn")
    np.save(out / "x.npy", sample_inputs(5))
    return ecnn, out / "x.npy"


def _run_model(venv: Path, model, out: Path, env=None, emulator=()) -> tuple[str, np.ndarray]:
    ecnn, x = model
    script = out.parent / "run_model.py"
    script.write_text(SCRIPT)
    done = run([*emulator, venv / "bin" / "python", script, ecnn, x, out], cwd=out.parent, env=env)
    return done.stdout.strip(), np.load(out)


def test_wheel_holds_the_runtime_and_its_extension(built):
    names = zipfile.ZipFile(built["wheel"]).namelist()
    assert [n for n in names if n.startswith("edgecnn/runtime/_native") and n.endswith(".so")]
    for package in (
        "edgecnn/cli.py",
        "edgecnn/runtime/model.py",
        "edgecnn/export/compiler/__init__.py",
        "edgecnn/train/__init__.py",
    ):
        assert package in names
    assert not [n for n in names if n.split("/")[0] in ("runtime", "train", "export", "native", "tests")]


def test_sdist_holds_the_native_sources_and_builds_the_same_wheel(built):
    with tarfile.open(built["sdist"]) as sdist:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in sdist.getnames()}
    tracked = run(
        [
            "git",
            "ls-files",
            "native/include",
            "native/src",
            "native/Makefile",
            "native/sources.mk",
            "native/CMakeLists.txt",
            "native/cmake",
            "runtime",
            "setup.py",
            "pyproject.toml",
        ],
        cwd=ROOT,
    )
    missing = sorted(set(tracked.stdout.split()) - names)
    assert not missing, f"the sdist lacks {missing}"
    assert not [n for n in names if n.startswith("native/build/") or n.endswith((".o", ".a", ".so"))]
    assert sorted(zipfile.ZipFile(built["wheel"]).namelist()) == sorted(
        zipfile.ZipFile(built["sdist_wheel"]).namelist()
    )


def test_wheel_runs_a_model_in_a_fresh_venv(fresh_venv, model, tmp_path):
    from edgecnn.runtime import Model

    isa, got = _run_model(fresh_venv, model, tmp_path / "y.npy")
    expected = Model.load(model[0]).predict(np.load(model[1]))
    assert isa == Model.load(model[0]).isa
    np.testing.assert_array_equal(got, expected)  # the same kernels on the same CPU: bit for bit
    # the command line works there too, without TensorFlow
    assert "usage: edgecnn" in run([fresh_venv / "bin" / "edgecnn", "--help"], cwd=tmp_path).stdout


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the x86-64 baseline check runs on x86-64 hosts")
def test_wheel_runs_on_an_x86_64_without_avx2(fresh_venv, model, tmp_path):
    """qemu's SandyBridge (AVX, no AVX2 or FMA: none of the library's x86 levels): numpy 2.4 dies
    with an illegal instruction under qemu's older models (Nehalem, Westmere)."""
    if shutil.which("qemu-x86_64") is None:
        pytest.fail("qemu-x86_64 is missing: `make cross-deps` (as root) or apt-get install qemu-user", pytrace=False)
    # numpy's OpenBLAS reads qemu's CPUID as a Haswell and runs FMA code the emulated CPU refuses:
    # name the core it emulates.
    emulated = {**os.environ, "OPENBLAS_CORETYPE": "Sandybridge"}
    isa, got = _run_model(
        fresh_venv, model, tmp_path / "y.npy", env=emulated, emulator=("qemu-x86_64", "-cpu", "SandyBridge")
    )
    assert isa == "portable"
    env = {**os.environ, "EDGECNN_ISA": "portable"}  # the same kernels on this CPU
    _, expected = _run_model(fresh_venv, model, tmp_path / "expected.npy", env=env)
    np.testing.assert_array_equal(got, expected)

"""Packaging contract: namespaced packages, and a runtime that never needs TensorFlow."""

import os
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "tf2onnx", "onnxruntime", "onnx")


def _run_python(code: str) -> subprocess.CompletedProcess:
    # Run outside the repo so the source folders cannot shadow the installed package.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.path.expanduser("~"))


@pytest.mark.parametrize("module", ["edgecnn.runtime", "edgecnn.cli", "edgecnn.train", "edgecnn.export"])
def test_import_does_not_pull_heavy_frameworks(module):
    code = f"import sys, {module}\nloaded = [m for m in {HEAVY!r} if m in sys.modules]\nprint(','.join(loaded))\n"
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing {module} loaded {result.stdout.strip()}"


def test_cli_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from edgecnn.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert "usage: edgecnn" in result.stdout
    assert result.stderr.strip() == "", f"--help loaded {result.stderr.strip()}"


@pytest.mark.parametrize("name", ["train", "export", "runtime"])
def test_folders_are_not_top_level_modules(name):
    result = _run_python(f"import {name}")
    assert result.returncode != 0, f"'import {name}' worked: folders must install only under edgecnn.*"


def test_native_extension_loads():
    from edgecnn.runtime import _native

    assert _native.ffi.string(_native.lib.ecnn_version()).decode()

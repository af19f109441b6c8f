"""One version everywhere: pyproject.toml, the installed package's metadata, `edgecnn --version`,
`python -m edgecnn --version` and the C library's ecnn_version() (which CMake, `make install`
and the firmware packages read)."""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_versions_agree():
    from edgecnn.runtime import _native

    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert importlib.metadata.version("edgecnn") == declared
    assert _native.ffi.string(_native.lib.ecnn_version()).decode() == declared
    for command in (
        [str(Path(sys.executable).with_name("edgecnn")), "--version"],
        [sys.executable, "-m", "edgecnn", "--version"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, cwd=os.path.expanduser("~"), timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"edgecnn {declared}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", declared)

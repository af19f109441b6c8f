"""Running the build tools a test drives (make, cmake, compilers, qemu, pip): one way to run a
command and fail with its output, one way to require a tool and name the package to install."""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parent.parent / "native"


def parallel_make() -> dict:
    """The environment with MAKEFLAGS=-j<cores>, for a build whose make (run by pip's setup.py, or
    a Makefile of the examples) would otherwise compile the library's files one at a time."""
    return {**os.environ, "MAKEFLAGS": f"-j{os.cpu_count() or 1}"}


def run(command, **kwargs) -> subprocess.CompletedProcess:
    """Run command (its parts may be paths); a non-zero exit fails the test with the command
    and the tail of its output."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{shlex.join(map(str, command))}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
    return done


def need_tool(name: str, package: str) -> str:
    """The path of the program name, or a failure naming the Debian package(s) that install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: `make packaging-deps` (as root) or apt-get install {package}", pytrace=False)
    return path


def c_version() -> str:
    """The C library's version, as native/src/core/version.c returns it."""
    return run(["sed", "-n", r's/.*return "\([0-9.]*\)".*/\1/p', NATIVE / "src/core/version.c"]).stdout.strip()

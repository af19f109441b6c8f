"""Only here for `cffi_modules`, which has no pyproject.toml spelling.

All metadata lives in pyproject.toml. The cffi build script (runtime/_build_ffi.py) declares
the extension `edgecnn.runtime._native`; build_ext first builds the C library with
native/Makefile (`make pic`), which the extension links.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py


class BuildExt(build_ext):
    """Builds native/'s library before the extension that links it."""

    def run(self):
        spec = importlib.util.spec_from_file_location(
            "_edgecnn_build_ffi", Path(__file__).resolve().parent / "runtime" / "_build_ffi.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.build_native_library()
        super().run()


class BuildPy(build_py):
    """Starts from an empty build/lib/edgecnn: setuptools never deletes the copy of a module that
    was removed or moved since the last build in this tree, and `pip wheel .` would ship it."""

    def run(self):
        shutil.rmtree(Path(self.build_lib) / "edgecnn", ignore_errors=True)
        super().run()


setup(cffi_modules=["runtime/_build_ffi.py:ffibuilder"], cmdclass={"build_ext": BuildExt, "build_py": BuildPy})

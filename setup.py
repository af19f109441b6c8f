"""Only here for `cffi_modules`, which has no pyproject.toml spelling.

All metadata lives in pyproject.toml. The cffi build script compiles the C
library in native/ into the extension `edgecnn.runtime._native`.
"""
from setuptools import setup

setup(cffi_modules=["runtime/_build_ffi.py:ffibuilder"])

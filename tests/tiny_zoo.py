"""The tiny test models (edgecnn.zoo: MLPerf Tiny architectures and Keras-Applications blocks, each
as .keras, float and int8 .tflite, and ONNX from both), built once per test session.

tests/conftest.py offers the fixture to every test:

    def test_something(tiny_zoo):
        path = tiny_zoo.path("ic_resnet8", "model.int8.onnx")

The first build takes a couple of minutes on two cores (TFLiteConverter dominates). With
EDGECNN_TINY_ZOO=DIR the models are built into DIR instead of a temporary folder, and a later
session finds them up to date there (edgecnn.zoo's cache) and builds nothing.
A missing package fails the tests that need the zoo, saying what to install; nothing is skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from needs import need

ENV_DIR = "EDGECNN_TINY_ZOO"


@dataclass
class TinyZoo:
    dir: Path
    models: dict  # name -> edgecnn.zoo manifest entry (+ "dir", "built")

    def path(self, name: str, file: str) -> Path:
        return Path(self.models[name]["dir"]) / file

    def onnx(self, name: str, kind: str) -> Path:
        return self.path(name, f"model.{kind}.onnx")

    def tflite(self, name: str, kind: str) -> Path:
        return self.path(name, f"model.{kind}.tflite")


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory) -> TinyZoo:
    for module in ("tensorflow", "tf2onnx", "onnx", "onnxruntime", "ai_edge_litert.interpreter"):
        need(module)
    from edgecnn.zoo import build_zoo

    out = Path(os.environ[ENV_DIR]) if os.environ.get(ENV_DIR) else tmp_path_factory.mktemp("tiny_zoo")
    return TinyZoo(out, build_zoo(out))

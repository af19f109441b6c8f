"""`edgecnn info`: the CPU, every kernel level of this build with whether this CPU runs it, the
level a model picks (the best, or EDGECNN_ISA's), and a model's kernel per layer, as the loaded
model itself reports them."""

import pytest
from small_onnx import compiled, tiny_cnn

from edgecnn.cli import main
from edgecnn.runtime import Model


@pytest.fixture(scope="module")
def ecnn(tmp_path_factory):
    out = tmp_path_factory.mktemp("info")
    return compiled(tiny_cnn(out / "tiny.onnx"), out / "tiny.ecnn")


def _info(capsys, *argv) -> dict[str, str]:
    assert main(["info", *map(str, argv)]) == 0
    printed = capsys.readouterr().out
    return {line[:10].strip(): line[10:] for line in printed.splitlines() if line[:1] != " "} | {"all": printed}


def test_every_level_and_the_best_one_this_cpu_runs(capsys, monkeypatch):
    monkeypatch.delenv("EDGECNN_ISA", raising=False)
    info = _info(capsys)
    levels = Model.isa_levels()
    for name, runs in levels.items():
        assert f"{name} ({'runs here' if runs else 'not on this CPU'})" in info["levels"]
    assert info["picks"].startswith([name for name, runs in levels.items() if runs][-1])


def test_a_model_s_level_and_kernels_are_the_loaded_model_s(capsys, monkeypatch, ecnn):
    monkeypatch.setenv("EDGECNN_ISA", "portable")
    info = _info(capsys, ecnn)
    model = Model.load(ecnn)
    assert model.isa == "portable" and info["picks"] == "portable (EDGECNN_ISA)"
    for layer in model.layers:
        assert layer.kernel in info["all"]

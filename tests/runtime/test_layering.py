"""The Python layers import one way: edgecnn (cli, pipeline, bench, verify, report) ->
edgecnn.train, edgecnn.export -> edgecnn.runtime. A device has numpy and cffi only, so the
runtime must import and run a model with everything above it made unimportable."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Source folder -> the modules it may import from this project (besides its own).
LAYERS = {
    "runtime": {"edgecnn.runtime"},
    "train": {"edgecnn.train", "edgecnn.runtime"},
    "export": {"edgecnn.export", "edgecnn.runtime"},
    "edgecnn": {"edgecnn", "edgecnn.train", "edgecnn.export", "edgecnn.runtime"},
}


def _project_imports(path: Path):
    """(line, module) of every import of an edgecnn module in a source file, nested ones included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from edgecnn import bench` imports edgecnn.bench
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "edgecnn" else [node.module]
        else:
            continue
        yield from ((node.lineno, n) for n in names if n == "edgecnn" or n.startswith("edgecnn."))


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return "edgecnn." + parts[1] if len(parts) > 1 and parts[1] in ("train", "export", "runtime") else "edgecnn"


def test_every_import_points_down():
    wrong = []
    for folder, allowed in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module in _project_imports(path):
                if _layer_of(module) not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "imports against the layering (edgecnn -> train, export -> runtime):\n" + "\n".join(wrong)


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "torch")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            above_runtime = name.startswith("edgecnn.") and not name.startswith("edgecnn.runtime")
            if above_runtime or any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{name} is blocked: the runtime must not need it")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def test_runtime_runs_a_model_without_the_layers_above(tmp_path, reference_onnx_path):
    from edgecnn.export.compiler import compile_onnx
    from edgecnn.runtime import Model

    ecnn = tmp_path / "model.ecnn"
    compile_onnx(reference_onnx_path, ecnn)
    expected = Model.load(ecnn).predict(_images())
    np_path = tmp_path / "expected.npy"
    import numpy as np

    np.save(np_path, expected)
    script = BLOCKER + textwrap.dedent(
        f"""
        import numpy as np
        import edgecnn.runtime
        from edgecnn.runtime import Model
        from edgecnn.runtime.data import to_model_input

        rng = np.random.default_rng(0)
        got = Model.load({str(ecnn)!r}).predict(to_model_input(rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)))
        assert np.array_equal(got, np.load({str(np_path)!r})), "the runtime gave other results"
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "onnx", "onnxruntime", "tf2onnx"))
        assert not loaded, loaded
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


def _images():
    import numpy as np

    from edgecnn.runtime.data import to_model_input

    rng = np.random.default_rng(0)
    return to_model_input(rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))

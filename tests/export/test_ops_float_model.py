"""Whole float models against onnxruntime (within 1e-5, tests/ort_compare.py): NCHW input and
output, fixed batch, uint8 pixels, arena plans of random branching graphs, `compile --explain`,
`verify --random` and the C tool edgecnn-run."""

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ort_compare import RTOL, check_float, make_model, node, rand, run_onnxruntime

from edgecnn.export.compiler import CompileError, compile_model, explain_model
from edgecnn.runtime import Model


def test_nchw_model_input_and_output_shapes():
    nodes = [node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["y"])]
    model = make_model(nodes, (3, 8, 6), [("W", rand((5, 3, 3, 3), 1))], batch=1)
    native, report = check_float(model, rand((1, 3, 8, 6), 2))
    assert native.input_shape == (3, 8, 6) and native.output_shape == (5, 8, 6)
    assert [r.op for r in report.layers] == ["TRANSPOSE", "CONV_2D+relu", "TRANSPOSE"]
    # a single sample without the batch axis is accepted too
    assert native.predict(rand((3, 8, 6), 2)).shape == (1, 5, 8, 6)


def test_uint8_pixels_only_for_image_inputs():
    from edgecnn.runtime.errors import InputError

    image = Model.from_bytes(compile_model(make_model([node("Relu", ["x"], ["y"])], (3, 4, 4)))[0])
    pixels = np.arange(48, dtype=np.uint8).reshape(1, 3, 4, 4)
    assert np.array_equal(image.predict(pixels), pixels.astype(np.float32) / np.float32(255.0))
    vector = Model.from_bytes(compile_model(make_model([node("Relu", ["x"], ["y"])], (6,)))[0])
    with pytest.raises(InputError, match="not an image"):
        vector.predict(np.zeros((2, 6), np.uint8))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["Relu", "Sigmoid", "Conv", "Add", "Mul", "Concat", "Softmax"]),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_branching_graphs_plan_the_arena_by_lifetimes(steps):
    """Random DAGs (fan-out, residual Add/Mul of any two earlier values, Concat + 1x1 conv): every
    earlier value may be read again later, so the arena plan must keep it; the loader re-checks
    the plan and the result must match onnxruntime."""
    c, nodes, inits, values = 3, [], [], ["x"]
    for i, (op, a, b) in enumerate(steps):
        va, vb, out = values[a % len(values)], values[b % len(values)], f"v{i}"
        if op in ("Relu", "Sigmoid"):
            nodes.append(node(op, [va], [out]))
        elif op == "Softmax":
            nodes.append(node(op, [va], [out], axis=1))
        elif op == "Conv":
            inits.append((f"w{i}", rand((c, c, 1, 1), i)))
            nodes.append(node("Conv", [va, f"w{i}"], [out]))
        elif op == "Concat":
            inits.append((f"w{i}", rand((c, 2 * c, 1, 1), i)))
            nodes.append(node("Concat", [va, vb], [f"cat{i}"], axis=1))
            nodes.append(node("Conv", [f"cat{i}", f"w{i}"], [out]))
        else:
            nodes.append(node(op, [va, vb], [out]))
        values.append(out)
    # the output reads the last value and the first computed one (alive across the whole graph)
    nodes.append(node("Add", [values[-1], values[1]], ["y"]))
    check_float(make_model(nodes, (c, 4, 5), inits), rand((2, c, 4, 5), 7), reference=True)


def test_explain_lists_every_unsupported_node():
    nodes = [
        node("Sin", ["x"], ["a"], name="first"),
        node("Relu", ["a"], ["b"], name="fine"),
        node("Div", ["b", "a"], ["c"], name="second"),
        node("Cos", ["c"], ["y"], name="third"),
    ]
    model = make_model(nodes, (4,))
    found = explain_model(model)
    assert found.nodes == 4 and found.unchecked == []
    assert [(p.node, p.op_type) for p in found.problems] == [("first", "Sin"), ("second", "Div"), ("third", "Cos")]
    assert "Div of two runtime tensors" in found.problems[1].reason
    with pytest.raises(CompileError, match="--explain"):
        compile_model(model)


def test_explain_names_the_nodes_it_could_not_check():
    # A custom-domain op: ONNX cannot infer its output shape, so the node after it is not checked.
    nodes = [
        node("Relu", ["x"], ["r"], name="ok"),
        node("Mystery", ["r"], ["m"], name="custom", domain="example.com"),
        node("Relu", ["m"], ["y"], name="after"),
    ]
    model = make_model(nodes, (4,))
    model.opset_import.append(onnx.helper.make_opsetid("example.com", 1))
    found = explain_model(model)
    assert [(p.node, p.op_type) for p in found.problems] == [("custom", "Mystery")]
    assert "domain 'example.com'" in found.problems[0].reason
    assert found.unchecked == ["after"]


def test_explain_command(tmp_path, capsys):
    from edgecnn.cli import main

    bad = make_model([node("Sin", ["x"], ["y"], name="s")], (4,))
    good = make_model([node("Relu", ["x"], ["y"])], (4,))
    onnx.save(bad, tmp_path / "bad.onnx")
    onnx.save(good, tmp_path / "good.onnx")
    assert main(["compile", "--explain", str(tmp_path / "bad.onnx")]) == 1
    out = capsys.readouterr().out
    assert "s  Sin:" in out and "1 of 1 nodes not supported" in out
    assert main(["compile", "--explain", str(tmp_path / "good.onnx")]) == 0
    assert "all 1 nodes supported" in capsys.readouterr().out
    assert not (tmp_path / "good.ecnn").exists()  # --explain writes nothing


def test_explain_names_the_export_option_that_avoids_a_refusal(tmp_path, capsys):
    """A refusal the exporting side can avoid (here a BatchNormalization exported in training
    mode) gets the option to change; one it cannot (an op edgecnn lacks) gets none."""
    from edgecnn.cli import main

    stats = [(name, np.ones(3, np.float32)) for name in ("scale", "bias", "mean", "var")]
    nodes = [
        node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["b"], name="bn", training_mode=1),
        node("Sin", ["b"], ["y"], name="s"),
    ]
    onnx.save(make_model(nodes, (3, 4, 4), stats), tmp_path / "m.onnx")
    assert main(["compile", "--explain", str(tmp_path / "m.onnx")]) == 1
    lines = capsys.readouterr().out.splitlines()
    bn = next(i for i, line in enumerate(lines) if line.startswith("bn  BatchNormalization:"))
    assert lines[bn + 1].startswith("    hint: export for inference: PyTorch model.eval()")
    assert not any(line.startswith("    hint:") for line in lines[bn + 2 :])


def test_verify_random_inputs_for_a_colour_nchw_model(tmp_path, capsys):
    """`edgecnn verify --random N`: models that do not take the Fashion-MNIST images (here a
    colour NCHW model with a 4-D output of logits above 1) are compared on random inputs, with
    the tolerance relative to the output's scale."""
    import json

    from edgecnn.cli import main

    nodes = [node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["y"])]
    model = make_model(nodes, (3, 5, 6), [("W", rand((4, 3, 3, 3), 1) * 10)])
    onnx.save(model, tmp_path / "m.onnx")
    assert main(["compile", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "m.ecnn")]) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "m.onnx"), str(tmp_path / "m.ecnn"), "--random", "7", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["samples"] == 7 and result["passed"] and result["tolerance"] > 1e-5
    assert result["max_abs_diff"] <= result["tolerance"]
    assert main(["verify", str(tmp_path / "m.onnx"), str(tmp_path / "m.ecnn")]) == 2  # images do not fit
    assert "--random" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["NCHW", "NHWC", "HW"])
def test_edgecnn_run_takes_the_declared_grayscale_layout(layout, tmp_path):
    """native/build/edgecnn-run (the C tool, no Python) on a model whose input is [1, H, W]
    (PyTorch), [H, W, 1] (Keras) or [H, W]: the same PGM pixels, onnxruntime's outputs."""
    import subprocess
    from pathlib import Path

    import edge_golden

    binary = Path(__file__).resolve().parents[2] / "native" / "build" / "edgecnn-run"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with `make -C native`", pytrace=False)
    shape = {"NCHW": (1, 6, 5), "NHWC": (6, 5, 1), "HW": (6, 5)}[layout]
    nodes = [
        node("Reshape", ["x", "flat"], ["f"]),
        node("Gemm", ["f", "W", "B"], ["g"]),
        node("Softmax", ["g"], ["y"]),
    ]
    inits = [("flat", np.array([-1, 30], np.int64)), ("W", rand((30, 4), 1)), ("B", rand((4,), 2))]
    model = make_model(nodes, shape, inits)
    (tmp_path / "m.ecnn").write_bytes(compile_model(model)[0])
    pixels = np.random.default_rng(3).integers(0, 256, (2, 6, 5), dtype=np.uint8)
    for i, image in enumerate(pixels):
        edge_golden.write_pgm(tmp_path / f"{i}.pgm", image)
    result = subprocess.run(
        [str(binary), "--raw", "m.ecnn", "0.pgm", "1.pgm"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    got = edge_golden.parse_raw(result.stdout, 2)
    want = run_onnxruntime(model, (pixels.astype(np.float32) / np.float32(255)).reshape(2, *shape), optimize=False)
    assert np.max(np.abs(got - want)) <= RTOL, np.max(np.abs(got - want))

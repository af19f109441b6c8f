"""The firmware of native/examples/cortex-m on emulated Cortex-M cores (qemu-system-arm, -icount):
an int8 model gives the host library's output bit for bit on the Cortex-M4F (DSP kernels) and
the Cortex-M55 (MVE kernels), and the Cortex-M0+ build (portable C) links. The kernel tests
(kernel_test.c: the DSP and MVE kernels, and the microcontroller int8 conv against the
reference kernel) run on each core. `make cortex-m` does the same
with the MLPerf Tiny models and prints the measurements (docs/cortex-m.md)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from small_onnx import quantized, sample_inputs, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "native" / "examples" / "cortex-m"


def load_run_module():
    spec = importlib.util.spec_from_file_location("cortex_m_run", EXAMPLE / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cortex_m():
    module = load_run_module()
    try:
        module.need_tools()
    except module.Failure as exc:
        pytest.fail(str(exc), pytrace=False)
    return module


@pytest.fixture(scope="module")
def prepared(cortex_m, tmp_path_factory):
    """The small CNN of small_onnx quantized to int8 QDQ, compiled and embedded, with the host output."""
    work = tmp_path_factory.mktemp("cortex_m")
    model = quantized(tiny_cnn(work / "tiny.onnx"), work / "tiny.int8.onnx", sample_inputs(16))
    return cortex_m.prepare("tiny", model, work / "gen"), work


@pytest.mark.parametrize("core,isa", [("m4", "dsp"), ("m55", "mve")])
def test_int8_model_identical_to_host(cortex_m, prepared, core, isa):
    model, work = prepared
    result = cortex_m.run_core("tiny", core, model, work / core)
    assert result.isa == isa  # the core's own kernels ran
    assert result.identical, f"largest difference {result.largest_difference}"
    assert model.expected.size == 10 and len(set(model.expected.tolist())) > 1  # a real output, not constant
    # measured, not made up: instructions and memory come from the run and the ELF
    assert result.instructions > result.macs > 0
    assert result.arena == model.arena > 0 and result.stack > 0 and result.flash > model.arena
    # the int8 conv reads its weights in place: its scratch is a few pixels' terms, sized from
    # the op, not fixed buffers for the largest conv (24 KiB of them once)
    assert result.stack < 4096, f"stack {result.stack} B"


def test_cortex_m0plus_links(cortex_m, prepared):
    """Armv6-M has neither DSP nor FPU: the portable kernels only, and it still links."""
    model, work = prepared
    elf = cortex_m.build("m0plus", model.gen, work / "m0plus")
    symbols = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True, check=True).stdout
    assert "ecnn_run" in symbols and "ecnn_conv2d_q_hwio" in symbols
    assert "ecnn_conv_q_dot_direct_dsp" not in symbols


@pytest.mark.parametrize("core", ["m4", "m55"])
def test_cortex_m_kernels_match_portable(cortex_m, prepared, core):
    _, work = prepared  # the library objects of the firmware build, when it ran first
    out = cortex_m.run(["make", "-s", "-C", EXAMPLE, f"CORE={core}", f"OUT={work / core}", "kernel-test"])
    last = out.strip().splitlines()[-1]
    passed, failed = (int(w) for w in last.replace(",", "").split()[::2])
    assert failed == 0 and passed >= 100, out

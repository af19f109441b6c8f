"""TensorFlow Lite Micro's arena for the MLPerf Tiny models, for comparison with edgecnn's.

    python native/examples/cortex-m/tflm_arena.py --work DIR [--models NAME ...]

Runs each zoo model's full-integer int8 TFLite file (WORK/zoo/NAME/model.int8.tflite, made by
models.py) in the tflite-micro package's interpreter (PyPI `tflite-micro`: TFLM built for the
host) and finds the smallest arena it runs in, by bisection to 256 bytes. The host build is 64-bit:
TFLM's persistent allocations (pointers, node and tensor structs) are larger than on a 32-bit
Cortex-M, so the figure is an upper bound of TFLM's arena on the microcontroller; the activation
buffers, most of it, are the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ZOO = ("ic_resnet8", "kws_dscnn", "vww_mobilenetv1", "ad_fc_autoencoder")


def runs(path: Path, arena: int) -> bool:
    from tflite_micro.python.tflite_micro import runtime

    # TFLM reports a failed allocation on the process's stderr (C code): silenced while probing
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        interpreter = runtime.Interpreter.from_file(str(path), arena_size=arena)
        details = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), 0)
        interpreter.invoke()
    except Exception:  # too small an arena: TFLM fails to allocate or prepare an op
        return False
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    return True


def smallest_arena(path: Path) -> int:
    lo, hi = 1024, 1 << 23
    if not runs(path, hi):
        raise SystemExit(f"{path}: does not run in TFLM even with an {hi:,} byte arena")
    while hi - lo > 256:
        mid = (lo + hi) // 2
        if runs(path, mid):
            hi = mid
        else:
            lo = mid
    return hi


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--models", nargs="+", default=list(ZOO), choices=ZOO)
    args = parser.parse_args(argv)
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        print(
            "tflm: the tflite-micro package is missing (pip install -e '.[dev]', which `make cortex-m` runs); no TFLM arena to compare"
        )
        return 0
    for name in args.models:
        path = args.work / "zoo" / name / "model.int8.tflite"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run models.py first")
        print(f"tflm {name}: arena {smallest_arena(path):,} B (host 64-bit build of TFLM, full-integer TFLite model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

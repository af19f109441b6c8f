"""The `edgecnn` command line: one entry point, one subcommand per job.

This is the top layer: it may import edgecnn.train, edgecnn.export and edgecnn.runtime;
none of them imports it. Each area registers its own subcommands (train/cli.py,
export/cli.py, runtime/commands.py, and here bench, verify, pipeline, zoo) with
edgecnn.runtime.command_line.add_command: a command's help is its handler's docstring. Registration
must not import TensorFlow, tf2onnx, onnx or onnxruntime: `edgecnn --help` starts fast
and works on a device without them. Handlers import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys

from edgecnn import __version__
from edgecnn.runtime.errors import EdgecnnError


def build_parser() -> argparse.ArgumentParser:
    from edgecnn import bench, pipeline, verify, zoo
    from edgecnn.export import cli as export_cli
    from edgecnn.runtime import commands as runtime_commands
    from edgecnn.train import cli as train_cli

    parser = argparse.ArgumentParser(
        prog="edgecnn",
        description="Train a small CNN, export it to ONNX, quantize it to int8, "
        "compile it for the native C runtime, and run, verify and benchmark it.",
    )
    parser.add_argument("--version", action="version", version=f"edgecnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train_cli.register(sub)
    export_cli.register(sub)
    runtime_commands.register(sub)
    verify.register(sub)
    bench.register(sub)
    pipeline.register(sub, run_command=main)
    zoo.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # to start worker processes with the same flags
    try:
        status = args.func(args)
    except EdgecnnError as exc:
        print(f"edgecnn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edgecnn {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())

"""`edgecnn bench`: the native runtime against onnxruntime and LiteRT, measured in one process.

    engines.py  the three engines behind one interface (load, prepare a batch, run)
    suite.py    which models: the reference model, the tiny zoo, ONNX files; compiling them
    measure.py  interleaved timing, statistics, per-layer timing, memory, the machine
    run.py      the loop over models, data types and batches; the results (bench.json)
    tables.py   the results as text;  plot.py  as a picture;  cli.py  the command line

How the figures are made, and the JSON schema: docs/benchmarks.md.
"""


def register(subparsers) -> None:
    from edgecnn.bench.cli import register as register_cli

    register_cli(subparsers)


def format_table(results: dict) -> str:
    from edgecnn.bench.tables import format_table as format_results

    return format_results(results)

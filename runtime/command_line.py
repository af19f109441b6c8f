"""What the subcommands of every area share when they register (edgecnn/cli.py says how areas
register). It lives in the bottom layer, edgecnn.runtime, so that runtime/commands.py can use it
as well as train/, export/ and edgecnn/, and imports only the standard library."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable


def add_command(subparsers, name: str, handler: Callable[[argparse.Namespace], int], **options):
    """Add subcommand `name`, run by `handler(args)` and documented by the handler's docstring: its
    first paragraph is the command's line in `edgecnn --help` (in lower case, as argparse's own
    lines are), the rest the description `edgecnn NAME --help` prints as the docstring lays it out.
    `options` go to add_parser (epilog, formatter_class). Returns the subcommand's parser, for its
    arguments."""
    summary, _, description = inspect.cleandoc(handler.__doc__ or "").partition("\n\n")
    if not summary and sys.flags.optimize < 2:  # python -OO strips every docstring
        raise TypeError(f"{handler.__qualname__} has no docstring; it is the help of `edgecnn {name}`")
    options.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
    parser = subparsers.add_parser(name, help=" ".join(summary.split()), description=description, **options)
    parser.set_defaults(func=handler)
    return parser


def positive_int(text: str) -> int:
    """argparse type of a count such as --threads: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value

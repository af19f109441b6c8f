"""Subcommands of this area; see runtime/cli.py for the rules registration follows."""


def register(subparsers) -> None:
    """Add this area's subcommands to the `edgecnn` parser."""

"""The ``crowdfill`` command. Each area registers its own subcommands; this module only dispatches."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crowdfill import __version__
from crowdfill.export import audit_cli
from crowdfill.export import cli as export_cli
from crowdfill.markets import cli as markets_cli
from crowdfill.server import cli as server_cli
from crowdfill.simulation import cli as simulation_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdfill",
        description="Collect structured data from a crowd in one shared, live table.",
    )
    parser.add_argument("--version", action="version", version=f"crowdfill {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in (server_cli, simulation_cli, markets_cli, export_cli, audit_cli):
        area.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

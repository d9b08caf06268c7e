"""The ``crowdfill`` command. Each area registers its own subcommands; this module only dispatches.

A command imports only the area that registers it (``crowdfill serve`` neither the SDK nor the
exporters, markets and simulator: a few tenths of a second of every server start); the whole
parser, every area, is built for the top-level help, ``--version`` and an unknown command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from crowdfill import __version__

# Each area's module and the commands it registers (tests/test_cli.py checks both agree).
AREAS: dict[str, tuple[str, ...]] = {
    "crowdfill.server.cli": ("serve",),
    "crowdfill.simulation.cli": ("simulate",),
    "crowdfill.markets.cli": ("mturk", "prolific", "links", "workers"),
    "crowdfill.export.cli": ("export",),
    "crowdfill.export.audit_cli": ("audit",),
}


class _Area(Protocol):
    def register(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def build_parser(areas: Sequence[str] = tuple(AREAS)) -> argparse.ArgumentParser:
    """The parser of the commands of ``areas`` (module names of ``AREAS``; all of them by default)."""
    parser = argparse.ArgumentParser(
        prog="crowdfill",
        description="Collect structured data from a crowd in one shared, live table.",
    )
    parser.add_argument("--version", action="version", version=f"crowdfill {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in areas:
        cast("_Area", importlib.import_module(name)).register(commands)
    return parser


def area_of(argv: Sequence[str]) -> str | None:
    """The area registering the command ``argv`` names, None if it names none (options first, or
    an unknown command: the whole parser answers those)."""
    if not argv or argv[0].startswith("-"):
        return None
    return next((area for area, names in AREAS.items() if argv[0] in names), None)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    area = area_of(arguments)
    parser = build_parser(tuple(AREAS) if area is None else (area,))
    args = parser.parse_args(arguments)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Subcommands of this area for the ``crowdfill`` command."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands to ``commands``; each sets ``handler`` to a function of args."""
    del commands

"""The ``crowdfill`` command: each command imports only its own area; the whole parser answers the rest."""

from __future__ import annotations

import argparse
import importlib

import pytest

from crowdfill.cli import AREAS, area_of, build_parser, main
from tests.support.imports import in_fresh_interpreter


@pytest.mark.parametrize("area", list(AREAS))
def test_each_area_registers_exactly_the_commands_the_dispatch_table_names(area: str) -> None:
    commands = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(area).register(commands)
    assert tuple(commands.choices) == AREAS[area]


def test_a_command_is_dispatched_to_the_area_that_registers_it() -> None:
    assert area_of(["serve", "--port", "0"]) == "crowdfill.server.cli"
    assert area_of(["links", "create"]) == "crowdfill.markets.cli"
    assert area_of(["audit"]) == "crowdfill.export.audit_cli"


def test_options_first_or_an_unknown_command_go_to_the_whole_parser() -> None:
    assert area_of([]) is None
    assert area_of(["--version"]) is None
    assert area_of(["teleport"]) is None


def test_the_whole_parser_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    listed = capsys.readouterr().out
    for names in AREAS.values():
        for name in names:
            assert name in listed


def test_an_unknown_command_is_refused_with_the_choices_of_every_area(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["teleport"])
    error = capsys.readouterr().err
    assert "invalid choice: 'teleport'" in error
    assert "simulate" in error
    assert "mturk" in error


def test_serving_imports_neither_the_sdk_nor_the_other_commands_areas() -> None:
    # A fresh interpreter: this test process has imported every area already.
    probe = (
        "import sys; from crowdfill.cli import main\n"
        "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
        "others = {'crowdfill.client', 'crowdfill.export', 'crowdfill.markets', 'crowdfill.simulation'}\n"
        "print(sorted(others & set(sys.modules)), file=sys.stderr)"
    )
    result = in_fresh_interpreter(probe)
    assert result.stderr.strip() == "[]"
    assert "--port" in result.stdout

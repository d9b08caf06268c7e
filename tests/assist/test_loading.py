"""Loading an assistant by name: built-ins, ``module:attr`` and the entry-point group."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from crowdfill.assist import (
    ENTRY_POINT_GROUP,
    Assistant,
    InvalidAssistant,
    Prediction,
    Suggestion,
    load_assistant,
)
from crowdfill.assist.http_model import HttpAssistant
from crowdfill.assist.vader import VaderAssistant
from crowdfill.model.values import Value


class Echo:
    """A requester's own model: predicts the column's name (it is only here to be loaded)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    @property
    def name(self) -> str:
        return "echo"

    async def suggest(self, values: Mapping[str, Value], columns: Sequence[str]) -> list[Suggestion]:
        return [Suggestion(column, self.prefix + column, 0.5) for column in columns]

    async def predict(self, values: Mapping[str, Value], column: str) -> Prediction | None:
        return Prediction(column, self.prefix + column, 0.5)


ECHO = Echo("ready-")
NOT_A_MODEL = 42


def test_the_built_in_names_load_their_adapters() -> None:
    assert isinstance(load_assistant("vader"), VaderAssistant)
    http = load_assistant("http", {"url": "http://127.0.0.1:9/model", "timeout": 1.0})
    assert isinstance(http, HttpAssistant)
    assert http.url == "http://127.0.0.1:9/model"


async def test_module_attr_loads_a_factory_with_options_or_an_object() -> None:
    built = load_assistant(f"{__name__}:Echo", {"prefix": "x-"})
    assert isinstance(built, Assistant)
    assert await built.predict({}, "label") == Prediction("label", "x-label", 0.5)
    assert load_assistant(f"{__name__}:ECHO") is ECHO


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("no_such_module_here:Thing", "cannot import"),
        (f"{__name__}:Missing", "has no 'Missing'"),
        (f"{__name__}:NOT_A_MODEL", "neither an assistant nor a factory"),
        ("os:getcwd", "built a str"),
        ("__import__('os').system('true'):x", "must look like"),
        ("nameless", "no assistant named 'nameless'"),
        ("", "non-empty string"),
    ],
)
def test_a_name_that_does_not_lead_to_an_assistant_says_why(spec: str, problem: str) -> None:
    with pytest.raises(InvalidAssistant, match=problem):
        load_assistant(spec)


def test_options_a_factory_does_not_take_are_refused() -> None:
    with pytest.raises(InvalidAssistant, match="does not take these options"):
        load_assistant("vader", {"colour": "blue"})


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[str]:
    """A real distribution on sys.path that publishes an assistant in the entry-point group."""
    (tmp_path / "echo_plugin.py").write_text(
        "from tests.assist.test_loading import Echo\n\ndef make(**options):\n    return Echo(**options)\n"
    )
    info = tmp_path / "echo_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\necho = echo_plugin:make\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield "echo"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("echo_plugin", None)


async def test_an_installed_entry_point_is_found_by_its_name(installed_plugin: str) -> None:
    assistant = load_assistant(installed_plugin, {"prefix": "ep-"})
    assert await assistant.predict({}, "label") == Prediction("label", "ep-label", 0.5)

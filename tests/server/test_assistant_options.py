"""``serve --assistant``: options that do not give a model stop the server before it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crowdfill.cli import main


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--assistant", "nope", "--assistant-predict", "label"], "no assistant named 'nope'"),
        (["--assistant", "vader"], "needs --assistant-predict"),
        (["--assistant-predict", "label"], "need --assistant"),
        (["--assistant", "vader", "--assistant-option", "colour", "--assistant-suggest"], "KEY=VALUE"),
        (["--assistant", "vader", "--assistant-option", "colour=1", "--assistant-suggest"], "does not take"),
        (["--assistant", "http", "--assistant-option", "url=ftp://x", "--assistant-suggest"], "http://"),
    ],
)
def test_an_assistant_that_cannot_be_built_is_refused_with_its_reason(
    argv: list[str], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--data-dir", str(tmp_path / "data"), *argv])
    assert code == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # refused before anything was written

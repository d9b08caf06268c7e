"""``crowdfill serve`` on a data directory or store it cannot use: one clear line and a failing exit."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import REQUESTER_TOKEN, SECRET, free_port

CREDENTIALS = ["--requester-token", REQUESTER_TOKEN, "--secret", SECRET]


def serve(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(free_port()), *map(str, args)]
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], names: Path) -> None:
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    assert output.startswith("crowdfill serve: "), output
    assert str(names) in output, output


@contextlib.contextmanager
def read_only_directory(path: Path) -> Iterator[Path]:
    """A directory nobody can create files in, root included (root ignores permission bits)."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode != 0:
        pytest.skip("running as root without chattr +i: cannot make a directory read-only for root")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


@pytest.mark.parametrize("credentials", [[], CREDENTIALS], ids=["generated-secrets", "given-secrets"])
def test_a_data_directory_under_a_regular_file_is_one_clear_line(
    tmp_path: Path, credentials: list[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be\n")
    data_dir = blocker / "data"
    assert_one_clear_line(serve("--data-dir", data_dir, *credentials), blocker)


@pytest.mark.parametrize("credentials", [[], CREDENTIALS], ids=["generated-secrets", "given-secrets"])
def test_a_read_only_data_directory_is_one_clear_line(tmp_path: Path, credentials: list[str]) -> None:
    with read_only_directory(tmp_path / "read-only") as data_dir:
        assert_one_clear_line(serve("--data-dir", data_dir, *credentials), data_dir)
        assert list(data_dir.iterdir()) == []


def test_a_store_file_that_cannot_be_created_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store = blocker / "crowdfill.sqlite3"
    result = serve("--data-dir", tmp_path / "data", "--store-url", f"sqlite:///{store}", *CREDENTIALS)
    assert_one_clear_line(result, blocker)


def test_a_taken_port_is_refused_with_a_hint_before_the_data_directory_is_touched(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port), "--data-dir", tmp_path / "data", *CREDENTIALS)
    assert_one_clear_line(result, Path(str(port)))
    assert f"--port {port + 1}" in result.stderr
    assert not (tmp_path / "data").exists()


def test_an_unreachable_redis_is_one_clear_line(tmp_path: Path) -> None:
    result = serve(
        "--data-dir",
        tmp_path,
        "--store-url",
        "memory://",
        "--redis-url",
        f"redis://127.0.0.1:{free_port()}/0",
        *CREDENTIALS,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert output.splitlines()[-1].startswith("crowdfill serve: --redis-url: Redis is not reachable"), output


def test_a_redis_url_of_another_scheme_is_refused_naming_it(tmp_path: Path) -> None:
    result = serve("--data-dir", tmp_path, "--redis-url", "http://cache:6379", *CREDENTIALS)
    assert result.returncode == 2
    assert "http://cache:6379" in result.stderr

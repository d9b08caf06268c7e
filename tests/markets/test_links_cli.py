"""``crowdfill links`` and ``crowdfill workers`` against a real server (uvicorn in a thread, loopback)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crowdfill.cli import main
from crowdfill.markets.links import Link, format_time, link_state
from tests.support.live_server import LiveServer, free_port, live_server
from tests.support.requester import CAPITALS
from tests.support.worker_client import WorkerClient, refusal


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10) as client:
        yield client


@pytest.fixture
def table_id(http: httpx.Client) -> str:
    response = http.post("/api/tables", json=CAPITALS)
    assert response.status_code == 201, response.text
    table: dict[str, Any] = response.json()
    assert http.post(f"/api/tables/{table['id']}/launch").status_code == 200
    return str(table["id"])


def crowdfill(
    capsys: pytest.CaptureFixture[str], server: LiveServer, *argv: str, token: str | None = None
) -> Outcome:
    """``crowdfill ARGV --server ... --token ...`` in this process, with what it printed."""
    capsys.readouterr()
    code = main([*argv, "--server", server.base_url, "--token", token or server.settings.requester_token])
    printed = capsys.readouterr()
    return Outcome(code, printed.out, printed.err)


def links_by_worker(http: httpx.Client, table_id: str) -> dict[str, dict[str, Any]]:
    response = http.get(f"/api/tables/{table_id}/links")
    assert response.status_code == 200, response.text
    return {link["worker_id"]: link for link in response.json()["links"]}


def blocked_by_worker(http: httpx.Client, table_id: str) -> dict[str, bool]:
    response = http.get(f"/api/tables/{table_id}/workers")
    assert response.status_code == 200, response.text
    return {worker["worker_id"]: worker["blocked"] for worker in response.json()["workers"]}


def row_of(outcome: Outcome, worker: str) -> list[str]:
    """The cells of ``worker``'s row in a printed table."""
    for line in outcome.lines[1:]:
        cells = line.split()
        if cells and cells[0] == worker:
            return cells
    raise AssertionError(f"no row for {worker!r} in:\n{outcome.out}")


def test_creating_a_link_prints_the_worker_and_its_url_and_the_list_shows_it_active(
    capsys: pytest.CaptureFixture[str], server: LiveServer, http: httpx.Client, table_id: str
) -> None:
    created = crowdfill(capsys, server, "links", "create", table_id, "--worker-id", "ann")

    assert (created.code, created.err) == (0, "")
    worker, url = created.out.rstrip("\n").split("\t")
    assert worker == "ann"
    assert url.startswith(f"{server.base_url}/w/{table_id}?token=")
    assert links_by_worker(http, table_id)["ann"]["url"] == url
    listed = crowdfill(capsys, server, "links", "list", table_id)
    assert listed.code == 0
    assert listed.lines[0].split() == ["worker", "expires", "state", "url"]
    assert row_of(listed, "ann") == ["ann", "never", "active", url]


def test_count_creates_that_many_links_each_for_a_fresh_worker(
    capsys: pytest.CaptureFixture[str], server: LiveServer, http: httpx.Client, table_id: str
) -> None:
    created = crowdfill(capsys, server, "links", "create", table_id, "--count", "3")

    assert created.code == 0
    pairs = [line.split("\t") for line in created.lines]
    workers = [worker for worker, _ in pairs]
    assert len(pairs) == 3
    assert len(set(workers)) == 3
    assert all(worker.startswith("w-") for worker in workers)
    stored = links_by_worker(http, table_id)
    assert {worker: stored[worker]["url"] for worker in workers} == dict(pairs)


async def test_the_printed_url_opens_a_worker_session_until_the_link_is_revoked(
    capsys: pytest.CaptureFixture[str], server: LiveServer, table_id: str
) -> None:
    created = await asyncio.to_thread(
        crowdfill, capsys, server, "links", "create", table_id, "--worker-id", "bea"
    )
    url = created.out.rstrip("\n").split("\t")[1]
    token = parse_qs(urlsplit(url).query)["token"][0]
    bea = WorkerClient(server.base_url, token)
    await bea.connect()
    assert bea.worker_id == "bea"

    revoked = await asyncio.to_thread(crowdfill, capsys, server, "links", "revoke", table_id, "bea")

    assert (revoked.code, revoked.out) == (0, f"revoked the link of bea on table {table_id}\n")
    await bea.wait_for(lambda: bea.kicked is not None and not bea.sio.connected)
    assert (await refusal(server.base_url, {"token": token}))["code"] == "link_revoked"


def test_a_revoked_link_is_listed_as_revoked_without_its_url(
    capsys: pytest.CaptureFixture[str], server: LiveServer, http: httpx.Client, table_id: str
) -> None:
    crowdfill(capsys, server, "links", "create", table_id, "--worker-id", "cem")
    crowdfill(capsys, server, "links", "create", table_id, "--worker-id", "dan")

    revoked = crowdfill(capsys, server, "links", "revoke", table_id, "cem")

    assert revoked.code == 0
    assert links_by_worker(http, table_id)["cem"]["revoked"] is True
    listed = crowdfill(capsys, server, "links", "list", table_id)
    assert row_of(listed, "cem") == ["cem", "never", "revoked"]
    assert row_of(listed, "dan")[:3] == ["dan", "never", "active"]


def test_an_expiry_given_as_a_duration_is_stored_with_the_link_and_listed(
    capsys: pytest.CaptureFixture[str], server: LiveServer, http: httpx.Client, table_id: str
) -> None:
    created = crowdfill(
        capsys, server, "links", "create", table_id, "--worker-id", "eve", "--expires-in", "2h"
    )

    assert created.code == 0
    link = links_by_worker(http, table_id)["eve"]
    assert link["expires_at"] - link["created_at"] == pytest.approx(7200)
    listed = crowdfill(capsys, server, "links", "list", table_id)
    assert row_of(listed, "eve")[1:4] == [*format_time(link["expires_at"]).split(), "active"]


def test_blocking_and_unblocking_a_worker_change_the_workers_list(
    capsys: pytest.CaptureFixture[str], server: LiveServer, http: httpx.Client, table_id: str
) -> None:
    assert (
        crowdfill(capsys, server, "workers", "list", table_id).out == f"no workers on table {table_id} yet\n"
    )

    blocked = crowdfill(capsys, server, "workers", "block", table_id, "mturk:A1B2")

    assert (blocked.code, blocked.out) == (0, f"blocked mturk:A1B2 on table {table_id}\n")
    assert blocked_by_worker(http, table_id) == {"mturk:A1B2": True}
    listed = crowdfill(capsys, server, "workers", "list", table_id)
    assert listed.lines[0].split() == ["worker", "online", "ops", "estimated", "blocked"]
    assert row_of(listed, "mturk:A1B2") == ["mturk:A1B2", "no", "0", "0.00", "blocked"]

    unblocked = crowdfill(capsys, server, "workers", "unblock", table_id, "mturk:A1B2")

    assert (unblocked.code, unblocked.out) == (0, f"unblocked mturk:A1B2 on table {table_id}\n")
    assert blocked_by_worker(http, table_id) == {}


def test_excluding_or_restoring_a_worker_without_operations_is_an_error_with_exit_status_1(
    capsys: pytest.CaptureFixture[str], server: LiveServer, table_id: str
) -> None:
    outcome = crowdfill(capsys, server, "workers", "exclude", table_id, "ann")

    assert (outcome.code, outcome.out) == (1, "")
    assert "worker_not_found" in outcome.err or "no operations" in outcome.err
    assert crowdfill(capsys, server, "workers", "include", table_id, "ann").code == 1


def test_unblocking_a_worker_who_is_not_blocked_is_an_error_with_exit_status_1(
    capsys: pytest.CaptureFixture[str], server: LiveServer, table_id: str
) -> None:
    outcome = crowdfill(capsys, server, "workers", "unblock", table_id, "ann")

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err.startswith("error: ")
    assert "404" in outcome.err
    assert "not blocked" in outcome.err


@pytest.mark.parametrize(
    "argv",
    [
        ("links", "list"),
        ("links", "create"),
        ("links", "revoke", "ann"),
        ("workers", "list"),
        ("workers", "block", "ann"),
    ],
)
def test_a_wrong_token_is_a_one_line_error_with_exit_status_1(
    capsys: pytest.CaptureFixture[str],
    server: LiveServer,
    http: httpx.Client,
    table_id: str,
    argv: tuple[str, ...],
) -> None:
    command, action, *rest = argv
    outcome = crowdfill(capsys, server, command, action, table_id, *rest, token="not-the-token")

    assert (outcome.code, outcome.out) == (1, "")
    assert len(outcome.err.splitlines()) == 1
    assert outcome.err.startswith("error: ")
    assert "401" in outcome.err
    assert "unauthorized" in outcome.err
    assert links_by_worker(http, table_id) == {}
    assert blocked_by_worker(http, table_id) == {}


@pytest.mark.parametrize(
    "argv",
    [("links", "list"), ("links", "create"), ("links", "revoke", "ann"), ("workers", "block", "ann")],
)
def test_an_unknown_table_is_a_clear_error_with_exit_status_1(
    capsys: pytest.CaptureFixture[str], server: LiveServer, argv: tuple[str, ...]
) -> None:
    command, action, *rest = argv
    outcome = crowdfill(capsys, server, command, action, "t-nosuchtable", *rest)

    assert (outcome.code, outcome.out) == (1, "")
    assert len(outcome.err.splitlines()) == 1
    assert "table_not_found" in outcome.err
    assert "'t-nosuchtable'" in outcome.err


def test_the_server_and_token_are_read_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: LiveServer,
    http: httpx.Client,
    table_id: str,
) -> None:
    monkeypatch.setenv("CROWDFILL_SERVER", server.base_url)
    monkeypatch.setenv("CROWDFILL_REQUESTER_TOKEN", server.settings.requester_token)

    code = main(["links", "create", table_id, "--worker-id", "fay"])

    assert code == 0
    assert capsys.readouterr().out.startswith("fay\t")
    assert "fay" in links_by_worker(http, table_id)


def test_an_unreachable_server_is_a_clear_error_with_exit_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = f"http://127.0.0.1:{free_port()}"

    code = main(["links", "list", "t-1", "--server", address, "--token", "x"])

    printed = capsys.readouterr()
    assert (code, printed.out) == (1, "")
    assert printed.err.startswith(f"error: cannot reach the CrowdFill server at {address}")


@pytest.mark.parametrize(
    "argv",
    [
        ["links", "create", "t-1", "--count", "0"],
        ["links", "create", "t-1", "--count", "many"],
        ["links", "create", "t-1", "--expires-in", "soon"],
        ["links", "create", "t-1", "--expires-in", "0"],
        ["links", "revoke", "t-1"],
        ["workers", "block", "t-1"],
        ["workers", "forgive", "t-1", "ann"],
    ],
)
def test_bad_usage_exits_with_status_2_before_calling_the_server(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert "usage: crowdfill" in capsys.readouterr().err


def test_a_worker_id_with_a_count_above_one_is_refused_with_exit_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["links", "create", "t-1", "--worker-id", "ann", "--count", "2", "--token", "x"])

    assert code == 2
    assert "--count" in capsys.readouterr().err


def test_a_link_is_expired_once_its_expiry_has_passed_and_revoked_wins_over_expired() -> None:
    link = Link(worker_id="ann", url="http://x/w/t?token=y", expires_at=1000.0, revoked=False)

    assert link_state(link, 999.0) == "active"
    assert link_state(link, 1000.0) == "expired"
    assert link_state(Link(worker_id="ann", url=None, expires_at=1000.0, revoked=True), 2000.0) == "revoked"
    assert format_time(None) == "never"
    assert format_time(0.0) == "1970-01-01 00:00Z"


def test_the_network_guard_still_refuses_hosts_other_than_loopback() -> None:
    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe, pytest.raises(AssertionError):
        probe.connect(("192.0.2.1", 80))

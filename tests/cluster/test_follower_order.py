"""A worker connected to a follower process: its operations reach the table's sequencer in the
order it sent them, also when a forward has to wait or be asked again (crowdfill.server.turns).

Two ``crowdfill serve`` processes on one PostgreSQL database and one Redis. The worker sends a
burst of fills in one write, and, once the first is acknowledged, a fill of the row the last fill
of the burst creates: it is refused (``unknown_row``) if it overtook that one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_lean_receive import RawWorker, launched, link
from tests.support.live_server import cluster_processes
from tests.support.services import PostgresServer, RedisServer

TABLE: dict[str, Any] = {
    "name": "order",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}]},
    "template": [{} for _ in range(40)],
    "budget_cents": 10_000,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}


def fill(ack: int, row: str, column: str, new_row: str) -> str:
    payload = {"row_id": row, "column": column, "value": new_row, "new_row_id": new_row, "seen_seq": 0}
    return f"42/worker,{ack}" + json.dumps(["fill", payload])


@pytest.mark.slow
def test_a_burst_sent_to_a_follower_is_sequenced_before_the_fill_that_depends_on_its_last_operation(
    tmp_path: Path, postgres: PostgresServer, redis: RedisServer
) -> None:
    leader, follower = cluster_processes(tmp_path, postgres.new_database(), redis.url, 2, 5)
    try:
        leader.start()
        follower.start()
        table_id = launched(leader, TABLE)
        answers: list[tuple[int, Any]] = []
        with RawWorker(follower, link(leader, table_id, "ann")) as ann:
            rows = iter(ann.rows)
            ack = 0
            for size in (3, 5, 8, 8):
                first = ack + 1
                burst = []
                for _ in range(size):
                    ack += 1
                    burst.append(fill(ack, next(rows), "a", f"p{ack}"))
                last = ack
                ann.client.send_together(burst)
                got = ann.answers({first})
                ack += 1
                ann.client.send(fill(ack, f"p{last}", "b", f"q{ack}"))
                got.update(ann.answers(set(range(first, ack + 1)) - got.keys()))
                answers.extend(sorted(got.items()))
        assert [a for _, a in answers if not a["ok"]] == []
        seqs = [a["seq"] for _, a in answers]
        assert seqs == sorted(seqs)  # ack order is send order, so seq order is too
    finally:
        leader.stop()
        follower.stop()

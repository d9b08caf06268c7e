"""The ledger's vote records per key."""

from __future__ import annotations

from crowdfill.compensation.ledger import Ledger, votes
from crowdfill.model import Downvote, Insert, Operation, Retract, Upvote
from crowdfill.model.members import LIMIT
from crowdfill.model.values import Values
from tests.compensation.histories import SCHEMA

ROW: Values = frozenset({("k1", "x"), ("k2", "p"), ("v1", 1), ("v2", True)})


def test_a_much_voted_key_keeps_every_vote_in_log_order_past_the_small_limit_and_after_a_retract() -> None:
    workers = [f"w{i:02}" for i in range(2 * LIMIT)]
    log: list[Operation] = [Insert("r1", ROW)]
    log += [Upvote(w, "r1", ROW) for w in workers]
    log += [Downvote(w, "r1", ROW) for w in workers]
    log += [Retract(workers[3], "r1", ROW, "up"), Retract(workers[LIMIT + 1], "r1", ROW, "down")]
    ledger = Ledger.of(SCHEMA, log)
    key = SCHEMA.key_of(ROW)
    assert key is not None
    assert [w for w, _ in votes(ledger.ups[key])] == [w for w in workers if w != workers[3]]
    assert [w for w, _ in votes(ledger.downs[key])] == [w for w in workers if w != workers[LIMIT + 1]]
    assert all(values == ROW for _, values in votes(ledger.ups[key]))
    assert set(ledger.explicit_up[ROW]) == set(workers) - {workers[3]}

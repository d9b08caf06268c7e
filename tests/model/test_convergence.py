"""Convergence (DESIGN §2): a server replica and several optimistic client replicas end up identical.

Each schedule is a seeded random run: clients make operations that are valid on their own replica,
apply them at once and send them; the server validates each one (it may refuse it, or change the
fill's ``upvote`` flag), gives it a sequence number, acknowledges it and forwards it to the other
clients; the server also inserts rows, as the central client does, and reweighs workers (the
``reputation`` scoring's weights, versioned per worker) as its reputation estimator does. Every
channel delivers in order (FIFO) but the scheduler picks at random which channel delivers next, so
delays are random. A
client keeps its confirmed operations and its pending ones, and rebuilds its table from
(confirmed, then pending) when an acknowledgement differs from what it applied or a refusal
arrives. At quiescence every replica's fingerprint must equal the server's.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from crowdfill.model import (
    CENTRAL_CLIENT,
    CandidateTable,
    Column,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Reweigh,
    Schema,
    Scoring,
    Template,
    Upvote,
)
from crowdfill.model.codec import sequenced_from_wire, sequenced_to_wire

SCHEMA = Schema(
    (
        Column("team", "text", ("ajax", "psv")),
        Column("number", "integer", (1, 2, 3)),
        Column("captain", "boolean"),
    ),
    ("team", "number"),
)
TEMPLATE = Template.define(SCHEMA, [{"team": "ajax"}, {"captain": True}])
# With every weight at 1 this is the default threshold scoring; the server's reweighs make it weighted.
SCORING = Scoring("reputation")
# Values as a browser might send them: the server's normalisation makes them canonical.
RAW: dict[str, tuple[object, ...]] = {
    "team": ("ajax", "psv", " ajax "),
    "number": (1, 2, 3, "2", 3.0),
    "captain": (True, False, "yes"),
}
# Four browser tabs; the last two belong to the same worker, whose votes can then collide.
CLIENT_WORKERS = ("w0", "w1", "w2", "w2")
NORMAL_SCHEDULES = 1_000
NIGHTLY_SCHEDULES = 50_000
CHUNK = 100

Message = tuple[str, str]  # (kind, JSON text): what travels on a channel


def send(channel: deque[Message], kind: str, op: Operation | Reweigh) -> None:
    channel.append((kind, json.dumps(sequenced_to_wire(op))))


def receive(text: str) -> Operation:
    op = sequenced_from_wire(json.loads(text))
    assert not isinstance(op, Reweigh), "clients send worker operations only"
    return op


def receive_any(text: str) -> Operation | Reweigh:
    return sequenced_from_wire(json.loads(text))


@dataclass
class Server:
    table: CandidateTable = field(default_factory=lambda: CandidateTable(SCHEMA, SCORING, TEMPLATE))
    log: list[Operation | Reweigh] = field(default_factory=list)
    inserted: int = 0
    versions: Counter[str] = field(default_factory=Counter)

    def sequence(self, op: Operation, outboxes: list[deque[Message]], sender: int | None) -> Operation | None:
        try:
            canonical = self.table.validate(op)
        except CrowdFillError as error:
            if sender is not None:
                outboxes[sender].append(("refused", json.dumps({"code": error.code})))
            return None
        self.table.integrate(canonical)
        self.log.append(canonical)
        for client, outbox in enumerate(outboxes):
            send(outbox, "ack" if client == sender else "op", canonical)
        return canonical

    def insert(self, rng: random.Random, outboxes: list[deque[Message]]) -> None:
        """What the central client does: add an empty row or a template row."""
        self.inserted += 1
        values = rng.choice([frozenset(), *TEMPLATE.rows])
        self.sequence(Insert(f"c{self.inserted}", values, CENTRAL_CLIENT), outboxes, None)

    def insert_gold(self, rng: random.Random, outboxes: list[deque[Message]]) -> None:
        """What the server does at launch for a gold row: complete values, often a real row's key."""
        self.inserted += 1
        values = frozenset(
            {
                ("team", rng.choice(("ajax", "psv"))),
                ("number", rng.choice((1, 2, 3))),
                ("captain", rng.random() < 0.5),
            }
        )
        self.sequence(Insert(f"c{self.inserted}", values, CENTRAL_CLIENT, gold=True), outboxes, None)

    def reweigh(self, rng: random.Random, outboxes: list[deque[Message]]) -> None:
        """What the reputation estimator does (a new weight for a worker, one version up), or the
        requester excluding a worker by hand (weight 0, excluded) or undoing it."""
        worker = rng.choice(CLIENT_WORKERS)
        self.versions[worker] += 1
        weight = rng.choice([0.0, 0.5, 1.0, 2.0])
        # Every other weight 0 is an exclusion (decided without drawing, so the schedules stay put).
        excluded = weight == 0.0 and self.versions[worker] % 2 == 0
        op = Reweigh(worker, weight, self.versions[worker], excluded=excluded)
        self.table.integrate(op)
        self.log.append(op)
        for outbox in outboxes:
            send(outbox, "op", op)


@dataclass
class Client:
    name: str
    worker: str
    table: CandidateTable = field(default_factory=lambda: CandidateTable(SCHEMA, SCORING, TEMPLATE))
    confirmed: list[Operation | Reweigh] = field(default_factory=list)
    pending: deque[Operation] = field(default_factory=deque)
    made: int = 0

    def act(self, rng: random.Random, outbox: deque[Message], stats: Counter[str]) -> bool:
        """Make one operation valid on this replica, apply it at once and send it."""
        for _ in range(6):
            raw = self._propose(rng)
            if raw is None:
                continue
            try:
                applied = self.table.validate(raw)
            except CrowdFillError:
                continue  # the browser would not offer this action; try another
            self.table.integrate(applied)
            self.pending.append(applied)
            # Half the time send the operation as a browser would (raw values, no computed fields).
            send(outbox, "op", raw if rng.random() < 0.5 else applied)
            stats[f"sent {type(applied).__name__}"] += 1
            return True
        return False

    def _propose(self, rng: random.Random) -> Operation | None:
        rows = self.table.rows()
        kind = rng.random()
        if kind < 0.5:
            open_rows = [row for row in rows if not SCHEMA.is_complete(row.values)]
            if not open_rows:
                return None
            row = rng.choice(open_rows)
            present = dict(row.values)
            column = rng.choice([name for name in SCHEMA.names if name not in present])
            self.made += 1
            value: Any = rng.choice(RAW[column])
            return Fill(self.worker, row.row_id, f"{self.name}-{self.made}", column, value, frozenset())
        if kind < 0.75:
            complete = [row for row in rows if SCHEMA.is_complete(row.values)]
            return Upvote(self.worker, rng.choice(complete).row_id, frozenset()) if complete else None
        if kind < 0.9:
            return Downvote(self.worker, rng.choice(rows).row_id, frozenset()) if rows else None
        # Take back one of this worker's votes, naming a row (live or replaced) with exactly its values.
        mine = {values for worker, _, values in self.table.vote_records() if worker == self.worker}
        holders = [row.row_id for row in self.table.all_rows() if row.values in mine]
        return Retract(self.worker, rng.choice(holders)) if holders else None

    def deliver(self, kind: str, text: str, stats: Counter[str]) -> None:
        if kind == "op":
            op = receive_any(text)
            self.confirmed.append(op)
            self.table.integrate(op)
            return
        applied = self.pending.popleft()
        if kind == "ack":
            canonical = receive(text)
            self.confirmed.append(canonical)
            if canonical == applied:
                return
            stats["ack differed from the applied operation"] += 1
        else:
            stats[f"refused: {json.loads(text)['code']}"] += 1
        self.rebuild()
        stats["rebuilds"] += 1

    def rebuild(self) -> None:
        self.table = CandidateTable(SCHEMA, SCORING, TEMPLATE)
        for op in [*self.confirmed, *self.pending]:
            self.table.integrate(op)


def run_schedule(seed: int, stats: Counter[str], client_type: type[Client] = Client) -> None:
    rng = random.Random(seed)
    server = Server()
    clients = [client_type(f"k{n}", worker) for n, worker in enumerate(CLIENT_WORKERS)]
    to_server: list[deque[Message]] = [deque() for _ in clients]
    to_client: list[deque[Message]] = [deque() for _ in clients]
    for _ in range(rng.randint(1, 3)):
        server.insert(rng, to_client)
    # Gold rows in half the schedules, from their own generator: the other half stay as they were.
    gold_rng = random.Random(-1 - seed)
    if gold_rng.random() < 0.5:
        for _ in range(gold_rng.randint(1, 2)):
            server.insert_gold(gold_rng, to_client)
    budget = rng.randint(10, 45)

    def deliver_one() -> None:
        busy = [("up", n) for n, q in enumerate(to_server) if q] + [
            ("down", n) for n, q in enumerate(to_client) if q
        ]
        direction, n = rng.choice(busy)
        if direction == "up":
            _, text = to_server[n].popleft()
            server.sequence(receive(text), to_client, n)
        else:
            kind, text = to_client[n].popleft()
            clients[n].deliver(kind, text, stats)

    def in_flight() -> bool:
        return any(to_server) or any(to_client)

    while budget > 0:
        roll = rng.random()
        if roll < 0.05:
            server.insert(rng, to_client)
        elif roll < 0.08:
            server.reweigh(rng, to_client)
            stats["reweighs"] += 1
            last = server.log[-1]
            stats["exclusions"] += isinstance(last, Reweigh) and last.excluded
        elif roll < 0.5:
            n = rng.randrange(len(clients))
            budget -= clients[n].act(rng, to_server[n], stats)
        elif in_flight():
            deliver_one()
    while in_flight():
        deliver_one()

    expected = server.table.fingerprint()
    for client in clients:
        assert not client.pending, f"seed {seed}: {client.name} still has pending operations"
        assert client.table.fingerprint() == expected, f"seed {seed}: {client.name} diverged from the server"
    replay = CandidateTable(SCHEMA, SCORING, TEMPLATE)
    for op in server.log:
        replay.integrate(op)
    assert replay.fingerprint() == expected, f"seed {seed}: replaying the log gave another table"
    # In any order, e.g. a retract before the vote it takes back: the tombstone still wins.
    shuffled = list(server.log)
    rng.shuffle(shuffled)
    replay = CandidateTable(SCHEMA, SCORING, TEMPLATE)
    for op in shuffled:
        replay.integrate(op)
    assert replay.fingerprint() == expected, f"seed {seed}: replaying the log shuffled gave another table"
    stats["schedules"] += 1
    stats["gold rows"] += len(server.table.gold_ids())
    assert not server.table.gold_ids() & {row.row_id for row in server.table.final_table()}
    stats["rows at the end"] += len(server.table)
    stats["final rows at the end"] += len(server.table.final_table())
    stats["duplicate rows"] += len(server.table) - len({row.values for row in server.table.rows()})
    for group in server.table.ambiguous_groups():
        stats["ambiguous ties at the end"] += 1
        final = server.table.final_row(group)
        # The canonical first winner lost to one the template needs: the choice must converge too.
        if final is not None and final.values != server.table.final_choices(group)[0]:
            stats["ties broken away from the canonical winner"] += 1


def run_chunk(first_seed: int, count: int, client_type: type[Client] = Client) -> Counter[str]:
    stats: Counter[str] = Counter()
    for seed in range(first_seed, first_seed + count):
        run_schedule(seed, stats, client_type)
    return stats


@pytest.mark.parametrize("chunk", range(NORMAL_SCHEDULES // CHUNK))
def test_every_replica_converges_to_the_server_for_generated_schedules(chunk: int) -> None:
    stats = run_chunk(chunk * CHUNK, CHUNK)
    assert stats["schedules"] == CHUNK
    # The schedules must actually exercise the hard paths, not only the easy ones.
    assert stats["rebuilds"] > 0
    assert stats["final rows at the end"] > 0


def test_the_schedules_exercise_refusals_changed_acks_duplicates_and_rebuilds() -> None:
    stats = run_chunk(10_000_000, 200)
    assert stats["ack differed from the applied operation"] > 0
    assert stats["refused: duplicate_vote"] > 0
    assert stats["duplicate rows"] > 0
    assert stats["sent Fill"] > 0
    assert stats["sent Upvote"] > 0
    assert stats["sent Downvote"] > 0
    assert stats["sent Retract"] > 0
    assert stats["refused: vote_retracted"] + stats["refused: no_vote_to_retract"] > 0
    assert stats["ties broken away from the canonical winner"] > 0
    assert stats["gold rows"] > 0
    assert stats["reweighs"] > 0
    assert stats["exclusions"] > 0


@pytest.mark.nightly
@pytest.mark.skipif(
    os.environ.get("CROWDFILL_NIGHTLY") != "1", reason="set CROWDFILL_NIGHTLY=1 for the long run"
)
@pytest.mark.parametrize("chunk", range(NIGHTLY_SCHEDULES // 1000))
def test_every_replica_converges_in_the_nightly_run(chunk: int) -> None:
    stats = run_chunk(1_000_000 + chunk * 1000, 1000)
    assert stats["schedules"] == 1000


class ForgetfulClient(Client):
    """A broken replica that drops the downvotes other clients forward: the check must notice."""

    def deliver(self, kind: str, text: str, stats: Counter[str]) -> None:
        if kind == "op" and isinstance(receive_any(text), Downvote):
            return
        super().deliver(kind, text, stats)


def test_the_convergence_check_notices_a_replica_that_drops_operations_and_names_the_seed() -> None:
    with pytest.raises(AssertionError, match=r"seed \d+: k\d diverged from the server"):
        run_chunk(0, 50, ForgetfulClient)

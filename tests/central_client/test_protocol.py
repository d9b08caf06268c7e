"""The calling protocol: inserts in flight, rebuilding, observing before starting."""

from __future__ import annotations

import itertools

from crowdfill.central_client import CentralClient
from crowdfill.model import CandidateTable, Insert, Template, values_from_mapping
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS


def soccer_client() -> tuple[CandidateTable, CentralClient]:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS))
    ids = itertools.count(1)
    return table, CentralClient(table, lambda: f"c{next(ids)}")


def test_a_template_row_is_not_inserted_for_again_while_its_insert_is_in_flight() -> None:
    table, client = soccer_client()
    inserts = client.start()

    other = table.apply(Insert("w1", values_from_mapping({"name": "Xavi"}), worker="seed"))

    assert client.observe(other) == []
    assert client.pending_inserts() == ["c1", "c2", "c3"]
    assert sorted(client.matching()) == [0, 1, 2]
    for insert in inserts:
        assert client.observe(table.apply(insert)) == []
    assert client.pending_inserts() == []
    assert client.inserted_count == 3


def test_an_insert_applied_without_its_events_being_observed_is_still_noticed() -> None:
    table, client = soccer_client()
    for insert in client.start():
        table.apply(insert)

    assert client.observe([]) == []
    assert client.pending_inserts() == []
    assert sorted(client.matching()) == [0, 1, 2]


def test_start_forgets_inserts_that_were_never_applied() -> None:
    _, client = soccer_client()
    client.start()

    again = client.start()

    assert len(again) == 3
    assert client.inserted_count == 6


def test_observing_before_starting_starts() -> None:
    _, client = soccer_client()

    inserts = client.observe([])

    assert len(inserts) == 3
    assert client.observe([]) == []


def test_an_empty_template_is_satisfied_at_once_and_needs_no_insert() -> None:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, []))
    client = CentralClient(table, lambda: "unused")

    assert client.start() == []
    assert client.satisfied
    assert client.satisfaction() == {}
    assert table.closed

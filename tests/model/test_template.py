"""The template: definition, refusal of unsatisfiable templates, protection and matching."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model import Column, Schema, Template, UnsatisfiableTemplate, Values
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from tests.model.support import CASILLAS, MESSI, RONALDINHO_MF, values


def test_the_soccer_template_is_defined_with_normalised_rows() -> None:
    template = Template.define(SOCCER_PLAYER, [{"position": " FW "}, {"nationality": "Brazil"}, {}])
    assert template.rows == (values({"position": "FW"}), values({"nationality": "Brazil"}), frozenset())
    assert len(template) == 3


def test_two_template_rows_fixing_the_same_complete_key_are_refused() -> None:
    rows: list[dict[str, object]] = [
        {"name": "Messi", "nationality": "Argentina"},
        {"name": "Messi", "nationality": "Argentina", "caps": 1},
    ]
    with pytest.raises(UnsatisfiableTemplate, match="rows 1 and 2 fix the same key"):
        Template.define(SOCCER_PLAYER, rows)


def test_template_rows_with_the_same_partial_key_are_allowed() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil"}, {"nationality": "Brazil"}])
    assert len(template) == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"position": "striker"}, "template row 1: 'striker' is not an allowed value"),
        ({"caps": "many"}, "template row 1: column 'caps' takes"),
        ({"club": "Barcelona"}, "template row 1: column 'club' is not in the schema"),
    ],
)
def test_a_template_row_that_no_row_could_match_is_refused(row: dict[str, object], message: str) -> None:
    with pytest.raises(UnsatisfiableTemplate, match=message):
        Template.define(SOCCER_PLAYER, [row])


def test_a_template_row_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(UnsatisfiableTemplate, match="template row 2 must be an object"):
        Template.define(SOCCER_PLAYER, [{}, ["position", "FW"]])  # type: ignore[list-item]  # bad input


def test_protects_holds_for_subsets_of_a_template_row_only() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil", "position": "FW"}])
    assert template.protects(values({"nationality": "Brazil"}))
    assert template.protects(values({"nationality": "Brazil", "position": "FW"}))
    assert not template.protects(values({"nationality": "Brazil", "name": "Kaká"}))
    assert not template.protects(values({"nationality": "Spain"}))
    assert not Template(()).protects(frozenset())


def test_matching_assigns_each_template_row_a_distinct_superset_row() -> None:
    template = Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS)
    rows = [("messi", values(MESSI)), ("ronaldinho", values(RONALDINHO_MF)), ("casillas", values(CASILLAS))]
    assert template.matching(rows) == {0: "messi", 1: "ronaldinho", 2: "casillas"}
    assert template.matching(rows[:2]) is None


def test_matching_finds_an_augmenting_path_when_the_greedy_choice_blocks() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil"}, {"position": "FW"}])
    brazil_fw = values({**RONALDINHO_MF, "position": "FW"})
    brazil_mf = values(RONALDINHO_MF)
    # Row "a" fits both template rows; the FW row can only use it, so the Brazil row must move.
    assert template.matching([("a", brazil_fw), ("b", brazil_mf)]) == {0: "b", 1: "a"}


def test_a_single_row_cannot_serve_two_template_rows() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil"}, {"position": "FW"}])
    assert template.matching([("a", values({**RONALDINHO_MF, "position": "FW"}))]) is None


def test_key_fixed_names_the_complete_key_a_template_row_fixes() -> None:
    template = Template.define(SOCCER_PLAYER, [{"name": "Xavi", "nationality": "Spain"}, {"name": "Xavi"}])
    assert template.key_fixed(SOCCER_PLAYER, 0) == ("Xavi", "Spain")
    assert template.key_fixed(SOCCER_PLAYER, 1) is None


def _brute_force_has_matching(template: Template, rows: list[tuple[str, Values]]) -> bool:
    return any(
        all(wanted <= rows[i][1] for wanted, i in zip(template.rows, choice, strict=True))
        for choice in itertools.permutations(range(len(rows)), len(template.rows))
    )


small_rows = st.dictionaries(st.sampled_from(["name", "position"]), st.sampled_from(["a", "b"]), max_size=2)


@settings(max_examples=300, deadline=None)
@given(wanted=st.lists(small_rows, max_size=4), offered=st.lists(small_rows, max_size=5))
def test_matching_finds_a_matching_exactly_when_one_exists(
    wanted: list[dict[str, str]], offered: list[dict[str, str]]
) -> None:
    schema = Schema((Column("name"), Column("position")), ("name",))
    keyless = [row for row in wanted if "name" not in row]  # rows fixing a key could be refused
    template = Template.define(schema, keyless)
    rows: list[tuple[str, Values]] = [(f"r{n}", frozenset(row.items())) for n, row in enumerate(offered)]
    found = template.matching(rows)
    assert (found is not None) == _brute_force_has_matching(template, rows)
    if found is not None:
        assert sorted(found) == list(range(len(template)))
        assert len(set(found.values())) == len(found)
        by_id = dict(rows)
        assert all(template.rows[position] <= by_id[row_id] for position, row_id in found.items())


def test_matching_follows_an_augmenting_path_longer_than_the_recursion_limit() -> None:
    # A path s0 - R0 - t0 - R'0 - s1 - ... - sn - Rn, where s_k = {a: k}, t_k = {b: k},
    # R_k = {a: k, b: k} and R'_k = {a: k + 1, b: k}. Taken from sn down, every template row first
    # grabs the row to its left, so s0 can only be matched by shifting the whole path.
    n = 1500
    s = [frozenset({("a", k)}) for k in range(n + 1)]
    t = [frozenset({("b", k)}) for k in range(n)]
    order = [s[n]]
    for k in reversed(range(n)):
        order += [t[k], s[k]]
    template = Template(tuple(order))
    rows: list[tuple[str, Values]] = []
    for k in range(n):
        rows += [(f"R{k}", frozenset({("a", k), ("b", k)})), (f"Q{k}", frozenset({("a", k + 1), ("b", k)}))]
    rows.append((f"R{n}", frozenset({("a", n), ("b", n)})))
    found = template.matching(rows)
    assert found is not None
    assert found[order.index(s[0])] == "R0"
    assert found[order.index(s[n])] == f"R{n}"
    assert found[order.index(t[0])] == "Q0"


def test_a_template_needing_more_keys_than_the_key_domains_hold_is_refused() -> None:
    schema = Schema((Column("pos", "text", ("GK", "DF", "MF", "FW")), Column("caps", "integer")), ("pos",))
    with pytest.raises(UnsatisfiableTemplate, match="needs 5 rows"):
        Template.define(schema, [{"caps": 1}] * 5)
    assert len(Template.define(schema, [{"caps": 1}] * 4)) == 4


def test_key_fixing_rows_use_up_keys_that_free_rows_of_a_small_domain_need() -> None:
    schema = Schema((Column("pos", "text", ("GK", "DF")), Column("caps", "integer")), ("pos",))
    with pytest.raises(UnsatisfiableTemplate):
        Template.define(schema, [{"pos": "GK"}, {"caps": 3}, {"caps": 4}])
    assert len(Template.define(schema, [{"pos": "GK"}, {"caps": 3}])) == 2


def test_a_key_column_without_a_domain_never_runs_out_of_keys() -> None:
    schema = Schema((Column("name"), Column("pos", "text", ("GK",))), ("name", "pos"))
    assert len(Template.define(schema, [{"pos": "GK"}] * 50)) == 50

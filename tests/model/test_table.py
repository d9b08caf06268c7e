"""The candidate table: the paper's running example, operations, vote rules and errors (DESIGN §2)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from crowdfill.model import (
    CandidateTable,
    CellAlreadyFilled,
    Column,
    CrowdFillError,
    Downvote,
    DuplicateRowId,
    DuplicateVote,
    EmptyRowDownvoted,
    Fill,
    GroupRescored,
    IncompleteRowUpvoted,
    Insert,
    MalformedMessage,
    Operation,
    OutsideDomain,
    RowInserted,
    RowReplaced,
    Schema,
    Scoring,
    Status,
    TableClosed,
    Template,
    TemplateProtected,
    UnknownColumn,
    UnknownRow,
    Upvote,
    ValueMismatch,
    VoteRecorded,
    WrongType,
)
from crowdfill.model.examples import SOCCER_PLAYER
from tests.model.support import (
    BECKHAM,
    CASILLAS,
    MESSI,
    NEYMAR,
    RONALDINHO_FW,
    RONALDINHO_MF,
    Builder,
    check_final_table,
    recount,
    soccer_table,
    values,
)


class PaperExample:
    """The candidate table of the CrowdFill paper's running example, built through operations."""

    def __init__(self) -> None:
        self.table = soccer_table()
        self.build = Builder(self.table)
        build = self.build
        # The fill that completes a row upvotes it for the filler: that is the first "+1" of each.
        self.messi = build.row_with("w1", MESSI)
        build.upvote("w2", self.messi)
        self.ronaldinho_mf = build.row_with("w3", RONALDINHO_MF)
        build.upvote("w4", self.ronaldinho_mf)
        build.upvote("w5", self.ronaldinho_mf)
        self.ronaldinho_fw = build.row_with("w6", RONALDINHO_FW)
        build.upvote("w7", self.ronaldinho_fw)
        build.downvote("w8", self.ronaldinho_fw)
        self.neymar = build.row_with("w9", NEYMAR)
        build.downvote("w10", self.neymar)
        build.downvote("w11", self.neymar)
        self.casillas = build.row_with("w12", CASILLAS)
        build.upvote("w13", self.casillas)
        self.beckham = build.row_with("w14", BECKHAM)


@pytest.fixture
def paper() -> PaperExample:
    return PaperExample()


def test_the_paper_example_has_the_papers_vote_counts(paper: PaperExample) -> None:
    table = paper.table
    counts = {
        "Messi": (table.up(paper.messi), table.down(paper.messi)),
        "Ronaldinho MF": (table.up(paper.ronaldinho_mf), table.down(paper.ronaldinho_mf)),
        "Ronaldinho FW": (table.up(paper.ronaldinho_fw), table.down(paper.ronaldinho_fw)),
        "Neymar": (table.up(paper.neymar), table.down(paper.neymar)),
        "Casillas": (table.up(paper.casillas), table.down(paper.casillas)),
        "Beckham": (table.up(paper.beckham), table.down(paper.beckham)),
    }
    assert counts == {
        "Messi": (2, 0),
        "Ronaldinho MF": (3, 0),
        "Ronaldinho FW": (2, 1),
        "Neymar": (0, 2),
        "Casillas": (2, 0),
        "Beckham": (1, 0),
    }
    assert len(table) == 6


def test_the_paper_example_final_table_is_messi_ronaldinho_mf_and_casillas(paper: PaperExample) -> None:
    final = paper.table.final_table()
    assert {row.row_id for row in final} == {paper.messi, paper.ronaldinho_mf, paper.casillas}
    assert sorted(str(row.as_dict()["name"]) for row in final) == ["Casillas", "Messi", "Ronaldinho"]
    assert [row.as_dict() for row in final if row.row_id == paper.ronaldinho_mf] == [RONALDINHO_MF]


def test_the_paper_example_statuses_follow_the_design(paper: PaperExample) -> None:
    table = paper.table
    assert table.status(paper.messi) is Status.GREEN
    assert table.status(paper.ronaldinho_mf) is Status.GREEN
    assert table.status(paper.casillas) is Status.GREEN
    assert table.status(paper.ronaldinho_fw) is Status.YELLOW
    assert table.status(paper.neymar) is Status.RED
    assert table.status(paper.beckham) is Status.BLUE


def test_the_paper_example_scores_use_the_default_threshold_scoring(paper: PaperExample) -> None:
    table = paper.table
    scores = [table.score(r) for r in (paper.messi, paper.ronaldinho_mf, paper.ronaldinho_fw)]
    assert scores == [2, 3, 1]
    assert table.score(paper.neymar) == -2
    assert table.score(paper.beckham) == 0  # one vote is below the default threshold of two


def test_the_paper_example_final_table_satisfies_the_soccer_template(paper: PaperExample) -> None:
    final = [(row.row_id, row.values) for row in paper.table.final_table()]
    assert paper.table.template.matching(final) is not None


def test_both_ronaldinho_rows_share_one_key_group(paper: PaperExample) -> None:
    table = paper.table
    group = table.group_of(paper.ronaldinho_mf)
    assert group == ("key", ("Ronaldinho", "Brazil"))
    assert table.group_of(paper.ronaldinho_fw) == group
    assert table.group_of(paper.ronaldinho_fw) is group  # one key object per group, not a copy per row
    assert [row.row_id for row in table.group_rows(group)] == [paper.ronaldinho_mf, paper.ronaldinho_fw]
    assert [row.row_id for row in table.probable_rows(group)] == [paper.ronaldinho_mf]
    final = table.final_row(group)
    assert final is not None
    assert final.row_id == paper.ronaldinho_mf


def test_the_paper_example_counts_equal_a_recount_from_the_vote_records(paper: PaperExample) -> None:
    table = paper.table
    assert recount(table) == {
        row.row_id: (table.up(row.row_id), table.down(row.row_id)) for row in table.rows()
    }
    check_final_table(table)


def test_the_paper_example_is_the_same_whatever_the_order_operations_arrive_in(paper: PaperExample) -> None:
    expected = paper.table.fingerprint()
    rng = random.Random(7)
    for _ in range(50):
        shuffled = paper.build.log[:]
        rng.shuffle(shuffled)
        replica = soccer_table()
        for op in shuffled:
            replica.integrate(op)
        assert replica.fingerprint() == expected


# --------------------------------------------------------------------------- refused operations

Bad = Callable[[PaperExample], Operation]

REFUSALS: list[tuple[str, Bad, type[CrowdFillError]]] = [
    ("fill of an unknown row", lambda p: Fill("w1", "nope", "n1", "caps", 1, frozenset()), UnknownRow),
    ("upvote of an unknown row", lambda p: Upvote("w1", "nope", frozenset()), UnknownRow),
    ("downvote of an unknown row", lambda p: Downvote("w1", "nope", frozenset()), UnknownRow),
    (
        "fill of an unknown column",
        lambda p: Fill("w1", p.neymar, "n1", "club", "x", frozenset()),
        UnknownColumn,
    ),
    (
        "fill of a filled cell",
        lambda p: Fill("w1", p.neymar, "n1", "name", "Pelé", frozenset()),
        CellAlreadyFilled,
    ),
    (
        "fill outside the domain",
        lambda p: Fill("w1", p.neymar, "n1", "position", "striker", frozenset()),
        OutsideDomain,
    ),
    ("fill of the wrong type", lambda p: Fill("w1", p.neymar, "n1", "caps", "many", frozenset()), WrongType),
    (
        "fill with a boolean for a number",
        lambda p: Fill("w1", p.neymar, "n1", "goals", True, frozenset()),
        WrongType,
    ),
    ("upvote of an incomplete row", lambda p: Upvote("w1", p.neymar, frozenset()), IncompleteRowUpvoted),
    ("second upvote by the same worker", lambda p: Upvote("w2", p.messi, frozenset()), DuplicateVote),
    ("upvote by the filler who completed it", lambda p: Upvote("w1", p.messi, frozenset()), DuplicateVote),
    ("downvote after an upvote", lambda p: Downvote("w2", p.messi, frozenset()), DuplicateVote),
    ("upvote after a downvote", lambda p: Upvote("w8", p.ronaldinho_fw, frozenset()), DuplicateVote),
    ("second downvote by the same worker", lambda p: Downvote("w10", p.neymar, frozenset()), DuplicateVote),
    (
        "fill reusing a live row id",
        lambda p: Fill("w1", p.neymar, p.messi, "caps", 1, frozenset()),
        DuplicateRowId,
    ),
    (
        "fill reusing a replaced row id",
        lambda p: Fill("w1", p.neymar, "r1", "caps", 1, frozenset()),
        DuplicateRowId,
    ),
    ("insert reusing a row id", lambda p: Insert(p.messi, frozenset()), DuplicateRowId),
    ("insert of an unknown column", lambda p: Insert("n1", values({"club": "x"})), UnknownColumn),
    ("insert outside the domain", lambda p: Insert("n1", values({"position": "striker"})), OutsideDomain),
    (
        "fill whose full values disagree",
        lambda p: Fill("w1", p.neymar, "n1", "caps", 1, values({"name": "Pelé", "caps": 1})),
        ValueMismatch,
    ),
    ("upvote whose values disagree", lambda p: Upvote("w20", p.messi, values(CASILLAS)), ValueMismatch),
    ("downvote whose values disagree", lambda p: Downvote("w20", p.messi, values(CASILLAS)), ValueMismatch),
    (
        "fill with an empty worker",
        lambda p: Fill("", p.neymar, "n1", "caps", 1, frozenset()),
        MalformedMessage,
    ),
    ("vote with a non-string row id", lambda p: Upvote("w1", 5, frozenset()), MalformedMessage),  # type: ignore[arg-type]  # a bad client payload
    (
        "fill with an over-long new id",
        lambda p: Fill("w1", p.neymar, "n" * 65, "caps", 1, frozenset()),
        MalformedMessage,
    ),
]


@pytest.mark.parametrize(
    ("bad", "error"), [(bad, error) for _, bad, error in REFUSALS], ids=[n for n, _, _ in REFUSALS]
)
def test_a_refused_operation_raises_its_error_and_leaves_the_table_unchanged(
    paper: PaperExample, bad: Bad, error: type[CrowdFillError]
) -> None:
    before = paper.table.fingerprint()
    op = bad(paper)
    with pytest.raises(error) as raised:
        paper.table.apply(op)
    assert raised.value.code == error.code
    assert raised.value.message
    assert paper.table.fingerprint() == before
    with pytest.raises(error):
        paper.table.validate(op)
    assert paper.table.fingerprint() == before


def test_an_empty_row_cannot_be_downvoted() -> None:
    table = soccer_table()
    build = Builder(table)
    empty = build.insert()
    before = table.fingerprint()
    with pytest.raises(EmptyRowDownvoted):
        table.apply(Downvote("w1", empty, frozenset()))
    assert table.fingerprint() == before


def test_a_row_holding_only_template_values_cannot_be_downvoted() -> None:
    table = soccer_table()
    build = Builder(table)
    brazil = build.insert({"nationality": "Brazil"})
    before = table.fingerprint()
    with pytest.raises(TemplateProtected):
        table.apply(Downvote("w1", brazil, frozenset()))
    assert table.fingerprint() == before
    # Once a worker adds a value of their own, the row is theirs to judge.
    named = build.fill("w2", brazil, "name", "Kaká")
    build.downvote("w1", named)
    assert table.down(named) == 1


def test_a_closed_table_refuses_every_operation(paper: PaperExample) -> None:
    paper.table.close()
    before = paper.table.fingerprint()
    for op in (
        Insert("n1", frozenset()),
        Fill("w1", paper.neymar, "n1", "caps", 1, frozenset()),
        Upvote("w20", paper.messi, frozenset()),
        Downvote("w20", paper.messi, frozenset()),
    ):
        with pytest.raises(TableClosed):
            paper.table.apply(op)
    assert paper.table.closed
    assert paper.table.fingerprint() == before


def test_every_error_has_its_own_code() -> None:
    from crowdfill.model import errors

    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, CrowdFillError)
    ]
    codes = [cls.code for cls in classes]
    assert len(classes) >= 18
    assert len(set(codes)) == len(codes)


# --------------------------------------------------------------------------- fills and votes


def test_a_fill_replaces_the_row_with_a_new_one_and_never_edits_it() -> None:
    table = soccer_table()
    build = Builder(table)
    first = build.insert()
    events = build.apply(Fill("w1", first, "r9", "name", "  Pelé  ", frozenset()))
    assert events[0] == RowReplaced(first, table.row("r9"), removed=True)
    assert table.row("r9").as_dict() == {"name": "Pelé"}
    assert first not in table
    assert table.known(first)
    with pytest.raises(UnknownRow):
        table.row(first)
    assert [row.row_id for row in table.all_rows()] == [first, "r9"]
    assert [row.values for row in table.all_rows()] == [frozenset(), values({"name": "Pelé"})]


def test_validate_returns_the_canonical_fill_with_full_values_and_the_upvote_flag() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", {"name": "Pelé", "nationality": "Brazil", "position": "FW", "caps": 92})
    canonical = table.validate(Fill("w2", row, "n1", "goals", "77", frozenset()))
    assert canonical == Fill(
        "w2",
        row,
        "n1",
        "goals",
        77,
        values({"name": "Pelé", "nationality": "Brazil", "position": "FW", "caps": 92, "goals": 77}),
        upvote=True,
    )
    partial = table.validate(Fill("w2", build.insert(), "n2", "caps", 3.0, frozenset(), upvote=True))
    assert isinstance(partial, Fill)
    assert partial.values == values({"caps": 3})
    assert partial.upvote is False  # only the fill that completes a row upvotes it


def test_the_fill_that_completes_a_row_upvotes_it_for_the_filler() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", {"name": "Pelé", "nationality": "Brazil", "position": "FW", "caps": 92})
    events = build.apply(Fill("w2", row, "done", "goals", 77, frozenset()))
    assert VoteRecorded("w2", "up", table.row("done").values, "done") in events
    assert table.upvoters("done") == {"w2"}
    assert (table.up("done"), table.down("done")) == (1, 0)


def test_a_completing_fill_does_not_upvote_for_a_filler_who_already_downvoted_part_of_the_row() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", {"name": "Pelé", "nationality": "Brazil", "position": "FW", "caps": 92})
    build.downvote("w2", row)
    canonical = table.validate(Fill("w2", row, "done", "goals", 77, frozenset()))
    assert isinstance(canonical, Fill)
    assert canonical.upvote is False
    build.apply(canonical)
    assert (table.up("done"), table.down("done")) == (0, 1)


def test_a_downvote_on_a_partial_row_counts_against_its_later_completions() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)
    completed = build.fill_all("w3", neymar, {"position": "FW", "caps": 128, "goals": 79})
    assert (table.up(completed), table.down(completed)) == (1, 1)
    assert table.downvoters(completed) == {"w2"}
    # A row reaching the same values by another path is counted against too.
    elsewhere = build.row_with("w4", {"caps": 128, "name": "Neymar", "goals": 79, "nationality": "Brazil"})
    assert table.down(elsewhere) == 1
    # A row that does not contain the downvoted values is not.
    other = build.row_with("w4", {"name": "Neymar", "nationality": "Spain"})
    assert table.down(other) == 0


def test_a_worker_counted_through_a_partial_downvote_cannot_vote_on_its_completion() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)
    completed = build.fill_all("w3", neymar, {"position": "FW", "caps": 128, "goals": 79})
    before = table.fingerprint()
    with pytest.raises(DuplicateVote):
        table.apply(Upvote("w2", completed, frozenset()))
    with pytest.raises(DuplicateVote):
        table.apply(Downvote("w2", completed, frozenset()))
    assert table.fingerprint() == before
    assert table.worker_counted("w2", table.row(completed).values)
    assert not table.worker_counted("w4", table.row(completed).values)


def test_a_downvote_on_a_part_of_a_row_the_worker_upvoted_is_refused() -> None:
    table = soccer_table()
    build = Builder(table)
    build.row_with("w1", MESSI)
    partial = build.row_with("w3", {"name": "Messi"})
    before = table.fingerprint()
    with pytest.raises(DuplicateVote):
        table.apply(Downvote("w1", partial, frozenset()))
    assert table.fingerprint() == before
    build.downvote("w2", partial)  # someone with no vote on Messi may


def test_two_fills_of_the_same_row_at_the_same_time_both_survive_as_duplicates() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.insert({"nationality": "Brazil"})
    first = table.validate(Fill("w1", row, "a", "name", "Kaká", frozenset()))
    second = table.validate(Fill("w2", row, "b", "name", "Kaká", frozenset()))
    events_a = table.integrate(first)
    events_b = table.integrate(second)
    assert events_a[0] == RowReplaced(row, table.row("a"), removed=True)
    assert events_b[0] == RowReplaced(row, table.row("b"), removed=False)
    assert {r.row_id for r in table.rows()} == {"a", "b"}
    assert table.row("a").values == table.row("b").values
    # The server also accepts the second fill after the first was applied: the message carries
    # the full values, so nobody's work is overwritten.
    third = table.validate(Fill("w3", row, "c", "name", "Ronaldo", frozenset()))
    table.integrate(third)
    assert table.row("c").as_dict() == {"name": "Ronaldo", "nationality": "Brazil"}
    other = soccer_table()
    for op in (Insert(row, values({"nationality": "Brazil"})), third, second, first):
        other.integrate(op)
    assert other.fingerprint() == table.fingerprint()


def test_a_fill_that_arrives_before_the_row_it_replaces_still_removes_it() -> None:
    table = soccer_table()
    fill = Fill("w1", "r1", "r2", "name", "Kaká", values({"name": "Kaká"}))
    events = table.integrate(fill)
    assert events[0] == RowReplaced("r1", table.row("r2"), removed=False)
    table.integrate(Insert("r1", frozenset()))
    assert [row.row_id for row in table.rows()] == ["r2"]
    assert table.removed_ids() == {"r1"}


def test_identical_rows_share_counts_and_status_and_the_final_table_keeps_one() -> None:
    table = soccer_table()
    build = Builder(table)
    a = build.row_with("w1", MESSI)
    b = build.row_with("w2", MESSI)
    # w2's completing fill was an upvote on the same values, so both rows count w1 and w2.
    assert (table.up(a), table.up(b)) == (2, 2)
    assert table.status(a) is table.status(b) is Status.GREEN
    assert [row.row_id for row in table.final_table()] == [min(a, b)]


def test_ties_in_a_key_group_break_the_same_way_whatever_the_insertion_order() -> None:
    finals = set()
    for order in ((MESSI, {**MESSI, "goals": 38}), ({**MESSI, "goals": 38}, MESSI)):
        table = soccer_table()
        build = Builder(table)
        for n, row in enumerate(order):
            row_id = build.row_with(f"w{n}", row)
            build.upvote(f"v{n}", row_id)
        final = table.final_table()
        assert len(final) == 1
        finals.add(final[0].values)
    assert len(finals) == 1


def test_a_key_group_with_a_lower_scoring_partial_row_marks_it_yellow() -> None:
    table = soccer_table()
    build = Builder(table)
    full = build.row_with("w1", MESSI)
    build.upvote("w2", full)
    partial = build.row_with("w3", {"name": "Messi", "nationality": "Argentina"})
    assert table.group_of(partial) == table.group_of(full)
    assert table.status(partial) is Status.YELLOW
    assert table.status(full) is Status.GREEN
    lonely = build.row_with("w3", {"name": "Xavi"})
    assert table.group_of(lonely) == ("row", lonely)
    assert table.status(lonely) is Status.BLUE


def test_a_group_whose_best_score_is_zero_has_no_final_row() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", BECKHAM)
    assert table.status(row) is Status.BLUE
    assert table.final_table() == []
    assert table.final_row(table.group_of(row)) is None


def test_a_downvote_on_a_row_a_concurrent_fill_replaced_counts_against_the_replacement() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    completed = build.fill("w2", neymar, "position", "FW")
    events = build.downvote("w3", neymar)
    assert events[0] == VoteRecorded("w3", "down", values(NEYMAR), neymar)
    assert table.down(completed) == 1


def test_integrating_an_operation_twice_changes_nothing_the_second_time(paper: PaperExample) -> None:
    for op in paper.build.log:
        before = paper.table.fingerprint()
        assert paper.table.integrate(op) == []
        assert paper.table.fingerprint() == before


def test_apply_reports_what_changed_as_events() -> None:
    table = soccer_table()
    events = table.apply(Insert("r1", values({"nationality": "Spain"})))
    assert events == [RowInserted(table.row("r1")), GroupRescored(("row", "r1"))]
    table.apply(Fill("w1", "r1", "r2", "name", "Xavi", frozenset()))
    events = table.apply(Downvote("w2", "r2", frozenset()))
    assert events == [
        VoteRecorded("w2", "down", table.row("r2").values, "r2"),
        GroupRescored(("key", ("Xavi", "Spain"))),
    ]


def test_groups_lists_every_key_group_and_every_incomplete_key_row(paper: PaperExample) -> None:
    build = paper.build
    lonely = build.insert()
    groups = set(paper.table.groups())
    assert ("row", lonely) in groups
    assert ("key", ("Ronaldinho", "Brazil")) in groups
    assert len(groups) == 6  # five keys (two Ronaldinho rows share one) and the empty row


def test_a_custom_scoring_changes_statuses_and_the_final_table() -> None:
    table = soccer_table(Scoring("difference"))
    build = Builder(table)
    beckham = build.row_with("w1", BECKHAM)
    assert table.status(beckham) is Status.GREEN
    assert [row.row_id for row in table.final_table()] == [beckham]


def test_a_table_without_a_template_protects_nothing() -> None:
    schema = Schema((Column("name"), Column("colour", "text", ("red", "blue"))))
    table = CandidateTable(schema)
    build = Builder(table)
    row = build.insert({"colour": "red"})
    build.downvote("w1", row)
    assert table.down(row) == 1
    assert table.template == Template(())


def test_the_soccer_schema_keys_on_name_and_nationality() -> None:
    assert SOCCER_PLAYER.key == ("name", "nationality")

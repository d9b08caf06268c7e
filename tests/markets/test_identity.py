from __future__ import annotations

import pytest

from crowdfill.markets import (
    MarketIdentityError,
    market_of,
    mturk_visit,
    mturk_worker,
    mturk_worker_id,
    prolific_completion_url,
    prolific_participant_id,
    prolific_visit,
    prolific_worker,
)


def test_marketplace_workers_get_prefixed_ids_that_strip_back() -> None:
    assert mturk_worker("A1B2C3D4") == "mturk:A1B2C3D4"
    assert mturk_worker_id("mturk:A1B2C3D4") == "A1B2C3D4"
    assert prolific_worker("5f3a9c") == "prolific:5f3a9c"
    assert prolific_participant_id("prolific:5f3a9c") == "5f3a9c"


def test_the_market_of_a_worker_is_read_from_its_prefix() -> None:
    assert market_of("mturk:A1") == "mturk"
    assert market_of("prolific:5f") == "prolific"
    assert market_of("alice") is None


def test_a_worker_of_another_origin_has_no_mturk_id() -> None:
    with pytest.raises(MarketIdentityError, match="not an MTurk worker"):
        mturk_worker_id("prolific:5f3a")
    with pytest.raises(MarketIdentityError, match="not a Prolific worker"):
        prolific_participant_id("mturk:A1")


@pytest.mark.parametrize("raw", ["", "a b", "x" * 65, "<script>", "A1/../B"])
def test_malformed_marketplace_ids_are_refused(raw: str) -> None:
    with pytest.raises(MarketIdentityError):
        mturk_worker(raw)


def test_an_id_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(MarketIdentityError):
        mturk_worker("A1B2C3\n")
    with pytest.raises(MarketIdentityError):
        prolific_visit({"PROLIFIC_PID": "5f3a\n", "STUDY_ID": "st1", "SESSION_ID": "se1"})
    with pytest.raises(MarketIdentityError):
        mturk_worker_id("mturk:A1B2C3\n")


def test_a_prolific_visit_reads_its_three_url_parameters() -> None:
    visit = prolific_visit({"PROLIFIC_PID": "5f3a", "STUDY_ID": "st1", "SESSION_ID": "se1", "x": "y"})
    assert visit is not None
    assert (visit.participant_id, visit.study_id, visit.session_id) == ("5f3a", "st1", "se1")
    assert visit.worker == "prolific:5f3a"


def test_a_visit_without_prolific_parameters_is_not_a_prolific_visit() -> None:
    assert prolific_visit({"workerId": "w"}) is None


def test_a_prolific_visit_missing_its_session_is_refused() -> None:
    with pytest.raises(MarketIdentityError, match="SESSION_ID"):
        prolific_visit({"PROLIFIC_PID": "5f3a", "STUDY_ID": "st1"})


def test_the_completion_url_carries_the_requesters_code() -> None:
    assert prolific_completion_url("C1A2B3") == "https://app.prolific.com/submissions/complete?cc=C1A2B3"
    assert prolific_completion_url("a&b").endswith("?cc=a%26b")
    with pytest.raises(MarketIdentityError):
        prolific_completion_url(" ")


def test_an_mturk_visit_reads_assignment_hit_worker_and_submit_address() -> None:
    visit = mturk_visit(
        {
            "assignmentId": "3AS1",
            "hitId": "HIT1",
            "workerId": "A1B2",
            "turkSubmitTo": "https://workersandbox.mturk.com",
        }
    )
    assert visit is not None
    assert not visit.preview
    assert visit.worker == "mturk:A1B2"
    assert visit.submit_url == "https://workersandbox.mturk.com/mturk/externalSubmit"


def test_an_mturk_preview_has_no_worker() -> None:
    visit = mturk_visit({"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": "HIT1"})
    assert visit is not None
    assert visit.preview
    assert visit.worker is None


def test_an_mturk_visit_cannot_submit_to_a_foreign_host() -> None:
    with pytest.raises(MarketIdentityError, match="turkSubmitTo"):
        mturk_visit(
            {"assignmentId": "3AS1", "hitId": "H", "workerId": "A1", "turkSubmitTo": "https://evil.example"}
        )

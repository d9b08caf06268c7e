from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from crowdfill.markets.mturk_client import ENDPOINTS, environment, environment_of, make_client
from crowdfill.markets.mturk_hits import (
    EXTERNAL_QUESTION_SCHEMA,
    HitSettings,
    PublishError,
    external_question,
    hit_request_token,
    publish,
    qualification_requirements,
    worker_page_url,
)
from crowdfill.markets.state import MarketState
from tests.markets.support import TABLE, offline_client, stubbed

PAGE = "https://crowdfill.example.org/w/soccer"


def settings(**changes: Any) -> HitSettings:
    values: dict[str, Any] = {
        "title": "Fill in a shared table",
        "description": "Fill cells and vote on rows.",
        "reward_cents": 50,
        "max_assignments": 9,
        "lifetime_seconds": 86400,
        "assignment_duration_seconds": 1800,
        "auto_approval_delay_seconds": 7200,
        "locales": ("US", "CA-ON"),
    }
    values.update(changes)
    return HitSettings(**values)


def test_the_sandbox_is_the_default_and_live_needs_the_flag() -> None:
    assert environment(live=False) == "sandbox"
    assert environment(live=True) == "live"
    assert (
        make_client("sandbox").meta.endpoint_url == "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
    )
    assert make_client("live").meta.endpoint_url == "https://mturk-requester.us-east-1.amazonaws.com"
    assert environment_of(make_client("sandbox")) == "sandbox"
    assert environment_of(make_client("live")) == "live"
    assert set(ENDPOINTS) == {"sandbox", "live"}


def test_the_worker_page_url_is_the_tables_page_under_the_public_base() -> None:
    assert worker_page_url("https://crowdfill.example.org/", "soccer") == PAGE


def test_the_external_question_points_at_the_worker_page() -> None:
    url = "https://crowdfill.example.org/w/soccer?lang=en&x=1"
    root = ET.fromstring(external_question(url, frame_height=0))  # noqa: S314  # XML we built ourselves
    namespace = {"q": EXTERNAL_QUESTION_SCHEMA}
    assert root.tag == f"{{{EXTERNAL_QUESTION_SCHEMA}}}ExternalQuestion"
    assert root.findtext("q:ExternalURL", namespaces=namespace) == url
    assert root.findtext("q:FrameHeight", namespaces=namespace) == "0"


def test_mturk_only_frames_https_pages() -> None:
    with pytest.raises(PublishError, match="https"):
        external_question("http://127.0.0.1:8000/w/soccer")


def test_qualifications_require_approval_rate_and_locale_to_accept() -> None:
    requirements = qualification_requirements(settings(min_approved_hits=100))
    assert requirements == [
        {
            "QualificationTypeId": "000000000000000000L0",
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [95],
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": "00000000000000000040",
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [100],
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": "00000000000000000071",
            "Comparator": "In",
            "LocaleValues": [{"Country": "US"}, {"Country": "CA", "Subdivision": "ON"}],
            "ActionsGuarded": "Accept",
        },
    ]


def test_no_qualification_is_sent_when_none_is_asked_for() -> None:
    assert qualification_requirements(settings(min_approval_percent=None, locales=())) == []


def test_publish_creates_the_hit_with_exact_parameters_and_records_its_id(tmp_path: Path) -> None:
    client = offline_client()
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    chosen = settings()
    with stubbed(client) as stubber:
        stubber.add_response(
            "create_hit",
            {"HIT": {"HITId": "HIT1", "HITTypeId": "TYPE1", "HITGroupId": "GROUP1"}},
            {
                "MaxAssignments": 9,
                "AutoApprovalDelayInSeconds": 7200,
                "LifetimeInSeconds": 86400,
                "AssignmentDurationInSeconds": 1800,
                "Reward": "0.50",
                "Title": "Fill in a shared table",
                "Keywords": "data collection, table, crowdfill",
                "Description": "Fill cells and vote on rows.",
                "Question": external_question(PAGE, 0),
                "RequesterAnnotation": "crowdfill:soccer",
                "QualificationRequirements": qualification_requirements(chosen),
                "UniqueRequestToken": hit_request_token(TABLE, 0),
            },
        )
        created = publish(client, state, TABLE, PAGE, chosen)
    assert [record.hit_id for record in created] == ["HIT1"]
    reloaded = MarketState.load(tmp_path / "mturk.json", TABLE)
    assert [(h.hit_id, h.hit_group_id, h.reward_cents) for h in reloaded.hits] == [("HIT1", "GROUP1", 50)]


def test_each_further_hit_gets_its_own_request_token(tmp_path: Path) -> None:
    client = offline_client()
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    tokens: list[str] = []
    with stubbed(client) as stubber:
        for number in range(3):
            tokens.append(hit_request_token(TABLE, number))
            stubber.add_response("create_hit", {"HIT": {"HITId": f"HIT{number}"}})
        publish(client, state, TABLE, PAGE, settings(), hits=3)
    assert len(set(tokens)) == 3
    assert all(len(token) <= 64 for token in tokens)
    assert [h.hit_id for h in state.hits] == ["HIT0", "HIT1", "HIT2"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reward_cents": 0}, "reward"),
        ({"title": ""}, "title"),
        ({"max_assignments": 0}, "assignments"),
        ({"assignment_duration_seconds": 5}, "duration"),
        ({"min_approval_percent": 120}, "approval"),
        ({"locales": ("Narnia",)}, "locale"),
    ],
)
def test_settings_mturk_would_refuse_are_refused_before_any_call(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    client = offline_client()
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    with stubbed(client), pytest.raises(PublishError, match=message):
        publish(client, state, TABLE, PAGE, settings(**change))
    assert state.hits == []

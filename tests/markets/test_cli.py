from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from crowdfill.client import Client
from crowdfill.markets import cli
from crowdfill.markets.mturk_hits import (
    HitSettings,
    external_question,
    hit_request_token,
    qualification_requirements,
)
from crowdfill.markets.mturk_pay import bonus_reason, bonus_request_token
from crowdfill.markets.state import HitRecord, MarketState, PaymentRecord
from tests.markets.support import (
    SERVER,
    TABLE,
    FakeServer,
    assignment,
    cli_args,
    constant,
    expect_assignments,
    expect_bonuses,
    offline_client,
    stubbed,
)

PAYMENTS = {"mturk:W1": 120, "prolific:P1": 50}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="crowdfill")
    cli.register(root.add_subparsers(dest="command", required=True))
    return root


def test_the_commands_parse_with_the_sandbox_as_default() -> None:
    args = parser().parse_args(["mturk", "publish", TABLE, "--reward", "0.75", "--duration", "30m"])
    assert (args.handler, args.live, args.reward, args.duration) == (cli.handle_publish, False, 75, 1800)
    assert parser().parse_args(["mturk", "pay", TABLE, "--dry-run"]).handler is cli.handle_pay
    assert parser().parse_args(["mturk", "status", TABLE, "--live"]).live is True
    assert parser().parse_args(["prolific", "bonuses", TABLE]).handler is cli.handle_prolific_bonuses


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("45s", 45), ("30m", 1800), ("2h", 7200), ("3d", 259200)]
)
def test_durations_read_with_units(text: str, seconds: int) -> None:
    assert cli.duration(text) == seconds


def test_the_default_state_directory_is_per_table() -> None:
    assert cli.state_dir(argparse.Namespace(state_dir=None, table=TABLE)) == Path(
        "crowdfill-data/markets/soccer"
    )


def publish_args(tmp_path: Path, **options: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "title": None,
        "description": "Fill cells and vote on rows.",
        "keywords": "data collection, table, crowdfill",
        "reward": 50,
        "assignments": 5,
        "hits": 1,
        "lifetime": 86400,
        "duration": 3600,
        "auto_approve": 86400,
        "min_approval": 95,
        "min_approved_hits": None,
        "locale": ["US"],
        "public_url": "https://crowdfill.example.org",
    }
    values.update(options)
    return cli_args(tmp_path, **values)


def test_publish_reads_the_table_then_creates_a_hit_for_its_worker_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer(PAYMENTS, status="live")
    client = offline_client()
    page = "https://crowdfill.example.org/w/soccer?cf_batch=b1&cf_sig=sig-b1"
    settings = HitSettings(
        title="Fill in a shared table: SoccerPlayer",
        description="Fill cells and vote on rows.",
        reward_cents=50,
        locales=("US",),
    )
    with stubbed(client) as stubber:
        stubber.add_response(
            "create_hit",
            {"HIT": {"HITId": "HIT1", "HITGroupId": "G1"}},
            {
                "MaxAssignments": 5,
                "AutoApprovalDelayInSeconds": 86400,
                "LifetimeInSeconds": 86400,
                "AssignmentDurationInSeconds": 3600,
                "Reward": "0.50",
                "Title": "Fill in a shared table: SoccerPlayer",
                "Keywords": "data collection, table, crowdfill",
                "Description": "Fill cells and vote on rows.",
                "Question": external_question(page),
                "RequesterAnnotation": "crowdfill:soccer",
                "QualificationRequirements": qualification_requirements(settings),
                "UniqueRequestToken": hit_request_token(TABLE, 0),
            },
        )
        code = cli.run_publish(publish_args(tmp_path), constant(client), server.api)
    assert code == 0
    assert server.calls == [
        ("GET", "/api/tables/soccer", None),
        ("POST", "/api/tables/soccer/recruit-urls", {"platform": "mturk"}),
        ("POST", "/api/tables/soccer/recruit-urls/b1/hits", {"hit_ids": ["HIT1"]}),
    ]
    out = capsys.readouterr().out
    assert "HIT1 https://workersandbox.mturk.com/projects/G1/tasks" in out
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    assert state.environment == "sandbox"
    assert [(hit.hit_id, hit.batch, hit.url) for hit in state.hits] == [("HIT1", "b1", page)]


def test_publish_keeps_the_hits_and_warns_when_the_server_cannot_record_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer(PAYMENTS, status="live")
    server.refuse_hits = True
    client = offline_client()
    with stubbed(client) as stubber:
        stubber.add_response("create_hit", {"HIT": {"HITId": "HIT1", "HITGroupId": "G1"}})
        code = cli.run_publish(publish_args(tmp_path), constant(client), server.api)
    assert code == 1
    assert "the HITs were created but the server did not record them" in capsys.readouterr().err
    assert [hit.hit_id for hit in MarketState.load(tmp_path / "mturk.json", TABLE).hits] == ["HIT1"]


def test_publish_refuses_a_draft_table_and_a_plain_http_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = offline_client()
    with stubbed(client):
        assert (
            cli.run_publish(publish_args(tmp_path), constant(client), FakeServer({}, status="draft").api) == 2
        )
        insecure = publish_args(tmp_path, public_url="http://127.0.0.1:8000")
        assert cli.run_publish(insecure, constant(client), FakeServer({}, status="live").api) == 2
    err = capsys.readouterr().err
    assert "launch it" in err
    assert "https" in err


def published_state(tmp_path: Path, env: str = "sandbox") -> None:
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    state.use_environment("live" if env == "live" else "sandbox")
    state.add_hit(HitRecord("HIT1", "T1", "G1", "https://x.example/w/soccer", 50, 10))


def test_a_dry_run_only_reads_and_prints_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1")])
        expect_bonuses(stubber, "HIT1", [])
        code = cli.run_pay(cli_args(tmp_path, dry_run=True), constant(client), FakeServer(PAYMENTS).api)
    assert code == 0
    out = capsys.readouterr().out
    assert "approve A1 (mturk:W1)" in out
    assert "pay          mturk:W1 $1.20 on A1" in out
    assert "dry run: nothing approved, nothing paid" in out
    assert MarketState.load(tmp_path / "mturk.json", TABLE).payments == {}


def test_a_dry_run_shows_a_pending_bonus_as_pending_and_lists_unverified_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path)
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    state.record_payment(
        PaymentRecord("mturk:W1", 120, "A1", bonus_request_token(TABLE, "mturk:W1"), "pending")
    )
    client = offline_client()
    payments = {"mturk:W1": 120, "mturk:FAKE1": 200, "mturk:FAKE2": 200}
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1", status="Approved")])
        expect_bonuses(stubber, "HIT1", [])
        code = cli.run_pay(cli_args(tmp_path, dry_run=True), constant(client), FakeServer(payments).api)
    assert code == 0
    out = capsys.readouterr().out
    assert "pending      mturk:W1 $1.20 on A1: sent before but never confirmed" in out
    assert "pay          mturk:W1" not in out
    assert "unverified   mturk:FAKE1 $2.00" in out
    assert "2 unverified worker(s), not paid: mturk:FAKE1, mturk:FAKE2" in out
    assert "dry run: nothing approved, nothing paid" in out
    assert MarketState.load(tmp_path / "mturk.json", TABLE).payments["mturk:W1"].status == "pending"


def test_pay_waits_for_the_table_to_complete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client):
        code = cli.run_pay(cli_args(tmp_path), constant(client), FakeServer(PAYMENTS, status="live").api)
    assert code == 2
    assert "pay after it completes" in capsys.readouterr().err


def test_pay_reports_each_worker_and_exits_nonzero_on_a_partial_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path)
    client = offline_client()
    payments = {"mturk:W1": 120, "mturk:W2": 80}
    with stubbed(client) as stubber:
        expect_assignments(
            stubber,
            "HIT1",
            [assignment("A1", "W1", status="Approved"), assignment("A2", "W2", status="Approved")],
        )
        expect_bonuses(stubber, "HIT1", [])
        stubber.add_client_error("send_bonus", "ServiceFault", "throttled")
        stubber.add_response(
            "send_bonus",
            {},
            {
                "WorkerId": "W2",
                "BonusAmount": "0.80",
                "AssignmentId": "A2",
                "Reason": bonus_reason(TABLE, 80),
                "UniqueRequestToken": bonus_request_token(TABLE, "mturk:W2"),
            },
        )
        code = cli.run_pay(cli_args(tmp_path), constant(client), FakeServer(payments).api)
    assert code == 1
    out = capsys.readouterr().out
    assert "FAILED  mturk:W1: ServiceFault: throttled" in out
    assert "paid    mturk:W2 $0.80" in out
    assert "run the same command again" in out


def test_pay_against_the_other_environment_than_the_hits_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path, env="live")
    client = offline_client("live")
    with stubbed(client):
        code = cli.run_pay(cli_args(tmp_path), constant(client), FakeServer(PAYMENTS).api)
    assert code == 2
    assert "add --live" in capsys.readouterr().err


def test_pay_over_budget_pays_nobody(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1")])
        expect_bonuses(stubber, "HIT1", [])
        code = cli.run_pay(
            cli_args(tmp_path), constant(client), FakeServer({"mturk:W1": 2000}, budget_cents=1000).api
        )
    assert code == 2
    assert "more than the budget" in capsys.readouterr().err


def test_status_lists_hits_assignments_and_payments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        stubber.add_response(
            "get_hit",
            {
                "HIT": {
                    "HITId": "HIT1",
                    "HITStatus": "Assignable",
                    "MaxAssignments": 10,
                    "NumberOfAssignmentsAvailable": 7,
                    "NumberOfAssignmentsPending": 1,
                    "NumberOfAssignmentsCompleted": 2,
                }
            },
            {"HITId": "HIT1"},
        )
        expect_assignments(
            stubber, "HIT1", [assignment("A1", "W1"), assignment("A2", "W2", status="Approved")]
        )
        expect_bonuses(stubber, "HIT1", [("W2", "A2", "0.80")])
        code = cli.run_status(cli_args(tmp_path), constant(client))
    assert code == 0
    out = capsys.readouterr().out
    assert "HIT HIT1 Assignable: 7 available, 1 pending, 2 completed of 10" in out
    assert "assignments: 1 approved, 1 submitted" in out
    assert "bonuses on MTurk: 1, $0.80" in out


def test_blocking_a_worker_blocks_in_crowdfill_and_on_mturk(tmp_path: Path) -> None:
    server = FakeServer({})
    client = offline_client()
    with stubbed(client) as stubber:
        stubber.add_response("create_worker_block", {}, {"WorkerId": "W1", "Reason": "copied answers"})
        code = cli.run_block(
            cli_args(tmp_path, worker="mturk:W1", reason="copied answers", mturk_only=False),
            constant(client),
            server.api,
        )
    assert code == 0
    assert server.calls == [("POST", "/api/tables/soccer/workers/mturk:W1/block", None)]
    assert MarketState.load(tmp_path / "mturk.json", TABLE).blocked == {"mturk:W1": "copied answers"}


def test_only_mturk_workers_can_be_blocked_on_mturk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = offline_client()
    with stubbed(client):
        code = cli.run_block(
            cli_args(tmp_path, worker="alice", reason="spam", mturk_only=True),
            constant(client),
            FakeServer({}).api,
        )
    assert code == 2
    assert "not an MTurk worker" in capsys.readouterr().err


def test_the_prolific_bonus_file_is_written_from_the_settlement(tmp_path: Path) -> None:
    server = FakeServer({"prolific:5f3a": 125, "prolific:0b7c": 0, "prolific:9e1d": 7, "mturk:W1": 300})
    out = tmp_path / "bonuses.csv"
    assert cli.run_prolific_bonuses(cli_args(tmp_path, out=str(out)), server.api) == 0
    assert out.read_text(encoding="utf-8") == "5f3a,1.25\n9e1d,0.07\n"
    assert [call[1] for call in server.calls] == ["/api/tables/soccer", "/api/tables/soccer/compensation"]


def test_pay_prints_what_the_settlement_pays_and_what_it_leaves_unpaid_by_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1")])
        expect_bonuses(stubber, "HIT1", [])
        server = FakeServer(
            {"mturk:W1": 700},
            status="closed",
            unpaid_reasons={"closed_early_unfilled": 250, "template_values": 50},
        )
        code = cli.run_pay(cli_args(tmp_path, dry_run=True), constant(client), server.api)
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "table soccer (closed early): paid $7.00 of the $10.00 budget, unpaid $3.00",
        "  unpaid closed_early_unfilled: $2.50",
        "  unpaid template_values: $0.50",
    ]


def test_the_prolific_bonuses_say_a_completed_table_pays_its_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer({"prolific:5f3a": 600, "prolific:9e1d": 400})
    assert cli.run_prolific_bonuses(cli_args(tmp_path, out=str(tmp_path / "b.csv")), server.api) == 0
    assert (
        "table soccer (completed): paid $10.00 of the $10.00 budget, unpaid $0.00" in capsys.readouterr().out
    )
    assert cli.run_prolific_bonuses(cli_args(tmp_path, out="-"), server.api) == 0
    printed = capsys.readouterr()
    assert printed.out == "5f3a,6.00\n9e1d,4.00\n"  # the bonus file alone on stdout
    assert "paid $10.00 of the $10.00 budget" in printed.err


def test_a_wrong_requester_token_is_reported_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer({})
    args = cli_args(tmp_path, out="-")

    def wrong_token(_: argparse.Namespace) -> Client:
        return Client("http://crowdfill.test", "nope", transport=httpx.MockTransport(server.handle))

    assert cli.run_prolific_bonuses(args, wrong_token) == 2
    assert "401: unauthorized: send the requester token" in capsys.readouterr().err


def test_the_prolific_study_url_carries_the_servers_signature_for_the_study_and_the_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer({}, status="live")
    args = cli_args(tmp_path, study="st77", public_url="https://crowdfill.example.org")
    assert cli.run_prolific_url(args, server.api) == 0
    assert server.calls == [
        ("POST", "/api/tables/soccer/recruit-urls", {"platform": "prolific", "study_id": "st77"})
    ]
    assert capsys.readouterr().out.strip() == (
        "https://crowdfill.example.org/w/soccer?cf_sig=sig-st77&PROLIFIC_PID={{%PROLIFIC_PID%}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )


def test_the_prolific_study_url_needs_a_study_id_and_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["prolific", "study-url", TABLE])
    capsys.readouterr()
    args = cli_args(tmp_path, study="st1", public_url=None, token="nope")

    def wrong_token(_: argparse.Namespace) -> Client:
        return Client(SERVER, "nope", transport=httpx.MockTransport(FakeServer({}).handle))

    assert cli.run_prolific_url(args, wrong_token) == 2
    assert "unauthorized" in capsys.readouterr().err


def test_a_dry_run_before_completion_plans_with_the_live_estimates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published_state(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1")])
        expect_bonuses(stubber, "HIT1", [])
        server = FakeServer({"mturk:W1": 40}, status="live")
        code = cli.run_pay(cli_args(tmp_path, dry_run=True), constant(client), server.api)
    assert code == 0
    out = capsys.readouterr().out
    assert "note: table soccer is live; amounts may change" in out
    assert "pay          mturk:W1 $0.40 on A1" in out


def test_the_commands_build_a_sandbox_client_unless_live_is_given() -> None:
    sandbox = cli._mturk_client(argparse.Namespace(live=False, profile=None))
    live = cli._mturk_client(argparse.Namespace(live=True, profile=None))
    assert sandbox.meta.endpoint_url == "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
    assert live.meta.endpoint_url == "https://mturk-requester.us-east-1.amazonaws.com"


def test_publish_with_live_records_the_live_environment_and_links_the_live_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = offline_client("live")
    with stubbed(client) as stubber:
        stubber.add_response("create_hit", {"HIT": {"HITId": "HITLIVE", "HITGroupId": "G9"}})
        code = cli.run_publish(
            publish_args(tmp_path, live=True), constant(client), FakeServer({}, status="live").api
        )
    assert code == 0
    assert "HITLIVE https://worker.mturk.com/projects/G9/tasks" in capsys.readouterr().out
    assert MarketState.load(tmp_path / "mturk.json", TABLE).environment == "live"

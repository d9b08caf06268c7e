"""``crowdfill mturk ...`` and ``crowdfill prolific ...``: recruit workers and pay them.

Each command talks to a running CrowdFill server over its requester REST API and keeps its own
records (HIT ids, approvals, bonuses) in a JSON file under ``--state-dir``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from crowdfill.client import Client, ServerError
from crowdfill.client.options import add_server_options, requester_client, server_url
from crowdfill.markets import links
from crowdfill.markets.identity import BATCH_PARAM, MarketIdentityError
from crowdfill.markets.money import amount_to_cents
from crowdfill.markets.mturk_block import block_worker
from crowdfill.markets.mturk_client import WORKER_SITES, environment, make_client
from crowdfill.markets.mturk_hits import (
    HitSettings,
    PublishError,
    external_question,
    publish,
    worker_page_url,
)
from crowdfill.markets.mturk_pay import PayError, execute_plan, plan_payments
from crowdfill.markets.mturk_records import bonus_cents_by_worker, list_assignments, list_bonuses
from crowdfill.markets.mturk_status import market_status
from crowdfill.markets.payout import payout_lines
from crowdfill.markets.prolific import bonus_lines, write_bonus_file
from crowdfill.markets.settlement import settlement_of
from crowdfill.markets.state import MarketState, StateError

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient

ApiFactory = Callable[[argparse.Namespace], Client]
STATE_FILE = "mturk.json"
_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """``90``, ``45s``, ``30m``, ``2h`` or ``3d`` -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"a duration looks like 90, 45s, 30m, 2h or 3d; got {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def positive_duration(text: str) -> int:
    seconds = duration(text)
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"a duration of at least one second is needed; got {text!r}")
    return seconds


def dollars(text: str) -> int:
    try:
        return amount_to_cents(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"a whole number is needed; got {text!r}") from error
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {number}")
    return number


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mturk``, ``prolific``, ``links`` and ``workers`` with their subcommands."""
    mturk = commands.add_parser("mturk", help="publish a table on Amazon Mechanical Turk and pay workers")
    actions = mturk.add_subparsers(dest="mturk_command", metavar="ACTION", required=True)

    publish_cmd = actions.add_parser("publish", help="create HITs that open the table's worker page")
    _common(publish_cmd)
    publish_cmd.add_argument("--title", default=None, help="HIT title (default: from the table's name)")
    publish_cmd.add_argument(
        "--description",
        default="Fill in and vote on rows of a shared table, live with other workers.",
        help="HIT description",
    )
    publish_cmd.add_argument("--keywords", default="data collection, table, crowdfill")
    publish_cmd.add_argument("--reward", type=dollars, default=50, help="base reward in USD, e.g. 0.50")
    publish_cmd.add_argument("--assignments", type=int, default=10, help="workers per HIT")
    publish_cmd.add_argument("--hits", type=int, default=1, help="how many HITs to create")
    publish_cmd.add_argument("--lifetime", type=duration, default=3 * 86400, help="e.g. 3d")
    publish_cmd.add_argument("--duration", type=duration, default=3600, help="time per assignment, e.g. 1h")
    publish_cmd.add_argument("--auto-approve", type=duration, default=3 * 86400, help="e.g. 3d")
    publish_cmd.add_argument("--min-approval", type=int, default=95, help="percent; 0 for no requirement")
    publish_cmd.add_argument("--min-approved-hits", type=int, default=None)
    publish_cmd.add_argument(
        "--locale", action="append", default=[], help="country (US) or subdivision (US-NY); repeatable"
    )
    publish_cmd.add_argument(
        "--public-url",
        default=None,
        help="https base URL workers reach the server at (env CROWDFILL_PUBLIC_URL; default --server)",
    )
    publish_cmd.set_defaults(handler=handle_publish)

    pay_cmd = actions.add_parser("pay", help="approve submissions and send each worker's bonus, once")
    _common(pay_cmd)
    pay_cmd.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    pay_cmd.set_defaults(handler=handle_pay)

    status_cmd = actions.add_parser("status", help="HITs, assignments, submissions and payments")
    _common(status_cmd)
    status_cmd.set_defaults(handler=handle_status)

    block_cmd = actions.add_parser("block", help="block a worker in CrowdFill and on MTurk")
    _common(block_cmd)
    block_cmd.add_argument("worker", help="our worker id, mturk:<WorkerId>")
    block_cmd.add_argument("--reason", required=True, help="shown to the worker by MTurk")
    block_cmd.add_argument("--mturk-only", action="store_true", help="skip the CrowdFill server block")
    block_cmd.set_defaults(handler=handle_block)

    prolific = commands.add_parser("prolific", help="Prolific study links and bonus files")
    prolific_actions = prolific.add_subparsers(dest="prolific_command", metavar="ACTION", required=True)
    bonuses_cmd = prolific_actions.add_parser("bonuses", help="write the bulk bonus file for a table")
    add_server_options(bonuses_cmd)
    bonuses_cmd.add_argument("table", help="table id")
    bonuses_cmd.add_argument("--out", default=None, help="file to write, '-' for stdout")
    bonuses_cmd.add_argument("--state-dir", default=None, help="default ./crowdfill-data/markets/<table>")
    bonuses_cmd.set_defaults(handler=handle_prolific_bonuses)
    url_cmd = prolific_actions.add_parser("study-url", help="print the study URL to give Prolific")
    url_cmd.add_argument("table", help="table id")
    url_cmd.add_argument(
        "--study", required=True, help="the Prolific study id (STUDY_ID) the URL is signed for"
    )
    url_cmd.add_argument("--public-url", default=None, help="base URL (env CROWDFILL_PUBLIC_URL)")
    add_server_options(url_cmd)
    url_cmd.set_defaults(handler=handle_prolific_url)
    _register_links(commands)


def _register_links(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``crowdfill links create / list / revoke`` and ``crowdfill workers list / block / unblock``."""
    links_cmd = commands.add_parser("links", help="signed per-worker links to a table's worker page")
    link_actions = links_cmd.add_subparsers(dest="links_command", metavar="ACTION", required=True)
    create_cmd = link_actions.add_parser("create", help="create links; prints worker id and URL per line")
    _table_and_server(create_cmd)
    create_cmd.add_argument(
        "--worker-id", default=None, help="the worker's id (default: a fresh w-... id); replaces their link"
    )
    create_cmd.add_argument("--expires-in", type=positive_duration, default=None, help="e.g. 3600, 2h or 3d")
    create_cmd.add_argument("--count", type=positive, default=1, help="how many links, each a fresh worker")
    create_cmd.set_defaults(handler=links.handle_create)
    list_cmd = link_actions.add_parser("list", help="every link: worker, expiry, active or revoked")
    _table_and_server(list_cmd)
    list_cmd.set_defaults(handler=links.handle_list)
    revoke_cmd = link_actions.add_parser("revoke", help="revoke a worker's link and close their sessions")
    _table_and_server(revoke_cmd)
    revoke_cmd.add_argument("worker", help="worker id")
    revoke_cmd.set_defaults(handler=links.handle_revoke)

    workers_cmd = commands.add_parser(
        "workers", help="a table's workers; block, unblock, exclude or include one"
    )
    worker_actions = workers_cmd.add_subparsers(dest="workers_command", metavar="ACTION", required=True)
    workers_list = worker_actions.add_parser("list", help="online, operations, estimated pay, blocked")
    _table_and_server(workers_list)
    workers_list.set_defaults(handler=links.handle_workers)
    for action, handler, text in (
        ("block", links.handle_block, "block a worker in CrowdFill: sessions closed, operations refused"),
        ("unblock", links.handle_unblock, "lift a CrowdFill block (not an MTurk one)"),
        (
            "exclude",
            links.handle_exclude,
            "exclude a worker: their votes stop counting, their work is unpaid",
        ),
        ("include", links.handle_include, "undo a worker's exclusion"),
    ):
        command = worker_actions.add_parser(action, help=text)
        _table_and_server(command)
        command.add_argument("worker", help="worker id, e.g. w-1a2b3c4d or mturk:A1B2C3")
        command.set_defaults(handler=handler)


def _table_and_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help="table id")
    add_server_options(parser)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help="table id")
    add_server_options(parser)
    parser.add_argument("--state-dir", default=None, help="default ./crowdfill-data/markets/<table>")
    parser.add_argument("--live", action="store_true", help="use the live marketplace (real money)")
    parser.add_argument("--profile", default=None, help="AWS profile for credentials")


def requester_api(args: argparse.Namespace) -> Client:
    return requester_client(args)


def public_url(args: argparse.Namespace) -> str:
    """The base URL workers reach the server at: ``--public-url``, CROWDFILL_PUBLIC_URL, or the server."""
    return str(args.public_url or os.environ.get("CROWDFILL_PUBLIC_URL") or server_url(args))


def state_dir(args: argparse.Namespace) -> Path:
    if args.state_dir:
        return Path(args.state_dir)
    return Path("crowdfill-data") / "markets" / str(args.table)


def _load_state(args: argparse.Namespace) -> MarketState:
    return MarketState.load(state_dir(args) / STATE_FILE, args.table)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _mturk_client(args: argparse.Namespace) -> MTurkClient:
    return make_client(environment(args.live), args.profile)


def handle_publish(args: argparse.Namespace) -> int:
    return run_publish(args, _mturk_client, requester_api)


def handle_pay(args: argparse.Namespace) -> int:
    return run_pay(args, _mturk_client, requester_api)


def handle_status(args: argparse.Namespace) -> int:
    return run_status(args, _mturk_client)


def handle_block(args: argparse.Namespace) -> int:
    return run_block(args, _mturk_client, requester_api)


def handle_prolific_bonuses(args: argparse.Namespace) -> int:
    return run_prolific_bonuses(args, requester_api)


def run_publish(
    args: argparse.Namespace,
    client_for: Callable[[argparse.Namespace], MTurkClient],
    api_for: ApiFactory,
) -> int:
    env = environment(args.live)
    try:
        state = _load_state(args)
        state.use_environment(env)
        with api_for(args) as api:
            table = api.table(args.table)
        if table.status == "draft":
            return _fail(f"table {args.table!r} is a draft; launch it before recruiting workers")
        public = public_url(args)
        settings = HitSettings(
            title=args.title or f"Fill in a shared table: {_table_name(table.definition, args.table)}"[:128],
            description=args.description,
            reward_cents=args.reward,
            max_assignments=args.assignments,
            lifetime_seconds=args.lifetime,
            assignment_duration_seconds=args.duration,
            auto_approval_delay_seconds=args.auto_approve,
            keywords=args.keywords,
            min_approval_percent=args.min_approval or None,
            min_approved_hits=args.min_approved_hits,
            locales=tuple(args.locale),
        )
        settings.check()
        external_question(worker_page_url(public, args.table))  # refuses a plain-http page early
        with api_for(args) as api:
            # The server signs the URL for a fresh batch; without that signature it admits no one.
            query = api.recruit_url(args.table, "mturk").query
        batch = query.get(BATCH_PARAM, "")
        page = worker_page_url(public, args.table, query)
        created = publish(client_for(args), state, args.table, page, settings, args.hits, batch)
    except (StateError, ServerError, PublishError) as error:
        return _fail(str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail(f"MTurk refused to create the HIT: {error}")
    registered = _register_hits(args, api_for, batch, [record.hit_id for record in created])
    print(f"published {len(created)} HIT(s) on the MTurk {env} for table {args.table}")
    for record in created:
        link = f"{WORKER_SITES[env]}/projects/{record.hit_group_id}/tasks" if record.hit_group_id else ""
        print(f"  {record.hit_id} {link}".rstrip())
    print(f"recorded in {state.path}")
    return 0 if registered else 1


def _register_hits(args: argparse.Namespace, api_for: ApiFactory, batch: str, hit_ids: list[str]) -> bool:
    """Record the new HITs on the server; if that fails the HITs still work, only unchecked by HIT id."""
    if not batch or not hit_ids:
        return True
    try:
        with api_for(args) as api:
            api.record_batch_hits(args.table, batch, hit_ids)
    except ServerError as error:
        print(
            f"warning: the HITs were created but the server did not record them ({error}); workers are "
            "still admitted by the URL's signature, without the check that their hitId is one of these",
            file=sys.stderr,
        )
        return False
    return True


def _table_name(definition: dict[str, object], fallback: str) -> str:
    name = definition.get("name")
    return name if isinstance(name, str) and name else fallback


def run_pay(
    args: argparse.Namespace,
    client_for: Callable[[argparse.Namespace], MTurkClient],
    api_for: ApiFactory,
) -> int:
    env = environment(args.live)
    try:
        state = _load_state(args)
        if not state.hits:
            return _fail(f"no HITs recorded for table {args.table!r} in {state.path}; publish first")
        state.use_environment(env)
        with api_for(args) as api:
            settlement = settlement_of(api, args.table)
        if not settlement.finished and not args.dry_run:
            return _fail(
                f"table {args.table!r} is {settlement.status or 'not finished'}; pay after it completes "
                "(--dry-run shows the plan now)"
            )
        client = client_for(args)
        hit_ids = [hit.hit_id for hit in state.hits]
        assignments = list_assignments(client, hit_ids)
        paid = bonus_cents_by_worker(list_bonuses(client, hit_ids))
        plan = plan_payments(
            args.table, settlement.payments, settlement.budget_cents, assignments, paid, state
        )
    except (StateError, ServerError, PayError) as error:
        return _fail(str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail(f"cannot read the HITs' assignments or bonuses from MTurk: {error}")
    if not settlement.finished:
        print(f"note: table {args.table} is {settlement.status or 'not finished'}; amounts may change")
    print("\n".join([*payout_lines(args.table, settlement), *plan.lines()]))
    if args.dry_run:
        print("dry run: nothing approved, nothing paid")
        return 0
    report = execute_plan(client, state, plan)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def run_status(args: argparse.Namespace, client_for: Callable[[argparse.Namespace], MTurkClient]) -> int:
    try:
        state = _load_state(args)
        if not state.hits:
            print(f"no HITs recorded for table {args.table} in {state.path}")
            return 0
        state.use_environment(environment(args.live))
        status = market_status(client_for(args), state)
    except StateError as error:
        return _fail(str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail(f"cannot read the HITs from MTurk: {error}")
    print("\n".join(status.lines()))
    return 0


def run_block(
    args: argparse.Namespace,
    client_for: Callable[[argparse.Namespace], MTurkClient],
    api_for: ApiFactory,
) -> int:
    try:
        state = _load_state(args)
        if not args.mturk_only:
            with api_for(args) as api:
                api.block(args.table, args.worker)
            print(f"blocked {args.worker} in CrowdFill table {args.table}")
        block_worker(client_for(args), state, args.worker, args.reason)
    except (StateError, ServerError, MarketIdentityError, ValueError) as error:
        return _fail(str(error))
    except (ClientError, BotoCoreError) as error:
        return _fail(f"MTurk refused the block: {error}")
    print(f"blocked {args.worker} on the MTurk {environment(args.live)}")
    return 0


def run_prolific_bonuses(args: argparse.Namespace, api_for: ApiFactory) -> int:
    try:
        with api_for(args) as api:
            settlement = settlement_of(api, args.table)
    except ServerError as error:
        return _fail(str(error))
    if not settlement.finished:
        print(f"note: table {args.table} is {settlement.status or 'not finished'}; amounts may change")
    total = sum(settlement.payments.values())
    if total > settlement.budget_cents:
        return _fail("the settlement pays more than the budget; refusing to write a bonus file")
    try:
        if args.out == "-":
            lines = bonus_lines(settlement.payments)
            sys.stdout.write("".join(line + "\n" for line in lines))
            # stdout is the bonus file here: the totals go to stderr
            for line in payout_lines(args.table, settlement):
                print(line, file=sys.stderr)
            return 0
        out = Path(args.out) if args.out else state_dir(args) / "prolific-bonuses.csv"
        lines = write_bonus_file(out, settlement.payments)
    except (MarketIdentityError, ValueError, OSError) as error:
        return _fail(str(error))
    for line in payout_lines(args.table, settlement):
        print(line)
    print(f"wrote {len(lines)} bonus line(s) to {out}; paste them into Prolific's bulk bonus dialog")
    return 0


def handle_prolific_url(args: argparse.Namespace) -> int:
    return run_prolific_url(args, requester_api)


def run_prolific_url(args: argparse.Namespace, api_for: ApiFactory) -> int:
    """Print the study URL: the worker page, the server's signature for the study, Prolific's placeholders."""
    try:
        with api_for(args) as api:
            signed = api.recruit_url(args.table, "prolific", args.study).query
    except ServerError as error:
        return _fail(str(error))
    query = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    print(f"{worker_page_url(public_url(args), args.table, signed)}&{query}")
    return 0

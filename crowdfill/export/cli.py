"""``crowdfill export TABLE``: the final or candidate table as CSV, JSONL, Parquet or a HF dataset.

With ``--every SECONDS`` it keeps the export (and the optional Hub push) up to date while the
table is being collected, and stops when the table is complete.

CSV and JSONL of a finished table (without a Hub push) are written as the rows arrive from the
server's streamed ``candidates.jsonl`` export, a chunk at a time: the rows are never held whole.
A live table's rows are read as of one seq (``/candidates``), and Parquet and datasets build one
typed table of every row.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from crowdfill.client import FINISHED_STATUSES, ServerError
from crowdfill.client.options import add_server_options, requester_token, server_url
from crowdfill.export.card import card_text, write_card
from crowdfill.export.fields import ExportError, ExportFields, Record
from crowdfill.export.formats import FORMATS, STREAMED, to_dataset, write, write_streamed
from crowdfill.export.hub import HubNotConfigured, Pusher, hub_token, push_dataset
from crowdfill.export.living import Round, fingerprint, keep_exporting
from crowdfill.export.remote import ExportApi, Streamed
from crowdfill.export.row_ids import drop_row_ids, dropping_row_ids, without_row_ids

EXTENSIONS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet", "hf": ""}
DEFAULT_MAX_ROUNDS = 10_000


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export``."""
    parser = commands.add_parser("export", help="export the final or candidate table of a table")
    parser.add_argument("table", help="table id")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="file format (hf: save_to_disk)")
    parser.add_argument("--what", choices=("final", "candidates"), default="final")
    parser.add_argument(
        "--no-row-ids", action="store_true", help="leave out CrowdFill's internal row ids (the row_id field)"
    )
    parser.add_argument(
        "--out", default=None, help="file (or directory for hf); default ./crowdfill-data/exports/..."
    )
    add_server_options(parser)
    parser.add_argument("--every", type=float, default=None, help="re-export every SECONDS until complete")
    parser.add_argument(
        "--max-rounds", type=int, default=DEFAULT_MAX_ROUNDS, help="upper bound on rounds with --every"
    )
    parser.add_argument(
        "--push-to-hub",
        metavar="REPO_ID",
        default=None,
        help="also push to this Hub dataset (needs HF_TOKEN)",
    )
    parser.add_argument("--private", action="store_true", help="create the Hub dataset as private")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=handle_export)


@contextmanager
def _datasets_progress(shown: bool) -> Iterator[None]:
    """Hide the ``datasets`` library's own progress bars for ``--no-progress``, and restore them after."""
    # Imported here, not at the top: every ``crowdfill`` command imports this module, and
    # ``datasets`` (with pandas) takes about a second to import.
    import datasets

    before = datasets.is_progress_bar_enabled()
    if not shown:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if before:
            datasets.enable_progress_bars()


@contextmanager
def _rows_progress(args: argparse.Namespace, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for rows written (``total`` None: a stream of unknown length)."""
    with tqdm(
        total=total,
        unit="row",
        desc=f"{args.what} -> {args.format}",
        disable=True if args.no_progress else None,
        file=sys.stderr,
    ) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        yield advance


def output_path(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    name = f"{args.table}-{args.what}{EXTENSIONS[args.format]}"
    return Path("crowdfill-data") / "exports" / name


def handle_export(args: argparse.Namespace) -> int:
    with ExportApi(server_url(args), requester_token(args)) as api:
        return run_export(args, api, push_dataset)


def run_export(
    args: argparse.Namespace,
    api: ExportApi,
    pusher: Pusher,
    sleep: Callable[[float], None] | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    out = output_path(args)
    try:
        hf_token = hub_token(environ) if args.push_to_hub else None
    except HubNotConfigured as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    known: ExportFields | None = None  # the schema's fields, read once
    last_digest: str | None = None  # of the last rows written

    def export_once() -> Round:
        nonlocal known, last_digest
        if known is None:
            known = api.fields(args.table)
        if args.format in STREAMED and hf_token is None:
            streamed = api.streamed(args.table, args.what, known)
            if streamed is not None:
                return streamed_round(streamed, known)
        snapshot = api.snapshot(args.table, args.what, known)
        records = snapshot.records
        # The status is part of what is written: the card says whether the table is finished.
        digest = fingerprint([*records, {"status": snapshot.status}])
        if digest == last_digest:
            return Round(snapshot.finished, False, len(records))
        shown = known
        if args.no_row_ids:
            records = drop_row_ids(records, known)
            shown = without_row_ids(known)
        fields = shown.fields
        with _rows_progress(args, len(records)) as advance:
            write(args.format, records, fields, out, advance)
        card = None
        if args.format == "hf" or hf_token is not None:
            card = card_text(api.card_facts(args.table, args.what, shown, snapshot))
        if args.format == "hf" and card is not None:
            write_card(out, card)
        if hf_token is not None and card is not None:
            pusher(to_dataset(records, fields), args.push_to_hub, hf_token, args.private, card)
        last_digest = digest
        return Round(snapshot.finished, True, len(records))

    def streamed_round(streamed: Streamed, known: ExportFields) -> Round:
        # A finished table: written as its rows arrive, never held whole (its last round).
        records: Iterable[Record] = streamed.records
        shown = known
        if args.no_row_ids:
            records = dropping_row_ids(records, known)
            shown = without_row_ids(known)
        with _rows_progress(args, None) as advance:
            rows = write_streamed(args.format, records, shown.fields, out, advance)
        return Round(streamed.status in FINISHED_STATUSES, True, rows)

    def report(number: int, result: Round) -> None:
        what = f"wrote {result.rows} row(s) to {out}" if result.changed else "unchanged"
        pushed = f" and pushed to {args.push_to_hub}" if result.changed and hf_token else ""
        state = "; the table is complete" if result.finished else ""
        print(f"round {number}: {what}{pushed}{state}")

    try:
        with _datasets_progress(not args.no_progress):
            if args.every is None:
                report(1, export_once())
                return 0
            keep_exporting(
                export_once, args.every, args.max_rounds, report, sleep if sleep is not None else time.sleep
            )
    except (ServerError, ExportError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"stopped; {out} holds the last complete export", file=sys.stderr)
        return 130
    return 0

"""``crowdfill serve``: run the server (REST, pages and Socket.IO) under uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crowdfill.assist.errors import InvalidAssistant
from crowdfill.server import live_stack
from crowdfill.server.client_libraries import without_client_libraries
from crowdfill.server.heap import collector_paused
from crowdfill.server.preflight import StartupError, check_data_dir, check_port, describe, open_store
from crowdfill.server.settings import SOCKET_WRITERS, Settings

if TYPE_CHECKING:
    from crowdfill.server.assistants import Attachment


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands to ``commands``; each sets ``handler`` to a function of args."""
    serve = commands.add_parser(
        "serve",
        help="run the CrowdFill server",
        description=(
            "Run the CrowdFill server. Options override the environment variables CROWDFILL_HOST, "
            "CROWDFILL_PORT, CROWDFILL_DATA_DIR, CROWDFILL_STORE_URL, CROWDFILL_REQUESTER_TOKEN, "
            "CROWDFILL_SECRET, CROWDFILL_PUBLIC_URL and CROWDFILL_REDIS_URL."
        ),
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="data directory (default ./crowdfill-data)")
    serve.add_argument(
        "--store-url",
        help=(
            "store: sqlite:///path, postgresql://..., mongodb://..., memory://"
            " (default: SQLite in the data directory)"
        ),
    )
    serve.add_argument("--requester-token", help="the requester's API token (default: generated and kept)")
    serve.add_argument("--secret", help="secret that signs worker links (default: generated and kept)")
    serve.add_argument("--public-url", help="base URL printed in links, when behind a proxy")
    serve.add_argument(
        "--redis-url",
        help=(
            "redis://host:port/db: run as one of several processes on a shared store"
            " (PostgreSQL), see docs/deploy.md (default: the only process)"
        ),
    )
    serve.add_argument(
        "--lease-ttl",
        type=float,
        help="seconds a table's owner may be silent before another process takes over (3)",
    )
    serve.add_argument("--web-dir", type=Path, help="folder with the web pages (default: the repo's web/)")
    serve.add_argument(
        "--demo",
        nargs="?",
        const="soccer",
        choices=["soccer", "dadc"],
        help="create and launch the SoccerPlayer demo table; 'dadc' adds the sentiment table with a model",
    )
    serve.add_argument(
        "--assistant",
        help="a model in the loop for every table: vader, http, an entry point name or module:attr",
    )
    serve.add_argument(
        "--assistant-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of the assistant (repeatable; VALUE is JSON when it parses, else text)",
    )
    serve.add_argument("--assistant-predict", metavar="COLUMN", help="the column the model predicts")
    serve.add_argument(
        "--assistant-suggest", action="store_true", help="the model suggests values for empty cells"
    )
    serve.add_argument("--assistant-timeout", type=float, default=2.0, help="seconds per model call")
    serve.add_argument("--snapshot-every", type=int, help="save a snapshot every N operations (default 1000)")
    serve.add_argument(
        "--idle-unload-seconds",
        type=float,
        help="unload a table nobody used for this long; it reloads on first use (default 900, 0: never)",
    )
    serve.add_argument(
        "--commit-linger-ms",
        type=float,
        help="with early forwarding, how long an append waits for more operations to join its "
        "commit (one fsync for them all; they are forwarded at once and acknowledged once durable; "
        "default 20, 0: append at once)",
    )
    serve.add_argument(
        "--capture-every",
        type=int,
        help="capture a live table's state every N operations (default 10000; 0: never)",
    )
    serve.add_argument(
        "--shutdown-capture-seconds",
        type=float,
        help="on a clean stop, capture the live tables whose capture is behind, for at most this "
        "long, so the next start replays no log (default 60; 0: never)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request (off by default: it buries the URLs printed at startup)",
    )
    serve.add_argument(
        "--loop",
        choices=live_stack.LOOPS,
        help=f"event loop (default {live_stack.DEFAULT_LOOP}; asyncio: the standard library's)",
    )
    serve.add_argument(
        "--http", choices=live_stack.HTTP, help=f"HTTP parser (default {live_stack.DEFAULT_HTTP})"
    )
    serve.add_argument(
        "--ws",
        choices=live_stack.WEBSOCKETS,
        help=f"WebSocket implementation (default {live_stack.DEFAULT_WS})",
    )
    serve.add_argument(
        "--socket-writer",
        choices=SOCKET_WRITERS,
        help=(
            "how WebSocket clients are written to (default frame: whole frames to uvicorn's transport; "
            "direct: through the ASGI send; engineio: the library's own writer)"
        ),
    )
    serve.add_argument(
        "--lean-receive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decode a worker's operation once and hand it to its handler at once, without the "
        "Socket.IO libraries' task per message (default on; --no-lean-receive: the libraries' dispatch)",
    )
    serve.add_argument(
        "--early-forward",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="forward operations to the other workers before they are durable (default on; "
        "--no-early-forward waits for the append's fsync; senders are acknowledged after it either way)",
    )
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        attachment = _attachment(args)
    except InvalidAssistant as error:
        print(f"crowdfill serve: {error.message}", file=sys.stderr)
        return 2
    try:
        settings, notes = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            store_url=args.store_url,
            requester_token=args.requester_token,
            secret=args.secret,
            public_url=args.public_url,
            web_dir=args.web_dir,
            snapshot_every=args.snapshot_every,
            idle_unload_seconds=args.idle_unload_seconds,
            redis_url=args.redis_url,
            lease_ttl_seconds=args.lease_ttl,
            capture_every=args.capture_every,
            shutdown_capture_seconds=args.shutdown_capture_seconds,
            socket_writer=args.socket_writer,
            early_forward=args.early_forward,
            lean_receive=args.lean_receive,
            commit_linger_seconds=None if args.commit_linger_ms is None else args.commit_linger_ms / 1000,
        )
    except ValueError as error:
        print(f"crowdfill serve: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the requester token or secret could not be kept in the data directory
        print(f"crowdfill serve: the data directory is not usable: {describe(error)}", file=sys.stderr)
        return 1
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        stack = live_stack.choose_stack(args.loop, args.http, args.ws)
    except ValueError as error:
        print(f"crowdfill serve: {error}", file=sys.stderr)
        return 2
    for note in (*notes, *stack.notes):
        print(note, flush=True)
    try:
        # The loop is made here, not by uvicorn: the server is started inside it (``_serve``).
        with asyncio.Runner(loop_factory=stack.loop_factory()) as runner:
            runner.run(
                _serve(
                    settings,
                    demo=args.demo,
                    log_level=args.log_level,
                    access_log=args.access_log,
                    attachment=attachment,
                    stack=stack,
                )
            )
    except KeyboardInterrupt:
        return 0
    except StartupError as error:
        print(f"crowdfill serve: {error}", file=sys.stderr)
        return 1
    return 0


def _attachment(args: argparse.Namespace) -> Attachment | None:
    """The ``--assistant`` options as an attachment for every table (None without --assistant)."""
    if not args.assistant:
        if args.assistant_option or args.assistant_predict or args.assistant_suggest:
            raise InvalidAssistant("--assistant-option, -predict and -suggest need --assistant")
        return None
    options: dict[str, Any] = {}
    for item in args.assistant_option:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InvalidAssistant(f"--assistant-option {item!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    if not args.assistant_predict and not args.assistant_suggest:
        raise InvalidAssistant("--assistant needs --assistant-predict COLUMN or --assistant-suggest")
    if not args.assistant_timeout > 0:
        raise InvalidAssistant(f"--assistant-timeout must be positive, got {args.assistant_timeout}")
    from crowdfill.assist import load_assistant  # imported when serving only, like the app
    from crowdfill.server.assistants import Attachment  # same reason

    model = load_assistant(args.assistant, options)
    return Attachment(model, args.assistant_predict, args.assistant_suggest, args.assistant_timeout)


async def _serve(
    settings: Settings,
    *,
    demo: str | None,
    log_level: str,
    access_log: bool = False,
    attachment: Attachment | None = None,
    stack: live_stack.LiveStack | None = None,
) -> None:
    # Before the data is opened: a second server on a taken port must not touch the first one's data.
    check_port(settings.host, settings.port)
    if not settings.store_url:
        check_data_dir(settings.data_dir)
    # Importing the server and building its routes allocate a lot and free almost nothing: with the
    # collector paused that is about a tenth less of every start (the server collects in full
    # before it recovers its tables, App._lifespan, which frees what cycles there are). Socket.IO's
    # clients' HTTP libraries are left out (crowdfill.server.client_libraries).
    with collector_paused(), without_client_libraries():
        import uvicorn  # imported when serving only: the CLI's --help stays fast

        from crowdfill.server import access_log as redaction  # same reason
        from crowdfill.server.app import create_app  # same reason
        from crowdfill.server.demo import ensure_demo  # same reason

        stack = stack or live_stack.choose_stack()
        try:
            app = create_app(settings)
        except ValueError as error:  # a store URL open_store does not understand
            raise StartupError(str(error)) from error
    app.assistants.default = attachment
    await open_store(app.store)
    if app.cluster is not None:
        await app.cluster.check()  # an unreachable Redis is one clear line, not a traceback
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=3,
        http=stack.http,
        ws=stack.ws,
    )
    redaction.install()  # after Config: it is what sets uvicorn's loggers up
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        base = settings.public_url or f"http://{_display_host(settings.host)}:{_bound_port(server, settings)}"
        # The demo is made before anything is printed so the banner is the last thing on screen.
        demo_lines: list[str] = []
        if demo:
            table_id, link = await ensure_demo(app.tables, app.roster)
            demo_lines = [
                f"  demo table:      {table_id}",
                f"  worker link:     {base}/w/{table_id}?token={link.token}",
                f"  monitor:         {base}/tables/{table_id}/monitor",
            ]
        if demo == "dadc":
            from crowdfill.server.dadc_demo import ensure_dadc_demo  # only with the demo: it loads a model

            dadc_id, writer, voter = await ensure_dadc_demo(app.tables, app.roster, app.assistants)
            demo_lines += [
                f"  DADC table:      {dadc_id} (model: vader)",
                f"  writer link:     {base}/w/{dadc_id}?token={writer.token}",
                f"  voter link:      {base}/w/{dadc_id}?token={voter.token}",
                f"  DADC monitor:    {base}/tables/{dadc_id}/monitor",
            ]
        lines = [
            f"CrowdFill is running at {base}",
            f"  requester token: {settings.requester_token}",
            f"  requester page:  {base}/",
            f"  API docs:        {base}/docs",
            *demo_lines,
            f"  command line:    {_cli_hint()} --help  (export, mturk, prolific, audit, ...)",
        ]
        print("\n".join(lines), flush=True)
    await serving


def _cli_hint() -> str:
    """How to run ``crowdfill`` from this shell: ``make run`` does not put the virtualenv on PATH."""
    on_path = shutil.which("crowdfill")
    here = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if here is not None and here.name == "crowdfill" and (not on_path or Path(on_path) != here.resolve()):
        try:
            return str(here.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(here.resolve())
    return "crowdfill"


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104  # only names the wildcard


def _bound_port(server: object, settings: Settings) -> int:
    servers = getattr(server, "servers", None) or []
    for listener in servers:
        for sock in getattr(listener, "sockets", ()):
            name = sock.getsockname()
            if isinstance(name, tuple) and len(name) >= 2:
                return int(name[1])
    return settings.port

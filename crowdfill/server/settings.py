"""The server's settings: one frozen value built by the CLI (``Settings.from_env``) or by tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import crowdfill

DEFAULT_DATA_DIR = Path("crowdfill-data")
TOKEN_FILE = "requester-token"  # noqa: S105  # a file name, not a secret
SECRET_FILE = "secret"  # noqa: S105  # a file name, not a secret
SOCKET_WRITERS = ("frame", "direct", "loop", "engineio")  # crowdfill.server.socket_writer


def default_web_dir() -> Path:
    """The repository's ``web/`` folder, next to the ``crowdfill`` package."""
    return Path(crowdfill.__file__).resolve().parent.parent / "web"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = DEFAULT_DATA_DIR
    # None or "" means SQLite in ``data_dir``; "memory://" turns persistence off.
    store_url: str | None = None
    requester_token: str = ""
    secret: str = ""
    web_dir: Path = field(default_factory=default_web_dir)
    # Public base URL for links (e.g. behind a proxy); None means "the URL the request came to".
    public_url: str | None = None
    max_payload_bytes: int = 1 << 20
    max_event_bytes: int = 16 << 10
    # Persistence batching: the owner appends everything queued (up to batch_max_ops) in one
    # store write; linger lets a few more concurrent operations join a batch.
    batch_max_ops: int = 512
    batch_linger_seconds: float = 0.0
    # With early forwarding, an append waits this long after its first operation was forwarded
    # for more to join its commit (forwarded as they arrive, acknowledged once durable): fewer
    # fsyncs per operation at the cost of as much acknowledgement latency (docs/benchmarks.md).
    commit_linger_seconds: float = 0.02
    queue_limit: int = 10_000
    snapshot_every: int = 1000
    replay_window: int = 5000
    # A reconnecting client that missed more than the replay window (kept in memory) but at most
    # this many operations gets them read back from the store's log; more, a snapshot (0: never).
    replay_from_store: int = 50_000
    # A loaded table nobody used (no request, no connected worker or monitor, no operation) for
    # this long is unloaded and reloads on first use (docs/scale.md); 0 keeps every table loaded.
    idle_unload_seconds: float = 900.0
    # A capture of a live table's derived state every so many operations (0: never), made by a
    # forked child where the platform allows (docs/scale.md): a restart replays only the log after it.
    capture_every: int = 10_000
    capture_fork: bool = True
    # A clean stop captures each live table whose stored capture is behind it, waiting at most
    # this long in all (0: never), so the next start replays no log tail (docs/scale.md).
    shutdown_capture_seconds: float = 60.0
    monitor_interval_seconds: float = 0.25
    estimate_interval_seconds: float = 0.5
    # Trust at the edge (docs/protocol.md, "Limits"): a worker's operations per table, sustained
    # and in one burst, unless the table's definition sets its own ``rate_limit``; a connection
    # is disconnected at its ``malformed_limit``-th message the server cannot parse, or after
    # ``rate_limit_refusals`` refused (rate_limited) messages in a row.
    rate_limit_ops_per_second: float = 5.0
    rate_limit_burst: int = 20
    rate_limit_refusals: int = 50
    malformed_limit: int = 20
    # How each WebSocket client is written to (crowdfill.server.socket_writer): "frame" (at once
    # when its writer is idle, as whole frames built once per packet and written to uvicorn's
    # transport, crowdfill.server.raw_frames), "direct" (at once, through the ASGI send), "loop"
    # (the library's writer without its per-wake timeout) or "engineio" (python-engineio's own
    # writer, kept for comparison).
    socket_writer: str = "frame"
    # The lean receive path (crowdfill.server.socket_reader): a worker's operation read from a
    # WebSocket is decoded once and handed to its handler at once, acknowledged by a direct write,
    # without python-engineio's and python-socketio's task per message. False: the libraries'
    # own dispatch for every message (kept for comparison).
    lean_receive: bool = True
    # Early forwarding (docs/protocol.md, "Incarnations"): an owner batch goes to the other
    # clients as soon as it is validated and applied in memory, before its append (the fsync);
    # its senders are acknowledged only once it is durable. False: forward after the append.
    early_forward: bool = True
    # Webhook deliveries: the first retry after this, doubling up to the cap, at most so many attempts.
    webhook_retry_seconds: float = 5.0
    webhook_retry_cap_seconds: float = 3600.0
    webhook_max_attempts: int = 12
    webhook_timeout_seconds: float = 10.0
    # Several processes on one store (docs/deploy.md): a Redis URL turns it on. A table's lease
    # lasts lease_ttl_seconds unless renewed (the takeover delay after its owner dies); a process
    # waits up to forward_timeout_seconds for the owner to answer an operation it forwarded.
    # node_id names this process in leases (generated when empty).
    redis_url: str | None = None
    lease_ttl_seconds: float = 3.0
    forward_timeout_seconds: float = 8.0
    node_id: str = ""

    def __post_init__(self) -> None:
        if not self.requester_token:
            raise ValueError("a requester token is required (Settings.from_env generates one)")
        if len(self.secret) < 16:
            raise ValueError("the server secret must be at least 16 characters")
        if self.rate_limit_ops_per_second <= 0 or self.rate_limit_burst < 1:
            raise ValueError("the rate limit needs a positive rate and a burst of at least 1")
        if self.socket_writer not in SOCKET_WRITERS:
            choices = ", ".join(SOCKET_WRITERS)
            raise ValueError(f"socket_writer must be one of {choices}, not {self.socket_writer!r}")
        if self.malformed_limit < 1 or self.rate_limit_refusals < 1:
            raise ValueError("malformed_limit and rate_limit_refusals must be at least 1")
        if not self.shutdown_capture_seconds >= 0:
            raise ValueError(
                f"shutdown_capture_seconds must be 0 (never) or more, not {self.shutdown_capture_seconds}"
            )
        if not self.idle_unload_seconds >= 0:
            raise ValueError(f"idle_unload_seconds must be 0 (never) or more, not {self.idle_unload_seconds}")
        if not 0 <= self.commit_linger_seconds <= 1:
            raise ValueError(
                f"commit_linger_seconds must be 0 (append at once) to 1 s, not {self.commit_linger_seconds}"
            )
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"the Redis URL must start with redis://, rediss:// or unix://, not {self.redis_url!r}"
            )
        if not self.lease_ttl_seconds > 0 or not self.forward_timeout_seconds > 0:
            raise ValueError("lease_ttl_seconds and forward_timeout_seconds must be > 0")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        **overrides: object,
    ) -> tuple[Settings, list[str]]:
        """Settings from CROWDFILL_* variables, then ``overrides`` (CLI options that were given).

        Generates the requester token and the secret when neither is given and keeps them in the
        data directory so a restart keeps links and the requester's token valid. Returns the
        settings and notes for the operator (e.g. "generated a requester token").
        """
        env = os.environ if environ is None else environ
        given: dict[str, object] = {}
        if env.get("CROWDFILL_HOST"):
            given["host"] = env["CROWDFILL_HOST"]
        if env.get("CROWDFILL_PORT"):
            given["port"] = _port(env["CROWDFILL_PORT"])
        if env.get("CROWDFILL_DATA_DIR"):
            given["data_dir"] = Path(env["CROWDFILL_DATA_DIR"])
        if env.get("CROWDFILL_STORE_URL"):
            given["store_url"] = env["CROWDFILL_STORE_URL"]
        if env.get("CROWDFILL_REQUESTER_TOKEN"):
            given["requester_token"] = env["CROWDFILL_REQUESTER_TOKEN"]
        if env.get("CROWDFILL_SECRET"):
            given["secret"] = env["CROWDFILL_SECRET"]
        if env.get("CROWDFILL_PUBLIC_URL"):
            given["public_url"] = env["CROWDFILL_PUBLIC_URL"]
        if env.get("CROWDFILL_REDIS_URL"):
            given["redis_url"] = env["CROWDFILL_REDIS_URL"]
        given.update({name: value for name, value in overrides.items() if value is not None})
        data_dir = Path(str(given.get("data_dir", DEFAULT_DATA_DIR)))
        given["data_dir"] = data_dir
        notes: list[str] = []
        if not given.get("requester_token"):
            token, created = _kept(data_dir / TOKEN_FILE)
            given["requester_token"] = token
            notes.append(
                f"{'generated' if created else 'using'} the requester token kept in {data_dir / TOKEN_FILE}"
            )
        if not given.get("secret"):
            secret, created = _kept(data_dir / SECRET_FILE)
            given["secret"] = secret
            if created:
                notes.append(f"generated the server secret kept in {data_dir / SECRET_FILE}")
        return cls(**given), notes  # type: ignore[arg-type]  # values were typed when collected above


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError as error:
        raise ValueError(f"CROWDFILL_PORT must be a number, got {text!r}") from error
    if not 0 <= port <= 65535:
        raise ValueError(f"CROWDFILL_PORT must be between 0 and 65535, got {port}")
    return port


def _kept(path: Path) -> tuple[str, bool]:
    """The secret kept in ``path``, creating it (readable by the owner only) when missing."""
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text, False
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    # Create with owner-only permissions from the start so the secret is never world-readable.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value, True

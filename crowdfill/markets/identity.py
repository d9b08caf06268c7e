"""Worker identities from the marketplaces, and the URLs a worker is sent to when done.

Our worker ids carry their origin: ``mturk:<WorkerId>`` and ``prolific:<PROLIFIC_PID>``. The server
uses these helpers when it binds a marketplace worker to a session; payment code strips the prefix
again before talking to the marketplace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MTURK_PREFIX = "mturk:"
PROLIFIC_PREFIX = "prolific:"
PROLIFIC_COMPLETION_URL = "https://app.prolific.com/submissions/complete"
# MTurk shows this instead of an assignment id while a worker previews a HIT.
MTURK_PREVIEW_ASSIGNMENT = "ASSIGNMENT_ID_NOT_AVAILABLE"
# The query parameters of a worker page URL the server signed for a marketplace: the signature, and
# for MTurk the publish batch it covers (docs/recruiting.md, "Signed URLs").
SIGNATURE_PARAM = "cf_sig"
BATCH_PARAM = "cf_batch"

# fullmatch, not match with ^...$: "$" also matches before a trailing newline, which would let "A1\n" through.
_MARKET_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class MarketIdentityError(ValueError):
    """A marketplace identifier or URL parameter that cannot be a real one."""


def _checked(kind: str, raw: str) -> str:
    if not isinstance(raw, str) or _MARKET_ID.fullmatch(raw) is None:
        raise MarketIdentityError(f"{kind} must be 1 to 64 letters, digits, '-' or '_', got {raw!r}")
    return raw


def mturk_worker(worker_id: str) -> str:
    """Our worker id for an MTurk ``workerId``."""
    return MTURK_PREFIX + _checked("an MTurk workerId", worker_id)


def prolific_worker(participant_id: str) -> str:
    """Our worker id for a Prolific ``PROLIFIC_PID``."""
    return PROLIFIC_PREFIX + _checked("a PROLIFIC_PID", participant_id)


def market_of(worker: str) -> str | None:
    """``"mturk"``, ``"prolific"`` or None for a worker recruited by a manual link."""
    for prefix in (MTURK_PREFIX, PROLIFIC_PREFIX):
        if worker.startswith(prefix):
            return prefix[:-1]
    return None


def mturk_worker_id(worker: str) -> str:
    """The MTurk ``WorkerId`` inside our ``mturk:<WorkerId>``; refuses other workers."""
    if not worker.startswith(MTURK_PREFIX):
        raise MarketIdentityError(f"{worker!r} is not an MTurk worker (ids look like 'mturk:A1B2C3')")
    return _checked("an MTurk workerId", worker[len(MTURK_PREFIX) :])


def prolific_participant_id(worker: str) -> str:
    """The Prolific participant id inside our ``prolific:<PID>``; refuses other workers."""
    if not worker.startswith(PROLIFIC_PREFIX):
        raise MarketIdentityError(f"{worker!r} is not a Prolific worker (ids look like 'prolific:5f3a...')")
    return _checked("a PROLIFIC_PID", worker[len(PROLIFIC_PREFIX) :])


@dataclass(frozen=True)
class ProlificVisit:
    """What Prolific appends to a study URL: participant, study and session ids."""

    participant_id: str
    study_id: str
    session_id: str

    @property
    def worker(self) -> str:
        return prolific_worker(self.participant_id)


def prolific_visit(params: Mapping[str, str]) -> ProlificVisit | None:
    """Read ``PROLIFIC_PID``, ``STUDY_ID`` and ``SESSION_ID`` from query parameters.

    None when the visit does not come from Prolific (no ``PROLIFIC_PID``); an error when it does but a
    parameter is missing or malformed.
    """
    if "PROLIFIC_PID" not in params:
        return None
    missing = [name for name in ("STUDY_ID", "SESSION_ID") if not params.get(name)]
    if missing:
        raise MarketIdentityError(f"a Prolific visit also needs {', '.join(missing)}")
    return ProlificVisit(
        participant_id=_checked("PROLIFIC_PID", params["PROLIFIC_PID"]),
        study_id=_checked("STUDY_ID", params["STUDY_ID"]),
        session_id=_checked("SESSION_ID", params["SESSION_ID"]),
    )


def prolific_completion_url(code: str) -> str:
    """Where a Prolific participant is sent when done: the study's completion URL with its code."""
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        raise MarketIdentityError(f"a Prolific completion code must be 1 to 64 characters, got {code!r}")
    return f"{PROLIFIC_COMPLETION_URL}?cc={quote(code.strip(), safe='')}"


@dataclass(frozen=True)
class MTurkVisit:
    """What MTurk appends to an ExternalQuestion URL. ``preview`` while the worker has not accepted."""

    assignment_id: str
    hit_id: str
    worker_id: str | None
    submit_to: str

    @property
    def preview(self) -> bool:
        return self.assignment_id == MTURK_PREVIEW_ASSIGNMENT

    @property
    def worker(self) -> str | None:
        return None if self.worker_id is None else mturk_worker(self.worker_id)

    @property
    def submit_url(self) -> str:
        """Where the worker page posts its form (with ``assignmentId``) to hand the HIT in."""
        return self.submit_to.rstrip("/") + "/mturk/externalSubmit"


_MTURK_SUBMIT_HOSTS = ("www.mturk.com", "workersandbox.mturk.com")


def mturk_visit(params: Mapping[str, str]) -> MTurkVisit | None:
    """Read ``assignmentId``, ``hitId``, ``workerId`` and ``turkSubmitTo`` from query parameters.

    None when the visit does not come from MTurk. ``workerId`` is absent while previewing. The
    ``turkSubmitTo`` host must be MTurk's (live or sandbox), so a crafted link cannot make the page post
    a worker's form elsewhere.
    """
    if "assignmentId" not in params:
        return None
    assignment = params["assignmentId"]
    preview = assignment == MTURK_PREVIEW_ASSIGNMENT
    if not preview:
        _checked("assignmentId", assignment)
    hit_id = _checked("hitId", params.get("hitId", ""))
    raw_worker = params.get("workerId")
    worker_id = None if raw_worker is None and preview else _checked("workerId", raw_worker or "")
    submit_to = params.get("turkSubmitTo", "https://www.mturk.com")
    parts = urlsplit(submit_to)
    if parts.scheme != "https" or parts.hostname not in _MTURK_SUBMIT_HOSTS:
        raise MarketIdentityError(f"turkSubmitTo must be an https MTurk address, got {submit_to!r}")
    return MTurkVisit(assignment, hit_id, worker_id, f"https://{parts.hostname}")

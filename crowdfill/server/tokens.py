"""Signed worker session tokens: HMAC-SHA256 over a small JSON claim, with the server secret.

A token binds a table, a worker and a link (or platform session) id, with an optional expiry.
Format: ``base64url(json claims) + "." + base64url(hmac)``. Nothing in a token is secret; it is
only unforgeable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from crowdfill.server.failures import Failure

_PURPOSE = b"crowdfill-worker-session-v1:"


@dataclass(frozen=True)
class WorkerClaims:
    table_id: str
    worker_id: str
    link_id: str
    expires_at: float | None = None


class TokenSigner:
    def __init__(self, secret: str) -> None:
        # Derive a key for this purpose so the raw secret is never used directly as a MAC key.
        self._key = hashlib.sha256(_PURPOSE + secret.encode("utf-8")).digest()

    def sign(self, claims: WorkerClaims) -> str:
        body = {"t": claims.table_id, "w": claims.worker_id, "l": claims.link_id, "e": claims.expires_at}
        payload = _encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return payload + "." + _encode(self._mac(payload))

    def verify(self, token: object, now: float | None = None) -> WorkerClaims:
        """The claims of a genuine, unexpired token; Failure ``token_invalid`` / ``token_expired``."""
        if not isinstance(token, str) or not token or len(token) > 2000 or token.count(".") != 1:
            raise Failure("token_invalid", "the session token is missing or malformed")
        payload, signature = token.split(".")
        try:
            given = _decode(signature)
        except ValueError as error:
            raise Failure("token_invalid", "the session token is malformed") from error
        if not hmac.compare_digest(given, self._mac(payload)):
            raise Failure("token_invalid", "the session token's signature is not valid on this server")
        try:
            body = json.loads(_decode(payload))
        except ValueError as error:
            raise Failure("token_invalid", "the session token is malformed") from error
        claims = _claims(body)
        moment = time.time() if now is None else now
        if claims.expires_at is not None and moment >= claims.expires_at:
            raise Failure("token_expired", "this link has expired; ask the requester for a new one")
        return claims

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()


def _claims(body: object) -> WorkerClaims:
    if not isinstance(body, dict):
        raise Failure("token_invalid", "the session token is malformed")
    table_id, worker_id, link_id, expires = body.get("t"), body.get("w"), body.get("l"), body.get("e")
    if not (isinstance(table_id, str) and isinstance(worker_id, str) and isinstance(link_id, str)):
        raise Failure("token_invalid", "the session token is malformed")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
        raise Failure("token_invalid", "the session token is malformed")
    return WorkerClaims(table_id, worker_id, link_id, None if expires is None else float(expires))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error

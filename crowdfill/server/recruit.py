"""Signed recruiting URLs: a marketplace visitor must arrive through a URL the requester published.

MTurk and Prolific add the worker's id to the worker page's URL, but nothing in those parameters
is signed, so anyone could invent ids and vote as many people. The requester's publishing commands
therefore ask the server for a signature that goes into the URL they give the marketplace:

- MTurk: ``HMAC(table, "mturk", batch)``, where ``batch`` is a fresh id per ``crowdfill mturk
  publish`` run. The HIT id is only known after CreateHIT, whose ExternalQuestion already holds the
  URL, so the signature cannot name the HIT; the HIT ids are recorded against the batch afterwards
  and, once recorded, a visit must carry one of them as ``hitId``.
- Prolific: ``HMAC(table, "prolific", study id)``; the visit's ``STUDY_ID`` must be that study.

The key is derived from the server secret for this purpose only (the worker session tokens use
another), so a signature is never a session token and the secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_PURPOSE = b"crowdfill-recruit-url-v1:"


class RecruitSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(_PURPOSE + secret.encode("utf-8")).digest()

    def sign(self, table_id: str, platform: str, scope: str) -> str:
        """The URL-safe signature binding ``table_id``, the platform and its scope (batch or study)."""
        message = "\n".join((platform, table_id, scope)).encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def valid(self, signature: object, table_id: str, platform: str, scope: str) -> bool:
        if not isinstance(signature, str) or not signature or len(signature) > 100:
            return False
        return hmac.compare_digest(signature, self.sign(table_id, platform, scope))

"""Signed worker session tokens."""

from __future__ import annotations

import pytest

from crowdfill.server.failures import Failure
from crowdfill.server.tokens import TokenSigner, WorkerClaims

SIGNER = TokenSigner("a-server-secret-of-some-length")


def test_a_token_round_trips_its_claims() -> None:
    claims = WorkerClaims("t-1", "ann", "link-1", 2_000_000_000.0)
    assert SIGNER.verify(SIGNER.sign(claims), now=1_000_000_000) == claims


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", "a.b.c", "%%%.%%%", None, 42, "x" * 3000],
)
def test_malformed_tokens_are_invalid(token: object) -> None:
    with pytest.raises(Failure) as refused:
        SIGNER.verify(token)
    assert refused.value.code == "token_invalid"


def test_a_token_signed_with_another_secret_or_edited_is_invalid() -> None:
    claims = WorkerClaims("t-1", "ann", "link-1")
    with pytest.raises(Failure, match="signature"):
        SIGNER.verify(TokenSigner("some-other-secret-entirely").sign(claims))
    _, signature = SIGNER.sign(claims).split(".")
    other_payload, _ = SIGNER.sign(WorkerClaims("t-1", "mallory", "link-1")).split(".")
    with pytest.raises(Failure, match="signature"):
        SIGNER.verify(f"{other_payload}.{signature}")


def test_an_expired_token_is_refused() -> None:
    token = SIGNER.sign(WorkerClaims("t-1", "ann", "link-1", 100.0))
    with pytest.raises(Failure) as refused:
        SIGNER.verify(token, now=100.0)
    assert refused.value.code == "token_expired"

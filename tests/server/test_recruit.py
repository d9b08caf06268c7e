"""Recruiting signatures: bound to table, platform and batch or study, unforgeable without the secret."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdfill.server.recruit import RecruitSigner

SECRET = "a-server-secret-of-some-length"
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)


@given(table=ids, scope=ids, other=ids)
def test_a_signature_is_valid_only_for_the_table_platform_and_scope_it_was_made_for(
    table: str, scope: str, other: str
) -> None:
    signer = RecruitSigner(SECRET)
    signature = signer.sign(table, "mturk", scope)
    assert signer.valid(signature, table, "mturk", scope)
    assert not signer.valid(signature, table, "prolific", scope)
    if other != table:
        assert not signer.valid(signature, other, "mturk", scope)
    if other != scope:
        assert not signer.valid(signature, table, "mturk", other)


def test_another_servers_secret_or_a_missing_signature_is_not_valid() -> None:
    ours = RecruitSigner(SECRET)
    theirs = RecruitSigner("another-secret-of-some-length")
    assert not ours.valid(theirs.sign("t-1", "mturk", "b1"), "t-1", "mturk", "b1")
    assert not ours.valid(None, "t-1", "mturk", "b1")
    assert not ours.valid("", "t-1", "mturk", "b1")
    assert not ours.valid("x" * 500, "t-1", "mturk", "b1")


def test_a_signature_fits_in_a_url_query_without_escaping() -> None:
    signature = RecruitSigner(SECRET).sign("t-1", "prolific", "study-1")
    assert signature.replace("-", "").replace("_", "").isalnum()

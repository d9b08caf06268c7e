"""The optional push of an export to the Hugging Face Hub: only with a token, never implicitly."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: importing ``datasets`` is slow and most commands never push.
    import datasets

HUB_TOKEN_VARIABLE = "HF_TOKEN"  # noqa: S105  # the variable's name, not a secret
# (dataset, repo id, token, private, dataset card)
Pusher = Callable[["datasets.Dataset", str, str, bool, str], None]


class HubNotConfigured(RuntimeError):
    """A push was asked for but no Hub token is configured."""


def hub_token(environ: Mapping[str, str] | None = None) -> str:
    """The Hub token from ``HF_TOKEN``; refuses to go on without one."""
    token = (os.environ if environ is None else environ).get(HUB_TOKEN_VARIABLE, "").strip()
    if not token:
        raise HubNotConfigured(f"pushing to the Hub needs a token: set {HUB_TOKEN_VARIABLE}")
    return token


def push_dataset(dataset: datasets.Dataset, repo_id: str, token: str, private: bool, card: str) -> None:
    """Upload ``dataset`` to the Hub dataset repository ``repo_id`` (created if needed), then its card."""
    from huggingface_hub import DatasetCard

    dataset.push_to_hub(
        repo_id, token=token, private=private, commit_message="CrowdFill export (living dataset)"
    )
    # After the data: the card replaces the README push_to_hub wrote (its header names the same files).
    DatasetCard(card).push_to_hub(
        repo_id, token=token, repo_type="dataset", commit_message="CrowdFill dataset card"
    )

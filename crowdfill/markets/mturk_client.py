"""Which MTurk endpoint to talk to. The sandbox is the default; live money needs an explicit choice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient

Environment = Literal["sandbox", "live"]

MTURK_REGION = "us-east-1"
ENDPOINTS: dict[Environment, str] = {
    "sandbox": "https://mturk-requester-sandbox.us-east-1.amazonaws.com",
    "live": "https://mturk-requester.us-east-1.amazonaws.com",
}
# Where a HIT can be seen by workers, for the links the CLI prints.
WORKER_SITES: dict[Environment, str] = {
    "sandbox": "https://workersandbox.mturk.com",
    "live": "https://worker.mturk.com",
}


def environment(live: bool) -> Environment:
    return "live" if live else "sandbox"


def make_client(env: Environment, profile: str | None = None) -> MTurkClient:
    """A boto3 MTurk client for ``env``. Credentials come from the usual AWS chain (or ``profile``)."""
    # Imported here: boto3 takes ~80 ms to import, and every ``crowdfill`` command (``serve``
    # included) imports the market modules, while only the MTurk commands make a client.
    import boto3

    session = boto3.session.Session(profile_name=profile)
    return session.client("mturk", region_name=MTURK_REGION, endpoint_url=ENDPOINTS[env])


def environment_of(client: MTurkClient) -> Environment | None:
    """Which environment a client points at, by its endpoint; None for anything else (a test double)."""
    url = client.meta.endpoint_url.rstrip("/")
    for env, endpoint in ENDPOINTS.items():
        if url == endpoint:
            return env
    return None

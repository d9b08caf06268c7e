"""Publishing a table on MTurk: HITs whose ExternalQuestion opens the table's worker page."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape

from crowdfill.markets.money import cents_to_amount
from crowdfill.markets.state import HitRecord, MarketState

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient
    from mypy_boto3_mturk.type_defs import LocaleTypeDef, QualificationRequirementTypeDef

EXTERNAL_QUESTION_SCHEMA = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"
)
# MTurk's system qualification types (the same ids in the sandbox and live).
PERCENT_APPROVED_QUALIFICATION = "000000000000000000L0"
HITS_APPROVED_QUALIFICATION = "00000000000000000040"
LOCALE_QUALIFICATION = "00000000000000000071"


class PublishError(ValueError):
    """HIT settings or a worker page URL that MTurk would refuse."""


@dataclass(frozen=True)
class HitSettings:
    """What a requester chooses when publishing. Durations are in seconds, the reward in cents."""

    title: str
    description: str
    reward_cents: int
    max_assignments: int = 10
    lifetime_seconds: int = 3 * 24 * 3600
    assignment_duration_seconds: int = 3600
    auto_approval_delay_seconds: int = 3 * 24 * 3600
    keywords: str = "data collection, table, crowdfill"
    frame_height: int = 0
    min_approval_percent: int | None = 95
    min_approved_hits: int | None = None
    locales: tuple[str, ...] = ()
    extra_qualifications: tuple[QualificationRequirementTypeDef, ...] = field(default=())

    def check(self) -> None:
        if not self.title.strip() or len(self.title) > 128:
            raise PublishError("a HIT title must be 1 to 128 characters")
        if not self.description.strip() or len(self.description) > 2000:
            raise PublishError("a HIT description must be 1 to 2000 characters")
        if self.reward_cents < 1:
            raise PublishError("the HIT reward must be at least 1 cent ($0.01)")
        if not 1 <= self.max_assignments <= 1_000_000:
            raise PublishError("max assignments must be at least 1")
        if not 30 <= self.assignment_duration_seconds <= 365 * 24 * 3600:
            raise PublishError("the assignment duration must be between 30 seconds and a year")
        if not 60 <= self.lifetime_seconds <= 365 * 24 * 3600:
            raise PublishError("the HIT lifetime must be between a minute and a year")
        if self.min_approval_percent is not None and not 0 <= self.min_approval_percent <= 100:
            raise PublishError("the minimum approval rate is a percentage between 0 and 100")
        for locale in self.locales:
            if len(locale.split("-")[0]) != 2 or not locale.replace("-", "").isalpha():
                raise PublishError(f"a locale is a country code like 'US' or 'US-NY', got {locale!r}")


def external_question(url: str, frame_height: int = 0) -> str:
    """The ExternalQuestion XML that makes MTurk show ``url`` (an https page) in its frame."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PublishError(f"MTurk only shows https pages; the worker page URL is {url!r}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ExternalQuestion xmlns="{EXTERNAL_QUESTION_SCHEMA}">'
        f"<ExternalURL>{escape(url)}</ExternalURL>"
        f"<FrameHeight>{int(frame_height)}</FrameHeight>"
        "</ExternalQuestion>"
    )


def worker_page_url(public_base_url: str, table_id: str, query: Mapping[str, str] | None = None) -> str:
    """The worker page; ``query`` is the server's signature for the URL (see docs/recruiting.md)."""
    page = f"{public_base_url.rstrip('/')}/w/{table_id}"
    return f"{page}?{urlencode(query)}" if query else page


def qualification_requirements(settings: HitSettings) -> list[QualificationRequirementTypeDef]:
    """The requirements a worker must meet to accept a HIT (they may still preview it)."""
    requirements: list[QualificationRequirementTypeDef] = []
    if settings.min_approval_percent is not None:
        requirements.append(
            {
                "QualificationTypeId": PERCENT_APPROVED_QUALIFICATION,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [settings.min_approval_percent],
                "ActionsGuarded": "Accept",
            }
        )
    if settings.min_approved_hits is not None:
        requirements.append(
            {
                "QualificationTypeId": HITS_APPROVED_QUALIFICATION,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [settings.min_approved_hits],
                "ActionsGuarded": "Accept",
            }
        )
    if settings.locales:
        requirements.append(
            {
                "QualificationTypeId": LOCALE_QUALIFICATION,
                "Comparator": "In",
                "LocaleValues": [_locale(code) for code in settings.locales],
                "ActionsGuarded": "Accept",
            }
        )
    requirements.extend(settings.extra_qualifications)
    return requirements


def _locale(code: str) -> LocaleTypeDef:
    country, _, subdivision = code.upper().partition("-")
    if subdivision:
        return {"Country": country, "Subdivision": subdivision}
    return {"Country": country}


def hit_request_token(table_id: str, batch: int) -> str:
    """The CreateHIT ``UniqueRequestToken`` for the table's ``batch``-th HIT: a retry creates no twin."""
    digest = hashlib.sha256(f"crowdfill\nhit\n{table_id}\n{batch}".encode()).hexdigest()
    return f"cf-hit-{digest[:48]}"


def publish(
    client: MTurkClient,
    state: MarketState,
    table_id: str,
    page_url: str,
    settings: HitSettings,
    hits: int = 1,
    recruit_batch: str = "",
) -> list[HitRecord]:
    """Create ``hits`` HITs for the table and record each in ``state`` as soon as MTurk returns it."""
    settings.check()
    if hits < 1:
        raise PublishError("publish at least one HIT")
    question = external_question(page_url, settings.frame_height)
    created: list[HitRecord] = []
    for _ in range(hits):
        batch = len(state.hits)
        response = client.create_hit(
            MaxAssignments=settings.max_assignments,
            AutoApprovalDelayInSeconds=settings.auto_approval_delay_seconds,
            LifetimeInSeconds=settings.lifetime_seconds,
            AssignmentDurationInSeconds=settings.assignment_duration_seconds,
            Reward=cents_to_amount(settings.reward_cents),
            Title=settings.title,
            Keywords=settings.keywords,
            Description=settings.description,
            Question=question,
            RequesterAnnotation=f"crowdfill:{table_id}"[:255],
            QualificationRequirements=qualification_requirements(settings),
            UniqueRequestToken=hit_request_token(table_id, batch),
        )
        hit = response["HIT"]
        record = HitRecord(
            hit_id=hit["HITId"],
            hit_type_id=hit.get("HITTypeId", ""),
            hit_group_id=hit.get("HITGroupId", ""),
            url=page_url,
            reward_cents=settings.reward_cents,
            max_assignments=settings.max_assignments,
            batch=recruit_batch,
        )
        state.add_hit(record)
        created.append(record)
    return created

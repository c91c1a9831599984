"""The EducationActivity aggregate: one consumer-education activity (宣教活动), online or
offline, with the audiences it reached and its figures; an amendment of the figures is an
event of its own with its reason, so the history shows both the first figures and the
corrected ones.

The kinds, channels, audiences and campaigns are validated code lists kept here (not
reference data): the statistics group by them and the regulator's forms name them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidInput

KINDS = ("online", "offline")
CHANNELS = (
    "app",
    "website",
    "wechat",
    "weibo",
    "douyin",
    "live_stream",
    "service_center",
    "community",
    "village",
    "school",
    "nursing_home",
    "industry_event",
    "other",
)
AUDIENCES = ("elderly", "youth", "rural", "ethnic_minority", "new_citizen", "disabled", "general")
ONE_OLD_ONE_YOUNG = frozenset({"elderly", "youth"})
"""一老一小: an activity reaching either counts in the share."""
CAMPAIGNS = {
    "315": "3·15 消费者权益保护教育宣传周",
    "finance_month": "金融教育宣传月",
    "anti_fraud": "反诈防非专项宣传",
    "five_into": "金融知识“五进入”",
    "daily": "日常宣教",
    "other": "其他",
}
MAX_FIGURE = 1_000_000_000
FIRST_YEAR, LAST_YEAR = 1900, 2999
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REGION = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class EvidenceFile:
    """A file kept outside the log (photo, sign-in sheet, screenshot), with its SHA-256."""

    name: str
    sha256: str
    ref: str


@dataclass(frozen=True)
class Figures:
    """What an amendment may change; None leaves a figure as it was."""

    participants: int | None = None
    views: int | None = None
    audiences: tuple[str, ...] | None = None
    evidence: tuple[EvidenceFile, ...] = ()


def check_code(field: str, value: str, allowed: Sequence[str]) -> None:
    """A value of a code list, or 422 naming the field."""
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")


def check_audiences(audiences: Sequence[str]) -> None:
    if not audiences:
        raise InvalidInput("audiences", "name at least one audience")
    for index, audience in enumerate(audiences):
        check_code(f"audiences[{index}]", audience, AUDIENCES)
    if len(set(audiences)) != len(audiences):
        raise InvalidInput("audiences", "an audience is listed twice")


def check_count(field: str, value: int) -> None:
    if value < 0:
        raise InvalidInput(field, "must not be negative")
    if value > MAX_FIGURE:
        raise InvalidInput(field, f"must not exceed {MAX_FIGURE}")


def check_evidence(evidence: Sequence[EvidenceFile], field: str = "evidence") -> None:
    for index, item in enumerate(evidence):
        if not _SHA256.fullmatch(item.sha256):
            raise InvalidInput(f"{field}[{index}].sha256", "must be 64 lowercase hex digits")
        if not item.name or not item.ref:
            raise InvalidInput(f"{field}[{index}]", "needs a name and a storage ref")


def check_instant(field: str, instant: datetime) -> None:
    """An aware instant within the years the ledger dates business facts in."""
    if instant.tzinfo is None:
        raise InvalidInput(field, "must carry a UTC offset (RFC 3339)")
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise InvalidInput(field, f"must lie between {FIRST_YEAR} and {LAST_YEAR}")


def check_activity(
    *,
    kind: str,
    channel: str,
    campaign: str,
    region: str,
    audiences: Sequence[str],
    participants: int,
    views: int,
    article_ids: Sequence[str],
    evidence: Sequence[EvidenceFile],
    started_at: datetime,
    ended_at: datetime,
) -> None:
    """Every field of a new activity, each refusal naming its field (422)."""
    check_code("kind", kind, KINDS)
    check_code("channel", channel, CHANNELS)
    check_code("campaign", campaign, tuple(CAMPAIGNS))
    if not _REGION.fullmatch(region) or region == "000000":
        raise InvalidInput("region", "must be a six-digit GB/T 2260 code")
    check_audiences(audiences)
    check_count("participants", participants)
    check_count("views", views)
    for index, article in enumerate(article_ids):
        try:
            UUID(article)
        except ValueError:
            raise InvalidInput(f"article_ids[{index}]", "must be an article id (UUID)") from None
    check_evidence(evidence)
    check_instant("started_at", started_at)
    check_instant("ended_at", ended_at)
    if ended_at < started_at:
        raise InvalidInput("ended_at", "must not lie before started_at")


class EducationActivity(Aggregate):
    """One consumer-education activity and its figures."""

    @event("Recorded")
    def __init__(
        self,
        *,
        title: str,
        kind: str,
        channel: str,
        campaign: str,
        region: str,
        place: str | None,
        audiences: tuple[str, ...],
        participants: int,
        views: int,
        article_ids: tuple[str, ...],
        evidence: tuple[EvidenceFile, ...],
        started_at: datetime,
        ended_at: datetime,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        check_activity(
            kind=kind,
            channel=channel,
            campaign=campaign,
            region=region,
            audiences=audiences,
            participants=participants,
            views=views,
            article_ids=article_ids,
            evidence=evidence,
            started_at=started_at,
            ended_at=ended_at,
        )
        self.title = title
        self.kind = kind
        self.channel = channel
        self.campaign = campaign
        self.region = region
        self.place = place
        self.audiences = tuple(audiences)
        self.participants = participants
        self.views = views
        self.article_ids = tuple(article_ids)
        self.evidence = tuple(evidence)
        self.started_at = started_at
        self.ended_at = ended_at
        self.recorded_by = actor.name
        self.amendments = 0

    @event("FiguresAmended")
    def amend(self, *, reason: str, figures: Figures, occurred_at: datetime, actor: Actor) -> None:
        """Correct the figures (participants, views, audiences; evidence added), with a reason."""
        if not reason.strip():
            raise InvalidInput("reason", "say why the figures change")
        if figures.participants is not None:
            check_count("participants", figures.participants)
        if figures.views is not None:
            check_count("views", figures.views)
        if figures.audiences is not None:
            check_audiences(figures.audiences)
        check_evidence(figures.evidence)
        if figures == Figures() or not self._changes(figures):
            raise InvalidInput("body", "the amendment changes no figure")
        if figures.participants is not None:
            self.participants = figures.participants
        if figures.views is not None:
            self.views = figures.views
        if figures.audiences is not None:
            self.audiences = tuple(figures.audiences)
        self.evidence = (*self.evidence, *figures.evidence)
        self.amendments += 1

    def _changes(self, figures: Figures) -> bool:
        return bool(
            figures.evidence
            or figures.participants not in (None, self.participants)
            or figures.views not in (None, self.views)
            or (figures.audiences is not None and tuple(figures.audiences) != self.audiences)
        )

    @property
    def one_old_one_young(self) -> bool:
        """Whether the activity reached the elderly or the young (一老一小)."""
        return bool(ONE_OLD_ONE_YOUNG.intersection(self.audiences))

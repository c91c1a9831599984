"""Request bodies of the education commands: activities, their amendments, training sessions.

Code lists (kind, channel, campaign, audiences) are checked by the domain, which names the
field in a 422; the schema lists them as enums for partners' generated clients."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainValidator, WithJsonSchema

from api.fields import Instant, LongText, RegionCode, Text, WireModel, parse_decimal
from domain.education import AUDIENCES, CAMPAIGNS, CHANNELS, KINDS, MAX_FIGURE, EvidenceFile

Hours = Annotated[
    Decimal,
    PlainValidator(parse_decimal),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "examples": ["2.5"]}),
]
Score = Annotated[
    Decimal,
    PlainValidator(parse_decimal),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["92.5"]}),
]
Kind = Annotated[str, Field(json_schema_extra={"enum": list(KINDS)})]
Channel = Annotated[str, Field(json_schema_extra={"enum": list(CHANNELS)})]
Campaign = Annotated[str, Field(json_schema_extra={"enum": list(CAMPAIGNS)})]
Audience = Annotated[str, Field(json_schema_extra={"enum": list(AUDIENCES)})]
Count = Annotated[int, Field(ge=0, le=MAX_FIGURE, description="a head count or a number of views")]


class EvidenceBody(WireModel):
    """A file kept outside the log: its name, SHA-256 (hex) and storage ref."""

    name: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ref: Annotated[str, Field(min_length=1, max_length=500)]

    def value(self) -> EvidenceFile:
        return EvidenceFile(self.name, self.sha256, self.ref)


class EducationCommand(WireModel):
    """Every command may say when it happened (not in the future; default now)."""

    occurred_at: Instant | None = None


class ActivityBody(EducationCommand):
    """An education activity (宣教活动)."""

    title: Text
    kind: Kind
    channel: Channel
    campaign: Campaign
    region: RegionCode
    audiences: list[Audience] = Field(max_length=len(AUDIENCES) * 2)
    started_at: Instant
    ended_at: Instant
    place: Text | None = None
    participants: Count = 0
    views: Count = 0
    article_ids: list[Text] = Field(default_factory=list, max_length=100)
    evidence: list[EvidenceBody] = Field(default_factory=list, max_length=50)


class AmendBody(EducationCommand):
    """New figures for an activity, with the reason; absent figures stay as they were."""

    reason: LongText
    participants: Count | None = None
    views: Count | None = None
    audiences: list[Audience] | None = Field(default=None, max_length=len(AUDIENCES) * 2)
    evidence: list[EvidenceBody] = Field(
        default_factory=list, max_length=50, description="files added to the activity's"
    )


class TrainingBody(EducationCommand):
    """A staff training session (消保培训)."""

    topic: Text
    trainer: Text
    hours: Hours
    held_at: Instant
    attendees: list[Text] = Field(max_length=2000, description="principal names or staff ids")
    scores: dict[Text, Score] = Field(default_factory=dict, description="attendee → test score")

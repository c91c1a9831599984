"""Request bodies of complaint commands and the 12378 events (their `data`)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from api.fields import Identifier, Instant, LongText, Money, RegionCode, Text, WireModel
from domain.complaints import ROOT_CAUSES, Evidence

Cause = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="a cause code")]
Line = Literal["health", "life", "accident", "motor", "property", "guarantee", "other"]
Channel = Literal["12378", "hotline", "app", "online", "letter", "visit"]
Outcome = Literal["upheld", "partly_upheld", "not_upheld"]
# Checked by the domain (`check_root_causes`: an unknown code is 422 naming `root_causes`).
RootCause = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(ROOT_CAUSES)})]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9\- ]{5,20}$")]


class EvidenceRef(WireModel):
    """A piece of evidence: its name, SHA-256 and where it is stored."""

    name: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ref: Text

    def value(self) -> Evidence:
        return Evidence(self.name, self.sha256, self.ref)


class Complainant(WireModel):
    id: Identifier
    name: Text
    phone: Phone | None = None

    def clear(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Command(WireModel):
    """Every command may say when it happened (not in the future) and attach evidence."""

    occurred_at: Instant | None = None
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=50)

    def evidence_values(self) -> tuple[Evidence, ...]:
        return tuple(e.value() for e in self.evidence)


class ComplaintBody(Command):
    """A complaint received through a staff channel."""

    channel: Channel
    complainant: Complainant
    agent: Complainant | None = None
    matter: LongText
    request: LongText
    facts: LongText | None = None
    cause: Cause
    line: Line
    region: RegionCode
    policy_id: Identifier | None = None
    claim_id: Identifier | None = None
    transfer_id: Identifier | None = None
    new_facts: bool = False

    @model_validator(mode="after")
    def _transfer_only_for_12378(self) -> ComplaintBody:
        if (self.channel == "12378") != (self.transfer_id is not None):
            raise ValueError("transfer_id is given exactly when the channel is 12378")
        return self


class HandlerBody(Command):
    handler: Text


class ReassignBody(Command):
    handler: Text
    reason: Text | None = None


class BulkReassignBody(Command):
    ids: list[UUID] = Field(min_length=1, max_length=500)
    handler: Text

    @field_validator("ids", mode="before")
    @classmethod
    def _uuids(cls, value: object) -> object:
        if isinstance(value, list):
            try:
                return [UUID(v) if isinstance(v, str) else v for v in value]
            except ValueError as exc:
                raise ValueError("ids must be complaint ids (UUIDs)") from exc
        return value


class ReasonBody(Command):
    reason: LongText


class UrgeBody(Command):
    by: Literal["complainant", "regulator"] = "complainant"
    note: LongText | None = None


class SummaryBody(Command):
    summary: LongText


class DecideBody(Command):
    outcome: Outcome
    redress: Money
    facts: LongText
    basis: LongText
    root_causes: list[RootCause] = Field(default_factory=list, max_length=len(ROOT_CAUSES))
    responsible_department: Text | None = None


class NotifyBody(Command):
    method: Literal["letter", "sms", "phone", "email", "app", "in_person"] = "letter"
    delivered_at: Instant | None = None


class ReviewDecisionBody(Command):
    outcome: Outcome
    basis: LongText


class TransferData(WireModel):
    """`xiaobao.regulator.complaint-transferred.v1`."""

    transfer_id: Identifier
    complainant: Complainant
    matter: LongText
    request: LongText
    cause: Cause
    line: Line
    region: RegionCode
    policy_id: Identifier | None = None
    claim_id: Identifier | None = None
    facts: LongText | None = None
    new_facts: bool = False


class UrgedData(WireModel):
    """`xiaobao.regulator.urged.v1`: `complaint_id` or `transfer_id`."""

    complaint_id: UUID | None = None
    transfer_id: Identifier | None = None
    note: LongText

    @field_validator("complaint_id", mode="before")
    @classmethod
    def _uuid(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError as exc:
                raise ValueError("must be a complaint id (UUID)") from exc
        return value

    @model_validator(mode="after")
    def _one_of(self) -> UrgedData:
        if (self.complaint_id is None) == (self.transfer_id is None):
            raise ValueError("give exactly one of complaint_id and transfer_id")
        return self

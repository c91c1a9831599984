"""Request bodies of the rectification commands (contract: education, reports and
rectification); each builds its typed application command."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, field_validator

from api.fields import Day, Instant, LongText, Money, Text, WireModel
from application.rectification import (
    CancelItem,
    ExtendItem,
    NoteProgress,
    OpenItem,
    PlanItem,
    SubmitItem,
    VerifyItem,
)
from domain.rectification import Finding, ItemEvidence, Milestone, Source

SourceKind = Literal[
    "inspection",
    "evaluation",
    "internal_audit",
    "complaint",
    "report",
    "self_inspection",
    "mystery_shopping",
]
Severity = Literal["high", "medium", "low"]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def _uuid(value: object) -> object:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError as exc:
            raise ValueError("must be a UUID") from exc
    return value


class EvidenceBody(WireModel):
    """A piece of evidence: its name, SHA-256 and where it is stored."""

    name: Text
    sha256: Sha256
    ref: Text

    def value(self) -> ItemEvidence:
        return ItemEvidence(self.name, self.sha256, self.ref)


class Command(WireModel):
    """Every command may say when it happened (not more than 5 minutes ahead)."""

    occurred_at: Instant | None = None


class SourceBody(WireModel):
    kind: SourceKind
    ref: Text


class FindingBody(WireModel):
    summary: Text
    description: LongText
    basis: LongText
    severity: Severity
    amount: Money | None = None


class OpenBody(Command):
    """`POST /v1/rectifications`."""

    source: SourceBody
    finding: FindingBody
    department: Text
    owner: Text
    due_date: Day | None = None
    complaint_ids: list[UUID] = Field(default_factory=list, max_length=100)
    report_id: UUID | None = None

    @field_validator("complaint_ids", mode="before")
    @classmethod
    def _complaints(cls, value: object) -> object:
        return [_uuid(v) for v in value] if isinstance(value, list) else value

    @field_validator("report_id", mode="before")
    @classmethod
    def _report(cls, value: object) -> object:
        return _uuid(value)

    def command(self) -> OpenItem:
        f = self.finding
        return OpenItem(
            source=Source(self.source.kind, self.source.ref),
            finding=Finding(f.summary, f.description, f.basis, f.severity, f.amount),
            department=self.department,
            owner=self.owner,
            due_date=self.due_date,
            complaint_ids=tuple(self.complaint_ids),
            report_id=self.report_id,
        )


class MilestoneBody(WireModel):
    title: Text
    due_date: Day


class PlanBody(Command):
    measures: list[LongText] = Field(min_length=1, max_length=50)
    milestones: list[MilestoneBody] = Field(default_factory=list, max_length=50)

    def command(self, item_id: UUID) -> PlanItem:
        return PlanItem(
            item_id,
            tuple(self.measures),
            tuple(Milestone(m.title, m.due_date) for m in self.milestones),
        )


class ProgressBody(Command):
    note: LongText
    evidence: list[EvidenceBody] = Field(default_factory=list, max_length=50)

    def command(self, item_id: UUID) -> NoteProgress:
        return NoteProgress(item_id, self.note, tuple(e.value() for e in self.evidence))


class SubmitBody(Command):
    evidence: list[EvidenceBody] = Field(min_length=1, max_length=50)

    def command(self, item_id: UUID) -> SubmitItem:
        return SubmitItem(item_id, tuple(e.value() for e in self.evidence))


class VerifyBody(Command):
    outcome: Literal["accepted", "rejected"]
    comment: Annotated[str, Field(max_length=4000)] = ""

    def command(self, item_id: UUID) -> VerifyItem:
        return VerifyItem(item_id, self.outcome, self.comment)


class ExtendBody(Command):
    due_date: Day
    reason: LongText

    def command(self, item_id: UUID) -> ExtendItem:
        return ExtendItem(item_id, self.due_date, self.reason)


class CancelBody(Command):
    reason: LongText

    def command(self, item_id: UUID) -> CancelItem:
        return CancelItem(item_id, self.reason)

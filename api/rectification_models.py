"""Response models of the rectification reads (`/openapi.json` describes every body): the
item, a work queue, the report of a source and the statistics. The application builds the
bodies; `tests/api/test_rectification_api.py` checks real ones against these models."""

from __future__ import annotations

from pydantic import Field

from api.read_models import Actor, Figures, Instant, Money, ReadModel


class SourceRef(ReadModel):
    kind: str = Field(description="inspection, evaluation, internal_audit, complaint, ...")
    ref: str = Field(description="the source's own reference, such as a notice number")


class FindingRead(ReadModel):
    summary: str
    description: str
    basis: str
    severity: str = Field(description="high, medium or low")
    amount: Money | None


class EvidenceRead(ReadModel):
    name: str
    sha256: str
    ref: str


class MilestoneRead(ReadModel):
    title: str
    due_date: str


class ProgressRead(ReadModel):
    note: str
    evidence: list[EvidenceRead]
    noted_at: Instant
    by: str


class VerificationRead(ReadModel):
    outcome: str = Field(description="accepted or rejected")
    comment: str
    verifier: str
    verified_at: Instant


class ExtensionRead(ReadModel):
    previous: str
    due_date: str
    reason: str
    approver: str
    extended_at: Instant


class RectificationItemRead(ReadModel):
    id: str
    version: int
    state: str = Field(description="open, planned, in_progress, submitted, closed, cancelled")
    source: SourceRef
    finding: FindingRead
    department: str
    owner: str
    complaint_ids: list[str]
    report_id: str | None
    opened_at: Instant
    opened_by: Actor
    due_date: str = Field(description="the last day (CST) to be verified")
    due_at: Instant
    original_due_date: str
    due_from_source: bool
    overdue: bool = Field(description="not verified by the due date, at evaluated_at")
    closed_late: bool | None = Field(description="verified after the due date (null: open)")
    measures: list[str]
    milestones: list[MilestoneRead]
    progress: list[ProgressRead]
    submitted_at: Instant | None
    submitted_evidence: list[EvidenceRead]
    verifications: list[VerificationRead]
    extensions: list[ExtensionRead]
    closed_at: Instant | None
    cancelled_at: Instant | None
    cancel_reason: str | None
    evaluated_at: Instant


class QueueLine(ReadModel):
    id: str
    state: str
    source: SourceRef
    summary: str
    severity: str
    department: str
    owner: str
    due_date: str
    overdue: bool
    version: int


class RectificationQueue(ReadModel):
    page: int
    size: int
    total: int
    evaluated_at: Instant
    items: list[QueueLine]


class StepBy(ReadModel):
    name: str
    role: str


class ReportStep(ReadModel):
    step: str
    step_zh: str
    occurred_at: Instant
    by: StepBy


class DigestRead(ReadModel):
    name: str
    sha256: str


class ReportItem(ReadModel):
    id: str
    state: str
    finding: FindingRead
    department: str
    owner: str
    complaint_ids: list[str]
    report_id: str | None
    opened_at: Instant
    due_date: str
    original_due_date: str
    extensions: list[ExtensionRead]
    measures: list[str]
    evidence: list[DigestRead]
    verified_by: str | None
    verified_at: Instant | None
    closed_late: bool | None
    timeliness: str = Field(description="on_time, late, cancelled, overdue or open")
    overdue: bool
    cancel_reason: str | None
    steps: list[ReportStep]


class ReportTotals(ReadModel):
    items: int
    closed: int
    closed_on_time: int
    closed_late: int
    cancelled: int
    open: int
    overdue: int


class RectificationReport(ReadModel):
    source: SourceRef
    generated_at: Instant
    totals: ReportTotals
    items: list[ReportItem]
    still_open: list[str] = Field(description="ids of the items not closed or cancelled")


class RectificationFigures(ReadModel):
    opened: int
    closed: int
    closed_on_time: int
    closed_late: int
    cancelled: int
    open: int = Field(description="not closed or cancelled at evaluated_at")
    overdue: int = Field(description="open past its due date at evaluated_at")
    on_time_rate: str | None = Field(description="closed on time / closed (4 places)")


class RectificationGroup(RectificationFigures):
    key: dict[str, str | None]


class RectificationStatistics(Figures):
    totals: RectificationFigures
    groups: list[RectificationGroup]

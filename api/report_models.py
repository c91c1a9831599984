"""Response models of the report reads (举报), for `/openapi.json`: the record with its
clocks, its history, the work queues and the statistics."""

from __future__ import annotations

from pydantic import Field

from api.read_models import Figures, Instant, ReadModel


class Subject(ReadModel):
    kind: str
    ref: str
    department: str


class Evidence(ReadModel):
    name: str
    sha256: str
    ref: str


class Findings(ReadModel):
    summary: str
    evidence: list[Evidence]
    recorded_at: Instant
    investigator: str


class Extension(ReadModel):
    approver: str = Field(description="the supervisor who granted it")
    reason: str
    extended_at: Instant


class Conclusion(ReadModel):
    finding: str = Field(description="substantiated, partly_substantiated or not_substantiated")
    basis: str
    actions: list[str]
    concluded_at: Instant


class Delivery(ReadModel):
    method: str = Field(description="letter, sms, email, phone or app")
    delivered_at: Instant


class Due(ReadModel):
    due_date: str = Field(description="the last day (CST)")
    due_at: Instant


class Reporter(ReadModel):
    id: str
    name: str
    phone: str | None = None


class Report(ReadModel):
    id: str
    version: int
    state: str = Field(
        description="received, accepted, declined, investigating, concluded, notified, closed"
    )
    channel: str
    category: str
    anonymous: bool
    subject: Subject
    facts: str
    evidence: list[Evidence]
    transfer_id: str | None
    received_at: Instant
    accepted_at: Instant | None
    declined_at: Instant | None
    decline_reason: str | None
    investigator: str | None
    assigned_at: Instant | None
    findings: list[Findings]
    extension: Extension | None
    conclusion: Conclusion | None
    delivery: Delivery | None
    notified_at: Instant | None
    closed_at: Instant | None
    acceptance_due: Due
    conclusion_due: Due | None = Field(description="from the acceptance, with the extension")
    overdue: bool
    due_soon: bool
    accepted_on_time: bool | None
    concluded_on_time: bool | None
    evaluated_at: Instant
    reporter: Reporter | None = Field(
        default=None, description="present only in report officers' reads of named reports"
    )
    rectification_items: list[str] = Field(
        default_factory=list, description="rectification items opened from this report"
    )


class ReportLine(ReadModel):
    id: str
    version: int
    state: str
    channel: str
    category: str
    anonymous: bool
    subject: Subject
    investigator: str | None
    received_at: Instant
    due_at: Instant | None = Field(description="the deadline now running")
    overdue: bool
    due_soon: bool
    extended: bool


class ReportQueue(ReadModel):
    queue: str | None
    state: str | None
    due: str | None
    page: int
    size: int
    total: int
    evaluated_at: Instant
    items: list[ReportLine]


class ReportFigures(ReadModel):
    received: int
    accepted: int
    declined: int
    substantiated: int
    partly_substantiated: int
    not_substantiated: int
    overdue: int = Field(description="at evaluated_at")
    accepted_on_time: int
    accepted_late: int
    concluded_on_time: int
    concluded_late: int
    acceptance_timeliness: str | None
    conclusion_timeliness: str | None


class ReportGroup(ReportFigures):
    key: dict[str, str | None]


class ReportStatistics(Figures):
    totals: ReportFigures
    groups: list[ReportGroup]

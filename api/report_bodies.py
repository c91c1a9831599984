"""Request bodies of the report commands and of the 12378 report transfer (its `data`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.complaint_bodies import Complainant, EvidenceRef
from api.fields import Identifier, Instant, LongText, Text, WireModel
from application.reports import ReportIntake
from domain.reports import ReportSubject

Channel = Literal["12378", "hotline", "app", "online", "letter", "visit", "email", "internal"]
SubjectKind = Literal["staff", "agent", "intermediary", "department", "product"]
Finding = Literal["substantiated", "partly_substantiated", "not_substantiated"]
Method = Literal["letter", "sms", "email", "phone", "app"]


class Subject(WireModel):
    """Who or what is reported, and the department it belongs to."""

    kind: SubjectKind
    ref: Text
    department: Text


class ReportData(WireModel):
    """A report as received: anonymous, or with the reporter's identity (the application
    refuses a reporter on an anonymous report, and a named one without, naming `reporter`)."""

    channel: Channel
    anonymous: bool
    reporter: Complainant | None = None
    category: Text
    subject: Subject
    facts: LongText
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=50)
    transfer_id: Identifier | None = None

    def intake(self) -> ReportIntake:
        return ReportIntake(
            channel=self.channel,
            anonymous=self.anonymous,
            reporter=self.reporter.clear() if self.reporter else None,
            category=self.category,
            subject=ReportSubject(self.subject.kind, self.subject.ref, self.subject.department),
            facts=self.facts,
            evidence=tuple(e.value() for e in self.evidence),
            transfer_id=self.transfer_id,
        )


class ReportBody(ReportData):
    """`POST /v1/reports`: the report, and when it was received."""

    occurred_at: Instant | None = None


class TransferredReport(ReportData):
    """`xiaobao.regulator.report-transferred.v1`: always 12378, always with `transfer_id`."""

    channel: Channel = "12378"
    transfer_id: Identifier


class Command(WireModel):
    """Every report command may say when it happened (not in the future)."""

    occurred_at: Instant | None = None


class ReasonBody(Command):
    reason: LongText


class AssignBody(Command):
    investigator: Text


class FindingsBody(Command):
    summary: LongText
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=50)


class ConcludeBody(Command):
    finding: Finding
    basis: LongText
    actions: list[LongText] = Field(default_factory=list, max_length=50)


class Delivery(WireModel):
    method: Method
    delivered_at: Instant


class NotifyBody(Command):
    delivery: Delivery

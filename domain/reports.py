"""The Report aggregate (举报): a report of misconduct from receipt to closing (domain.md §6).

Received (from staff or transferred from 12378) → Accepted or Declined (within 15 days) →
Investigating (an investigator outside the reported department; findings) → Concluded
(within 60 days of acceptance, one extension by a supervisor) → Notified (named reporters)
→ Closed. Each command is the event's own method (`@event`): the rule is checked first, a
refusal raises a `ReportError` and records nothing. The clocks are never stored: `clock()`
derives them from `occurred_at` values and `ReportRules`.

Anonymous reports carry no notification duty: they close straight after the conclusion
(or the refusal), without a notice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.codes import DEFAULT_REPORT_CATEGORIES
from domain.common import Actor, DomainError, InvalidInput, stream_id
from domain.complaints import CHANNELS as COMPLAINT_CHANNELS
from domain.complaints import Evidence
from domain.personal import Sealed, Text, check_free_text
from domain.report_clock import ReportClock, ReportRules, report_clock

CATEGORIES = tuple(DEFAULT_REPORT_CATEGORIES)  # the defaults; admins may add more
CHANNELS = (*COMPLAINT_CHANNELS, "email", "internal")
REGULATOR_CHANNEL = "12378"
SUBJECT_KINDS = ("staff", "agent", "intermediary", "department", "product")
FINDINGS = ("substantiated", "partly_substantiated", "not_substantiated")
DELIVERY_METHODS = ("letter", "sms", "email", "phone", "app")
REPORTER_FIELDS = frozenset({"id", "name", "phone"})

RECEIVED = "received"
ACCEPTED = "accepted"
DECLINED = "declined"
INVESTIGATING = "investigating"
CONCLUDED = "concluded"
NOTIFIED = "notified"
CLOSED = "closed"
STATES = (RECEIVED, ACCEPTED, DECLINED, INVESTIGATING, CONCLUDED, NOTIFIED, CLOSED)
OPEN_STATES = frozenset(STATES) - {CLOSED}


class ReportError(DomainError):
    """Base of the report's business-rule refusals."""


class ReportClosed(ReportError):
    """Nothing changes a closed report."""

    rule = "report_closed"


class AlreadyDecided(ReportError):
    """Acceptance is decided once: accepted or declined."""

    rule = "report_already_decided"


class NotAccepted(ReportError):
    """Investigation, extension and conclusion need an accepted report."""

    rule = "report_not_accepted"


class NoInvestigator(ReportError):
    """Findings and conclusions need an assigned investigator."""

    rule = "investigator_not_assigned"


class ConflictOfInterest(ReportError):
    """The investigator may not belong to the reported department."""

    rule = "investigator_in_reported_department"


class FindingsMissing(ReportError):
    """A report is concluded on recorded findings."""

    rule = "findings_missing"


class AlreadyConcluded(ReportError):
    """A concluded report is not investigated, extended or concluded again."""

    rule = "report_already_concluded"


class ExtensionAlreadyGranted(ReportError):
    """The conclusion period is extended once."""

    rule = "extension_already_granted"


class NotConcluded(ReportError):
    """A notice follows the conclusion or the refusal."""

    rule = "report_not_concluded"


class AnonymousReport(ReportError):
    """An anonymous reporter cannot be notified (and need not be)."""

    rule = "anonymous_report_not_notified"


class AlreadyNotified(ReportError):
    """The reporter is notified once."""

    rule = "reporter_already_notified"


class ReporterNotNotified(ReportError):
    """A named reporter is notified before the report closes."""

    rule = "reporter_not_notified"


@dataclass(frozen=True)
class ReportSubject:
    """Who or what is reported: a staff member, agent, intermediary, department or product."""

    kind: str
    ref: str
    department: str


@dataclass(frozen=True)
class Findings:
    """One record of the investigation's findings."""

    summary: Text
    evidence: tuple[Evidence, ...]
    recorded_at: datetime
    investigator: str


@dataclass(frozen=True)
class Extension:
    """The one extension of the conclusion period, approved by a supervisor."""

    approver: str
    reason: str
    extended_at: datetime


@dataclass(frozen=True)
class Conclusion:
    """The outcome of the investigation."""

    finding: str
    basis: Text
    actions: tuple[str, ...]
    concluded_at: datetime


@dataclass(frozen=True)
class Delivery:
    """How and when the reporter was told."""

    method: str
    delivered_at: datetime


def transferred_report_id(transfer_id: str) -> UUID:
    """A 12378 transfer's report id derives from its transfer id (a re-sent transfer is the
    same report)."""
    return stream_id("report-transfer", transfer_id)


def check_text(field: str, value: str | None) -> None:
    """Refuse a missing or blank text field."""
    if value is None or not value.strip():
        raise InvalidInput(field, "must not be empty")


def check_aware(field: str, value: datetime) -> None:
    """Refuse an instant without a UTC offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a UTC offset")


def check_subject(subject: ReportSubject) -> None:
    """A subject of a known kind, with its reference and department."""
    if subject.kind not in SUBJECT_KINDS:
        raise InvalidInput("subject.kind", f"must be one of {', '.join(SUBJECT_KINDS)}")
    check_text("subject.ref", subject.ref)
    check_text("subject.department", subject.department)


def check_reporter(anonymous: bool, reporter: Mapping[str, Sealed] | None) -> None:
    """An anonymous report has no reporter; a named one has id and name (and may add phone)."""
    if anonymous:
        if reporter is not None:
            raise InvalidInput("reporter", "an anonymous report has no reporter")
        return
    if reporter is None or not {"id", "name"} <= reporter.keys() <= REPORTER_FIELDS:
        raise InvalidInput("reporter", "a named report needs id and name, and may add phone")


class Report(Aggregate):
    """A report of misconduct (举报) from receipt to closing."""

    @staticmethod
    def create_id(report_id: UUID) -> UUID:
        """The application chooses the id (derived from the transfer id for 12378)."""
        return report_id

    @classmethod
    def receive(
        cls,
        *,
        report_id: UUID,
        channel: str,
        anonymous: bool,
        reporter_ref: str | None,
        reporter: dict[str, Sealed] | None,
        category: str,
        subject: ReportSubject,
        facts: Text,
        evidence: list[Evidence],
        transfer_id: str | None,
        occurred_at: datetime,
        actor: Actor,
        categories: Collection[str],
    ) -> Report:
        """Check a report as received and open it; the way to create a report."""
        if channel not in CHANNELS:
            raise InvalidInput("channel", f"must be one of {', '.join(CHANNELS)}")
        if channel == REGULATOR_CHANNEL:
            check_text("transfer_id", transfer_id)
        elif transfer_id is not None:
            raise InvalidInput("transfer_id", "only a 12378 transfer carries a transfer_id")
        if category not in categories:
            raise InvalidInput("category", f"must be one of {', '.join(sorted(categories))}")
        check_reporter(anonymous, reporter)
        if not anonymous:
            check_text("reporter.id", reporter_ref)
        check_subject(subject)
        check_free_text("facts", facts)
        check_aware("occurred_at", occurred_at)
        return cls(
            report_id=report_id,
            channel=channel,
            anonymous=anonymous,
            reporter_ref=None if anonymous else reporter_ref,
            reporter=reporter,
            category=category,
            subject=subject,
            facts=facts,
            evidence=list(evidence),
            transfer_id=transfer_id,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Received")
    def __init__(
        self,
        *,
        report_id: UUID,
        channel: str,
        anonymous: bool,
        reporter_ref: str | None,
        reporter: dict[str, Sealed] | None,
        category: str,
        subject: ReportSubject,
        facts: Text,
        evidence: list[Evidence],
        transfer_id: str | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.channel = channel
        self.anonymous = anonymous
        self.reporter_ref = reporter_ref
        self.reporter = reporter
        self.category = category
        self.subject = subject
        self.facts = facts
        self.evidence = list(evidence)
        self.transfer_id = transfer_id
        # A 12378 transfer belongs to the platform partner that posted it.
        self.transferred_by = actor.partner_id if transfer_id is not None else None
        self.received_at = occurred_at
        self.received_by = actor.name
        self.state = RECEIVED
        self.accepted_at: datetime | None = None
        self.declined_at: datetime | None = None
        self.decline_reason: str | None = None
        self.investigator: str | None = None
        self.assigned_at: datetime | None = None
        self.findings: list[Findings] = []
        self.extension: Extension | None = None
        self.conclusion: Conclusion | None = None
        self.delivery: Delivery | None = None
        self.notified_at: datetime | None = None
        self.closed_at: datetime | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state != CLOSED

    @property
    def substantiated(self) -> bool:
        """Concluded as substantiated or partly substantiated: rectification may follow."""
        found = self.conclusion.finding if self.conclusion else None
        return found in ("substantiated", "partly_substantiated")

    @property
    def decided_at(self) -> datetime | None:
        """When acceptance was decided: accepted or declined."""
        return self.accepted_at or self.declined_at

    def clock(self, now: datetime, rules: ReportRules) -> ReportClock:
        """The acceptance and conclusion deadlines at `now`, from the history."""
        return report_clock(
            received_at=self.received_at,
            decided_at=self.decided_at,
            accepted_at=self.accepted_at,
            extended=self.extension is not None,
            concluded_at=self.conclusion.concluded_at if self.conclusion else None,
            ended_at=self.closed_at,
            now=now,
            rules=rules,
        )

    # -- commands ----------------------------------------------------------------------------

    @event("Accepted")
    def accept(self, occurred_at: datetime, actor: Actor) -> None:
        """Accept the report for investigation (受理)."""
        self._require_undecided(occurred_at)
        self.state = ACCEPTED
        self.accepted_at = occurred_at

    @event("Declined")
    def decline(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Decline it (不予受理): no specific facts, outside the remit, a duplicate."""
        self._require_undecided(occurred_at)
        check_text("reason", reason)
        self.state = DECLINED
        self.declined_at = occurred_at
        self.decline_reason = reason

    @event("Assigned")
    def assign(
        self,
        investigator: str,
        investigator_department: str | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """Give the investigation to someone outside the reported department (or hand it on)."""
        self._require_investigation(occurred_at)
        check_text("investigator", investigator)
        if investigator_department == self.subject.department:
            raise ConflictOfInterest(
                f"{investigator} belongs to the reported department {self.subject.department!r}"
            )
        self.state = INVESTIGATING
        self.investigator = investigator
        self.assigned_at = occurred_at

    @event("FindingsRecorded")
    def record_findings(
        self, summary: Text, evidence: list[Evidence], occurred_at: datetime, actor: Actor
    ) -> None:
        """Record what the investigation found (any number of times before the conclusion)."""
        self._require_investigation(occurred_at)
        if self.investigator is None:
            raise NoInvestigator("assign an investigator before recording findings")
        check_free_text("summary", summary)
        self.findings.append(Findings(summary, tuple(evidence), occurred_at, actor.name))

    @event("Extended")
    def extend(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Extend the conclusion period once (a supervisor approves: the actor)."""
        self._require_investigation(occurred_at)
        if self.extension is not None:
            raise ExtensionAlreadyGranted(
                f"the conclusion period was already extended by {self.extension.approver}"
            )
        check_text("reason", reason)
        self.extension = Extension(actor.name, reason, occurred_at)

    @event("Concluded")
    def conclude(
        self,
        finding: str,
        basis: Text,
        actions: list[str],
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """Conclude the investigation: substantiated, partly or not substantiated."""
        self._require_investigation(occurred_at)
        if finding not in FINDINGS:
            raise InvalidInput("finding", f"must be one of {', '.join(FINDINGS)}")
        check_free_text("basis", basis)
        for action in actions:
            check_text("actions", action)
        if self.investigator is None:
            raise NoInvestigator("assign an investigator before concluding")
        if not self.findings:
            raise FindingsMissing("record the findings before concluding")
        self.state = CONCLUDED
        self.conclusion = Conclusion(finding, basis, tuple(actions), occurred_at)

    @event("Notified")
    def notify(
        self, method: str, delivered_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        """Record the notice to a named reporter (of the conclusion, or of the refusal)."""
        self._require_open(occurred_at)
        if self.anonymous:
            raise AnonymousReport("an anonymous report has no reporter to notify")
        if self.state == NOTIFIED:
            raise AlreadyNotified("the reporter was already notified")
        if self.state not in (CONCLUDED, DECLINED):
            raise NotConcluded(f"cannot notify a report that is {self.state}")
        if method not in DELIVERY_METHODS:
            raise InvalidInput("delivery.method", f"must be one of {', '.join(DELIVERY_METHODS)}")
        check_aware("delivery.delivered_at", delivered_at)
        decided = self.conclusion.concluded_at if self.conclusion else self.declined_at
        if decided is not None and delivered_at < decided:
            raise InvalidInput("delivery.delivered_at", "precedes the decision it notifies")
        self.state = NOTIFIED
        self.delivery = Delivery(method, delivered_at)
        self.notified_at = occurred_at

    @event("Closed")
    def close(self, occurred_at: datetime, actor: Actor) -> None:
        """Close the report: after the notice, or straight after the decision if anonymous."""
        self._require_open(occurred_at)
        if self.state not in (CONCLUDED, DECLINED, NOTIFIED):
            raise NotConcluded(f"cannot close a report that is {self.state}")
        if self.state != NOTIFIED and not self.anonymous:
            raise ReporterNotNotified("notify the named reporter before closing")
        self.state = CLOSED
        self.closed_at = occurred_at

    # -- rules -------------------------------------------------------------------------------

    def _require_open(self, occurred_at: datetime) -> None:
        if self.state == CLOSED:
            raise ReportClosed("the report is closed")
        check_aware("occurred_at", occurred_at)
        if occurred_at < self.received_at:
            raise InvalidInput("occurred_at", "precedes the receipt of the report")

    def _require_undecided(self, occurred_at: datetime) -> None:
        self._require_open(occurred_at)
        if self.state != RECEIVED:
            raise AlreadyDecided(f"acceptance was already decided: the report is {self.state}")

    def _require_investigation(self, occurred_at: datetime) -> None:
        self._require_open(occurred_at)
        if self.state in (RECEIVED, DECLINED):
            raise NotAccepted(f"the report is {self.state}, not accepted")
        if self.state not in (ACCEPTED, INVESTIGATING):
            raise AlreadyConcluded(f"the report is already {self.state}")
        assert self.accepted_at is not None
        if occurred_at < self.accepted_at:
            raise InvalidInput("occurred_at", "precedes the acceptance of the report")

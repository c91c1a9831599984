"""The RectificationItem aggregate: one finding to rectify (整改事项), from its opening to
its verified closing (销号) or cancellation (domain.md section 7).

Every command checks its rule first in the body of the `@event` method, so a refusal records
nothing. Clocks are derived at every read: `due_date` (given by the source, else a number of
days per severity counted as domain.md section 0 from the opening, moved only by an extension),
`overdue` (not verified by the end of the due date) and `closed_late` (verified after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, DomainError, InvalidInput, cst_date, deadline, end_of_day

SOURCE_KINDS = (
    "inspection",
    "evaluation",
    "internal_audit",
    "complaint",
    "report",
    "self_inspection",
    "mystery_shopping",
)
SEVERITIES = ("high", "medium", "low")
OUTCOMES = ("accepted", "rejected")
OPEN, PLANNED, IN_PROGRESS, SUBMITTED, CLOSED, CANCELLED = (
    "open",
    "planned",
    "in_progress",
    "submitted",
    "closed",
    "cancelled",
)
STATES = (OPEN, PLANNED, IN_PROGRESS, SUBMITTED, CLOSED, CANCELLED)
ENDED = frozenset({CLOSED, CANCELLED})


class RectificationError(DomainError):
    """Base of the rectification item's business-rule refusals."""


class RectificationEnded(RectificationError):
    """A closed (销号) or cancelled item takes no further step."""

    rule = "rectification_ended"


class NotPlanned(RectificationError):
    """Progress and submission follow a plan of measures."""

    rule = "not_planned"


class AwaitingVerification(RectificationError):
    """A submitted item waits for its verification; the owner cannot change it meanwhile."""

    rule = "awaiting_verification"


class NotSubmitted(RectificationError):
    """Only an item submitted for verification can be verified."""

    rule = "not_submitted"


class FourEyes(RectificationError):
    """The verifier must be someone other than the item's owner and its submitter."""

    rule = "four_eyes"


class ExtensionNotLater(RectificationError):
    """An extension moves the due date later, never earlier or to the same day."""

    rule = "extension_not_later"


@dataclass(frozen=True)
class RectificationRules:
    """Days to rectify by severity when the source sets no due date (domain.md section 7:
    high 30, medium 60, low 90 by default; the settings may change them)."""

    high_days: int = 30
    medium_days: int = 60
    low_days: int = 90

    def __post_init__(self) -> None:
        if min(self.high_days, self.medium_days, self.low_days) <= 0:
            raise ValueError("rectification periods must be positive")

    def days_for(self, severity: str) -> int:
        return {"high": self.high_days, "medium": self.medium_days, "low": self.low_days}[severity]


@dataclass(frozen=True)
class Source:
    """Where a finding comes from: its kind and the source's own reference (a notice number)."""

    kind: str
    ref: str


@dataclass(frozen=True)
class Finding:
    """What was found: summary, description, legal or policy basis, severity, amount."""

    summary: str
    description: str
    basis: str
    severity: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class ItemEvidence:
    """A piece of evidence held outside the log: its name, SHA-256 and storage reference."""

    name: str
    sha256: str
    ref: str


@dataclass(frozen=True)
class Milestone:
    """A step of the plan with the date it should be reached."""

    title: str
    due_date: date


@dataclass(frozen=True)
class ProgressNote:
    """A progress note with its evidence."""

    note: str
    evidence: tuple[ItemEvidence, ...]
    noted_at: datetime
    by: str


@dataclass(frozen=True)
class Verification:
    """A verification by compliance staff: accepted (closes the item) or rejected."""

    outcome: str
    comment: str
    verifier: str
    verified_at: datetime


@dataclass(frozen=True)
class DueExtension:
    """A due date moved by a supervisor."""

    previous: date
    due_date: date
    reason: str
    approver: str
    extended_at: datetime


def due_date_for(opened_at: datetime, severity: str, rules: RectificationRules) -> date:
    """The default due date: N days per severity from the opening day (domain.md section 0)."""
    return deadline(opened_at, rules.days_for(severity))[0]


def check_finding(finding: Finding) -> None:
    """A severity of the list and a non-negative amount (422 naming the field)."""
    if finding.severity not in SEVERITIES:
        raise InvalidInput("finding.severity", f"must be one of {', '.join(SEVERITIES)}")
    if finding.amount is not None and finding.amount < 0:
        raise InvalidInput("finding.amount", "must not be negative")
    for name in ("summary", "description", "basis"):
        if not getattr(finding, name).strip():
            raise InvalidInput(f"finding.{name}", "must not be blank")


def check_source(source: Source) -> None:
    if source.kind not in SOURCE_KINDS:
        raise InvalidInput("source.kind", f"must be one of {', '.join(SOURCE_KINDS)}")
    if not source.ref.strip():
        raise InvalidInput("source.ref", "must not be blank")


class RectificationItem(Aggregate):
    """A rectification item (整改事项) and its lifecycle."""

    @classmethod
    def open(
        cls,
        *,
        source: Source,
        finding: Finding,
        department: str,
        owner: str,
        due_date: date | None,
        rules: RectificationRules,
        occurred_at: datetime,
        actor: Actor,
        complaint_ids: Sequence[UUID] = (),
        report_id: UUID | None = None,
    ) -> RectificationItem:
        """Check and open an item; the due date is the source's or the severity's default."""
        check_source(source)
        check_finding(finding)
        if complaint_ids and source.kind != "complaint":
            raise InvalidInput("source.kind", "items opened from complaints have kind complaint")
        if report_id is not None and source.kind != "report":
            raise InvalidInput("source.kind", "an item opened from a report has kind report")
        if source.kind == "complaint" and not complaint_ids:
            raise InvalidInput("complaint_ids", "name the decided complaints traced")
        if source.kind == "report" and report_id is None:
            raise InvalidInput("report_id", "name the concluded report")
        if due_date is not None and due_date < cst_date(occurred_at):
            raise InvalidInput("due_date", "must not lie before the day the item is opened")
        return cls(
            source=source,
            finding=finding,
            department=department,
            owner=owner,
            due_date=due_date or due_date_for(occurred_at, finding.severity, rules),
            due_from_source=due_date is not None,
            complaint_ids=list(dict.fromkeys(complaint_ids)),
            report_id=report_id,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Opened")
    def __init__(
        self,
        *,
        source: Source,
        finding: Finding,
        department: str,
        owner: str,
        due_date: date,
        due_from_source: bool,
        complaint_ids: list[UUID],
        report_id: UUID | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.source = source
        self.finding = finding
        self.department = department
        self.owner = owner
        self.original_due_date = due_date
        self.due_date = due_date
        self.due_from_source = due_from_source
        self.complaint_ids = complaint_ids
        self.report_id = report_id
        self.opened_at = occurred_at
        self.opened_by = actor
        self.state = OPEN
        self.measures: list[str] = []
        self.milestones: list[Milestone] = []
        self.progress: list[ProgressNote] = []
        self.submitted_evidence: list[ItemEvidence] = []
        self.submitted_at: datetime | None = None
        self.submitted_by: str | None = None
        self.verifications: list[Verification] = []
        self.extensions: list[DueExtension] = []
        self.closed_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None

    # -- derived -----------------------------------------------------------------------------

    @property
    def due_at(self) -> datetime:
        """The last instant of the due date (23:59:59.999999 CST)."""
        return end_of_day(self.due_date)

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED

    def overdue(self, at: datetime) -> bool:
        """Not verified (closed) by the due date, evaluated at `at`; a cancelled item is not."""
        return not self.is_ended and at > self.due_at

    @property
    def closed_late(self) -> bool | None:
        """Whether the item was verified after its due date (None while not closed)."""
        return None if self.closed_at is None else self.closed_at > self.due_at

    @property
    def verification(self) -> Verification | None:
        """The accepting verification of a closed item."""
        return self.verifications[-1] if self.closed_at is not None else None

    @property
    def evidence(self) -> list[ItemEvidence]:
        """Every piece of evidence given: with progress notes, then with submissions."""
        noted = [e for note in self.progress for e in note.evidence]
        return [*noted, *self.submitted_evidence]

    # -- commands ----------------------------------------------------------------------------

    @event("Planned")
    def plan(
        self, measures: list[str], milestones: list[Milestone], occurred_at: datetime, actor: Actor
    ) -> None:
        """Record (or revise) the measures and milestones; the item becomes planned."""
        self._check_changeable()
        self.measures = list(measures)
        self.milestones = list(milestones)
        if self.state == OPEN:
            self.state = PLANNED

    @event("ProgressNoted")
    def note_progress(
        self, note: str, evidence: list[ItemEvidence], occurred_at: datetime, actor: Actor
    ) -> None:
        """Note progress with evidence (any number of times); the item is in progress."""
        self._check_changeable()
        if self.state == OPEN:
            raise NotPlanned("plan the measures before noting progress")
        self.progress.append(ProgressNote(note, tuple(evidence), occurred_at, actor.name))
        self.state = IN_PROGRESS

    @event("Submitted")
    def submit(self, evidence: list[ItemEvidence], occurred_at: datetime, actor: Actor) -> None:
        """Submit for verification with the evidence of rectification."""
        self._check_changeable()
        if self.state == OPEN:
            raise NotPlanned("plan the measures before submitting for verification")
        self.submitted_evidence.extend(evidence)
        self.submitted_at = occurred_at
        self.submitted_by = actor.name
        self.state = SUBMITTED

    @event("Verified")
    def verify(self, outcome: str, comment: str, occurred_at: datetime, actor: Actor) -> None:
        """Accept (the item is closed, 销号) or reject back to in progress with reasons."""
        if self.is_ended:
            raise RectificationEnded(f"the item is {self.state}")
        if self.state != SUBMITTED:
            raise NotSubmitted("the item must be submitted for verification first")
        if outcome not in OUTCOMES:
            raise InvalidInput("outcome", f"must be one of {', '.join(OUTCOMES)}")
        if outcome == "rejected" and not comment.strip():
            raise InvalidInput("comment", "a rejection gives its reasons")
        if actor.name in (self.owner, self.submitted_by):
            raise FourEyes("the verifier must be neither the owner nor the submitter")
        self.verifications.append(Verification(outcome, comment, actor.name, occurred_at))
        if outcome == "accepted":
            self.state = CLOSED
            self.closed_at = occurred_at
        else:
            self.state = IN_PROGRESS

    @event("Extended")
    def extend(self, due_date: date, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """A supervisor moves the due date later, with the reason (the supervisor approves)."""
        if self.is_ended:
            raise RectificationEnded(f"the item is {self.state}")
        if due_date <= self.due_date:
            raise ExtensionNotLater(f"the new due date must be after {self.due_date.isoformat()}")
        self.extensions.append(
            DueExtension(self.due_date, due_date, reason, actor.name, occurred_at)
        )
        self.due_date = due_date

    @event("Cancelled")
    def cancel(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Cancel the item (a finding withdrawn or merged), with the reason."""
        if self.is_ended:
            raise RectificationEnded(f"the item is {self.state}")
        self.state = CANCELLED
        self.cancelled_at = occurred_at
        self.cancel_reason = reason

    def _check_changeable(self) -> None:
        if self.is_ended:
            raise RectificationEnded(f"the item is {self.state}")
        if self.state == SUBMITTED:
            raise AwaitingVerification("the item waits for its verification")

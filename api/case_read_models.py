"""Response models of the complaint and dispute reads (see `api/read_models.py`).

A body's own fields are exact; the records inside it (a decision, a mediation round, a
person's opened data) list their fields and let a field added later through, so a new
field in a record never turns a read into an error.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.read_models import INSTANT, MONEY, Instant, Money, ReadModel


class Record(BaseModel):
    """A record inside a body: these fields, and any added later."""

    model_config = ConfigDict(extra="allow")


class PersonData(Record):
    """A person's data opened for the reader (`"[erased]"` after erasure)."""

    id: str | None = None
    name: str | None = None
    phone: str | None = None


# -- complaints -----------------------------------------------------------------------------


class QueueLine(ReadModel):
    id: str
    status: str
    channel: str
    cause: str
    line: str
    region: str
    handler: str | None
    due_date: str
    due_at: Instant = Field(description=INSTANT)
    overdue: bool
    escalated: bool
    escalation_reasons: list[str]
    extension_level: int
    urges: int


class Queue(ReadModel):
    queue: str
    page: int
    size: int
    total: int
    evaluated_at: Instant
    items: list[QueueLine]


class Extension(Record):
    level: int
    reason: str
    approver: str
    occurred_at: Instant


class Decision(Record):
    outcome: str
    redress: Money = Field(description=MONEY)
    facts: str
    basis: str
    decided_at: Instant


class Notice(Record):
    method: str
    delivered_at: Instant | None
    remedies: list[str]
    notified_at: Instant


class Review(Record):
    reason: str
    requested_at: Instant
    outcome: str | None = None
    basis: str | None = None
    decided_at: Instant | None = None


class Evidence(Record):
    name: str
    sha256: str
    ref: str


class Complaint(ReadModel):
    """The case with its clocks, computed for `evaluated_at`."""

    id: str
    version: int
    status: str
    channel: str
    transfer_id: str | None
    complainant: PersonData | str
    agent: PersonData | str | None
    matter: str
    request: str
    facts: str | None
    cause: str
    line: str
    region: str
    policy_id: str | None
    claim_id: str | None
    handler: str | None
    handlers_recused: list[str]
    received_at: Instant
    clock_start: Instant
    due_date: str
    due_at: Instant
    overdue: bool
    deadline_met: bool | None
    extension_level: int
    paused: bool
    paused_days: int
    escalated: bool
    escalation_reasons: list[str]
    evaluated_at: Instant
    urges: int
    extensions: list[Extension]
    decision: Decision | None
    root_causes: list[str] | None = Field(default=None, description="from the decision")
    responsible_department: str | None = Field(default=None, description="from the decision")
    notice: Notice | None
    review: Review | None
    review_due_date: str | None
    closed_at: Instant | None
    merged_into: str | None
    duplicates: list[str]
    evidence: list[Evidence]
    created_at: Instant
    updated_at: Instant
    disputes: list[str] = Field(description="ids of the disputes about this complaint")
    rectification_items: list[str] = Field(
        default_factory=list, description="rectification items traced from this complaint"
    )


class Deadlines(ReadModel):
    received_at: Instant
    due_date: str
    due_at: Instant
    extension_level: int
    paused_days: int
    notified_at: Instant | None
    met: bool | None


class MergedDuplicate(ReadModel):
    id: str
    channel: str
    transfer_id: str | None
    received_at: Instant


class StepActor(ReadModel):
    name: str
    role: str


class Step(ReadModel):
    version: int
    step: str
    step_zh: str
    occurred_at: Instant
    recorded_at: Instant
    by: StepActor
    detail: Record = Field(description="the step's own fields (they differ by step)")


class ClosureReport(ReadModel):
    """The closure report (结案报告) generated from the history."""

    complaint_id: str
    status: str
    channel: str
    transfer_id: str | None
    complainant: PersonData | str
    matter: str
    request: str
    cause: str
    line: str
    region: str
    facts: str | None
    basis: str | None
    outcome: str | None
    redress: Money | None
    root_causes: list[str] | None = None
    responsible_department: str | None = None
    notice: Notice | None
    remedies: list[str]
    deadlines: Deadlines
    extensions: list[Extension]
    duplicates: list[MergedDuplicate]
    review: Review | None
    timeline: list[Step]
    generated_at: Instant


class FeedItem(ReadModel):
    transfer_id: str
    complaint_id: str
    master_id: str | None
    state: str
    outcome: str | None
    decided_at: Instant | None
    notified_at: Instant | None
    closed_at: Instant | None
    position: int


class Feed(ReadModel):
    after: int
    next: int = Field(description="the position to ask after next time")
    items: list[FeedItem]


class RiskCustomer(ReadModel):
    customer: PersonData | str = Field(description="regulators see a keyed pseudonym")
    level: str
    reasons: list[str]
    complaints_90d: int
    transfers_12378_365d: int
    repeats_after_closure_365d: int
    urgings_90d: int
    disputes: int
    evaluated_at: Instant


class RiskCustomers(ReadModel):
    items: list[RiskCustomer]


# -- disputes -------------------------------------------------------------------------------


class DisputeLine(ReadModel):
    id: str
    state: str
    matter: str
    open_windows: list[str]


class DisputesAssigned(ReadModel):
    items: list[DisputeLine]


class Session(Record):
    held_at: Instant
    recording_ref: str
    online: bool


class Title(Record):
    """An enforceable title: a mediation agreement or an arbitral award."""

    kind: str
    round: int
    amount: Money
    effective_at: Instant
    performance_due: str
    enforceable: bool


class Mediation(Record):
    round: int
    mediator: str
    requested_at: Instant
    accepted_at: Instant | None = None
    extended_until: str | None = None
    sessions: list[Session] = []
    agreement: Title | None = None
    terms: str | None = None
    failed_at: Instant | None = None
    failure_reason: str | None = None
    superseded_at: Instant | None = None


class Confirmation(Record):
    round: int
    court: str
    agreement_round: int
    requested_at: Instant
    case_no: str | None = None
    applied_at: Instant | None = None
    accepted_at: Instant | None = None
    ruled_at: Instant | None = None
    granted: bool | None = None
    reason: str | None = None


class Arbitration(Record):
    round: int
    arbitrator: str
    consent: bool
    requested_at: Instant
    case_no: str | None = None
    accepted_at: Instant | None = None
    hearings: list[Session] = []
    award: Title | None = None
    decision: str | None = None
    superseded_at: Instant | None = None


class Enforcement(Record):
    court: str
    requested_at: Instant
    applied_at: Instant | None = None
    enforced_at: Instant | None = None
    amount: Money | None = None


class Window(ReadModel):
    name: str
    round: int
    starts_at: Instant
    due_date: str
    due_at: Instant
    status: str = Field(description="open, met or missed")
    met: bool | None
    done_at: Instant | None


class Dispute(ReadModel):
    """The dispute with its state and every window, computed for `evaluated_at`."""

    id: str
    version: int
    state: str
    origin: str = Field(description="complaint, claim or direct")
    party: PersonData | str
    amount: Money
    matter: str
    complaint_id: str | None
    claim_id: str | None
    mediator: str | None
    arbitrator: str | None
    confirmation_court: str | None
    enforcement_court: str | None
    mediations: list[Mediation]
    arbitrations: list[Arbitration]
    confirmations: list[Confirmation]
    title: Title | None
    paid: Money
    outstanding: Money | None
    enforcement: Enforcement | None
    windows: list[Window]
    ended_at: Instant | None
    end_reason: str | None
    evaluated_at: Instant
    created_at: Instant
    updated_at: Instant

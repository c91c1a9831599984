"""A dispute's windows and statistics inputs, derived at every read from the recorded facts.

Nothing here is stored: `dispute_windows` evaluates every window the dispute has opened at
a stated instant with the rules then in force, from business dates (`accepted_at`,
`signed_at`, `applied_at`, `ruled_at`...), so a late recording counts by when it happened.
A window's status is `met` (its step came by the due instant), `missed` (late, or due and
still absent), `open` (not due, step absent), `cancelled` (the dispute left the step before
it was due) or, for the set-aside window, which nobody owes, `expired`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from domain.common import cst_date, end_of_day
from domain.dispute_rules import (
    DisputeRules,
    Due,
    confirmation_application_due,
    confirmation_decision_dues,
    enforcement_application_due,
    mediation_period_due,
    mediator_acceptance_due,
    set_aside_due,
)
from domain.dispute_values import AGREEMENT, Payment, Title
from domain.lines import HEALTH

if TYPE_CHECKING:
    from domain.disputes import Dispute

OPEN, MET, MISSED, CANCELLED, EXPIRED = "open", "met", "missed", "cancelled", "expired"
WINDOWS = (
    "mediator_acceptance",
    "mediation_period",
    "confirmation_application",
    "confirmation_decision_target",
    "confirmation_decision_maximum",
    "performance",
    "set_aside",
    "enforcement_application",
)


@dataclass(frozen=True)
class Window:
    """One clock of a dispute evaluated at an instant: its due date and whether it was met."""

    name: str
    round: int
    starts_at: datetime
    due_date: date
    due_at: datetime
    status: str
    done_at: datetime | None


@dataclass(frozen=True)
class DisputeFacts:
    """What the regulatory statistics count for one dispute (durations in CST calendar days)."""

    opened_at: datetime
    origin: str
    state: str
    amount_claimed: Decimal
    mediation_rounds: int
    mediations_accepted: int
    agreements_signed: int
    mediations_failed: int
    confirmations_applied: int
    confirmations_granted: int
    confirmations_rejected: int
    awarded: bool
    performed: bool
    enforced: bool
    amount_owed: Decimal | None
    amount_paid: Decimal
    amount_enforced: Decimal | None
    first_agreement_at: datetime | None
    award_issued_at: datetime | None
    performed_at: datetime | None
    enforced_at: datetime | None
    ended_at: datetime | None
    days_to_agreement: int | None
    days_to_award: int | None
    days_to_resolution: int | None

    @property
    def mediation_succeeded(self) -> bool:
        """At least one mediation round ended in a signed agreement."""
        return self.agreements_signed > 0


def _first(*instants: datetime | None) -> datetime | None:
    present = [t for t in instants if t is not None]
    return min(present) if present else None


def _window(
    name: str,
    round: int,
    starts_at: datetime,
    due: Due,
    done_at: datetime | None,
    stopped_at: datetime | None,
    now: datetime,
) -> Window:
    due_date, due_at = due
    if done_at is not None:
        status = MET if done_at <= due_at else MISSED
    elif stopped_at is not None and stopped_at <= due_at:
        status = CANCELLED
    else:
        status = MISSED if now > due_at else OPEN
    return Window(name, round, starts_at, due_date, due_at, status, done_at)


def performed_at(title: Title, payments: list[Payment]) -> datetime | None:
    """When the payments towards `title`, in order of payment, first covered its amount."""
    total = Decimal("0.00")
    own = [p for p in payments if (p.title_kind, p.title_round) == (title.kind, title.round)]
    for payment in sorted(own, key=lambda p: p.paid_at):
        total += payment.amount
        if total >= title.amount:
            return payment.paid_at
    return None


def dispute_windows(d: Dispute, now: datetime, rules: DisputeRules) -> tuple[Window, ...]:
    """Every window the dispute has opened, evaluated at `now`, in order of their start."""
    found: list[Window] = []
    for m in d.mediations:
        due = mediator_acceptance_due(m.requested_at, rules)
        stop = _first(m.failed_at, m.superseded_at, d.ended_at)
        found.append(_window(WINDOWS[0], m.round, m.requested_at, due, m.accepted_at, stop, now))
        if m.accepted_at is not None:
            due = mediation_period_due(m.accepted_at, m.extended_until, rules)
            found.append(
                _window(WINDOWS[1], m.round, m.accepted_at, due, m.concluded_at, d.ended_at, now)
            )
    for c in d.confirmations:
        if c.accepted_at is None:
            continue
        target, maximum = confirmation_decision_dues(c.accepted_at, rules)
        for name, due in ((WINDOWS[3], target), (WINDOWS[4], maximum)):
            found.append(_window(name, c.round, c.accepted_at, due, c.ruled_at, d.ended_at, now))
    titles = [m.agreement for m in d.mediations if m.agreement is not None]
    titles += [a.award for a in d.arbitrations if a.award is not None]
    for t in titles:
        found.extend(_title_windows(d, t, now, rules))
    order = {name: i for i, name in enumerate(WINDOWS)}
    return tuple(sorted(found, key=lambda w: (w.starts_at, order[w.name], w.round)))


def _title_windows(d: Dispute, t: Title, now: datetime, rules: DisputeRules) -> list[Window]:
    """The windows an agreement or an award opens (confirmation, performance, set-aside...)."""
    found: list[Window] = []
    paid_at = performed_at(t, d.payments)
    rejected_at: datetime | None = None
    if t.kind == AGREEMENT:
        applied = [c for c in d.confirmations if c.agreement_round == t.round]
        done = _first(*(c.applied_at or c.requested_at for c in applied))
        due = confirmation_application_due(t.effective_at, rules)
        stop = _first(paid_at, d.ended_at)
        found.append(_window(WINDOWS[2], t.round, t.effective_at, due, done, stop, now))
        rejected_at = _first(*(c.ruled_at for c in applied if c.granted is False))
    else:
        day, last = set_aside_due(t.effective_at, rules)
        status = OPEN if now <= last else EXPIRED
        found.append(Window(WINDOWS[6], t.round, t.effective_at, day, last, status, None))
    perf = (t.performance_due, end_of_day(t.performance_due))
    stop = _first(rejected_at, d.ended_at)
    found.append(_window(WINDOWS[5], t.round, t.effective_at, perf, paid_at, stop, now))
    # A confirmation makes the current title enforceable, not the copy kept in its round.
    c = d.title
    enforceable = c is not None and (c.kind, c.round) == (t.kind, t.round) and c.enforceable
    late = paid_at is None or paid_at > perf[1]
    if enforceable and late and (now > perf[1] or d.enforcement is not None):
        due = enforcement_application_due(t.performance_due, rules)
        applied_at = d.enforcement.applied_at if d.enforcement else None
        stop = _first(paid_at, d.ended_at)
        found.append(_window(WINDOWS[7], t.round, perf[1], due, applied_at, stop, now))
    return found


def _days(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else (cst_date(end) - cst_date(start)).days


def dispute_facts(d: Dispute) -> DisputeFacts:
    """The statistics inputs of one dispute: counts, outcomes, amounts and durations."""
    agreements = [m.agreement for m in d.mediations if m.agreement is not None]
    awards = [a.award for a in d.arbitrations if a.award is not None]
    first_agreement_at = agreements[0].effective_at if agreements else None
    award_issued_at = awards[0].effective_at if awards else None
    paid_at = performed_at(d.title, d.payments) if d.title is not None else None
    e = d.enforcement
    enforced_at = e.enforced_at if e is not None else None
    resolved_at = paid_at or enforced_at
    return DisputeFacts(
        opened_at=d.opened_at,
        origin=d.origin,
        state=d.state,
        amount_claimed=d.amount,
        mediation_rounds=len(d.mediations),
        mediations_accepted=sum(1 for m in d.mediations if m.accepted_at is not None),
        agreements_signed=len(agreements),
        mediations_failed=sum(1 for m in d.mediations if m.failed_at is not None),
        confirmations_applied=len(d.confirmations),
        confirmations_granted=sum(1 for c in d.confirmations if c.granted is True),
        confirmations_rejected=sum(1 for c in d.confirmations if c.granted is False),
        awarded=bool(awards),
        performed=paid_at is not None,
        enforced=enforced_at is not None,
        amount_owed=d.title.amount if d.title is not None else None,
        amount_paid=d.paid,
        amount_enforced=e.amount if e is not None else None,
        first_agreement_at=first_agreement_at,
        award_issued_at=award_issued_at,
        performed_at=paid_at,
        enforced_at=enforced_at,
        ended_at=d.ended_at,
        days_to_agreement=_days(d.opened_at, first_agreement_at),
        days_to_award=_days(d.opened_at, award_issued_at),
        days_to_resolution=_days(d.opened_at, resolved_at),
    )


class Complained(Protocol):
    """What a dispute's statistics take from the complaint it came from."""

    cause: str
    line: str
    region: str


class Claimed(Protocol):
    """What a dispute's statistics take from the claim it came from."""

    region: str


Dimensions = tuple[str | None, str | None, str | None]


def origin_dimensions(
    d: Dispute,
    complaint: Callable[[UUID], Complained | None],
    claim: Callable[[UUID], Claimed | None],
) -> Dimensions:
    """The cause, product line and region a dispute is counted under: those of the complaint
    it came from, else of the claim (medical insurance, no cause), else none (direct)."""
    if d.complaint_id is not None:
        found = complaint(d.complaint_id)
        if found is not None:
            return found.cause, found.line, found.region
    if d.claim_id is not None:
        settled = claim(d.claim_id)
        if settled is not None:
            return None, HEALTH, settled.region
    return None, None, None

"""Dispute states, value objects, refusals and input checks, without I/O.

Refusals form one tree under `DisputeError`, each naming its `rule`: `InvalidTransition` (a
step out of order; `StepNotRequested` and `NotAccepted` narrow it), `DisputeEnded` (the
dispute was withdrawn or closed), the window refusals (`MediatorAcceptanceLate`,
`MediationPeriodExpired`, `ConfirmationWindowClosed`, `PerformanceNotDue`,
`EnforcementWindowClosed`) and the rest named after their rule. Malformed input is the
shared `InvalidInput` (422).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from domain.common import CENT, Actor, DomainError, InvalidInput
from domain.personal import Sealed, Text

STATES = (
    "open",
    "mediating",
    "agreement_signed",
    "confirmation_pending",
    "confirmed",
    "confirmation_rejected",
    "arbitrating",
    "awarded",
    "performed",
    "enforcement_applied",
    "enforced",
    "withdrawn",
    "closed",
)
ENDED = frozenset({"withdrawn", "closed"})
RESOLVED = frozenset({"performed", "enforced"})
AGREEMENT = "agreement"
AWARD = "award"
PARTY_FIELDS = frozenset({"id", "name"})


class DisputeError(DomainError):
    """Base of the dispute's business-rule refusals."""

    rule = "dispute_rule"


class InvalidTransition(DisputeError):
    """The step does not apply in the dispute's current state (out of order)."""

    rule = "invalid_transition"


class StepNotRequested(InvalidTransition):
    """A partner posted a step that staff have not requested (mediation, confirmation...)."""

    rule = "step_not_requested"


class NotAccepted(InvalidTransition):
    """The step needs the partner's acceptance of the case first."""

    rule = "not_accepted"


class AlreadyAccepted(InvalidTransition):
    """The partner already accepted this request."""

    rule = "already_accepted"


class DisputeEnded(DisputeError):
    """A withdrawn or closed dispute takes no further step."""

    rule = "dispute_ended"


class DisputeWithdrawn(DisputeEnded):
    """The dispute was withdrawn."""

    rule = "dispute_withdrawn"


class DisputeClosed(DisputeEnded):
    """The dispute was closed."""

    rule = "dispute_closed"


class DisputeResolved(DisputeError):
    """A performed or enforced dispute can only be closed."""

    rule = "dispute_resolved"


class PartnerNotNamed(DisputeError):
    """Only the mediator, arbitrator or court the dispute names for a step may post it."""

    rule = "partner_not_named"


class ConsentRequired(DisputeError):
    """Arbitration and an extension of mediation need the parties' recorded consent."""

    rule = "consent_required"


class MediatorAcceptanceLate(DisputeError):
    """The mediator accepts within 3 working days of the request."""

    rule = "mediator_acceptance_window"


class MediationPeriodExpired(DisputeError):
    """Sessions, agreements and extensions fall within the pre-filing mediation period."""

    rule = "mediation_period_expired"


class ConfirmationWindowClosed(DisputeError):
    """Judicial confirmation is applied for within 30 days of the agreement taking effect."""

    rule = "confirmation_application_window"


class AwardAlreadyIssued(DisputeError):
    """An arbitral award is final: a dispute gets one."""

    rule = "award_already_issued"


class NotEnforceable(DisputeError):
    """Enforcement needs a confirmed agreement or an award."""

    rule = "no_enforceable_title"


class PerformanceNotDue(DisputeError):
    """Enforcement waits until the performance deadline has passed unpaid."""

    rule = "performance_deadline_not_passed"


class EnforcementWindowClosed(DisputeError):
    """Enforcement is applied for within 2 years of the performance deadline."""

    rule = "enforcement_application_window"


class AlreadyPerformed(DisputeError):
    """The agreement or award is fully performed: nothing is left to pay or enforce."""

    rule = "already_performed"


class PerformanceExceedsAmount(DisputeError):
    """Payments cannot exceed what the agreement or award still requires."""

    rule = "performance_exceeds_amount"


@dataclass(frozen=True)
class Session:
    """A mediation session or an arbitration hearing, with its recording."""

    held_at: datetime
    recording_ref: str
    online: bool = True


@dataclass(frozen=True)
class Title:
    """What the respondent owes: a signed agreement (调解协议) or an award (仲裁裁决)."""

    kind: str
    round: int
    amount: Decimal
    effective_at: datetime
    performance_due: date
    enforceable: bool


@dataclass(frozen=True)
class Mediation:
    """One round of pre-filing mediation (诉前调解), from the request to its outcome."""

    round: int
    mediator: str
    requested_at: datetime
    accepted_at: datetime | None = None
    extended_until: date | None = None
    sessions: tuple[Session, ...] = ()
    agreement: Title | None = None
    terms: Text | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    superseded_at: datetime | None = None

    @property
    def concluded_at(self) -> datetime | None:
        """When the round produced its outcome: the agreement's signing or the failure."""
        return self.agreement.effective_at if self.agreement else self.failed_at


@dataclass(frozen=True)
class Confirmation:
    """One application for judicial confirmation (司法确认) of a mediation agreement."""

    round: int
    court: str
    agreement_round: int
    requested_at: datetime
    case_no: str | None = None
    applied_at: datetime | None = None
    accepted_at: datetime | None = None
    ruled_at: datetime | None = None
    granted: bool | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Arbitration:
    """A request for online arbitration (线上仲裁), its hearings and its award."""

    round: int
    arbitrator: str
    consent: bool
    requested_at: datetime
    case_no: str | None = None
    accepted_at: datetime | None = None
    hearings: tuple[Session, ...] = ()
    award: Title | None = None
    decision: Text | None = None
    superseded_at: datetime | None = None


@dataclass(frozen=True)
class Payment:
    """A performance (履行) of the current title, optionally linked to a claim remittance."""

    amount: Decimal
    paid_at: datetime
    title_kind: str
    title_round: int
    remittance_ref: str | None = None


@dataclass(frozen=True)
class Enforcement:
    """Compulsory enforcement (强制执行) by the named court."""

    court: str
    requested_at: datetime
    applied_at: datetime | None = None
    enforced_at: datetime | None = None
    amount: Decimal | None = None


Step = TypeVar("Step", Mediation, Arbitration)


def accepted(step: Step | None) -> Step:
    """The mediation or arbitration, refused unless its partner has accepted the case."""
    if step is None or step.accepted_at is None:
        raise NotAccepted("the partner has not accepted the case")
    return step


def check_state(state: str, action: str, allowed: Collection[str]) -> None:
    """Refuse a step outside the `allowed` states, naming why (ended, resolved, out of order)."""
    if state in allowed:
        return
    if state == "withdrawn":
        raise DisputeWithdrawn(f"cannot {action}: the dispute was withdrawn")
    if state == "closed":
        raise DisputeClosed(f"cannot {action}: the dispute is closed")
    if state in RESOLVED:
        raise DisputeResolved(f"cannot {action}: the dispute is {state}")
    raise InvalidTransition(f"cannot {action} a dispute that is {state}")


def check_partner(actor: Actor, named: str, step: str) -> None:
    """A partner acts only on the step it was named for (staff actors carry no partner)."""
    if actor.partner_id is not None and actor.partner_id != named:
        raise PartnerNotNamed(f"the dispute names {named!r}, not {actor.partner_id!r}, {step}")


def check_not_before(field: str, instant: datetime, earlier: datetime, what: str) -> None:
    """Refuse an instant without a UTC offset, or one before `earlier` (`what` names it)."""
    check_aware(field, instant)
    if instant < earlier:
        raise InvalidInput(field, f"precedes {what}")


def check_text(field: str, value: str | None) -> str:
    """Refuse a missing or blank text field."""
    if value is None or not value.strip():
        raise InvalidInput(field, "must not be empty")
    return value


def check_aware(field: str, value: datetime) -> datetime:
    """Refuse an instant without a UTC offset."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must be an instant with a UTC offset")
    return value


def check_money(field: str, amount: Decimal) -> Decimal:
    """An amount in CNY: a finite Decimal, not negative, at most 2 decimals."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise InvalidInput(field, "must be a non-negative decimal amount")
    try:
        rounded = amount.quantize(CENT)
    except InvalidOperation:
        raise InvalidInput(field, "is too large") from None
    if rounded != amount:
        raise InvalidInput(field, "must have at most 2 decimals")
    return rounded


def check_party(party: dict[str, Sealed]) -> None:
    """The party: exactly a sealed id and a sealed name."""
    if party.keys() != PARTY_FIELDS or not all(isinstance(v, Sealed) for v in party.values()):
        raise InvalidInput("party", "needs exactly id and name, both sealed")

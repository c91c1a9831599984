"""Commercial policies, the index of policies per insured person, and offline claims."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, DomainError, add_months, stream_id
from domain.personal import Sealed


class PolicyError(DomainError):
    """Base of policy refusals."""


class InsuredMismatch(PolicyError):
    """A policy cannot be re-issued to another insured person."""

    rule = "insured_mismatch"


class PolicyAlreadyCancelled(PolicyError):
    """A cancelled policy stays cancelled."""

    rule = "policy_cancelled"


class PolicyIdTaken(PolicyError):
    """Policy ids are one namespace across insurers: another insurer's id cannot be issued."""

    rule = "policy_id_taken"


class OutsidePolicyPeriod(PolicyError):
    """A date that the policy period does not cover."""

    rule = "outside_policy_period"


def policy_stream_id(policy_id: str) -> UUID:
    return stream_id("policy", policy_id)


def insured_index_id(person_ref: str) -> UUID:
    """Policies per insured person, found by the person's blind index, never the id."""
    return stream_id("insured", person_ref)


class Policy(Aggregate):
    """A commercial policy: product, insured person and period; amended or cancelled later."""

    @staticmethod
    def create_id(policy_id: str) -> UUID:
        return policy_stream_id(policy_id)

    @event("Issued")
    def __init__(
        self,
        policy_id: str,
        product_code: str,
        insured_ref: str,
        insured_id: Sealed,
        insured_name: Sealed,
        period_start: date,
        period_end: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.policy_id = policy_id
        self.product_code = product_code
        self.insured_ref = insured_ref
        self.insured_id = insured_id
        self.insured_name = insured_name
        self.period_start = period_start
        self.period_end = period_end
        self.cancelled_from: date | None = None
        self.offline_paid = Decimal("0.00")
        self.insurer = actor.partner_id  # the policy belongs to the insurer that issued it

    def issued_by(self, partner_id: str | None) -> bool:
        """True when this partner issued the policy (only it may amend, cancel or claim)."""
        return partner_id is not None and self.insurer == partner_id

    def amend(
        self,
        product_code: str,
        insured_ref: str,
        insured_name: Sealed,
        period_start: date,
        period_end: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """A re-issue of the same policy id amends it (same insured person only)."""
        if insured_ref != self.insured_ref:
            raise InsuredMismatch("the policy was issued to another insured person")
        if self.cancelled_from is not None:
            raise PolicyAlreadyCancelled("the policy is cancelled")
        self._amended(
            product_code=product_code,
            insured_name=insured_name,
            period_start=period_start,
            period_end=period_end,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Amended")
    def _amended(
        self,
        product_code: str,
        insured_name: Sealed,
        period_start: date,
        period_end: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.product_code = product_code
        self.insured_name = insured_name
        self.period_start = period_start
        self.period_end = period_end

    def cancel(self, effective: date, occurred_at: datetime, actor: Actor) -> None:
        """Cancel from a date on; admissions before it stay covered."""
        if self.cancelled_from is not None:
            raise PolicyAlreadyCancelled("the policy is already cancelled")
        self._cancelled(effective=effective, occurred_at=occurred_at, actor=actor)

    @event("Cancelled")
    def _cancelled(self, effective: date, occurred_at: datetime, actor: Actor) -> None:
        self.cancelled_from = effective

    def record_offline_claim(
        self,
        paid_at: date,
        amount: Decimal,
        deductible_applied: Decimal,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """A claim paid outside the one-stop channel (it consumes the same deductible/limit)."""
        if not self.period_start <= paid_at <= self.period_end:
            raise OutsidePolicyPeriod("paid_at lies outside the policy period")
        self._offline_claim_paid(
            paid_at=paid_at,
            amount=amount,
            deductible_applied=deductible_applied,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("OfflineClaimPaid")
    def _offline_claim_paid(
        self,
        paid_at: date,
        amount: Decimal,
        deductible_applied: Decimal,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.offline_paid += amount

    def covers(self, day: date) -> bool:
        """Active on a day: inside the period and before any cancellation."""
        if self.cancelled_from is not None and day >= self.cancelled_from:
            return False
        return self.period_start <= day <= self.period_end

    def policy_year_start(self, day: date) -> date:
        """Start of the policy year containing `day` (years counted from the period start)."""
        years = max(0, day.year - self.period_start.year)
        start = add_months(self.period_start, 12 * years)
        if start > day and years > 0:
            start = add_months(self.period_start, 12 * (years - 1))
        return start


class InsuredIndex(Aggregate):
    """The policies ever issued to one insured person (found when an admission names none)."""

    # Its events may be replayed again (`application.ledger`, within a batch): `policy_ids`
    # is its own list of strings.
    events_reusable = True

    @staticmethod
    def create_id(person_ref: str) -> UUID:
        return insured_index_id(person_ref)

    @event("Opened")
    def __init__(self, person_ref: str) -> None:
        self.person_ref = person_ref
        self.policy_ids: list[str] = []

    @event("PolicyListed")
    def list_policy(self, policy_id: str) -> None:
        self.policy_ids.append(policy_id)

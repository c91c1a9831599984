"""Accumulators: social-insurance fund paid per person per calendar year, and commercial
deductible and limit used per policy year. Saved atomically with the claims that move them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import ZERO, Actor, DomainError, stream_id

FUND_PAID = "fund_paid"
DEDUCTIBLE_USED = "deductible_used"
LIMIT_USED = "limit_used"


class AccumulatorUnderflow(DomainError):
    """A give-back larger than what was consumed (a bug or a forged history)."""

    rule = "accumulator_underflow"


SI_FUND = "si_fund"
POLICY_YEAR = "policy_year"


def accumulator_id(kind: str, key: str) -> UUID:
    return stream_id("accumulator", kind, key)


def fund_key(person_id: str, year: int) -> str:
    """Social-insurance fund paid to one person in one calendar year."""
    return f"{person_id}/{year}"


def policy_year_key(policy_id: str, year_start: date) -> str:
    """Commercial deductible and limit used on one policy in one policy year."""
    return f"{policy_id}/{year_start.isoformat()}"


class Accumulator(Aggregate):
    """Running totals that settlements consume; optimistic concurrency keeps them exact."""

    # Its events may be replayed again (`application.ledger`, within a batch): `totals` is
    # its own dict, and `deltas` is only read.
    events_reusable = True

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return accumulator_id(kind, key)

    @event("Opened")
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.totals: dict[str, Decimal] = {}

    def total(self, field: str) -> Decimal:
        return self.totals.get(field, ZERO)

    def move(
        self,
        deltas: dict[str, Decimal],
        cause: UUID,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """Consume (positive) or give back (negative) amounts; totals never go below zero."""
        for field, delta in deltas.items():
            if self.total(field) + delta < ZERO:
                raise AccumulatorUnderflow(f"{self.kind} {field} would fall below zero")
        self._moved(deltas=deltas, cause=cause, reason=reason, occurred_at=occurred_at, actor=actor)

    @event("Moved")
    def _moved(
        self,
        deltas: dict[str, Decimal],
        cause: UUID,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        for field, delta in deltas.items():
            self.totals[field] = self.total(field) + delta

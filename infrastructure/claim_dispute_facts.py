"""Fact views of claims (one-stop settlements), claims paid outside the one-stop channel,
and disputes, for the statistics. Amounts are kept in cents, so the database sums them
exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.utils import get_topic

from domain.claims import Claim
from domain.dispute_windows import Dimensions
from domain.disputes import Dispute
from domain.lines import HEALTH, company_type
from domain.policies import Policy
from infrastructure.dialect import Statement
from infrastructure.fact_views import FactView, cst, ensure_table
from infrastructure.projections import Cursor


def cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * 100)


class ClaimFacts(FactView):
    """One row per claim: when it was admitted, discharged and settled, and the split."""

    name = "claim_facts"
    table = "view_claim_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("hospital", "TEXT NOT NULL"),
        ("region", "TEXT NOT NULL"),
        ("social_insurance", "BOOLEAN NOT NULL"),
        ("admitted_at", "TEXT NOT NULL"),
        ("discharged_at", "TEXT"),
        ("settled_at", "TEXT"),
        ("status", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),  # one_stop
        ("line", "TEXT NOT NULL"),  # medical insurance: health
        ("company_type", "TEXT NOT NULL"),
        ("medfee_cents", "BIGINT"),
        ("si_cents", "BIGINT"),
        ("commercial_cents", "BIGINT"),
        ("patient_cents", "BIGINT"),
        ("settle_seconds", "BIGINT"),  # discharge to settlement
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("settled_at",)

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Claim, loader)

    def row(self, c: Claim, position: int) -> tuple[Any, ...]:
        split = c.settlement.split if c.settlement else None
        return (
            str(c.id),
            c.hospital,
            c.region,
            c.social_insurance,
            cst(c.admitted_at),
            cst(c.discharged_at),
            cst(c.settled_at),
            c.status,
            "one_stop",
            HEALTH,
            company_type(HEALTH),
            cents(split.medfee) if split else None,
            cents(split.si_paid) if split else None,
            cents(split.commercial) if split else None,
            cents(split.patient_pays) if split else None,
            (
                round((c.settled_at - c.discharged_at).total_seconds())
                if c.settled_at and c.discharged_at
                else None
            ),
            position,
        )


class DisputeFactsView(FactView):
    """One row per dispute: origin, outcome counts, amounts and durations."""

    name = "dispute_facts"
    table = "view_dispute_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("opened_at", "TEXT NOT NULL"),
        ("origin", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),  # how it arrived: the origin
        ("cause", "TEXT"),  # the dimensions of the complaint or claim it came from
        ("line", "TEXT"),
        ("region", "TEXT"),
        ("company_type", "TEXT"),
        ("state", "TEXT NOT NULL"),
        ("mediation_rounds", "INTEGER NOT NULL"),
        ("agreements_signed", "INTEGER NOT NULL"),
        ("mediations_failed", "INTEGER NOT NULL"),
        ("confirmations_granted", "INTEGER NOT NULL"),
        ("awarded", "BOOLEAN NOT NULL"),
        ("performed", "BOOLEAN NOT NULL"),
        ("enforced", "BOOLEAN NOT NULL"),
        ("amount_paid_cents", "BIGINT NOT NULL"),
        ("days_to_resolution", "INTEGER"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("opened_at",)

    def __init__(
        self,
        loader: Callable[[Any, int], Any],
        origin: Callable[[Dispute], Dimensions],
    ) -> None:
        super().__init__(Dispute, loader)
        self.origin = origin  # (cause, line, region) of the linked complaint or claim

    def row(self, d: Dispute, position: int) -> tuple[Any, ...]:
        f = d.facts()
        cause, line, region = self.origin(d)
        return (
            str(d.id),
            cst(f.opened_at),
            f.origin,
            f.origin,
            cause,
            line,
            region,
            company_type(line) if line else None,
            f.state,
            f.mediation_rounds,
            f.agreements_signed,
            f.mediations_failed,
            f.confirmations_granted,
            f.awarded,
            f.performed,
            f.enforced,
            cents(f.amount_paid),
            f.days_to_resolution,
            position,
        )


INSERT_OFFLINE_CLAIM = Statement(
    "INSERT INTO view_offline_claims (id, paid_at, amount_cents, position) "
    "VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (id) DO NOTHING"
)


class OfflineClaims:
    """One row per claim paid outside the one-stop channel (`OfflineClaimPaid` of a policy),
    for the one-stop share; such claims carry no region."""

    name = "offline_claims"
    table = "view_offline_claims"
    topics = (f"{get_topic(Policy)}.OfflineClaimPaid",)  # an event class made by @event

    def create(self, cursor: Cursor) -> None:
        columns = (
            ("id", "TEXT PRIMARY KEY"),
            ("paid_at", "TEXT NOT NULL"),
            ("amount_cents", "BIGINT NOT NULL"),
            ("position", "BIGINT NOT NULL"),
        )
        ensure_table(cursor, self.table, columns, {"paid_at": ["paid_at"]}, view=self.name)

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(Statement("DELETE FROM {table}", table=self.table))

    def prepare(self, events: Sequence[tuple[int, Any]]) -> list[tuple[Any, ...]]:
        return [
            (f"{e.originator_id}:{e.originator_version}", cst(e.occurred_at), cents(e.amount), n)
            for n, e in events
        ]

    def apply(self, cursor: Cursor, prepared: list[tuple[Any, ...]]) -> None:
        cursor.executemany(INSERT_OFFLINE_CLAIM, prepared)

"""Fact views of claims (one-stop settlements) and disputes, for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.claims import Claim
from domain.disputes import Dispute
from infrastructure.fact_views import FactView, cst


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
        ("medfee", "TEXT"),
        ("si_paid", "TEXT"),
        ("commercial", "TEXT"),
        ("patient_pays", "TEXT"),
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
            str(split.medfee) if split else None,
            str(split.si_paid) if split else None,
            str(split.commercial) if split else None,
            str(split.patient_pays) if split else None,
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
        ("state", "TEXT NOT NULL"),
        ("mediation_rounds", "INTEGER NOT NULL"),
        ("agreements_signed", "INTEGER NOT NULL"),
        ("mediations_failed", "INTEGER NOT NULL"),
        ("confirmations_granted", "INTEGER NOT NULL"),
        ("awarded", "BOOLEAN NOT NULL"),
        ("performed", "BOOLEAN NOT NULL"),
        ("enforced", "BOOLEAN NOT NULL"),
        ("amount_paid", "TEXT NOT NULL"),
        ("days_to_resolution", "INTEGER"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("opened_at",)

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Dispute, loader)

    def row(self, d: Dispute, position: int) -> tuple[Any, ...]:
        f = d.facts()
        return (
            str(d.id),
            cst(f.opened_at),
            f.origin,
            f.state,
            f.mediation_rounds,
            f.agreements_signed,
            f.mediations_failed,
            f.confirmations_granted,
            f.awarded,
            f.performed,
            f.enforced,
            str(f.amount_paid),
            f.days_to_resolution,
            position,
        )

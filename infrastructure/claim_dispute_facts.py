"""Fact views of claims (one-stop settlements), claims paid outside the one-stop channel,
and disputes, for the statistics. Amounts are kept in cents, so the database sums them
exactly.

Beside each, in the same transaction, a count table per CST month and combination of
dimensions (infrastructure/count_tables.py), which the statistics sum instead of the
period's records: `view_claim_months` (by month settled), `view_offline_claim_months` (by
month paid) and `view_dispute_months` (by month opened)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.utils import get_topic

from domain.claims import Claim
from domain.dispute_windows import Dimensions
from domain.disputes import Dispute
from domain.lines import HEALTH, company_type
from domain.policies import Policy
from infrastructure.count_tables import Cells, CountedFacts, CountTable, Key, month_of
from infrastructure.dialect import Statement, marks
from infrastructure.fact_views import cst, ensure_table
from infrastructure.projections import Cursor


def cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * 100)


CLAIM_KEYS = ("region", "channel", "line", "company_type")
CLAIM_SUMS = (
    "settlements",
    "with_social_insurance",
    "medfee",
    "si",
    "commercial",
    "patient",
    "seconds",  # discharge to settlement, summed over the settlements timed
    "timed",
)
OFFLINE_SUMS = ("offline", "offline_cents")
DISPUTE_KEYS = ("channel", "cause", "line", "region", "company_type")
DISPUTE_SUMS = (
    "opened",
    "mediated",
    "agreed",  # mediated, and an agreement signed
    "confirmations_granted",
    "awards",
    "performed",
    "enforced",
    "paid_cents",
    "resolved",
    "resolution_days",
)
_MONTH = (("month", "TEXT NOT NULL"),)
CLAIM_MONTHS = CountTable(
    "view_claim_months",
    (*_MONTH, *((k, "TEXT NOT NULL") for k in CLAIM_KEYS)),
    tuple((n, "BIGINT NOT NULL") for n in CLAIM_SUMS),
    ("month",),
)
OFFLINE_MONTHS = CountTable(
    "view_offline_claim_months",
    _MONTH,
    tuple((n, "BIGINT NOT NULL") for n in OFFLINE_SUMS),
    ("month",),
)
DISPUTE_MONTHS = CountTable(
    "view_dispute_months",
    (*_MONTH, *((k, "TEXT") for k in DISPUTE_KEYS)),  # null: a direct dispute's origin
    tuple((n, "BIGINT NOT NULL") for n in DISPUTE_SUMS),
    ("month",),
)


class ClaimFacts(CountedFacts):
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
    counts = CLAIM_MONTHS

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Claim, loader)

    def contributions(self, fact: dict[str, Any]) -> Iterable[tuple[Key, Sequence[int]]]:
        """A settled claim adds to its month of settlement (none once cancelled)."""
        month = month_of(fact["settled_at"])
        if month is None:
            return []
        seconds = fact["settle_seconds"]
        sums = (
            1,
            int(bool(fact["social_insurance"])),
            int(fact["medfee_cents"] or 0),
            int(fact["si_cents"] or 0),
            int(fact["commercial_cents"] or 0),
            int(fact["patient_cents"] or 0),
            int(seconds or 0),
            0 if seconds is None else 1,
        )
        return [((month, *(fact[k] for k in CLAIM_KEYS)), sums)]

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


class DisputeFactsView(CountedFacts):
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
    counts = DISPUTE_MONTHS

    def __init__(
        self,
        loader: Callable[[Any, int], Any],
        origin: Callable[[Dispute], Dimensions],
    ) -> None:
        super().__init__(Dispute, loader)
        self.origin = origin  # (cause, line, region) of the linked complaint or claim

    def contributions(self, fact: dict[str, Any]) -> Iterable[tuple[Key, Sequence[int]]]:
        """A dispute adds to its month of opening, with its outcome as it stands."""
        mediated = fact["mediation_rounds"] > 0
        days = fact["days_to_resolution"]
        sums = (
            1,
            int(mediated),
            int(mediated and fact["agreements_signed"] > 0),
            int(fact["confirmations_granted"]),
            int(bool(fact["awarded"])),
            int(bool(fact["performed"])),
            int(bool(fact["enforced"])),
            int(fact["amount_paid_cents"]),
            0 if days is None else 1,
            int(days or 0),
        )
        return [((month_of(fact["opened_at"]), *(fact[k] for k in DISPUTE_KEYS)), sums)]

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

    counts = OFFLINE_MONTHS
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("paid_at", "TEXT NOT NULL"),
        ("amount_cents", "BIGINT NOT NULL"),
        ("position", "BIGINT NOT NULL"),
    )

    def create(self, cursor: Cursor) -> None:
        """The table of claims and its count table (recounted when new beside kept rows)."""
        dropped = ensure_table(
            cursor, self.table, self.columns, {"paid_at": ["paid_at"]}, view=self.name
        )
        if self.counts.create(cursor, drop=dropped) and not dropped:
            self.counts.add(cursor, self.recounted(cursor))

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(Statement("DELETE FROM {table}", table=self.table))
        self.counts.clear(cursor)

    def prepare(self, events: Sequence[tuple[int, Any]]) -> list[tuple[Any, ...]]:
        return [
            (f"{e.originator_id}:{e.originator_version}", cst(e.occurred_at), cents(e.amount), n)
            for n, e in events
        ]

    def apply(self, cursor: Cursor, prepared: list[tuple[Any, ...]]) -> None:
        """Insert the claims not yet recorded, and count them."""
        if not prepared:
            return
        known: set[str] = set()
        for start in range(0, len(prepared), 500):
            ids = [row[0] for row in prepared[start : start + 500]]
            cursor.execute(
                Statement(
                    "SELECT id FROM {t} WHERE id IN ({ids})", t=self.table, ids=marks(len(ids))
                ),
                ids,
            )
            known |= {row[0] for row in cursor.fetchall()}
        new = [row for row in prepared if row[0] not in known]
        cursor.executemany(INSERT_OFFLINE_CLAIM, new)
        self.counts.add(cursor, offline_cells((row[1], row[2]) for row in new))

    def recounted(self, cursor: Cursor) -> Cells:
        """The cells computed afresh from the stored claims."""
        cursor.execute(Statement("SELECT paid_at, amount_cents FROM {t}", t=self.table))
        return offline_cells(cursor.fetchall())


def offline_cells(claims: Iterable[Sequence[Any]]) -> Cells:
    """Offline claims (paid at, amount in cents) counted per CST month paid."""
    cells: Cells = {}
    for paid_at, amount_cents in claims:
        into = cells.setdefault((month_of(paid_at),), [0, 0])
        into[0] += 1
        into[1] += int(amount_cents)
    return cells

"""`view_complaint_facts`: one row per complaint with what the statistics count — channel,
cause, line, region, receipt, decision, notice, closure, extension, pauses, review — and no
personal data. Kept by the projection engine.

Beside it, in the same transaction, two tables of counts that statistics read instead of
scanning every complaint (see complaint_stats.py), kept by moving each changed complaint's
contributions from its old fact row to its new one:
- `view_complaint_periods`: per period (every month, quarter and year) and combination of
  dimensions, the figures of the complaints received (or closed) in it, with the
  period-end conditions (notified before the end, open and overdue at the end) decided
  once, and the complaints entering and leaving the open set in it, whose sums over the
  years, quarters and months before a month boundary give how many were open there.
- `view_complaint_pending`: complaints neither notified nor ended, by month received and
  CST day due — overdue at any instant, for the period still running."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.common import CST, cst_date
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from domain.lines import company_type
from infrastructure.count_tables import CountTable
from infrastructure.dialect import Statement
from infrastructure.fact_views import Batch, FactView, cst
from infrastructure.projections import Cursor


class ComplaintFacts(FactView):
    """The complaint fact table."""

    name = "complaint_facts"
    table = "view_complaint_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("version", "INTEGER NOT NULL"),
        ("received_at", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),
        ("cause", "TEXT NOT NULL"),
        ("line", "TEXT NOT NULL"),
        ("region", "TEXT NOT NULL"),
        ("transfer_id", "TEXT"),
        ("status", "TEXT NOT NULL"),
        ("merged", "BOOLEAN NOT NULL"),
        ("extension_level", "INTEGER NOT NULL"),
        ("paused_days", "INTEGER NOT NULL"),
        ("decided_at", "TEXT"),
        ("notified_at", "TEXT"),
        ("closed_at", "TEXT"),
        ("outcome", "TEXT"),
        ("redress", "TEXT"),
        ("reviewed", "BOOLEAN NOT NULL"),
        ("due_at", "TEXT NOT NULL"),
        ("ended_at", "TEXT"),
        ("days_to_notice", "INTEGER"),
        ("redress_cents", "BIGINT"),
        ("company_type", "TEXT NOT NULL"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("received_at", "ended_at", "notified_at")

    def __init__(self, rules: ComplaintRules, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Complaint, loader)
        self.rules = rules

    def create(self, cursor: Cursor) -> bool:
        """The fact table, and the count tables made from it: recounted when they are new
        or changed, emptied when the fact rows are to be recomputed."""
        dropped = super().create(cursor)
        fresh = dropped
        for table in (PERIODS, PENDING):
            fresh |= table.create(cursor, drop=dropped)
        if fresh and not dropped:
            recount(cursor)  # count tables new beside fact rows that are kept
        return dropped

    def clear(self, cursor: Cursor) -> None:
        super().clear(cursor)
        for table in (PERIODS, PENDING):
            table.clear(cursor)

    def apply(self, cursor: Cursor, prepared: Batch) -> None:
        """Upsert the rows, and move each changed complaint from its old cell to its new."""
        if not prepared.rows:
            return
        names = [n for n, _ in self.columns]
        counts = Counts()
        for row in self.stored(cursor, prepared):
            counts.add(row, -1)
        for new in prepared.rows:
            counts.add(dict(zip(names, new, strict=True)), +1)
        super().apply(cursor, prepared)
        counts.write(cursor)

    def row(self, c: Complaint, position: int) -> tuple[Any, ...]:
        clock = c.clock(c.modified_on, self.rules)
        return (
            str(c.id),
            c.version,
            cst(c.received_at),
            c.channel,
            c.cause,
            c.line,
            c.region,
            c.transfer_id,
            c.status,
            c.merged_into is not None,
            clock.extension_level,
            clock.paused_days,
            cst(c.decision.decided_at) if c.decision else None,
            cst(c.notice.notified_at) if c.notice else None,
            cst(c.closed_at),
            c.decision.outcome if c.decision else None,
            str(c.decision.redress) if c.decision else None,
            c.review is not None,
            cst(clock.due_at),
            cst(c.closed_at or c.ended_at),
            (
                (cst_date(c.notice.notified_at) - cst_date(c.received_at)).days - clock.paused_days
                if c.notice
                else None
            ),
            int(c.decision.redress * 100) if c.decision else None,
            company_type(c.line),
            position,
        )


DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
FIGURES = (
    "received",
    "duplicates_merged",
    "closed",
    "transfers_12378",
    "within_15",
    "days_16_30",
    "days_31_60",
    "later",
    "extended",
    "notified",
    "reviewed",
    "decided",
    "upheld",
    "days_sum",
    "redress_cents",
    "overdue_at_end",  # received in the period, open, unnotified and past due at its end
    "entered",  # received (counted) in this period
    "exited",  # ended in this period (or received in it, if it ended earlier)
)
BUCKETS = ("within_15", "days_16_30", "days_31_60", "later")
COLUMN = {name: i for i, name in enumerate(FIGURES)}


_DIMS = tuple((d, "TEXT NOT NULL") for d in DIMENSIONS)
PERIODS = CountTable(
    "view_complaint_periods",
    (("span", "TEXT NOT NULL"), ("period", "TEXT NOT NULL"), *_DIMS),
    tuple((f, "BIGINT NOT NULL") for f in FIGURES),
    ("span", "period"),
)
PENDING = CountTable(
    "view_complaint_pending",
    (("r_month", "TEXT NOT NULL"), ("due_day", "TEXT NOT NULL"), *_DIMS),
    (("n", "BIGINT NOT NULL"),),
    ("r_month", "due_day"),
)


def periods_of(instant: datetime) -> list[tuple[str, str, datetime]]:
    """The month, quarter and year (CST) an instant falls in: (span, label, end)."""
    local = instant.astimezone(CST)
    y, m = local.year, local.month
    q = (m - 1) // 3
    return [
        ("M", f"{y:04d}-{m:02d}", _start(y, m + 1)),
        ("Q", f"{y:04d}Q{q + 1}", _start(y, 3 * q + 4)),
        ("Y", f"{y:04d}", _start(y + 1, 1)),
    ]


def _start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=CST)


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Counts:
    """The change a batch makes to the count tables: −1 × old rows, +1 × new rows."""

    def __init__(self) -> None:
        self.periods: dict[tuple[str, ...], list[int]] = {}
        self.pending: dict[tuple[str, ...], int] = {}

    def add(self, fact: dict[str, Any], sign: int) -> None:
        dims = tuple(str(fact[d]) for d in DIMENSIONS)
        merged = bool(fact["merged"])
        received = datetime.fromisoformat(fact["received_at"])
        due = datetime.fromisoformat(fact["due_at"])
        ended, closed = _at(fact["ended_at"]), _at(fact["closed_at"])
        notified, decided = _at(fact["notified_at"]), _at(fact["decided_at"])
        for span, label, end in periods_of(received):
            row = self._row(span, label, dims)
            for figure, n in _received_in(fact, end, notified, decided, ended, due).items():
                row[COLUMN[figure]] += sign * n
        if merged:
            return
        if closed is not None:
            for span, label, _ in periods_of(closed):
                self._row(span, label, dims)[COLUMN["closed"]] += sign
        for span, label, _ in periods_of(received):
            self._row(span, label, dims)[COLUMN["entered"]] += sign
        if ended is not None:
            for span, label, _ in periods_of(max(received, ended)):
                self._row(span, label, dims)[COLUMN["exited"]] += sign
        if notified is None and ended is None:
            key = (periods_of(received)[0][1], due.astimezone(CST).date().isoformat(), *dims)
            self.pending[key] = self.pending.get(key, 0) + sign

    def _row(self, span: str, label: str, dims: tuple[str, ...]) -> list[int]:
        return self.periods.setdefault((span, label, *dims), [0] * len(FIGURES))

    def write(self, cursor: Cursor) -> None:
        PERIODS.add(cursor, self.periods)
        PENDING.add(cursor, {k: [n] for k, n in self.pending.items()})


def _received_in(
    fact: dict[str, Any],
    end: datetime,
    notified: datetime | None,
    decided: datetime | None,
    ended: datetime | None,
    due: datetime,
) -> dict[str, int]:
    """What one complaint adds to the figures of a period it was received in (ending at
    `end`): notices and decisions count when they came before the end."""
    if fact["merged"]:
        return {"duplicates_merged": 1, "transfers_12378": int(fact["channel"] == "12378")}
    days = fact["days_to_notice"]
    figures = {
        "received": 1,
        "transfers_12378": int(fact["channel"] == "12378"),
        "extended": int(fact["extension_level"] > 0),
    }
    if notified is not None and notified < end:
        figures |= {
            BUCKETS[_bucket(days)]: 1,
            "notified": 1,
            "reviewed": int(bool(fact["reviewed"])),
            "days_sum": days,
        }
    if decided is not None and decided < end:
        figures |= {
            "decided": 1,
            "upheld": int(fact["outcome"] != "not_upheld"),
            "redress_cents": int(fact["redress_cents"] or 0),
        }
    unnotified = notified is None or notified >= end
    if unnotified and due < end and (ended is None or ended >= end):
        figures["overdue_at_end"] = 1
    return figures


def _bucket(days: int) -> int:
    return 0 if days <= 15 else 1 if days <= 30 else 2 if days <= 60 else 3


def recounted(cursor: Cursor) -> Counts:
    """The count tables' cells computed afresh from the fact rows."""
    names = [n for n, _ in ComplaintFacts.columns]
    cursor.execute(
        Statement("SELECT {names} FROM {table}", names=names, table=ComplaintFacts.table)
    )
    counts = Counts()
    for row in cursor.fetchall():
        counts.add(dict(zip(names, row, strict=True)), +1)
    return counts


def recount(cursor: Cursor) -> None:
    """Count the tables afresh from the fact rows (tables new beside old rows; benchmarks)."""
    for table in (PERIODS, PENDING):
        table.clear(cursor)
    recounted(cursor).write(cursor)

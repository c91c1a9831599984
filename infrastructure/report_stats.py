"""Report statistics (domain.md sections 4 and 6) over the report fact view.

Per period (CST) and group (`category`, `channel`): reports received, accepted, declined,
concluded by finding — each counted by the date of that step in the period — the reports
overdue at `evaluated_at` (over every report received by then: undecided past the
acceptance deadline, or accepted and not concluded past the conclusion deadline then in
force), and the timeliness of acceptance and conclusion (decided or concluded in the period,
on time or late). The rows of reports received before the period's end are read with the
view's position in one snapshot, with one statement composed by `infrastructure.dialect`;
reports are few, so they are counted here rather than summed by the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement
from infrastructure.projections import ViewStore

REPORT_DIMENSIONS = ("category", "channel")
FINDINGS = ("substantiated", "partly_substantiated", "not_substantiated")
COUNTS = (
    "received",
    "accepted",
    "declined",
    *FINDINGS,
    "overdue",
    "accepted_on_time",
    "accepted_late",
    "concluded_on_time",
    "concluded_late",
)
COLUMNS = (
    "category",
    "channel",
    "received_at",
    "acceptance_due_at",
    "accepted_at",
    "declined_at",
    "conclusion_due_at",
    "extended_at",
    "extended_due_at",
    "concluded_at",
    "finding",
)
ROWS = Statement(
    "SELECT {columns} FROM {table} WHERE {received_at} < {p}",
    columns=COLUMNS,
    table="view_report_facts",
    received_at="received_at",
)
FOUR_PLACES = Decimal("0.0001")


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def counts(row: dict[str, Any], period: Period, at: datetime) -> dict[str, int]:
    """What one report adds to its group's figures."""
    found = dict.fromkeys(COUNTS, 0)
    t = {k: _at(row[k]) for k in COLUMNS[2:-1]}

    def within(instant: datetime | None) -> bool:
        return instant is not None and period.start <= instant < period.end

    decided = t["accepted_at"] or t["declined_at"]
    found["received"] = int(within(t["received_at"]))
    found["accepted"] = int(within(t["accepted_at"]))
    found["declined"] = int(within(t["declined_at"]))
    acceptance_due = t["acceptance_due_at"]
    assert acceptance_due is not None
    if within(decided):
        assert decided is not None
        found["accepted_on_time" if decided <= acceptance_due else "accepted_late"] = 1
    concluded = t["concluded_at"]
    conclusion_due = t["extended_due_at"] or t["conclusion_due_at"]
    if within(concluded) and conclusion_due is not None:
        assert concluded is not None
        found[row["finding"]] = 1
        found["concluded_on_time" if concluded <= conclusion_due else "concluded_late"] = 1
    found["overdue"] = int(_overdue(t, at))
    return found


def _overdue(t: dict[str, datetime | None], at: datetime) -> bool:
    received = t["received_at"]
    if received is None or received > at:
        return False
    decided = min((d for d in (t["accepted_at"], t["declined_at"]) if d), default=None)
    if decided is None or decided > at:
        due = t["acceptance_due_at"]
        return due is not None and at > due
    accepted = t["accepted_at"]
    if accepted is None or accepted > at:
        return False
    concluded = t["concluded_at"]
    if concluded is not None and concluded <= at:
        return False
    extended = t["extended_at"]
    due = t["extended_due_at"] if extended and extended <= at else t["conclusion_due_at"]
    return due is not None and at > due


def figures(sums: dict[str, int]) -> dict[str, Any]:
    """The figures of one group (or the totals), with the timeliness rates."""
    return {
        **{name: sums.get(name, 0) for name in COUNTS},
        "acceptance_timeliness": _rate(
            sums.get("accepted_on_time", 0), sums.get("accepted_late", 0)
        ),
        "conclusion_timeliness": _rate(
            sums.get("concluded_on_time", 0), sums.get("concluded_late", 0)
        ),
    }


def _rate(on_time: int, late: int) -> str | None:
    whole = on_time + late
    return None if whole == 0 else str((Decimal(on_time) / whole).quantize(FOUR_PLACES))


def summarise(
    rows: Iterable[dict[str, Any]], period: Period, by: tuple[str, ...], at: datetime
) -> dict[str, Any]:
    """Totals and groups (groups with nothing to count are left out)."""
    totals = dict.fromkeys(COUNTS, 0)
    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in rows:
        found = counts(row, period, at)
        if not any(found.values()):
            continue
        key = tuple(row[d] for d in by)
        into = groups.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, n in found.items():
            into[name] += n
            totals[name] += n
    return {
        "totals": figures(totals),
        "groups": [
            {"key": dict(zip(by, key, strict=True)), **figures(sums)}
            for key, sums in sorted(groups.items(), key=lambda item: tuple(map(str, item[0])))
        ]
        if by
        else [],
    }


class ReportStatistics:
    """Report figures per period and group, with the view position they reflect."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self) -> int:
        return self.views.positions().get("report_facts", 0)

    def figures(self, period: Period, by: tuple[str, ...], now: datetime) -> dict[str, Any]:
        """The figures, evaluated at the period's end (or now, for the current period)."""
        at = min(period.end, now)
        with self.views.snapshot() as cur:
            position = self.views.position(cur, "report_facts")
            cur.execute(ROWS, (period.end.isoformat(),))
            rows = [dict(zip(COLUMNS, row, strict=True)) for row in cur.fetchall()]
        return {"position": position, "evaluated_at": at, **summarise(rows, period, by, at)}

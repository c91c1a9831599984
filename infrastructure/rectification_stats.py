"""Rectification statistics (domain.md section 7) from the rectification fact view.

`opened`, `closed`, `closed_on_time`, `closed_late` and `cancelled` count the items whose
step fell in the period (CST); `open` (not closed or cancelled) and `overdue` (open past its
due date) are evaluated at `evaluated_at` — the end of the period, or now for the current
one — over every item opened by then. An item's due date is the one in force now (after any
extension). The database sums per source, department and severity in one constant
statement; the groups asked for are folded from those.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement
from infrastructure.fact_views import cst
from infrastructure.projections import ViewStore

DIMENSIONS = ("source", "department", "severity")
FIGURES = ("opened", "closed", "closed_on_time", "closed_late", "cancelled", "open", "overdue")
VIEW = "rectification_facts"

# Parameters: start, end (five times: opened, closed x3, cancelled), then the evaluation
# instant for open (twice), overdue (three times) and the opening bound.
SUMS = Statement(
    "SELECT source, department, severity, "
    "SUM(CASE WHEN opened_at >= {p} AND opened_at < {p} THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closed_at >= {p} AND closed_at < {p} THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closed_at >= {p} AND closed_at < {p} "
    "AND closed_at <= due_at THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closed_at >= {p} AND closed_at < {p} "
    "AND closed_at > due_at THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN cancelled_at >= {p} AND cancelled_at < {p} THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN (closed_at IS NULL OR closed_at >= {p}) "
    "AND (cancelled_at IS NULL OR cancelled_at >= {p}) THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN (closed_at IS NULL OR closed_at >= {p}) "
    "AND (cancelled_at IS NULL OR cancelled_at >= {p}) AND due_at < {p} THEN 1 ELSE 0 END) "
    "FROM view_rectification_facts WHERE opened_at < {p} "
    "GROUP BY source, department, severity"
)


class RectificationStatistics:
    """Rectification figures per period and group, with the position they reflect."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self) -> int:
        return self.views.positions().get(VIEW, 0)

    def figures(self, period: Period, by: tuple[str, ...], now: datetime) -> dict[str, Any]:
        """Totals and groups (by up to two of source, department, severity)."""
        evaluated_at = min(period.end, now)
        start, end, at = cst(period.start), cst(period.end), cst(evaluated_at)
        params = [start, end] * 5 + [at] * 5 + [at]
        with self.views.snapshot() as cur:
            position = self.views.position(cur, VIEW)
            cur.execute(SUMS, params)
            rows = cur.fetchall()
        groups: dict[tuple[Any, ...], dict[str, int]] = {}
        totals = dict.fromkeys(FIGURES, 0)
        for row in rows:
            dims = dict(zip(DIMENSIONS, row[:3], strict=True))
            sums = dict(zip(FIGURES, (int(v or 0) for v in row[3:]), strict=True))
            key = tuple(dims[d] for d in by)
            into = groups.setdefault(key, dict.fromkeys(FIGURES, 0))
            for name, n in sums.items():
                into[name] += n
                totals[name] += n
        shown = [
            {"key": dict(zip(by, key, strict=True)), **with_rate(sums)}
            for key, sums in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0])))
            if any(sums.values())
        ]
        return {
            "position": position,
            "evaluated_at": evaluated_at,
            "totals": with_rate(totals),
            "groups": shown if by else [],
        }


def with_rate(sums: dict[str, int]) -> dict[str, Any]:
    """The counts and the on-time share of the items closed (null when none closed)."""
    closed = sums["closed"]
    rate = (
        None
        if not closed
        else str((Decimal(sums["closed_on_time"]) / closed).quantize(Decimal("0.0001")))
    )
    return {**sums, "on_time_rate": rate}

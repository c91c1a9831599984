"""Complaint statistics of domain.md section 4, from the complaint fact view.

Periods follow `occurred_at` in China Standard Time; time-dependent figures (open at period
end, overdue) are evaluated at the end of the period asked for, or now for the current one.
Densities use the exposure the insurer reported for that exact period (null when none).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from domain.common import CST, InvalidInput
from domain.exposure import Exposure
from infrastructure.fact_views import FactView
from infrastructure.projections import Cursor, ViewStore

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")
DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
LINES = ("health", "life", "accident", "motor", "property", "guarantee", "other")
HUNDRED_MILLION = Decimal(100_000_000)
TEN_THOUSAND = Decimal(10_000)
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    """A month, quarter or year in CST: [start, end)."""

    label: str
    start: datetime
    end: datetime


def parse_period(label: str, now: datetime) -> Period:
    """`2026-07`, `2026Q3` or `2026`; a period that has not begun is refused."""
    found = PERIOD.fullmatch(label)
    if not found:
        raise InvalidInput("period", "use 2026-07 (month), 2026Q3 (quarter) or 2026 (year)")
    year, month, quarter = int(found[1]), found[2], found[3]
    if not 1 <= year <= 9998:
        raise InvalidInput("period", "the year must lie between 1 and 9998")
    if month:
        first, months = date(year, int(month), 1), 1
    elif quarter:
        first, months = date(year, 3 * int(quarter) - 2, 1), 3
    else:
        first, months = date(year, 1, 1), 12
    index = first.month - 1 + months
    after = date(first.year + index // 12, index % 12 + 1, 1)
    start = datetime.combine(first, time(), tzinfo=CST)
    end = datetime.combine(after, time(), tzinfo=CST)
    if start > now:
        raise InvalidInput("period", "lies in the future")
    return Period(label, start, end)


def parse_dimensions(by: str | None) -> tuple[str, ...]:
    """Up to two of cause, line, region, channel, company_type."""
    if not by:
        return ()
    names = tuple(part.strip() for part in by.split(",") if part.strip())
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown or len(names) > 2 or len(set(names)) != len(names):
        raise InvalidInput("by", f"up to two distinct of {', '.join(DIMENSIONS)}")
    return names


class ComplaintStatistics:
    """Figures per period and dimension, with the position they reflect."""

    def __init__(self, views: ViewStore, exposure: Callable[[str, str], Exposure | None]) -> None:
        self.views = views
        self.exposure = exposure

    def tracked(self) -> int:
        return self.views.positions().get("complaint_facts", 0)

    def figures(self, period: Period, by: tuple[str, ...], now: datetime) -> dict[str, Any]:
        """Totals and groups, aggregated by the database over the period's fact rows."""
        evaluated = min(period.end, now)
        params = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "at": evaluated.astimezone(CST).isoformat(),
        }
        with self.views.snapshot() as cur:
            position = self.views.position(cur, "complaint_facts")
            totals = self._aggregate(cur, (), params)[()]
            grouped = self._aggregate(cur, by, params) if by else {}
        # The total's densities use all exposure reported for the period, every line.
        totals.update(self._densities(totals["received"], period.label, list(LINES)))
        groups = []
        if by:
            for key, figures in sorted(grouped.items()):
                if by == ("line",):
                    figures.update(self._densities(figures["received"], period.label, [key[0]]))
                groups.append({"key": dict(zip(by, key, strict=True)), **figures})
        return {"evaluated_at": evaluated, "position": position, "totals": totals, "groups": groups}

    def _aggregate(
        self, cur: Cursor, by: tuple[str, ...], params: dict[str, str]
    ) -> dict[tuple[str, ...], dict[str, Any]]:
        columns = ", ".join(by)
        select = f"{columns}, " if by else ""
        group = f" GROUP BY {columns}" if by else ""
        statement = SUMS.replace("{select}", select) + group
        values = [params[name] for name in PLACEHOLDERS]
        cur.execute(statement, values)
        rows = cur.fetchall()
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        for row in rows:
            key = tuple(str(v) for v in row[: len(by)])
            found[key] = _figures(dict(zip(SUM_NAMES, row[len(by) :], strict=True)))
        if not by and not found:
            found[()] = _figures(dict.fromkeys(SUM_NAMES))
        return found

    def _densities(self, received: int, period: str, lines: list[str]) -> dict[str, str | None]:
        reports = [self.exposure(period, line) for line in lines]
        known = [r for r in reports if r is not None]
        premium = sum((r.premium for r in known), Decimal(0))
        policies = sum(r.policies for r in known)
        insured = sum(r.insured_persons for r in known)
        return {
            "per_100m_premium": _density(received, premium / HUNDRED_MILLION if known else None),
            "per_10k_policies": _density(
                received, Decimal(policies) / TEN_THOUSAND if known else None
            ),
            "per_10k_insured": _density(
                received, Decimal(insured) / TEN_THOUSAND if known else None
            ),
        }


# In the period: received in [start, end). At the evaluation instant `at`: open when received
# before it and not ended before it. Merged duplicates are counted apart.
IN = "received_at >= ? AND received_at < ?"
SUM_SQL = {
    "received": f"NOT merged AND {IN}",
    "duplicates_merged": f"merged AND {IN}",
    "closed": "NOT merged AND closed_at >= ? AND closed_at < ?",
    "open_at_start": "NOT merged AND received_at < ? AND (ended_at IS NULL OR ended_at >= ?)",
    "open_at_end": "NOT merged AND received_at < ? AND (ended_at IS NULL OR ended_at >= ?)",
    "transfers_12378": f"channel = '12378' AND {IN}",
    "within_15": f"NOT merged AND {IN} AND notified_at < ? AND days_to_notice <= 15",
    "days_16_30": f"NOT merged AND {IN} AND notified_at < ? AND days_to_notice BETWEEN 16 AND 30",
    "days_31_60": f"NOT merged AND {IN} AND notified_at < ? AND days_to_notice BETWEEN 31 AND 60",
    "later": f"NOT merged AND {IN} AND notified_at < ? AND days_to_notice > 60",
    "open_overdue": f"NOT merged AND {IN} AND (notified_at IS NULL OR notified_at >= ?) "
    "AND due_at < ? AND (ended_at IS NULL OR ended_at >= ?)",
    "extended": f"NOT merged AND {IN} AND extension_level > 0",
    "notified": f"NOT merged AND {IN} AND notified_at < ?",
    "reviewed": f"NOT merged AND {IN} AND notified_at < ? AND reviewed",
    "decided": f"NOT merged AND {IN} AND decided_at < ?",
    "upheld": f"NOT merged AND {IN} AND decided_at < ? AND outcome <> 'not_upheld'",
}
SUM_PARAMS = {
    "received": ("start", "end"),
    "duplicates_merged": ("start", "end"),
    "closed": ("start", "end"),
    "open_at_start": ("start", "start"),
    "open_at_end": ("at", "at"),
    "transfers_12378": ("start", "end"),
    "within_15": ("start", "end", "end"),
    "days_16_30": ("start", "end", "end"),
    "days_31_60": ("start", "end", "end"),
    "later": ("start", "end", "end"),
    "open_overdue": ("start", "end", "at", "at", "at"),
    "extended": ("start", "end"),
    "notified": ("start", "end", "end"),
    "reviewed": ("start", "end", "end"),
    "decided": ("start", "end", "end"),
    "upheld": ("start", "end", "end"),
}
EXTRA_SQL = {
    "days_sum": (
        f"NOT merged AND {IN} AND notified_at < ?",
        "days_to_notice",
        ("start", "end", "end"),
    ),
    "redress_cents": (
        f"NOT merged AND {IN} AND decided_at < ?",
        "redress_cents",
        ("start", "end", "end"),
    ),
}
SUM_NAMES = (*SUM_SQL, *EXTRA_SQL)
_SELECTS = [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}" for name, cond in SUM_SQL.items()]
_SELECTS += [
    f"SUM(CASE WHEN {cond} THEN {col} ELSE 0 END) AS {name}"
    for name, (cond, col, _) in EXTRA_SQL.items()
]
_FROM = (
    " FROM view_complaint_facts WHERE received_at < ? "
    "AND (received_at >= ? OR ended_at IS NULL OR ended_at >= ?)"
)
SUMS = "SELECT {select}" + ", ".join(_SELECTS) + _FROM  # constants only, never input
PLACEHOLDERS = (
    *(name for key in SUM_SQL for name in SUM_PARAMS[key]),
    *(name for _, _, names in EXTRA_SQL.values() for name in names),
    "end",
    "start",
    "start",
)


def _figures(sums: dict[str, Any]) -> dict[str, Any]:
    """The figures from the aggregated sums."""
    n = {k: int(v or 0) for k, v in sums.items()}
    return {
        "received": n["received"],
        "duplicates_merged": n["duplicates_merged"],
        "closed": n["closed"],
        "open_at_start": n["open_at_start"],
        "open_at_end": n["open_at_end"],
        "transfers_12378": n["transfers_12378"],
        "timeliness": {
            "within_15": n["within_15"],
            "days_16_30": n["days_16_30"],
            "days_31_60": n["days_31_60"],
            "later": n["later"],
            "open_overdue": n["open_overdue"],
            "extended": n["extended"],
            "average_days_to_notice": (
                None
                if not n["notified"]
                else str((Decimal(n["days_sum"]) / n["notified"]).quantize(TWO_PLACES))
            ),
        },
        "review_rate": _rate(n["reviewed"], n["notified"]),
        "upheld_rate": _rate(n["upheld"], n["decided"]),
        "redress": str((Decimal(n["redress_cents"]) / 100).quantize(TWO_PLACES)),
    }


def _rate(part: int, whole: int) -> str | None:
    return None if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def _average(values: list[int]) -> str | None:
    return None if not values else str((Decimal(sum(values)) / len(values)).quantize(TWO_PLACES))


def _density(count: int, exposure: Decimal | None) -> str | None:
    if exposure is None or exposure == 0:
        return None
    return str((Decimal(count) / exposure).quantize(TWO_PLACES))


class ClaimAndDisputeStatistics:
    """Claim and dispute figures of domain.md section 4 from their fact views."""

    def __init__(self, views: ViewStore, claims: FactView, disputes: FactView) -> None:
        self.views = views
        self.claims = claims
        self.disputes = disputes

    def tracked(self, view: str) -> int:
        return self.views.positions().get(view, 0)

    def claims_figures(self, period: Period) -> dict[str, Any]:
        with self.views.transaction() as cur:
            rows = self.claims.select(
                cur,
                "settled_at >= ? AND settled_at < ?",
                (period.start.isoformat(), period.end.isoformat()),
            )
        money = {
            k: sum((Decimal(r[k]) for r in rows if r[k]), Decimal("0.00"))
            for k in ("medfee", "si_paid", "commercial", "patient_pays")
        }
        hours = [
            (
                datetime.fromisoformat(r["settled_at"]) - datetime.fromisoformat(r["discharged_at"])
            ).total_seconds()
            / 3600
            for r in rows
            if r["discharged_at"]
        ]
        return {
            "settlements": len(rows),
            "with_social_insurance": sum(1 for r in rows if r["social_insurance"]),
            "medfee": str(money["medfee"]),
            "social_insurance_paid": str(money["si_paid"]),
            "commercial_paid": str(money["commercial"]),
            "patient_paid": str(money["patient_pays"]),
            "average_hours_discharge_to_settlement": (
                str(Decimal(sum(hours) / len(hours)).quantize(TWO_PLACES)) if hours else None
            ),
        }

    def disputes_figures(self, period: Period) -> dict[str, Any]:
        with self.views.transaction() as cur:
            rows = self.disputes.select(
                cur,
                "opened_at >= ? AND opened_at < ?",
                (period.start.isoformat(), period.end.isoformat()),
            )
        mediated = [r for r in rows if int(r["mediation_rounds"]) > 0]
        durations = [
            int(r["days_to_resolution"]) for r in rows if r["days_to_resolution"] is not None
        ]
        return {
            "opened": len(rows),
            "by_origin": {
                o: sum(1 for r in rows if r["origin"] == o)
                for o in sorted({r["origin"] for r in rows})
            },
            "mediated": len(mediated),
            "mediation_success_rate": _rate(
                sum(1 for r in mediated if int(r["agreements_signed"]) > 0), len(mediated)
            ),
            "confirmations_granted": sum(int(r["confirmations_granted"]) for r in rows),
            "awards": sum(1 for r in rows if r["awarded"]),
            "performed": sum(1 for r in rows if r["performed"]),
            "enforced": sum(1 for r in rows if r["enforced"]),
            "amount_paid": str(sum((Decimal(r["amount_paid"]) for r in rows), Decimal("0.00"))),
            "average_days_to_resolution": _average(durations),
        }

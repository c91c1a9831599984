"""Complaint statistics of domain.md section 4, from the complaint fact view.

Periods follow `occurred_at` in China Standard Time; time-dependent figures (open at period
end, overdue) are evaluated at the end of the period asked for, or now for the current one.
Densities use the exposure the insurer reported for that exact period (null when none).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from domain.common import CST, InvalidInput
from domain.exposure import Exposure
from infrastructure.fact_views import FactView
from infrastructure.projections import ViewStore

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")
DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
PROPERTY_LINES = frozenset({"motor", "property", "guarantee"})
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


def company_type(line: str) -> str:
    return "property" if line in PROPERTY_LINES else "life_health"


class ComplaintStatistics:
    """Figures per period and dimension, with the position they reflect."""

    def __init__(self, views: ViewStore, exposure: Callable[[str, str], Exposure | None]) -> None:
        self.views = views
        self.exposure = exposure

    def tracked(self) -> int:
        return self.views.positions().get("complaint_facts", 0)

    def figures(self, period: Period, by: tuple[str, ...], now: datetime) -> dict[str, Any]:
        evaluated = min(period.end, now)
        facts = self._facts(period)
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for fact in facts:
            groups[tuple(fact[d] for d in by)].append(fact)
        lines = sorted({f["line"] for f in facts})
        totals = self._figures(facts, period, evaluated)
        totals.update(self._densities(totals["received"], period.label, lines))
        result_groups = []
        for key, members in sorted(groups.items()):
            figures = self._figures(members, period, evaluated)
            if by == ("line",):
                figures.update(self._densities(figures["received"], period.label, [key[0]]))
            result_groups.append({"key": dict(zip(by, key, strict=True)), **figures})
        return {"evaluated_at": evaluated, "totals": totals, "groups": result_groups if by else []}

    def _facts(self, period: Period) -> list[dict[str, Any]]:
        columns = (
            "id",
            "received_at",
            "channel",
            "cause",
            "line",
            "region",
            "transfer_id",
            "merged",
            "extension_level",
            "paused_days",
            "decided_at",
            "notified_at",
            "closed_at",
            "outcome",
            "redress",
            "reviewed",
            "due_at",
            "ended_at",
        )
        with self.views.transaction() as cur:
            cur.execute(
                f"SELECT {', '.join(columns)} FROM view_complaint_facts "  # noqa: S608
                "WHERE received_at < ? AND (received_at >= ? OR ended_at IS NULL OR ended_at >= ?)",
                (period.end.isoformat(), period.start.isoformat(), period.start.isoformat()),
            )
            rows = cur.fetchall()
        facts = []
        for row in rows:
            fact = dict(zip(columns, row, strict=True))
            fact["company_type"] = company_type(fact["line"])
            facts.append(fact)
        return facts

    def _figures(
        self, facts: Iterable[dict[str, Any]], period: Period, evaluated: datetime
    ) -> dict[str, Any]:
        start, end = period.start.isoformat(), period.end.isoformat()
        at = evaluated.astimezone(CST).isoformat()
        facts = list(facts)
        counted = [f for f in facts if not f["merged"]]
        received = [f for f in counted if start <= f["received_at"] < end]
        buckets = {"within_15": 0, "days_16_30": 0, "days_31_60": 0, "later": 0}
        days_to_notice = []
        for f in received:
            if f["notified_at"] and f["notified_at"] < end:
                days = _days(f["received_at"], f["notified_at"]) - int(f["paused_days"])
                days_to_notice.append(days)
                key = (
                    "within_15"
                    if days <= 15
                    else "days_16_30"
                    if days <= 30
                    else "days_31_60"
                    if days <= 60
                    else "later"
                )
                buckets[key] += 1
        decided = [f for f in received if f["decided_at"] and f["decided_at"] < end]
        upheld = [f for f in decided if f["outcome"] in ("upheld", "partly_upheld")]
        notified = [f for f in received if f["notified_at"] and f["notified_at"] < end]
        return {
            "received": len(received),
            "duplicates_merged": sum(
                1 for f in facts if f["merged"] and start <= f["received_at"] < end
            ),
            "closed": sum(1 for f in counted if f["closed_at"] and start <= f["closed_at"] < end),
            "open_at_start": sum(1 for f in counted if _open_at(f, start)),
            "open_at_end": sum(1 for f in counted if _open_at(f, at)),
            "transfers_12378": sum(
                1 for f in facts if f["channel"] == "12378" and start <= f["received_at"] < end
            ),
            "timeliness": {
                **buckets,
                "open_overdue": sum(
                    1
                    for f in received
                    if not (f["notified_at"] and f["notified_at"] < at)
                    and f["due_at"] < at
                    and _open_at(f, at)
                ),
                "extended": sum(1 for f in received if int(f["extension_level"]) > 0),
                "average_days_to_notice": _average(days_to_notice),
            },
            "review_rate": _rate(sum(1 for f in notified if f["reviewed"]), len(notified)),
            "upheld_rate": _rate(len(upheld), len(decided)),
            "redress": str(
                sum(
                    (Decimal(f["redress"]) for f in decided if f["redress"]), Decimal("0.00")
                ).quantize(TWO_PLACES)
            ),
        }

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


def _open_at(fact: dict[str, Any], instant: str) -> bool:
    return bool(
        fact["received_at"] < instant and (fact["ended_at"] is None or fact["ended_at"] >= instant)
    )


def _days(received_at: str, notified_at: str) -> int:
    return (
        datetime.fromisoformat(notified_at).date() - datetime.fromisoformat(received_at).date()
    ).days


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

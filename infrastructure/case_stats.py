"""Claim and dispute statistics of domain.md section 4, summed by the database over the
count tables kept beside their fact views (claim_dispute_facts.py) — the cells of the
period's CST months, a few per group, not the period's records — grouped by the dimensions
that apply to them, with the views' tracking position read in the same statement.

Claims are grouped by `region`, `channel` (`one_stop` settlements, `offline` claims paid
outside the one-stop channel, which carry no region), `line` and `company_type` (medical
insurance: health, life/health); disputes by `channel` (how the dispute arrived: from a
complaint, a claim decision, or directly) and by the cause, line, region and company type
of the complaint or claim it came from (null for a direct dispute)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from domain.common import CST
from domain.lines import HEALTH, company_type
from infrastructure.claim_dispute_facts import (
    CLAIM_MONTHS,
    CLAIM_SUMS,
    DISPUTE_MONTHS,
    DISPUTE_SUMS,
    OFFLINE_MONTHS,
    OFFLINE_SUMS,
)
from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement, joined
from infrastructure.projections import ViewStore

CLAIM_DIMENSIONS = ("region", "channel", "line", "company_type")
DISPUTE_DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
TWO_PLACES = Decimal("0.01")
# Claims paid outside the one-stop channel: medical insurance, no region recorded.
OFFLINE_DIMENSIONS: dict[str, sql.Composable] = {
    "region": sql.SQL("NULL"),
    "channel": sql.Literal("offline"),
    "line": sql.Literal(HEALTH),
    "company_type": sql.Literal(company_type(HEALTH)),
}
CLAIM_VIEWS = ("claim_facts", "offline_claims")
DISPUTE_VIEWS = ("dispute_facts",)
ALL_CLAIM_SUMS = (*CLAIM_SUMS, *OFFLINE_SUMS)


class ClaimAndDisputeStatistics:
    """Claim and dispute figures per period and group, with the position they reflect."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self, *views: str) -> int:
        """The position every one of these views has reached."""
        known = self.views.positions()
        return min(known.get(v, 0) for v in views)

    def claims_figures(self, period: Period, by: tuple[str, ...]) -> dict[str, Any]:
        position, groups = self._sums(_claims_statement(by), 2, ALL_CLAIM_SUMS, by, period)
        answer = _answer(position, by, groups, _claim_figures)
        for group in answer["groups"]:
            # Offline claims carry no region, and a channel group is all one channel: the
            # share means something only over every claim.
            group["one_stop_share"] = None
        return answer

    def disputes_figures(self, period: Period, by: tuple[str, ...]) -> dict[str, Any]:
        # Always by channel too: the totals name how many disputes came by each.
        grouping = tuple(dict.fromkeys(("channel", *by)))
        position, found = self._sums(
            _disputes_statement(grouping), 1, DISPUTE_SUMS, grouping, period
        )
        by_origin = {key[0]: sums["opened"] for key, sums in sorted(found.items(), key=_order)}
        groups: dict[tuple[Any, ...], dict[str, int]] = {}
        for key, sums in found.items():
            mine = tuple(key[grouping.index(d)] for d in by)
            into = groups.setdefault(mine, dict.fromkeys(sums, 0))
            for name, n in sums.items():
                into[name] += n
        answer = _answer(position, by, groups, _dispute_figures)
        answer["totals"]["by_origin"] = {k: v for k, v in by_origin.items() if v}
        return answer

    def _sums(
        self,
        statement: Statement,
        parts: int,
        names: tuple[str, ...],
        by: tuple[str, ...],
        period: Period,
    ) -> tuple[int, dict[tuple[Any, ...], dict[str, int]]]:
        """The count tables' cells of the period's months summed per group, and the views'
        position, in one statement (its own snapshot)."""
        params = [_month(period.start), _month(period.end)] * parts
        with self.views.read() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall()
        position = 0
        found = {}
        for row in rows:
            *summed_values, tracked = (int(v or 0) for v in row[len(by) :])
            position += tracked  # the tracking row names no group and adds nothing else
            summed = dict(zip(names, summed_values, strict=True))
            if any(summed.values()):
                found[tuple(row[: len(by)])] = summed
        return position, found


def _month(instant: datetime) -> str:
    """The CST month a period boundary opens (periods are whole CST months)."""
    return instant.astimezone(CST).strftime("%Y-%m")


@functools.lru_cache(maxsize=64)
def _claims_statement(by: tuple[str, ...]) -> Statement:
    """Settled claims and offline claims in the period, summed per group."""
    offline = [sql.SQL("{} AS {}").format(OFFLINE_DIMENSIONS[d], sql.Identifier(d)) for d in by]

    def build(p: sql.Composable) -> sql.Composable:
        one_stop = _part(
            [*map(sql.Identifier, by)], CLAIM_SUMS, ALL_CLAIM_SUMS, CLAIM_MONTHS.name, p
        )
        paid_offline = _part(offline, OFFLINE_SUMS, ALL_CLAIM_SUMS, OFFLINE_MONTHS.name, p)
        return _summed([one_stop, paid_offline], ALL_CLAIM_SUMS, by, CLAIM_VIEWS)

    return Statement.built(build)


@functools.lru_cache(maxsize=64)
def _disputes_statement(grouping: tuple[str, ...]) -> Statement:
    """Disputes opened in the period, summed per group."""

    def build(p: sql.Composable) -> sql.Composable:
        opened = _part(
            [*map(sql.Identifier, grouping)], DISPUTE_SUMS, DISPUTE_SUMS, DISPUTE_MONTHS.name, p
        )
        return _summed([opened], DISPUTE_SUMS, grouping, DISPUTE_VIEWS)

    return Statement.built(build)


def _part(
    dims: Sequence[sql.Composable],
    kept: tuple[str, ...],
    names: tuple[str, ...],
    table: str,
    p: sql.Composable,
) -> sql.Composed:
    """The cells of one count table in the period's months: its dimensions, the sums it
    keeps, and 0 for the others."""
    sums = [
        sql.Identifier(n) if n in kept else sql.SQL("0 AS {}").format(sql.Identifier(n))
        for n in names
    ]
    return sql.SQL("SELECT {} FROM {} WHERE month >= {p} AND month < {p}").format(
        joined([*dims, *sums, sql.SQL("0 AS tracked")]), sql.Identifier(table), p=p
    )


def _summed(
    inner: list[sql.Composed],
    names: tuple[str, ...],
    by: tuple[str, ...],
    views: tuple[str, ...],
) -> sql.Composed:
    """The parts and the views' tracking row, summed per group; the tracking row is the
    position every view reached (0 while one is not tracked yet)."""
    tracking = sql.SQL(
        "SELECT {}, CASE WHEN COUNT(*) = {n} THEN MIN(position) ELSE 0 END AS tracked "
        "FROM projection_tracking WHERE view IN ({views})"
    ).format(
        joined(
            [
                *(sql.SQL("NULL AS {}").format(sql.Identifier(d)) for d in by),
                *(sql.SQL("0 AS {}").format(sql.Identifier(n)) for n in names),
            ]
        ),
        n=sql.Literal(len(views)),
        views=joined([sql.Literal(v) for v in views]),
    )
    summed = [sql.SQL("SUM({n}) AS {n}").format(n=sql.Identifier(n)) for n in (*names, "tracked")]
    group = sql.SQL(" GROUP BY {}").format(joined(list(map(sql.Identifier, by))))
    return sql.SQL("SELECT {} FROM ({}) parts{}").format(
        joined([*map(sql.Identifier, by), *summed]),
        joined([*inner, tracking], " UNION ALL "),
        group if by else sql.SQL(""),
    )


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, str(v or "")) for v in item[0])


def _answer(
    position: int,
    by: tuple[str, ...],
    found: dict[tuple[Any, ...], dict[str, int]],
    figures: Any,
) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for sums in found.values():
        for name, n in sums.items():
            totals[name] = totals.get(name, 0) + n
    groups = [
        {"key": dict(zip(by, key, strict=True)), **figures(sums)}
        for key, sums in sorted(found.items(), key=_order)
    ]
    return {"position": position, "totals": figures(totals), "groups": groups if by else []}


def _money(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(TWO_PLACES))


def _rate(part: int, whole: int) -> str | None:
    return None if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def _mean(total: int, count: int, unit: int = 1) -> str | None:
    return None if count == 0 else str((Decimal(total) / unit / count).quantize(TWO_PLACES))


def _claim_figures(n: dict[str, int]) -> dict[str, Any]:
    g = {name: n.get(name, 0) for name in ALL_CLAIM_SUMS}
    return {
        "settlements": g["settlements"],
        "offline_claims": g["offline"],
        "one_stop_share": _rate(g["settlements"], g["settlements"] + g["offline"]),
        "with_social_insurance": g["with_social_insurance"],
        "medfee": _money(g["medfee"]),
        "social_insurance_paid": _money(g["si"]),
        "commercial_paid": _money(g["commercial"]),
        "patient_paid": _money(g["patient"]),
        "offline_paid": _money(g["offline_cents"]),
        "average_hours_discharge_to_settlement": _mean(g["seconds"], g["timed"], 3600),
    }


def _dispute_figures(n: dict[str, int]) -> dict[str, Any]:
    g = {name: n.get(name, 0) for name in DISPUTE_SUMS}
    return {
        "opened": g["opened"],
        "mediated": g["mediated"],
        "mediation_success_rate": _rate(g["agreed"], g["mediated"]),
        "confirmations_granted": g["confirmations_granted"],
        "awards": g["awards"],
        "performed": g["performed"],
        "enforced": g["enforced"],
        "amount_paid": _money(g["paid_cents"]),
        "average_days_to_resolution": _mean(g["resolution_days"], g["resolved"]),
    }

"""Claim and dispute statistics of domain.md section 4, summed by the database over their
fact views for the period (CST), grouped by the dimensions that apply to them, with the
views' tracking position read in the same snapshot.

Claims are grouped by `region`, `channel` (`one_stop` settlements, `offline` claims paid
outside the one-stop channel, which carry no region), `line` and `company_type` (medical
insurance: health, life/health); disputes by `channel` (how the dispute arrived: from a
complaint, a claim decision, or directly) and by the cause, line, region and company type
of the complaint or claim it came from (null for a direct dispute)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from psycopg import sql

from domain.lines import HEALTH, company_type
from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement, clause, joined
from infrastructure.projections import ViewStore

CLAIM_DIMENSIONS = ("region", "channel", "line", "company_type")
DISPUTE_DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
TWO_PLACES = Decimal("0.01")

# Per group: (SQL expression summed, name); constants only, never input.
CLAIM_SUMS = (
    ("1", "settlements"),
    ("CASE WHEN social_insurance THEN 1 ELSE 0 END", "with_social_insurance"),
    ("medfee_cents", "medfee"),
    ("si_cents", "si"),
    ("commercial_cents", "commercial"),
    ("patient_cents", "patient"),
    ("COALESCE(settle_seconds, 0)", "seconds"),
    ("CASE WHEN settle_seconds IS NULL THEN 0 ELSE 1 END", "timed"),
    ("0", "offline"),
    ("0", "offline_cents"),
)
OFFLINE_SUMS = {"offline": "1", "offline_cents": "amount_cents"}
# Claims paid outside the one-stop channel: medical insurance, no region recorded.
OFFLINE_DIMENSIONS: dict[str, sql.Composable] = {
    "region": sql.SQL("NULL"),
    "channel": sql.Literal("offline"),
    "line": sql.Literal(HEALTH),
    "company_type": sql.Literal(company_type(HEALTH)),
}
DISPUTE_SUMS = (
    ("1", "opened"),
    ("CASE WHEN mediation_rounds > 0 THEN 1 ELSE 0 END", "mediated"),
    ("CASE WHEN mediation_rounds > 0 AND agreements_signed > 0 THEN 1 ELSE 0 END", "agreed"),
    ("confirmations_granted", "confirmations_granted"),
    ("CASE WHEN awarded THEN 1 ELSE 0 END", "awards"),
    ("CASE WHEN performed THEN 1 ELSE 0 END", "performed"),
    ("CASE WHEN enforced THEN 1 ELSE 0 END", "enforced"),
    ("amount_paid_cents", "paid_cents"),
    ("CASE WHEN days_to_resolution IS NULL THEN 0 ELSE 1 END", "resolved"),
    ("COALESCE(days_to_resolution, 0)", "resolution_days"),
)


class ClaimAndDisputeStatistics:
    """Claim and dispute figures per period and group, with the position they reflect."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self, *views: str) -> int:
        """The position every one of these views has reached."""
        known = self.views.positions()
        return min(known.get(v, 0) for v in views)

    def claims_figures(self, period: Period, by: tuple[str, ...]) -> dict[str, Any]:
        position, groups = self._sums(
            _claims_statement(by), 2, CLAIM_SUMS, by, period, ("claim_facts", "offline_claims")
        )
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
            _disputes_statement(grouping), 1, DISPUTE_SUMS, grouping, period, ("dispute_facts",)
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
        sums: tuple[tuple[str, str], ...],
        by: tuple[str, ...],
        period: Period,
        views: tuple[str, ...],
    ) -> tuple[int, dict[tuple[Any, ...], dict[str, int]]]:
        names = [n for _, n in sums]
        params = [period.start.isoformat(), period.end.isoformat()] * parts
        with self.views.snapshot() as cur:
            position = min(self.views.position(cur, v) for v in views)
            cur.execute(statement, params)
            rows = cur.fetchall()
        found = {}
        for row in rows:
            summed = dict(zip(names, (int(v or 0) for v in row[len(by) :]), strict=True))
            if any(summed.values()):
                found[tuple(row[: len(by)])] = summed
        return position, found


@functools.lru_cache(maxsize=64)
def _claims_statement(by: tuple[str, ...]) -> Statement:
    """Settled claims and offline claims in the period, summed per group."""
    offline = [sql.SQL("{} AS {}").format(OFFLINE_DIMENSIONS[d], sql.Identifier(d)) for d in by]

    def build(p: sql.Composable) -> sql.Composable:
        one_stop = _select(
            [*map(sql.Identifier, by), *_named(CLAIM_SUMS)],
            sql.SQL("view_claim_facts WHERE settled_at >= {p} AND settled_at < {p}").format(p=p),
        )
        paid_offline = _select(
            [*offline, *_named((OFFLINE_SUMS.get(n, "0"), n) for _, n in CLAIM_SUMS)],
            sql.SQL("view_offline_claims WHERE paid_at >= {p} AND paid_at < {p}").format(p=p),
        )
        return _summed([one_stop, paid_offline], CLAIM_SUMS, by)

    return Statement.built(build)


@functools.lru_cache(maxsize=64)
def _disputes_statement(grouping: tuple[str, ...]) -> Statement:
    """Disputes opened in the period, summed per group."""

    def build(p: sql.Composable) -> sql.Composable:
        opened = _select(
            [*map(sql.Identifier, grouping), *_named(DISPUTE_SUMS)],
            sql.SQL("view_dispute_facts WHERE opened_at >= {p} AND opened_at < {p}").format(p=p),
        )
        return _summed([opened], DISPUTE_SUMS, grouping)

    return Statement.built(build)


def _named(sums: Iterable[tuple[str, str]]) -> list[sql.Composable]:
    """`expression AS name` for the constant expressions of this module."""
    return [sql.SQL("{} AS {}").format(clause(e), sql.Identifier(n)) for e, n in sums]


def _select(columns: list[sql.Composable], source: sql.Composable) -> sql.Composed:
    """A SELECT of constant expressions and validated dimension names."""
    return sql.SQL("SELECT {} FROM {}").format(joined(columns), source)


def _summed(
    inner: list[sql.Composed], sums: tuple[tuple[str, str], ...], by: tuple[str, ...]
) -> sql.Composed:
    summed = [sql.SQL("SUM({n}) AS {n}").format(n=sql.Identifier(n)) for _, n in sums]
    group = sql.SQL(" GROUP BY {}").format(joined(list(map(sql.Identifier, by))))
    return sql.SQL("SELECT {} FROM ({}) parts{}").format(
        joined([*map(sql.Identifier, by), *summed]),
        joined(inner, " UNION ALL "),
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
    g = {k: n.get(k, 0) for k, _ in ((name, 0) for _, name in CLAIM_SUMS)}
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
    g = {name: n.get(name, 0) for _, name in DISPUTE_SUMS}
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

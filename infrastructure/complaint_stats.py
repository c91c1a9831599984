"""Complaint statistics of domain.md section 4, from the complaint fact view.

Periods follow `occurred_at` in China Standard Time; time-dependent figures (open at period
end, overdue) are evaluated at the end of the period asked for, or now for the current one.
Sums come from the month cube kept beside the complaint fact view (complaint_facts.py).
Densities use the exposure the insurer reported for that exact period (null when none).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from psycopg import sql

from domain.common import CST, InvalidInput
from infrastructure.complaint_facts import FIGURES
from infrastructure.dialect import Statement, clause, joined
from infrastructure.projections import ViewStore

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")
DIMENSIONS = ("cause", "line", "region", "channel", "company_type")
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


def parse_dimensions(
    by: str | None, allowed: tuple[str, ...] = DIMENSIONS, what: str = "complaints"
) -> tuple[str, ...]:
    """Up to two distinct of the dimensions that apply (for complaints: cause, line,
    region, channel, company_type)."""
    if not by:
        return ()
    names = tuple(part.strip() for part in by.split(",") if part.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown or len(names) > 2 or len(set(names)) != len(names):
        raise InvalidInput("by", f"{what} are grouped by up to two of {', '.join(allowed)}")
    return names


class ComplaintStatistics:
    """Figures per period and dimension, with the position they reflect."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self) -> int:
        """The position both views the figures come from have reached."""
        known = self.views.positions()
        return min(known.get(v, 0) for v in VIEWS)

    def figures(self, period: Period, by: tuple[str, ...], now: datetime) -> dict[str, Any]:
        """Totals and groups, summed by the database over the count tables kept beside the
        complaint fact view (complaint_facts.py) — a few rows per period, not a scan — in
        one statement that also reads the exposure reported for the period and the views'
        tracking position (one snapshot).

        A period that has ended is evaluated at its end, whose conditions the counts
        decided when they were kept. For the period still running, the figures taken at
        now (open at the end, open and overdue) come from running sums, the pending
        complaints by due day, and the few fact rows that lie at or after now.

        Those fact rows are usually none (an instant may lie at most five minutes ahead of
        its recording), and finding them is the one part whose plan depends on the value of
        now: PostgreSQL plans a range "at or after a value it does not know" as a scan of
        every complaint, so a statement with that part is planned afresh on every call.
        The statement asked first leaves the part out — its plan is the same for every
        call, prepared once per connection — and says whether any fact row has an instant
        at or after now (the latest of each instant column, from its index); only then is
        the statement with the part asked, in its own snapshot."""

        evaluated = min(period.end, now)
        rows = self._sums(period, by, evaluated, ahead=False)
        if any(row[-1] for row in rows):  # fact rows at or after now: take them too
            rows = self._sums(period, by, evaluated, ahead=True)
        position = 0
        totals = dict.fromkeys(FIGURE_SUMS, 0)
        grouped: dict[tuple[str, ...], dict[str, int]] = {}
        for row in rows:
            found = dict(zip(SUM_NAMES, [int(v) if v else 0 for v in row[len(by) :]], strict=True))
            position += found.pop("tracked")
            found.pop("ahead")
            for name, n in found.items():
                totals[name] += n
            key = row[: len(by)]
            if by and None not in key:  # the tracking and exposure rows name no group
                into = grouped.setdefault(tuple(str(v) for v in key), dict.fromkeys(found, 0))
                for name, n in found.items():
                    into[name] += n
        groups = []
        for key, found in sorted(grouped.items()):
            if not any(found[name] for name in COUNT_NAMES):
                continue
            figure = _figures(found)
            if by == ("line",):  # a line's densities use that line's exposure
                figure.update(_densities(figure["received"], found))
            groups.append({"key": dict(zip(by, key, strict=True)), **figure})
        total = _figures(totals)
        # The total's densities use all exposure reported for the period, every line.
        total.update(_densities(total["received"], totals))
        return {"evaluated_at": evaluated, "position": position, "totals": total, "groups": groups}

    def _sums(
        self, period: Period, by: tuple[str, ...], at: datetime, ahead: bool
    ) -> list[tuple[Any, ...]]:
        statement, params = sums_query(period, by, at, ahead)
        with self.views.read() as cur:
            cur.execute(statement, params)
            return cur.fetchall()


def sums_query(
    period: Period, by: tuple[str, ...], at: datetime, ahead: bool = True
) -> tuple[Statement, list[str]]:
    """One statement: the union of the parts below, summed per group of dimensions. For the
    period still running, `ahead` takes the fact rows at or after now (AHEAD); without it,
    the tracking row says in `ahead` whether there are any (the statement then leaves them
    out and must be asked again with them)."""
    span = "Y" if len(period.label) == 4 else "Q" if "Q" in period.label else "M"
    start, end = _month(period.start), _month(period.end)
    running = at != period.end
    local = at.astimezone(CST)
    values = {
        "span": span,
        "label": period.label,
        "start": start,
        "end": end,
        **_cover(period.start, "start"),
        **_cover(None if running else period.end, "end"),  # evaluated now: everything
        "now": local.isoformat(),
        "today": local.date().isoformat(),
        "first": period.start.isoformat(),
        "after": period.end.isoformat(),
    }
    ahead = ahead or not running  # a period that has ended has no such part
    params = []
    for part in _parts(running, ahead):
        for name in FIGURE_SUMS:
            params += [values[n] for n in part.columns.get(name, ("", ()))[1]]
        params += [values[n] for n in part.params]
    if not ahead:
        params += [values["now"]] * len(AHEAD_AT)
    return _sums_statement(running, ahead, by), params


def _parts(running: bool, ahead: bool) -> list[Part]:
    if not running:
        return [PERIOD_ENDED, *PARTS[1:], EXPOSURE]
    return [*PARTS, PENDING_DUE, *([AHEAD] if ahead else []), EXPOSURE]


@functools.lru_cache(maxsize=128)
def _sums_statement(running: bool, ahead: bool, by: tuple[str, ...]) -> Statement:
    """The parts (summed per group first: few rows reach the union) and the tracking row,
    summed per group of dimensions; `by` names validated dimensions."""
    dims = [sql.Identifier(d) for d in by]
    untracked = [
        *(sql.SQL("NULL AS {}").format(d) for d in dims),
        *(sql.SQL("0 AS {}").format(sql.Identifier(n)) for n in FIGURE_SUMS),
    ]
    summed = [sql.SQL("SUM({n}) AS {n}").format(n=sql.Identifier(n)) for n in SUM_NAMES]
    grouped = sql.SQL(" GROUP BY {}").format(joined(dims)) if by else sql.SQL("")

    def build(p: sql.Composable) -> sql.Composable:
        # Whether any fact row has an instant at or after now (AHEAD left out): the latest
        # of each instant column, read from the end of its index whatever now is.
        later = [
            sql.SQL("(SELECT MAX({}) FROM {}) >= {}").format(
                sql.Identifier(c), sql.Identifier(AHEAD.table), p
            )
            for c in AHEAD_AT
        ]
        flag = (
            sql.SQL("0")
            if ahead
            else sql.SQL("CASE WHEN {} THEN 1 ELSE 0 END").format(joined(later, " OR "))
        )
        tracking = sql.SQL(  # without dimensions: what both views reached
            "SELECT {}, MIN(position) AS tracked, {} AS ahead "
            "FROM projection_tracking WHERE view IN ({})"
        ).format(joined(untracked), flag, joined([sql.Literal(v) for v in VIEWS]))
        selects = [_part_select(part, by, p) for part in _parts(running, ahead)]
        return sql.SQL("SELECT {} FROM ({}) parts{}").format(
            joined([*dims, *summed]), joined([*selects, tracking], " UNION ALL "), grouped
        )

    return Statement.built(build)


def _part_select(part: Part, by: tuple[str, ...], p: sql.Composable) -> sql.Composable:
    def constant(text: str) -> sql.Composable:
        return clause(text).format(p=p)

    rows_as_they_are = part.dims is not None
    columns: list[sql.Composable] = [
        sql.Identifier(d)
        if part.dims is None
        else sql.SQL("{} AS {}").format(clause(part.dims.get(d, "NULL")), sql.Identifier(d))
        for d in by
    ]
    for name in FIGURE_SUMS:
        expression = part.columns.get(name, ("", ()))[0]
        if not expression:
            value: sql.Composable = sql.SQL("0")
        elif rows_as_they_are:
            value = constant(expression)
        else:
            value = sql.SQL("SUM({})").format(constant(expression))
        columns.append(sql.SQL("{} AS {}").format(value, sql.Identifier(name)))
    grouped = (
        sql.SQL(" GROUP BY {}").format(joined([sql.Identifier(d) for d in by]))
        if by and not rows_as_they_are
        else sql.SQL("")
    )
    return sql.SQL("SELECT {}, 0 AS tracked, 0 AS ahead FROM {} WHERE {}{}").format(
        joined(columns), sql.Identifier(part.table), constant(part.where), grouped
    )


def _month(instant: datetime) -> str:
    return instant.astimezone(CST).strftime("%Y-%m")


def _densities(received: int, sums: dict[str, int]) -> dict[str, str | None]:
    """Complaints per 100 million CNY premium, 10,000 policies and 10,000 insured persons
    (null when no exposure was reported, or it is zero)."""
    known = sums["reports"] > 0
    premium = Decimal(sums["premium_cents"]) / 100
    return {
        "per_100m_premium": _density(received, premium / HUNDRED_MILLION if known else None),
        "per_10k_policies": _density(
            received, Decimal(sums["policies"]) / TEN_THOUSAND if known else None
        ),
        "per_10k_insured": _density(
            received, Decimal(sums["insured"]) / TEN_THOUSAND if known else None
        ),
    }


@dataclass(frozen=True)
class Part:
    """Rows of one table, and what they add to each sum: (SQL expression, its parameters);
    a sum not named adds 0. Constants only — never input."""

    table: str
    where: str
    params: tuple[str, ...]
    columns: dict[str, tuple[str, tuple[str, ...]]]
    dims: dict[str, str] | None = None  # rows taken as they are: each dimension's expression


_OPEN = "entered - exited"
# Before a month boundary: the years before its year, the quarters of its year before its
# quarter, the months of its quarter before it — each row counted once.
_BEFORE = (
    "((span = 'Y' AND period < {p}) OR (span = 'Q' AND period >= {p} AND period < {p}) "
    "OR (span = 'M' AND period >= {p} AND period < {p}))"
)
# The figures kept per period (complaint_facts.py); how many were open at its start and at
# its end: received before that boundary, less ended before it.
PERIOD_NAMES = tuple(f for f in FIGURES if f not in ("entered", "exited", "overdue_at_end"))
_COVER = ("y", "q1", "q", "m1", "m")
PARTS = [
    Part(
        "view_complaint_periods",
        "span = {p} AND period = {p}",
        ("span", "label"),
        {name: (name, ()) for name in PERIOD_NAMES},
    ),
    Part(
        "view_complaint_periods",
        f"{_BEFORE} OR {_BEFORE}",
        (*(f"start_{n}" for n in _COVER), *(f"end_{n}" for n in _COVER)),
        {
            "open_at_start": (
                f"CASE WHEN {_BEFORE} THEN {_OPEN} ELSE 0 END",
                tuple(f"start_{n}" for n in _COVER),
            ),
            "open_at_end": (
                f"CASE WHEN {_BEFORE} THEN {_OPEN} ELSE 0 END",
                tuple(f"end_{n}" for n in _COVER),
            ),
        },
    ),
]


def _cover(boundary: datetime | None, name: str) -> dict[str, str]:
    """The labels of _BEFORE for a month boundary (None: after every period)."""
    if boundary is None:
        return {f"{name}_{n}": v for n, v in zip(_COVER, ("9999", "", "", "", ""), strict=True)}
    local = boundary.astimezone(CST)
    y, q = local.year, (local.month - 1) // 3
    return {
        f"{name}_y": f"{y:04d}",
        f"{name}_q1": f"{y:04d}Q1",
        f"{name}_q": f"{y:04d}Q{q + 1}",
        f"{name}_m1": f"{y:04d}-{3 * q + 1:02d}",
        f"{name}_m": f"{y:04d}-{local.month:02d}",
    }


# A period that has ended: open and overdue at its end, as counted.
PERIOD_ENDED = replace(
    PARTS[0], columns={**PARTS[0].columns, "open_overdue": ("overdue_at_end", ())}
)
# The period still running, evaluated now: pending (unnotified, not ended) complaints due
# before today (a deadline is the last instant of a CST day, so one due today is not yet
# overdue); and the few fact rows with an instant at or after now (AHEAD, asked only when
# there are any: instants may lie up to five minutes ahead): open now = entered − exited −
# (received after now, not ended) + (ended after now, received before); overdue now adds
# those notified or ended only after now.
_LATE = (
    "CASE WHEN received_at >= {p} AND received_at < {p} AND due_at < {p} "
    "AND (notified_at IS NULL OR notified_at >= {p}) AND (ended_at IS NULL OR ended_at >= {p}) "
    "AND (notified_at >= {p} OR ended_at >= {p}) THEN 1 ELSE 0 END"
)
PENDING_DUE = Part(
    "view_complaint_pending",
    "r_month >= {p} AND r_month < {p} AND due_day < {p}",
    ("start", "end", "today"),
    {"open_overdue": ("n", ())},
)
AHEAD = Part(
    "view_complaint_facts",
    "NOT merged AND (received_at >= {p} OR ended_at >= {p} OR notified_at >= {p})",
    ("now", "now", "now"),
    {
        "open_at_end": (
            "CASE WHEN ended_at >= {p} AND received_at < {p} THEN 1 "
            "WHEN received_at >= {p} AND ended_at IS NULL THEN -1 ELSE 0 END",
            ("now", "now", "now"),
        ),
        "open_overdue": (_LATE, ("first", "after", "now", "now", "now", "now", "now")),
    },
)
AHEAD_AT = ("received_at", "ended_at", "notified_at")  # the instants AHEAD looks at
# The exposure reported for the period, per line (rows as they are: at most one per line).
EXPOSURE = Part(
    "view_exposure_facts",
    "period = {p}",
    ("label",),
    {
        "premium_cents": ("premium_cents", ()),
        "policies": ("policies", ()),
        "insured": ("insured", ()),
        "reports": ("1", ()),
    },
    dims={"line": "line"},
)
VIEWS = ("complaint_facts", "exposure_facts")
COUNT_NAMES = (*PERIOD_NAMES, "open_at_start", "open_at_end", "open_overdue")
FIGURE_SUMS = (*COUNT_NAMES, "premium_cents", "policies", "insured", "reports")
SUM_NAMES = (*FIGURE_SUMS, "tracked", "ahead")  # and the tracking row's


def _figures(sums: dict[str, Any]) -> dict[str, Any]:
    """The figures from the aggregated sums (None for a sum over no cell)."""
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
        "extension_rate": _rate(n["extended"], n["received"]),
        "review_rate": _rate(n["reviewed"], n["notified"]),
        "upheld_rate": _rate(n["upheld"], n["decided"]),
        "redress": str((Decimal(n["redress_cents"]) / 100).quantize(TWO_PLACES)),
    }


def _rate(part: int, whole: int) -> str | None:
    return None if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def _density(count: int, exposure: Decimal | None) -> str | None:
    if exposure is None or exposure == 0:
        return None
    return str((Decimal(count) / exposure).quantize(TWO_PLACES))

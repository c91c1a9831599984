"""The complaint clock (投诉处理时限): deadlines, pauses and derived escalation, without I/O.

Counting follows domain.md section 0: a period of N days from an instant on CST day D
excludes D and ends at the end of day D + N; paused whole days are added; nothing is moved
past weekends or holidays. Everything here is recomputed from `occurred_at` values at every
read, so a late event moves the clock exactly as if it had been recorded in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.common import cst_date, deadline

URGED_TWICE = "urged_twice"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class ComplaintRules:
    """The complaint-handling parameters (reference data; the defaults are the 2020 measures)."""

    decision_days: tuple[int, ...] = (15, 30, 60)
    review_window_days: int = 30
    review_decision_days: int = 30
    due_soon_days: int = 3
    urge_escalation_count: int = 2

    def __post_init__(self) -> None:
        days = self.decision_days
        if not days or any(d <= 0 for d in days) or list(days) != sorted(days):
            raise ValueError("decision_days must be positive and non-decreasing")
        if min(self.review_window_days, self.review_decision_days) <= 0:
            raise ValueError("review periods must be positive")
        if self.due_soon_days < 0 or self.urge_escalation_count < 1:
            raise ValueError("due_soon_days must be >= 0 and urge_escalation_count >= 1")

    @property
    def max_extension_level(self) -> int:
        """The highest extension level (2 with the default base, 30 and 60 days)."""
        return len(self.decision_days) - 1


@dataclass(frozen=True)
class Pause:
    """A pause of the clock for an external appraisal; `end` is None while it lasts."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class ClockState:
    """A complaint's clock evaluated at `evaluated_at` (never stored; derived at every read)."""

    evaluated_at: datetime
    received_at: datetime
    clock_start: datetime
    extension_level: int
    paused: bool
    paused_days: int
    due_date: date
    due_at: datetime
    overdue: bool
    deadline_met: bool | None
    escalated: bool
    escalation_reasons: tuple[str, ...]
    review_due_date: date | None
    review_due_at: datetime | None


def _day_spans(
    pauses: Iterable[Pause], until: date, since: date | None = None
) -> list[tuple[date, date]]:
    """Pauses as half-open CST day spans [pause date, resume date), merged where they overlap."""
    spans: list[tuple[date, date]] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        start = cst_date(pause.start)
        if since is not None:
            start = max(start, since)
        end = cst_date(pause.end) if pause.end is not None else until
        if end <= start:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def paused_days(pauses: Iterable[Pause], now: datetime) -> int:
    """Whole CST days from each pause date to its resume date (or now's date while it lasts).

    Pauses that overlap (possible only through late events) count each day once.
    """
    return sum((end - start).days for start, end in _day_spans(pauses, cst_date(now)))


def counted_pause_days(
    pauses: Iterable[Pause], clock_start: datetime, base_due: date, until: datetime
) -> int:
    """The paused days a deadline gains: days on or after the clock start, from pauses that
    began on or before the deadline then in force (a pause after the deadline cannot save it).
    """
    due, total = base_due, 0
    for start, end in _day_spans(pauses, cst_date(until), since=cst_date(clock_start)):
        if start > due:
            break
        total += (end - start).days
        due += timedelta(days=(end - start).days)
    return total


def review_window(noticed_at: datetime, rules: ComplaintRules) -> tuple[date, datetime]:
    """The last day and instant a review (核查) may be requested after the notice."""
    return deadline(noticed_at, rules.review_window_days)


def compute_clock(
    *,
    clock_start: datetime,
    received_at: datetime,
    extension_level: int,
    pauses: Sequence[Pause],
    notified_at: datetime | None,
    decided_at: datetime | None,
    urge_count: int,
    escalated_by_supervisor: bool,
    review_requested_at: datetime | None,
    now: datetime,
    rules: ComplaintRules,
    ended_at: datetime | None = None,
) -> ClockState:
    """Evaluate the clock at `now`.

    `ended_at` is when the case left the process without a notice (withdrawn, declined,
    merged): such a case is never overdue nor escalated by time. An ongoing pause counts up
    to the earliest of `now`, the notice and the end.
    """
    level = max(0, min(extension_level, rules.max_extension_level))
    days = rules.decision_days[level]
    stops = [t for t in (notified_at, ended_at) if t is not None]
    until = min([now, *stops])
    base_due, _ = deadline(clock_start, days)
    paused = counted_pause_days(pauses, clock_start, base_due, until)
    due_date, due_at = deadline(clock_start, days, paused)
    running = notified_at is None and ended_at is None
    overdue = running and now > due_at
    due_soon = (
        running
        and decided_at is None
        and not overdue
        and due_at - now <= timedelta(days=rules.due_soon_days)
    )
    flags = (
        (URGED_TWICE, urge_count >= rules.urge_escalation_count),
        (DUE_SOON, due_soon),
        (OVERDUE, overdue),
        (SUPERVISOR, escalated_by_supervisor),
    )
    reasons = tuple(reason for reason, on in flags if on)
    review_due_date, review_due_at = (
        deadline(review_requested_at, rules.review_decision_days)
        if review_requested_at is not None
        else (None, None)
    )
    return ClockState(
        evaluated_at=now,
        received_at=received_at,
        clock_start=clock_start,
        extension_level=level,
        paused=running and any(p.end is None for p in pauses),
        paused_days=paused,
        due_date=due_date,
        due_at=due_at,
        overdue=overdue,
        deadline_met=None if notified_at is None else notified_at <= due_at,
        escalated=bool(reasons),
        escalation_reasons=reasons,
        review_due_date=review_due_date,
        review_due_at=review_due_at,
    )

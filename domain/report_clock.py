"""The report clock (举报处理时限): acceptance and conclusion deadlines, derived at every read.

Counting follows domain.md section 0: N days from an instant on CST day D excludes D and
ends at the end of day D + N; nothing is moved past weekends or holidays. The periods are
those of 《银行保险违法行为举报处理办法》 by default (15 days to decide acceptance, 60 days to
conclude, one extension of 30 days), kept as settings that feed `ReportRules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.common import deadline


@dataclass(frozen=True)
class ReportRules:
    """The report-handling periods (every one a setting; no defaults here)."""

    acceptance_days: int
    conclusion_days: int
    extension_days: int
    due_soon_days: int

    def __post_init__(self) -> None:
        if min(self.acceptance_days, self.conclusion_days, self.extension_days) <= 0:
            raise ValueError("report periods must be positive")
        if self.due_soon_days < 0:
            raise ValueError("due_soon_days must be >= 0")


@dataclass(frozen=True)
class ReportClock:
    """A report's deadlines evaluated at `evaluated_at` (never stored)."""

    evaluated_at: datetime
    acceptance_due_date: date
    acceptance_due_at: datetime
    conclusion_due_date: date | None
    conclusion_due_at: datetime | None
    overdue: bool
    due_soon: bool
    accepted_on_time: bool | None
    concluded_on_time: bool | None


def report_clock(
    *,
    received_at: datetime,
    decided_at: datetime | None,
    accepted_at: datetime | None,
    extended: bool,
    concluded_at: datetime | None,
    ended_at: datetime | None,
    now: datetime,
    rules: ReportRules,
) -> ReportClock:
    """Evaluate the clocks at `now`.

    Acceptance runs from the receipt until the report is accepted or declined; conclusion
    runs from the acceptance (plus the extension, when granted) until the conclusion.
    `decided_at` is the acceptance or the refusal; `ended_at` a closing that stops both.
    """
    acceptance_due_date, acceptance_due_at = deadline(received_at, rules.acceptance_days)
    conclusion_due_date: date | None = None
    conclusion_due_at: datetime | None = None
    if accepted_at is not None:
        days = rules.conclusion_days + (rules.extension_days if extended else 0)
        conclusion_due_date, conclusion_due_at = deadline(accepted_at, days)
    running_due: datetime | None = None
    if ended_at is None:
        if decided_at is None:
            running_due = acceptance_due_at
        elif accepted_at is not None and concluded_at is None:
            running_due = conclusion_due_at
    overdue = running_due is not None and now > running_due
    due_soon = (
        running_due is not None
        and not overdue
        and running_due - now <= timedelta(days=rules.due_soon_days)
    )
    return ReportClock(
        evaluated_at=now,
        acceptance_due_date=acceptance_due_date,
        acceptance_due_at=acceptance_due_at,
        conclusion_due_date=conclusion_due_date,
        conclusion_due_at=conclusion_due_at,
        overdue=overdue,
        due_soon=due_soon,
        accepted_on_time=None if decided_at is None else decided_at <= acceptance_due_at,
        concluded_on_time=(
            None
            if concluded_at is None or conclusion_due_at is None
            else concluded_at <= conclusion_due_at
        ),
    )

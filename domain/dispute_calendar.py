"""The working-day calendar (工作日) behind the dispute clocks counted in working days.

Reference data: Monday to Friday by default, with the State Council's holidays (节假日) and
the weekend days that are worked instead (调休上班日) given as date sets, as published each
year. Counting follows domain.md section 0: day D itself is excluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

_SATURDAY = 5
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: weekdays, minus holidays, plus make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"a day cannot be both a holiday and a working day: {min(both)}")

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is not a holiday, and on a listed make-up working day."""
        if day in self.workdays:
            return True
        return day.weekday() < _SATURDAY and day not in self.holidays

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (`day` excluded); `day` itself when n is 0."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        while n:
            current += _ONE_DAY
            if self.is_working_day(current):
                n -= 1
        return current

"""The working-day calendar and the dispute windows' date arithmetic (domain.md section 0)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.common import CST
from domain.dispute_calendar import WorkingCalendar
from domain.dispute_rules import (
    DisputeRules,
    confirmation_application_due,
    confirmation_decision_dues,
    default_performance_due,
    enforcement_application_due,
    mediation_period_due,
    mediator_acceptance_due,
    set_aside_due,
)

RULES = DisputeRules()
# Labour Day as a calendar would list it: Fri 1 May, Mon 4 May and Tue 5 May off, Saturday
# 2 May worked instead (调休).
MAY_DAY = WorkingCalendar(
    holidays=frozenset({date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}),
    workdays=frozenset({date(2026, 5, 2)}),
)


def cst(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CST)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=CST)


# -- the calendar ------------------------------------------------------------------------------


def test_weekdays_are_working_days_and_weekends_are_not_by_default() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2026, 3, 6))  # Friday
    assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 3, 8))  # Sunday
    assert cal.is_working_day(date(2026, 3, 9))  # Monday


def test_three_working_days_from_a_friday_end_on_wednesday() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)


def test_counting_from_a_weekend_day_starts_on_monday() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)


def test_zero_working_days_is_the_day_itself() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)


def test_holidays_are_skipped_and_a_make_up_saturday_counts() -> None:
    assert not MAY_DAY.is_working_day(date(2026, 5, 1))
    assert MAY_DAY.is_working_day(date(2026, 5, 2))
    # From Thu 30 April: Sat 2 May (make-up) is 1, Wed 6 May is 2, Thu 7 May is 3.
    assert MAY_DAY.add_working_days(date(2026, 4, 30), 3) == date(2026, 5, 7)
    # Without the make-up day the third working day is Fri 8 May.
    no_make_up = WorkingCalendar(holidays=MAY_DAY.holidays)
    assert no_make_up.add_working_days(date(2026, 4, 30), 3) == date(2026, 5, 8)


def test_a_day_cannot_be_both_a_holiday_and_a_working_day() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(
            holidays=frozenset({date(2026, 5, 2)}), workdays=frozenset({date(2026, 5, 2)})
        )


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        WorkingCalendar().add_working_days(date(2026, 3, 6), -1)


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
day_sets = st.frozensets(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))


@given(day=days, n=st.integers(min_value=0, max_value=40), holidays=day_sets, workdays=day_sets)
def test_the_nth_working_day_is_a_working_day_with_n_working_days_up_to_it(
    day: date, n: int, holidays: frozenset[date], workdays: frozenset[date]
) -> None:
    cal = WorkingCalendar(holidays=holidays - workdays, workdays=workdays)
    result = cal.add_working_days(day, n)
    between = [day + timedelta(days=i) for i in range(1, (result - day).days + 1)]
    assert sum(cal.is_working_day(d) for d in between) == n
    assert n == 0 or (result > day and cal.is_working_day(result))


@given(day=days.filter(lambda d: d.weekday() < 5))
def test_five_working_days_from_a_weekday_are_a_calendar_week_by_default(day: date) -> None:
    assert WorkingCalendar().add_working_days(day, 5) == day + timedelta(days=7)


# -- the windows' arithmetic -------------------------------------------------------------------


def test_mediator_acceptance_is_due_at_the_end_of_the_third_working_day() -> None:
    due_date, due_at = mediator_acceptance_due(cst(2026, 3, 6), RULES)
    assert due_date == date(2026, 3, 11)
    assert due_at == eod(2026, 3, 11)
    assert due_at.tzinfo == UTC


def test_mediator_acceptance_follows_the_holiday_calendar() -> None:
    rules = DisputeRules(calendar=MAY_DAY)
    assert mediator_acceptance_due(cst(2026, 4, 30), rules)[0] == date(2026, 5, 7)


def test_a_request_late_in_the_cst_day_counts_from_that_cst_day() -> None:
    # 23:30 CST on Friday 6 March is 15:30 UTC the same day; 00:30 CST on Saturday is Friday UTC.
    assert mediator_acceptance_due(cst(2026, 3, 6, 23, 30), RULES)[0] == date(2026, 3, 11)
    assert mediator_acceptance_due(cst(2026, 3, 7, 0, 30), RULES)[0] == date(2026, 3, 11)
    assert mediator_acceptance_due(cst(2026, 3, 9, 0, 30), RULES)[0] == date(2026, 3, 12)


def test_the_mediation_period_is_30_days_unless_extended_later() -> None:
    assert mediation_period_due(cst(2026, 3, 9), None, RULES)[0] == date(2026, 4, 8)
    assert mediation_period_due(cst(2026, 3, 9), date(2026, 4, 20), RULES) == (
        date(2026, 4, 20),
        eod(2026, 4, 20),
    )
    assert mediation_period_due(cst(2026, 3, 9), date(2026, 4, 1), RULES)[0] == date(2026, 4, 8)


def test_confirmation_application_and_decision_dues() -> None:
    assert confirmation_application_due(cst(2026, 3, 16), RULES) == (
        date(2026, 4, 15),
        eod(2026, 4, 15),
    )
    target, maximum = confirmation_decision_dues(cst(2026, 3, 19), RULES)
    assert (target[0], maximum[0]) == (date(2026, 4, 3), date(2026, 4, 18))


def test_performance_defaults_to_15_days_after_the_effective_date() -> None:
    assert default_performance_due(cst(2026, 3, 16), RULES) == date(2026, 3, 31)
    assert default_performance_due(cst(2026, 4, 10), RULES) == date(2026, 4, 25)


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (cst(2026, 1, 31), date(2026, 7, 31)),  # before 2026-03-01: 6 months
        (cst(2026, 2, 28), date(2026, 8, 28)),
        (cst(2025, 8, 31), date(2026, 2, 28)),  # no 31 February: its last day
        (cst(2026, 3, 1), date(2026, 6, 1)),  # from 2026-03-01: 3 months
        (cst(2026, 3, 31), date(2026, 6, 30)),  # no 31 June: its last day
        (cst(2026, 11, 30), date(2027, 2, 28)),
        (cst(2026, 3, 1, 0, 30), date(2026, 6, 1)),  # 2026-02-28 16:30 UTC, 1 March in CST
        (cst(2026, 2, 28, 23, 30), date(2026, 8, 28)),
    ],
)
def test_the_set_aside_window_is_6_months_before_2026_03_01_and_3_months_from_it(
    issued: datetime, due: date
) -> None:
    assert set_aside_due(issued, RULES) == (due, eod(due.year, due.month, due.day))


def test_the_enforcement_window_ends_2_years_after_the_performance_deadline() -> None:
    assert enforcement_application_due(date(2026, 3, 31), RULES)[0] == date(2028, 3, 31)
    assert enforcement_application_due(date(2028, 2, 29), RULES) == (
        date(2030, 2, 28),
        eod(2030, 2, 28),
    )


@given(issued=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_a_set_aside_window_never_ends_later_than_the_same_date_months_on(issued: date) -> None:
    due = set_aside_due(datetime(issued.year, issued.month, issued.day, 12, tzinfo=CST), RULES)[0]
    months = 6 if issued < date(2026, 3, 1) else 3
    assert (due.year - issued.year) * 12 + due.month - issued.month == months
    assert due.day <= issued.day
    assert due.day == issued.day or (due + timedelta(days=1)).month != due.month


def test_every_period_is_a_parameter() -> None:
    rules = DisputeRules(
        mediator_acceptance_working_days=1,
        confirmation_application_days=10,
        set_aside_cutoff=date(2027, 1, 1),
        enforcement_application_months=12,
    )
    assert mediator_acceptance_due(cst(2026, 3, 6), rules)[0] == date(2026, 3, 9)
    assert confirmation_application_due(cst(2026, 3, 16), rules)[0] == date(2026, 3, 26)
    assert set_aside_due(cst(2026, 3, 31), rules)[0] == date(2026, 9, 30)
    assert enforcement_application_due(date(2028, 2, 29), rules)[0] == date(2029, 2, 28)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mediation_period_days": 0},
        {"performance_days": -1},
        {"confirmation_decision_target_days": 31},
    ],
)
def test_rules_refuse_meaningless_periods(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"period|target"):
        DisputeRules(**kwargs)  # type: ignore[arg-type]

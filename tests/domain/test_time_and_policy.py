"""Business time (domain.md section 0) and policy cover (section 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.common import (
    CST,
    Actor,
    InvalidInput,
    add_months,
    check_occurred_at,
    cst_date,
    deadline,
    end_of_day,
)
from domain.personal import Sealed
from domain.policies import Policy, PolicyAlreadyCancelled

ACTOR = Actor(name="t", role="insurer")
NOW = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


# -- cst_date -----------------------------------------------------------------------------


def test_cst_date_is_still_the_same_day_one_microsecond_before_utc_16_00() -> None:
    assert cst_date(datetime(2026, 6, 30, 15, 59, 59, 999999, tzinfo=UTC)) == date(2026, 6, 30)


def test_cst_date_turns_to_the_next_day_at_utc_16_00() -> None:
    assert cst_date(datetime(2026, 6, 30, 16, 0, tzinfo=UTC)) == date(2026, 7, 1)


def test_cst_date_of_a_new_year_utc_evening_is_already_the_new_year() -> None:
    assert cst_date(datetime(2025, 12, 31, 20, 0, tzinfo=UTC)) == date(2026, 1, 1)


def test_cst_date_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cst_date(datetime(2026, 6, 30, 12, 0))


def test_end_of_day_is_the_last_microsecond_of_the_cst_day_in_utc() -> None:
    assert end_of_day(date(2026, 7, 16)) == datetime(2026, 7, 16, 15, 59, 59, 999999, tzinfo=UTC)


# -- deadlines -------------------------------------------------------------------------------


def test_fifteen_day_period_excludes_the_start_day_and_ends_at_cst_midnight() -> None:
    received = datetime(2026, 7, 1, 10, 0, tzinfo=CST)
    due_date, due_at = deadline(received, 15)
    assert due_date == date(2026, 7, 16)
    assert due_at == datetime(2026, 7, 16, 15, 59, 59, 999999, tzinfo=UTC)
    assert due_at.utcoffset() == timedelta(0)
    assert due_at.astimezone(CST).time() == time(23, 59, 59, 999999)


def test_event_at_23_30_cst_counts_from_that_cst_day() -> None:
    # 23:30 CST on 1 July is 15:30 UTC on 1 July
    received = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)
    due_date, due_at = deadline(received, 15)
    assert due_date == date(2026, 7, 16)
    assert due_at == datetime(2026, 7, 16, 15, 59, 59, 999999, tzinfo=UTC)


def test_event_at_00_30_cst_counts_from_the_next_day_though_the_utc_date_is_the_same() -> None:
    # 00:30 CST on 2 July is 16:30 UTC on 1 July
    received = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    due_date, due_at = deadline(received, 15)
    assert due_date == date(2026, 7, 17)
    assert due_at == datetime(2026, 7, 17, 15, 59, 59, 999999, tzinfo=UTC)


def test_paused_days_are_added_to_the_deadline() -> None:
    received = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    due_date, due_at = deadline(received, 15, paused_days=5)
    assert due_date == date(2026, 7, 21)
    assert due_at == datetime(2026, 7, 21, 15, 59, 59, 999999, tzinfo=UTC)


def test_deadline_does_not_move_past_a_weekend() -> None:
    # 2026-07-03 is a Friday; 1 day later is Saturday 2026-07-04, kept as is.
    due_date, _ = deadline(datetime(2026, 7, 3, 2, 0, tzinfo=UTC), 1)
    assert due_date == date(2026, 7, 4)


def test_deadline_crosses_month_and_year_ends() -> None:
    due_date, due_at = deadline(datetime(2026, 12, 20, 2, 0, tzinfo=UTC), 15)
    assert due_date == date(2027, 1, 4)
    assert due_at == datetime(2027, 1, 4, 15, 59, 59, 999999, tzinfo=UTC)


# -- months ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 3, 31), 3, date(2026, 6, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 15), 24, date(2028, 3, 15)),
        (date(2026, 3, 15), 6, date(2026, 9, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -3, date(2025, 10, 15)),
    ],
)
def test_add_months_keeps_the_date_or_takes_the_last_day_of_the_month(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


# -- occurred_at -----------------------------------------------------------------------------


def test_occurred_at_six_minutes_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidInput, match="future") as info:
        check_occurred_at(NOW + timedelta(minutes=6), NOW)
    assert info.value.field == "occurred_at"


def test_occurred_at_just_over_five_minutes_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidInput):
        check_occurred_at(NOW + timedelta(minutes=5, microseconds=1), NOW)


def test_occurred_at_four_minutes_in_the_future_is_accepted() -> None:
    check_occurred_at(NOW + timedelta(minutes=4), NOW)


def test_occurred_at_exactly_five_minutes_in_the_future_is_accepted() -> None:
    check_occurred_at(NOW + timedelta(minutes=5), NOW)


def test_late_occurred_at_in_the_past_is_accepted() -> None:
    check_occurred_at(NOW - timedelta(days=30), NOW)


def test_future_skew_is_judged_on_the_instant_not_the_offset() -> None:
    # 12:04 CST is 04:04 UTC: four minutes ahead of NOW, whatever the offset it is written in
    check_occurred_at(datetime(2026, 7, 1, 12, 4, tzinfo=CST), NOW)
    with pytest.raises(InvalidInput):
        check_occurred_at(datetime(2026, 7, 1, 12, 6, tzinfo=CST), NOW)


def test_naive_occurred_at_is_refused() -> None:
    with pytest.raises(InvalidInput, match="offset") as info:
        check_occurred_at(datetime(2026, 7, 1, 4, 0), NOW)
    assert info.value.field == "occurred_at"


# -- policies ---------------------------------------------------------------------------------


def policy(start: date = date(2026, 3, 1), end: date = date(2027, 2, 28)) -> Policy:
    return Policy(
        policy_id="POL-1",
        product_code="MED-1",
        insured_ref="ref-p1",
        insured_id=Sealed("ref-p1", "c2VhbGVk"),
        insured_name=Sealed("ref-p1", "bmFtZQ=="),
        period_start=start,
        period_end=end,
        occurred_at=NOW,
        actor=ACTOR,
    )


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2026, 2, 28), False),
        (date(2026, 3, 1), True),
        (date(2026, 9, 15), True),
        (date(2027, 2, 28), True),
        (date(2027, 3, 1), False),
    ],
)
def test_policy_covers_its_period_bounds_inclusive(day: date, covered: bool) -> None:
    assert policy().covers(day) is covered


def test_cancelled_policy_covers_nothing_from_the_effective_date_on() -> None:
    p = policy()
    p.cancel(date(2026, 9, 1), NOW, ACTOR)
    assert p.covers(date(2026, 3, 1))
    assert p.covers(date(2026, 8, 31))
    assert not p.covers(date(2026, 9, 1))
    assert not p.covers(date(2026, 12, 1))


def test_policy_cannot_be_cancelled_twice() -> None:
    p = policy()
    p.cancel(date(2026, 9, 1), NOW, ACTOR)
    version = p.version
    with pytest.raises(PolicyAlreadyCancelled):
        p.cancel(date(2026, 10, 1), NOW, ACTOR)
    assert p.version == version
    assert p.cancelled_from == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("day", "year_start"),
    [
        (date(2026, 3, 1), date(2026, 3, 1)),
        (date(2026, 5, 1), date(2026, 3, 1)),
        (date(2026, 12, 31), date(2026, 3, 1)),
        (date(2027, 1, 1), date(2026, 3, 1)),
        (date(2027, 2, 28), date(2026, 3, 1)),
        (date(2027, 3, 1), date(2027, 3, 1)),
        (date(2028, 2, 29), date(2027, 3, 1)),
        (date(2028, 3, 1), date(2028, 3, 1)),
    ],
)
def test_policy_year_starts_on_the_anniversary_of_the_period_start(
    day: date, year_start: date
) -> None:
    p = policy(end=date(2029, 2, 28))
    assert p.policy_year_start(day) == year_start


def test_policy_year_of_a_leap_day_policy_starts_on_28_february_in_common_years() -> None:
    p = policy(start=date(2024, 2, 29), end=date(2028, 12, 31))
    assert p.policy_year_start(date(2025, 2, 27)) == date(2024, 2, 29)
    assert p.policy_year_start(date(2025, 2, 28)) == date(2025, 2, 28)
    assert p.policy_year_start(date(2028, 2, 28)) == date(2027, 2, 28)
    assert p.policy_year_start(date(2028, 2, 29)) == date(2028, 2, 29)

"""The complaint clock (domain.md sections 0 and 2): hand-computed dates, no I/O."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.common import CST, cst_date
from domain.complaint_clock import (
    ClockState,
    ComplaintRules,
    Pause,
    compute_clock,
    paused_days,
    review_window,
)

RULES = ComplaintRules()
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CST)


def cst(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CST)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=CST)


def clock(
    start: datetime = T0,
    *,
    now: datetime | None = None,
    level: int = 0,
    pauses: Sequence[Pause] = (),
    notified_at: datetime | None = None,
    decided_at: datetime | None = None,
    urges: int = 0,
    supervisor: bool = False,
    review_requested_at: datetime | None = None,
    ended_at: datetime | None = None,
    received_at: datetime | None = None,
    rules: ComplaintRules = RULES,
) -> ClockState:
    return compute_clock(
        clock_start=start,
        received_at=received_at or start,
        extension_level=level,
        pauses=pauses,
        notified_at=notified_at,
        decided_at=decided_at,
        urge_count=urges,
        escalated_by_supervisor=supervisor,
        review_requested_at=review_requested_at,
        now=now or start,
        rules=rules,
        ended_at=ended_at,
    )


# -- counting days ------------------------------------------------------------------------


def test_receipt_at_23_30_cst_counts_from_that_day_and_excludes_it() -> None:
    state = clock(cst(2026, 3, 1, 23, 30))
    assert state.due_date == date(2026, 3, 16)
    assert state.due_at == eod(2026, 3, 16)
    assert state.due_at.tzinfo == UTC


def test_receipt_at_00_30_cst_the_next_day_is_due_a_day_later_on_the_same_utc_date() -> None:
    late, early = cst(2026, 3, 1, 23, 30), cst(2026, 3, 2, 0, 30)
    assert late.astimezone(UTC).date() == early.astimezone(UTC).date()
    assert clock(early).due_date == date(2026, 3, 17)
    assert clock(early).due_at == datetime(2026, 3, 17, 15, 59, 59, 999999, tzinfo=UTC)


def test_received_on_january_31_is_due_on_february_15() -> None:
    assert clock(cst(2026, 1, 31)).due_date == date(2026, 2, 15)


def test_february_14_plus_15_days_is_march_1_in_a_common_year() -> None:
    assert clock(cst(2026, 2, 14)).due_date == date(2026, 3, 1)


def test_february_14_plus_15_days_is_february_29_in_a_leap_year() -> None:
    assert clock(cst(2028, 2, 14)).due_date == date(2028, 2, 29)


def test_a_last_day_on_a_saturday_or_a_holiday_is_not_moved() -> None:
    assert clock(cst(2026, 3, 6)).due_date == date(2026, 3, 21)  # a Saturday
    assert clock(cst(2026, 9, 16)).due_date == date(2026, 10, 1)  # National Day


def test_first_extension_gives_30_days_and_the_second_60() -> None:
    assert clock(level=1).due_date == date(2026, 3, 31)
    assert clock(level=2).due_date == date(2026, 4, 30)
    assert clock(level=2).extension_level == 2


def test_an_extension_level_beyond_the_rules_reads_as_the_last_level() -> None:
    assert clock(level=5).due_date == date(2026, 4, 30)


def test_decision_days_are_parameters() -> None:
    rules = ComplaintRules(decision_days=(10, 20))
    assert clock(rules=rules).due_date == date(2026, 3, 11)
    assert clock(level=1, rules=rules).due_date == date(2026, 3, 21)
    assert rules.max_extension_level == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"decision_days": (30, 15)},
        {"decision_days": ()},
        {"decision_days": (0, 30)},
        {"review_window_days": 0},
        {"urge_escalation_count": 0},
        {"due_soon_days": -1},
    ],
)
def test_rules_refuse_meaningless_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must"):
        ComplaintRules(**kwargs)  # type: ignore[arg-type]


# -- pauses -------------------------------------------------------------------------------


def test_paused_march_3_resumed_march_6_adds_3_days() -> None:
    pause = Pause(cst(2026, 3, 3, 9), cst(2026, 3, 6, 17))
    assert paused_days([pause], now=cst(2026, 4, 1)) == 3
    state = clock(pauses=[pause], now=cst(2026, 3, 7))
    assert state.paused_days == 3
    assert state.due_date == date(2026, 3, 19)
    assert state.paused is False


def test_pause_days_count_whole_cst_days_whatever_the_hours() -> None:
    pause = Pause(cst(2026, 3, 3, 23, 50), cst(2026, 3, 6, 0, 10))
    assert paused_days([pause], now=cst(2026, 4, 1)) == 3


def test_a_pause_resumed_the_same_day_adds_nothing() -> None:
    pause = Pause(cst(2026, 3, 3, 9), cst(2026, 3, 3, 17))
    assert clock(pauses=[pause]).due_date == date(2026, 3, 16)


def test_an_ongoing_pause_counts_up_to_now() -> None:
    pauses = [Pause(cst(2026, 3, 3), None)]
    assert paused_days(pauses, now=cst(2026, 3, 10)) == 7
    state = clock(pauses=pauses, now=cst(2026, 3, 10))
    assert state.paused is True
    assert state.paused_days == 7
    assert state.due_date == date(2026, 3, 23)


def test_an_ongoing_pause_keeps_a_case_from_becoming_overdue() -> None:
    state = clock(pauses=[Pause(cst(2026, 3, 3), None)], now=cst(2026, 6, 1))
    assert state.overdue is False
    assert state.due_date == date(2026, 6, 14)


def test_an_ongoing_pause_stops_counting_when_the_case_ends() -> None:
    state = clock(
        pauses=[Pause(cst(2026, 3, 3), None)], ended_at=cst(2026, 3, 5), now=cst(2026, 9, 1)
    )
    assert state.paused_days == 2
    assert state.paused is False


def test_overlapping_pauses_count_each_day_once() -> None:
    pauses = [Pause(cst(2026, 3, 4), cst(2026, 3, 8)), Pause(cst(2026, 3, 3), cst(2026, 3, 6))]
    assert paused_days(pauses, now=cst(2026, 4, 1)) == 5
    assert clock(pauses=pauses).due_date == date(2026, 3, 21)


def test_separate_pauses_add_up() -> None:
    pauses = [Pause(cst(2026, 3, 3), cst(2026, 3, 6)), Pause(cst(2026, 3, 10), cst(2026, 3, 12))]
    assert clock(pauses=pauses).due_date == date(2026, 3, 21)


def test_a_pause_beginning_after_the_deadline_does_not_move_it() -> None:
    pause = Pause(cst(2026, 3, 20), cst(2026, 3, 25))
    state = clock(pauses=[pause], now=cst(2026, 3, 26))
    assert state.paused_days == 0
    assert state.due_date == date(2026, 3, 16)
    assert state.overdue is True


def test_a_pause_beginning_on_the_last_day_still_moves_the_deadline() -> None:
    state = clock(pauses=[Pause(cst(2026, 3, 16), cst(2026, 3, 18))])
    assert state.due_date == date(2026, 3, 18)


def test_a_pause_inside_a_deadline_already_moved_by_an_earlier_pause_counts() -> None:
    first = Pause(cst(2026, 3, 3), cst(2026, 3, 8))  # due 16 -> 21
    second = Pause(cst(2026, 3, 19), cst(2026, 3, 20))  # after the 16th, before the 21st
    assert clock(pauses=[second, first]).due_date == date(2026, 3, 22)


def test_pause_days_before_a_restarted_clock_do_not_count() -> None:
    restart = cst(2026, 3, 10)
    before = Pause(cst(2026, 3, 3), cst(2026, 3, 6))
    spanning = Pause(cst(2026, 3, 8), cst(2026, 3, 12))  # counts from the 10th: 2 days
    state = clock(restart, pauses=[before, spanning], received_at=T0)
    assert state.paused_days == 2
    assert state.due_date == date(2026, 3, 27)
    assert state.received_at == T0


# -- overdue, due soon and escalation -------------------------------------------------------


def test_a_case_is_overdue_one_microsecond_after_the_end_of_its_last_day() -> None:
    due_at = eod(2026, 3, 16)
    assert clock(now=due_at).overdue is False
    state = clock(now=due_at + timedelta(microseconds=1))
    assert state.overdue is True
    assert state.escalated is True
    assert state.escalation_reasons == ("overdue",)


def test_a_case_is_due_soon_within_3_days_of_its_due_instant() -> None:
    due_at = eod(2026, 3, 16)
    assert clock(now=due_at - timedelta(days=3)).escalation_reasons == ("due_soon",)
    early = clock(now=due_at - timedelta(days=3, microseconds=1))
    assert early.escalated is False
    assert early.escalation_reasons == ()


def test_a_decided_case_is_not_due_soon() -> None:
    state = clock(now=cst(2026, 3, 15), decided_at=cst(2026, 3, 14))
    assert state.escalated is False


def test_a_decided_case_not_yet_notified_past_its_due_time_is_overdue() -> None:
    state = clock(now=cst(2026, 3, 17), decided_at=cst(2026, 3, 14))
    assert state.overdue is True


def test_due_soon_days_is_a_parameter() -> None:
    rules = ComplaintRules(due_soon_days=5)
    assert clock(now=cst(2026, 3, 12), rules=rules).escalation_reasons == ("due_soon",)
    assert clock(now=cst(2026, 3, 12)).escalation_reasons == ()


def test_a_case_urged_twice_is_escalated_once_urged_is_not() -> None:
    assert clock(urges=1).escalated is False
    assert clock(urges=2).escalation_reasons == ("urged_twice",)
    assert clock(urges=2, rules=ComplaintRules(urge_escalation_count=3)).escalated is False


def test_a_supervisor_escalation_is_a_reason() -> None:
    assert clock(supervisor=True).escalation_reasons == ("supervisor",)


def test_all_reasons_are_listed_in_a_fixed_order() -> None:
    state = clock(urges=3, supervisor=True, now=cst(2026, 3, 20))
    assert state.escalation_reasons == ("urged_twice", "overdue", "supervisor")


# -- notice, end and review -----------------------------------------------------------------


def test_deadline_met_is_unknown_until_the_notice() -> None:
    assert clock(now=cst(2026, 3, 10)).deadline_met is None


def test_a_notice_at_the_last_instant_meets_the_deadline() -> None:
    state = clock(notified_at=eod(2026, 3, 16), now=cst(2026, 9, 1))
    assert state.deadline_met is True
    assert state.overdue is False
    assert state.escalated is False


def test_a_notice_after_the_last_day_misses_the_deadline_and_is_no_longer_overdue() -> None:
    state = clock(notified_at=cst(2026, 3, 17, 0, 0), now=cst(2026, 9, 1))
    assert state.deadline_met is False
    assert state.overdue is False


def test_an_ended_case_is_never_overdue_nor_due_soon() -> None:
    state = clock(ended_at=cst(2026, 3, 2), now=cst(2026, 9, 1))
    assert state.overdue is False
    assert state.deadline_met is None
    assert state.escalation_reasons == ()


def test_the_review_is_due_30_days_after_its_request() -> None:
    assert clock().review_due_at is None
    state = clock(review_requested_at=cst(2026, 4, 10, 23, 30))
    assert state.review_due_date == date(2026, 5, 10)
    assert state.review_due_at == eod(2026, 5, 10)


def test_the_review_window_ends_30_days_after_the_notice() -> None:
    assert review_window(cst(2026, 3, 10, 8), RULES) == (date(2026, 4, 9), eod(2026, 4, 9))
    short = ComplaintRules(review_window_days=10)
    assert review_window(cst(2026, 3, 10, 8), short)[0] == date(2026, 3, 20)


def test_the_state_names_the_instant_it_was_evaluated_at() -> None:
    now = cst(2026, 3, 5)
    state = clock(now=now)
    assert state.evaluated_at == now
    assert state.clock_start == T0


# -- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(CST)
)


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[Pause]:
    offsets = draw(st.lists(st.integers(0, 90 * 24), min_size=0, max_size=8, unique=True))
    hours = sorted(offsets)
    pauses = []
    for begin, end in zip(hours[::2], hours[1::2], strict=False):
        pauses.append(Pause(start + timedelta(hours=begin), start + timedelta(hours=end)))
    if len(hours) % 2 and draw(st.booleans()):
        pauses.append(Pause(start + timedelta(hours=hours[-1]), None))
    return pauses


@given(data=st.data(), start=instants, level=st.integers(0, 2), later=st.integers(0, 200))
def test_due_date_is_start_date_plus_decision_days_plus_counted_pause_days(
    data: st.DataObject, start: datetime, level: int, later: int
) -> None:
    pauses = data.draw(pause_lists(start))
    state = clock(start, level=level, pauses=pauses, now=start + timedelta(days=later))
    expected = RULES.decision_days[level] + state.paused_days
    assert (state.due_date - cst_date(start)).days == expected
    assert state.due_at.astimezone(CST).time() == time.max
    assert state.due_at.astimezone(CST).date() == state.due_date


@given(data=st.data(), start=instants, level=st.integers(0, 2))
def test_pauses_that_begin_by_the_original_due_date_all_count(
    data: st.DataObject, start: datetime, level: int
) -> None:
    pauses = data.draw(pause_lists(start))
    base_due = cst_date(start) + timedelta(days=RULES.decision_days[level])
    pauses = [p for p in pauses if cst_date(p.start) <= base_due]
    now = start + timedelta(days=200)
    state = clock(start, level=level, pauses=pauses, now=now)
    assert state.paused_days == paused_days(pauses, now)


@given(data=st.data(), start=instants, seed=st.integers(0, 1000))
def test_the_order_pauses_were_recorded_in_does_not_matter(
    data: st.DataObject, start: datetime, seed: int
) -> None:
    pauses = data.draw(pause_lists(start))
    shuffled = list(pauses)
    random.Random(seed).shuffle(shuffled)
    now = start + timedelta(days=120)
    assert clock(start, pauses=shuffled, now=now) == clock(start, pauses=pauses, now=now)


@given(start=instants, minutes=st.integers(-20 * 24 * 60, 20 * 24 * 60))
def test_overdue_and_due_soon_never_hold_together(start: datetime, minutes: int) -> None:
    now = start + timedelta(days=15, minutes=minutes)
    state = clock(start, now=now)
    assert not {"overdue", "due_soon"} <= set(state.escalation_reasons)
    assert state.overdue == (now > state.due_at)

"""Dispute windows (domain.md sections 0 and 3): checked on business dates, shown with due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.common import InvalidInput
from domain.dispute_calendar import WorkingCalendar
from domain.dispute_rules import DisputeRules
from domain.dispute_values import (
    AlreadyAccepted,
    ConfirmationWindowClosed,
    ConsentRequired,
    MediationPeriodExpired,
    MediatorAcceptanceLate,
    NotAccepted,
    StepNotRequested,
)
from domain.dispute_windows import CANCELLED, EXPIRED, MET, MISSED, OPEN, origin_dimensions
from domain.disputes import Dispute
from tests.domain.test_dispute_builders import (
    ARBITRATOR,
    COURT,
    ENFORCEMENT_COURT,
    MEDIATOR,
    MEDIATOR_2,
    STAFF,
    accepted,
    applied,
    awarded,
    confirmed,
    cst,
    enforcement_named,
    eod,
    mediating,
    midnight,
    opened,
    pending,
    refuses,
    rejected,
    signed,
)

RULES = DisputeRules()

# -- windows checked on business dates -----------------------------------------------------------


def test_the_mediator_accepts_on_the_third_working_day_but_not_the_day_after() -> None:
    d = mediating()  # requested Friday 03-06: Mon 9, Tue 10, Wed 11
    refuses(
        d,
        MediatorAcceptanceLate,
        lambda d: d.mediator_accept(midnight(3, 12), MEDIATOR, rules=RULES),
    )
    d.mediator_accept(eod(3, 11), MEDIATOR, rules=RULES)
    assert d.mediation is not None
    assert d.mediation.accepted_at == eod(3, 11)
    refuses(d, AlreadyAccepted, lambda d: d.mediator_accept(eod(3, 11), MEDIATOR, rules=RULES))


def test_the_acceptance_window_skips_holidays_and_counts_make_up_days() -> None:
    cal = WorkingCalendar(
        holidays=frozenset({date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}),
        workdays=frozenset({date(2026, 5, 2)}),
    )
    rules = DisputeRules(calendar=cal)
    d = opened(at=cst(4, 29))
    d.request_mediation("med-1", cst(4, 30), STAFF)  # Sat 2 May, Wed 6, Thu 7 May
    refuses(
        d,
        MediatorAcceptanceLate,
        lambda d: d.mediator_accept(midnight(5, 8), MEDIATOR, rules=rules),
    )
    d.mediator_accept(eod(5, 7), MEDIATOR, rules=rules)


def test_sessions_and_agreements_fall_within_the_mediation_period() -> None:
    d = accepted()  # accepted 03-09: the period ends with 04-08
    refuses(
        d,
        MediationPeriodExpired,
        lambda d: d.hold_session(midnight(4, 9), "rec", cst(4, 9), MEDIATOR, rules=RULES),
    )
    refuses(
        d,
        MediationPeriodExpired,
        lambda d: d.sign_agreement(
            midnight(4, 9), Decimal("1"), "t", cst(4, 9), MEDIATOR, rules=RULES
        ),
    )
    d.sign_agreement(eod(4, 8), Decimal("1"), "t", eod(4, 8), MEDIATOR, rules=RULES)
    assert d.state == "agreement_signed"


def test_the_parties_may_extend_the_mediation_by_consent() -> None:
    d = accepted()
    refuses(
        d,
        ConsentRequired,
        lambda d: d.extend_mediation(date(2026, 4, 20), False, cst(4, 1), STAFF, rules=RULES),
    )
    refuses(
        d,
        InvalidInput,
        lambda d: d.extend_mediation(date(2026, 4, 8), True, cst(4, 1), STAFF, rules=RULES),
    )
    refuses(
        d,
        MediationPeriodExpired,
        lambda d: d.extend_mediation(date(2026, 4, 20), True, midnight(4, 9), STAFF, rules=RULES),
    )
    d.extend_mediation(date(2026, 4, 20), True, eod(4, 8), STAFF, rules=RULES)
    refuses(
        d,
        MediationPeriodExpired,
        lambda d: d.sign_agreement(
            midnight(4, 21), Decimal("1"), "t", cst(4, 21), MEDIATOR, rules=RULES
        ),
    )
    d.sign_agreement(cst(4, 15), Decimal("1"), "t", cst(4, 15), MEDIATOR, rules=RULES)
    refuses(
        mediating(),
        NotAccepted,
        lambda d: d.extend_mediation(date(2026, 4, 20), True, cst(3, 7), STAFF, rules=RULES),
    )


def test_the_confirmation_application_is_checked_on_the_courts_applied_at() -> None:
    # Signed 03-16: the court must have the application by the end of 04-15.
    refuses(
        applied(),
        ConfirmationWindowClosed,
        lambda d: d.court_accept_confirmation("c", midnight(4, 16), cst(4, 17), COURT, rules=RULES),
    )
    d = applied()
    d.court_accept_confirmation(
        "c", eod(4, 15), cst(4, 20), COURT, rules=RULES
    )  # recorded late, applied in time
    assert d.confirmation is not None
    assert d.confirmation.applied_at == eod(4, 15)
    refuses(
        applied(),
        InvalidInput,
        lambda d: d.court_accept_confirmation("c", cst(3, 15), cst(3, 18), COURT, rules=RULES),
    )
    refuses(
        applied(),
        InvalidInput,
        lambda d: d.court_accept_confirmation("c", cst(3, 19), cst(3, 18), COURT, rules=RULES),
    )


def test_staff_cannot_apply_for_confirmation_after_the_window() -> None:
    refuses(
        signed(),
        ConfirmationWindowClosed,
        lambda d: d.apply_confirmation("court-1", midnight(4, 16), STAFF, rules=RULES),
    )
    d = signed()
    d.apply_confirmation("court-1", eod(4, 15), STAFF, rules=RULES)
    assert d.state == "confirmation_pending"


def test_a_ruling_needs_the_courts_acceptance_and_is_made_once() -> None:
    refuses(
        signed(),
        StepNotRequested,
        lambda d: d.court_accept_confirmation("c", cst(3, 17), cst(3, 17), COURT, rules=RULES),
    )
    refuses(applied(), NotAccepted, lambda d: d.grant_confirmation(cst(3, 20), cst(3, 20), COURT))
    refuses(
        pending(),
        AlreadyAccepted,
        lambda d: d.court_accept_confirmation("c", cst(3, 18), cst(3, 19), COURT, rules=RULES),
    )
    refuses(
        confirmed(), StepNotRequested, lambda d: d.grant_confirmation(cst(3, 26), cst(3, 26), COURT)
    )
    refuses(
        pending(), InvalidInput, lambda d: d.reject_confirmation(cst(3, 18), "r", cst(3, 20), COURT)
    )


# -- windows shown at a stated instant -----------------------------------------------------------


def table(d: Dispute, now: datetime) -> dict[tuple[str, int], tuple[date, str]]:
    return {(w.name, w.round): (w.due_date, w.status) for w in d.windows(now, RULES)}


def test_the_windows_of_a_confirmed_agreement_before_its_performance_deadline() -> None:
    assert table(confirmed(), cst(3, 26)) == {
        ("mediator_acceptance", 1): (date(2026, 3, 11), MET),
        ("mediation_period", 1): (date(2026, 4, 8), MET),
        ("confirmation_application", 1): (date(2026, 4, 15), MET),
        ("performance", 1): (date(2026, 3, 31), OPEN),
        ("confirmation_decision_target", 1): (date(2026, 4, 3), MET),
        ("confirmation_decision_maximum", 1): (date(2026, 4, 18), MET),
    }
    first = confirmed().windows(cst(3, 26), RULES)[0]
    assert (first.starts_at, first.due_at, first.done_at) == (cst(3, 6), eod(3, 11), cst(3, 9))


def test_an_unpaid_confirmed_agreement_shows_the_missed_deadline_and_the_enforcement_window() -> (
    None
):
    shown = table(confirmed(), midnight(4, 1))
    assert shown[("performance", 1)] == (date(2026, 3, 31), MISSED)
    assert shown[("enforcement_application", 1)] == (date(2028, 3, 31), OPEN)
    assert ("enforcement_application", 1) not in table(signed(), midnight(4, 1))


def test_the_mediator_acceptance_window_is_open_then_missed() -> None:
    assert table(mediating(), eod(3, 11))[("mediator_acceptance", 1)] == (date(2026, 3, 11), OPEN)
    assert table(mediating(), midnight(3, 12))[("mediator_acceptance", 1)][1] == MISSED


def test_a_mediator_replaced_in_time_has_its_window_cancelled() -> None:
    d = mediating()
    d.request_mediation("med-2", cst(3, 10), STAFF)
    shown = table(d, cst(3, 20))
    assert shown[("mediator_acceptance", 1)] == (date(2026, 3, 11), CANCELLED)
    assert shown[("mediator_acceptance", 2)] == (date(2026, 3, 13), MISSED)


def test_a_withdrawal_cancels_the_running_windows() -> None:
    d = accepted()
    d.withdraw("settled", cst(3, 20), STAFF)
    assert table(d, cst(5, 1))[("mediation_period", 1)] == (date(2026, 4, 8), CANCELLED)


def test_a_mediation_period_without_outcome_is_missed_and_an_extension_moves_it() -> None:
    assert table(accepted(), midnight(4, 9))[("mediation_period", 1)] == (date(2026, 4, 8), MISSED)
    d = accepted()
    d.extend_mediation(date(2026, 4, 20), True, cst(4, 1), STAFF, rules=RULES)
    assert table(d, midnight(4, 9))[("mediation_period", 1)] == (date(2026, 4, 20), OPEN)


def test_the_confirmation_window_counts_the_courts_applied_at_even_when_recorded_late() -> None:
    d = applied()
    d.court_accept_confirmation("c", eod(4, 15), cst(4, 20), COURT, rules=RULES)
    window = next(w for w in d.windows(cst(4, 21), RULES) if w.name == "confirmation_application")
    assert (window.status, window.done_at) == (MET, eod(4, 15))


def test_an_agreement_never_brought_to_court_misses_or_cancels_its_window() -> None:
    assert table(signed(), midnight(4, 16))[("confirmation_application", 1)][1] == MISSED
    d = signed()
    d.record_performance(Decimal("8000"), cst(3, 20), STAFF)
    assert table(d, midnight(4, 16))[("confirmation_application", 1)][1] == CANCELLED


def test_a_late_ruling_misses_the_target_but_meets_the_maximum() -> None:
    d = pending()  # accepted 03-19: target 04-03, maximum 04-18
    d.grant_confirmation(cst(4, 10), cst(4, 10), COURT)
    shown = table(d, cst(4, 11))
    assert shown[("confirmation_decision_target", 1)] == (date(2026, 4, 3), MISSED)
    assert shown[("confirmation_decision_maximum", 1)] == (date(2026, 4, 18), MET)
    waiting = table(pending(), midnight(4, 19))
    assert waiting[("confirmation_decision_maximum", 1)] == (date(2026, 4, 18), MISSED)


def test_a_rejection_before_the_deadline_cancels_the_agreements_performance() -> None:
    assert table(rejected(), cst(4, 1))[("performance", 1)] == (date(2026, 3, 31), CANCELLED)


def test_award_windows_performance_set_aside_and_enforcement() -> None:
    shown = table(awarded(), cst(4, 11))
    assert shown[("set_aside", 1)] == (date(2026, 7, 10), OPEN)
    assert shown[("performance", 1)] == (date(2026, 4, 25), OPEN)
    assert ("enforcement_application", 1) not in shown
    later = table(awarded(), midnight(7, 11))
    assert later[("set_aside", 1)] == (date(2026, 7, 10), EXPIRED)
    assert later[("enforcement_application", 1)] == (date(2028, 4, 25), OPEN)
    d = enforcement_named()
    d.apply_enforcement(cst(4, 28), cst(4, 28), ENFORCEMENT_COURT, rules=RULES)
    assert table(d, cst(5, 1))[("enforcement_application", 1)] == (date(2028, 4, 25), MET)


def test_a_late_payment_misses_the_deadline_and_cancels_the_enforcement_window() -> None:
    d = awarded()
    d.record_performance(Decimal("9000"), cst(4, 27), STAFF)
    shown = table(d, cst(5, 1))
    assert shown[("performance", 1)] == (date(2026, 4, 25), MISSED)
    assert shown[("enforcement_application", 1)] == (date(2028, 4, 25), CANCELLED)


def award_on(issued_at: datetime) -> Dispute:
    d = opened(at=issued_at - timedelta(days=20))
    d.request_arbitration("arb-1", True, issued_at - timedelta(days=19), STAFF)
    d.arbitrator_accept("c", issued_at - timedelta(days=18), ARBITRATOR)
    d.issue_award(issued_at, Decimal("1"), "pay", issued_at, ARBITRATOR, rules=RULES)
    return d


@pytest.mark.parametrize(
    ("issued_at", "due"),
    [
        (cst(1, 31), date(2026, 7, 31)),
        (cst(2, 28, 23, 30), date(2026, 8, 28)),
        (cst(3, 1, 0, 30), date(2026, 6, 1)),
        (cst(3, 31), date(2026, 6, 30)),
    ],
)
def test_the_set_aside_window_is_shown_by_the_award_date(issued_at: datetime, due: date) -> None:
    window = next(w for w in award_on(issued_at).windows(issued_at, RULES) if w.name == "set_aside")
    assert (window.due_date, window.due_at) == (due, eod(due.month, due.day))


# -- statistics inputs -----------------------------------------------------------------------------


def test_the_facts_of_a_mediated_and_performed_dispute() -> None:
    d = confirmed()
    d.record_performance(Decimal("8000"), cst(3, 30), STAFF)
    f = d.facts()
    assert (f.origin, f.state, f.mediation_rounds, f.agreements_signed) == (
        "direct",
        "performed",
        1,
        1,
    )
    assert f.mediation_succeeded
    assert (f.confirmations_granted, f.awarded, f.performed, f.enforced) == (1, False, True, False)
    assert (f.amount_claimed, f.amount_owed, f.amount_paid) == (
        Decimal("10000.00"),
        Decimal("8000.00"),
        Decimal("8000.00"),
    )
    assert (f.days_to_agreement, f.days_to_award, f.days_to_resolution) == (11, None, 25)


def test_the_facts_of_an_arbitrated_and_enforced_dispute() -> None:
    d = enforcement_named()
    d.apply_enforcement(cst(4, 28), cst(4, 28), ENFORCEMENT_COURT, rules=RULES)
    d.record_enforced(Decimal("9000"), cst(6, 1), ENFORCEMENT_COURT)
    f = d.facts()
    assert (f.mediations_failed, f.mediation_succeeded, f.awarded, f.enforced) == (
        1,
        False,
        True,
        True,
    )
    assert (f.performed, f.amount_enforced, f.enforced_at) == (False, Decimal("9000.00"), cst(6, 1))
    assert (f.days_to_award, f.days_to_resolution) == (36, 88)


def test_the_facts_count_every_round_and_ruling() -> None:
    d = rejected()
    d.request_mediation("med-2", cst(3, 26), STAFF)
    d.mediator_accept(cst(3, 27), MEDIATOR_2, rules=RULES)
    d.sign_agreement(cst(4, 2), Decimal("7000"), "t", cst(4, 2), MEDIATOR_2, rules=RULES)
    f = d.facts()
    assert (f.mediation_rounds, f.mediations_accepted, f.agreements_signed) == (2, 2, 2)
    assert (f.confirmations_applied, f.confirmations_granted, f.confirmations_rejected) == (1, 0, 1)
    assert (f.first_agreement_at, f.amount_owed) == (cst(3, 16), Decimal("7000.00"))


# -- property-based --------------------------------------------------------------------------------


@given(minutes=st.integers(min_value=0, max_value=10 * 24 * 60))
def test_an_acceptance_is_recorded_exactly_when_its_window_allows_it(minutes: int) -> None:
    d = mediating()  # requested Friday 2026-03-06 10:00: due by the end of Wednesday 03-11
    at = cst(3, 6) + timedelta(minutes=minutes)
    if at <= eod(3, 11):
        d.mediator_accept(at, MEDIATOR, rules=RULES)
        assert table(d, at)[("mediator_acceptance", 1)] == (date(2026, 3, 11), MET)
    else:
        refuses(d, MediatorAcceptanceLate, lambda d: d.mediator_accept(at, MEDIATOR, rules=RULES))
        assert table(d, at)[("mediator_acceptance", 1)] == (date(2026, 3, 11), MISSED)


@dataclass
class Case:
    cause: str
    line: str
    region: str


def test_a_dispute_is_counted_under_its_complaint_else_its_claim_else_nothing() -> None:
    complaint, claim = uuid4(), uuid4()
    cases = {complaint: Case("claims_refused", "life", "310000"), claim: Case("", "", "330100")}
    found = cases.get
    both = opened(complaint_id=complaint, claim_id=claim)
    assert origin_dimensions(both, found, found) == ("claims_refused", "life", "310000")
    from_claim = opened(claim_id=claim)
    assert origin_dimensions(from_claim, found, found) == (None, "health", "330100")
    assert origin_dimensions(opened(), found, found) == (None, None, None)
    unknown_complaint = opened(complaint_id=uuid4(), claim_id=claim)
    assert origin_dimensions(unknown_complaint, found, found) == (None, "health", "330100")

"""The Dispute aggregate (domain.md section 3): every path, window and refusal, no I/O."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given
from hypothesis import strategies as st

from domain.common import InvalidInput
from domain.dispute_values import (
    STATES,
    AlreadyAccepted,
    AlreadyPerformed,
    AwardAlreadyIssued,
    ConsentRequired,
    EnforcementWindowClosed,
    InvalidTransition,
    NotAccepted,
    NotEnforceable,
    PartnerNotNamed,
    PerformanceExceedsAmount,
    PerformanceNotDue,
    StepNotRequested,
)
from domain.disputes import Dispute
from domain.personal import Sealed
from tests.domain.test_dispute_builders import (
    ARBITRATOR,
    COURT,
    ENFORCEMENT_COURT,
    MEDIATOR,
    MEDIATOR_2,
    PARTY,
    RULES,
    STAFF,
    accepted,
    applied,
    arbitrating,
    awarded,
    confirmed,
    cst,
    enforcement_named,
    eod,
    failed,
    mediating,
    midnight,
    names,
    opened,
    pending,
    refuses,
    rejected,
    signed,
)

# -- opening -----------------------------------------------------------------------------------


def test_a_dispute_opens_with_the_chosen_id_sealed_party_and_exact_amount() -> None:
    dispute_id = uuid4()
    d = Dispute.open(
        dispute_id=dispute_id,
        party_ref="ref-1",
        party=PARTY,
        amount=Decimal("10000"),
        matter="claim partly refused",
        occurred_at=cst(3, 5),
        actor=STAFF,
    )
    assert d.id == dispute_id
    assert (d.state, d.origin, d.amount, d.opened_at) == (
        "open",
        "direct",
        Decimal("10000.00"),
        cst(3, 5),
    )
    assert all(isinstance(v, Sealed) for v in d.party.values())
    assert names(d) == ["Opened"]


def test_a_dispute_names_the_complaint_or_claim_it_came_from() -> None:
    complaint_id, claim_id = uuid4(), uuid4()
    assert opened(complaint_id=complaint_id).origin == "complaint"
    assert opened(claim_id=claim_id).origin == "claim"
    both = opened(complaint_id=complaint_id, claim_id=claim_id)
    assert (both.origin, both.complaint_id, both.claim_id) == ("complaint", complaint_id, claim_id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"matter": "  "}, "matter"),
        ({"party": {"id": PARTY["id"]}}, "party"),
        ({"party": {**PARTY, "phone": PARTY["id"]}}, "party"),
        ({"party": {"id": "plain", "name": PARTY["name"]}}, "party"),
        ({"occurred_at": datetime(2026, 3, 5, 10)}, "occurred_at"),
    ],
)
def test_opening_refuses_malformed_input(changes: dict[str, Any], field: str) -> None:
    kwargs: dict[str, Any] = {
        "dispute_id": uuid4(),
        "party_ref": "ref-1",
        "party": PARTY,
        "amount": Decimal("10"),
        "matter": "m",
        "occurred_at": cst(3, 5),
        "actor": STAFF,
    }
    with pytest.raises(InvalidInput) as refused:
        Dispute.open(**{**kwargs, **changes})
    assert refused.value.field == field


# -- mediation → confirmation → performance ----------------------------------------------------


def test_mediation_agreement_confirmation_and_performance_resolve_the_dispute() -> None:
    d = mediating()
    assert (d.state, d.mediator) == ("mediating", "med-1")
    d = signed()
    assert d.state == "agreement_signed"
    assert d.title is not None
    assert (d.title.amount, d.title.performance_due, d.title.enforceable) == (
        Decimal("8000.00"),
        date(2026, 3, 31),
        False,
    )
    d = confirmed()
    assert d.state == "confirmed"
    assert d.title is not None
    assert d.title.enforceable
    assert d.confirmation is not None
    assert d.confirmation.case_no == "(2026)沪0101民特1号"
    d.record_performance(Decimal("8000"), cst(3, 30), STAFF, remittance_ref="claim:abc/remit-1")
    assert (d.state, d.paid, d.outstanding) == ("performed", Decimal("8000.00"), Decimal("0.00"))
    assert d.payments[0].remittance_ref == "claim:abc/remit-1"
    assert names(d) == [
        "Opened",
        "MediationRequested",
        "MediatorAccepted",
        "MediationSessionHeld",
        "AgreementSigned",
        "ConfirmationApplied",
        "ConfirmationAccepted",
        "ConfirmationGranted",
        "Performed",
    ]


def test_the_states_passed_are_exactly_the_contract_values() -> None:
    assert STATES == (
        "open", "mediating", "agreement_signed", "confirmation_pending", "confirmed",
        "confirmation_rejected", "arbitrating", "awarded", "performed", "enforcement_applied",
        "enforced", "withdrawn", "closed",
    )  # fmt: skip
    assert applied().state == "confirmation_pending"
    assert pending().state == "confirmation_pending"
    assert rejected().state == "confirmation_rejected"


def test_an_agreement_may_be_performed_without_confirmation_and_in_parts() -> None:
    d = signed()
    d.record_performance(Decimal("3000"), cst(3, 20), STAFF)
    assert (d.state, d.outstanding) == ("agreement_signed", Decimal("5000.00"))
    d.record_performance(Decimal("5000.00"), cst(3, 25), STAFF)
    assert d.state == "performed"


def test_performing_beyond_the_amount_or_twice_in_full_is_refused() -> None:
    d = signed()
    d.record_performance(Decimal("3000"), cst(3, 20), STAFF)
    refuses(
        d,
        PerformanceExceedsAmount,
        lambda d: d.record_performance(Decimal("5000.01"), cst(3, 21), STAFF),
    )
    d.record_performance(Decimal("5000"), cst(3, 21), STAFF)
    refuses(d, AlreadyPerformed, lambda d: d.record_performance(Decimal("1"), cst(3, 22), STAFF))
    refuses(signed(), InvalidInput, lambda d: d.record_performance(Decimal("0"), cst(3, 22), STAFF))
    refuses(
        signed(), InvalidInput, lambda d: d.record_performance(Decimal("0.001"), cst(3, 22), STAFF)
    )
    refuses(signed(), InvalidInput, lambda d: d.record_performance(Decimal("1"), cst(3, 15), STAFF))


def test_there_is_nothing_to_perform_before_an_agreement_or_award() -> None:
    for d in (opened(), mediating(), arbitrating(), rejected()):
        refuses(
            d, InvalidTransition, lambda d: d.record_performance(Decimal("1"), cst(4, 1), STAFF)
        )


def test_a_court_may_still_rule_on_an_agreement_performed_while_pending() -> None:
    d = applied()
    d.record_performance(Decimal("8000"), cst(3, 18), STAFF)
    assert d.state == "performed"
    d.court_accept_confirmation("case", cst(3, 18), cst(3, 19), COURT, rules=RULES)
    d.grant_confirmation(cst(3, 25), cst(3, 25), COURT)
    assert d.state == "performed"
    assert d.confirmation is not None
    assert d.confirmation.granted


# -- failure → arbitration → award → enforcement -----------------------------------------------


def test_failed_mediation_then_arbitration_award_and_enforcement() -> None:
    d = failed()
    assert d.state == "open"
    assert d.mediation is not None
    assert d.mediation.failure_reason == "no agreement on the amount"
    d = awarded()
    assert (d.state, d.arbitrator) == ("awarded", "arb-1")
    assert d.title is not None
    assert (d.title.kind, d.title.amount, d.title.performance_due) == (
        "award",
        Decimal("9000.00"),
        date(2026, 4, 25),
    )
    assert d.arbitration is not None
    assert d.arbitration.hearings[0].online
    d = enforcement_named()
    assert (d.state, d.enforcement_court, d.court) == ("awarded", "court-2", "court-2")
    d.apply_enforcement(cst(4, 28), cst(4, 29), ENFORCEMENT_COURT, rules=RULES)
    assert d.state == "enforcement_applied"
    d.record_enforced(Decimal("9000"), cst(6, 1), ENFORCEMENT_COURT)
    assert d.state == "enforced"
    assert d.enforcement is not None
    assert d.enforcement.amount == Decimal("9000.00")
    assert names(d)[-8:] == [
        "MediationFailed",
        "ArbitrationRequested",
        "ArbitratorAccepted",
        "HearingHeld",
        "AwardIssued",
        "EnforcementRequested",
        "EnforcementApplied",
        "Enforced",
    ]


def test_arbitration_may_be_requested_directly_and_records_the_consent() -> None:
    d = opened()
    d.request_arbitration("arb-1", True, cst(3, 6), STAFF)
    assert d.state == "arbitrating"
    assert d.pending_events[-1].consent is True  # type: ignore[attr-defined]
    refuses(
        opened(), ConsentRequired, lambda d: d.request_arbitration("arb-1", False, cst(3, 6), STAFF)
    )


def test_a_second_award_or_arbitration_after_the_award_is_refused() -> None:
    d = awarded()
    refuses(
        d,
        AwardAlreadyIssued,
        lambda d: d.issue_award(
            cst(4, 11), Decimal("1"), "again", cst(4, 11), ARBITRATOR, rules=RULES
        ),
    )
    refuses(
        d, AwardAlreadyIssued, lambda d: d.request_arbitration("arb-2", True, cst(4, 11), STAFF)
    )


def test_an_award_needs_the_arbitrators_acceptance_after_the_staff_request() -> None:
    refuses(opened(), StepNotRequested, lambda d: d.arbitrator_accept("c", cst(3, 6), ARBITRATOR))
    d = failed()
    d.request_arbitration("arb-1", True, cst(3, 23), STAFF)
    refuses(
        d,
        NotAccepted,
        lambda d: d.issue_award(cst(4, 1), Decimal("1"), "x", cst(4, 1), ARBITRATOR, rules=RULES),
    )
    refuses(d, NotAccepted, lambda d: d.hold_hearing(cst(4, 1), "rec", cst(4, 1), ARBITRATOR))
    d.arbitrator_accept("c", cst(3, 24), ARBITRATOR)
    refuses(d, AlreadyAccepted, lambda d: d.arbitrator_accept("c", cst(3, 25), ARBITRATOR))
    refuses(
        d,
        InvalidInput,
        lambda d: d.issue_award(cst(3, 23), Decimal("1"), "x", cst(4, 1), ARBITRATOR, rules=RULES),
    )


def test_enforcement_is_requested_only_after_the_performance_deadline_passed_unpaid() -> None:
    refuses(
        awarded(),
        PerformanceNotDue,
        lambda d: d.request_enforcement("court-2", eod(4, 25), STAFF, rules=RULES),
    )
    d = awarded()
    d.request_enforcement("court-2", midnight(4, 26), STAFF, rules=RULES)
    assert d.enforcement_court == "court-2"


def test_the_court_applies_enforcement_after_the_deadline_and_within_two_years() -> None:
    refuses(
        enforcement_named(),
        PerformanceNotDue,
        lambda d: d.apply_enforcement(eod(4, 25), cst(4, 27), ENFORCEMENT_COURT, rules=RULES),
    )
    late = midnight(4, 26, y=2028)
    refuses(
        enforcement_named(),
        EnforcementWindowClosed,
        lambda d: d.apply_enforcement(late, late, ENFORCEMENT_COURT, rules=RULES),
    )
    d = enforcement_named()
    d.apply_enforcement(eod(4, 25, y=2028), eod(4, 25, y=2028), ENFORCEMENT_COURT, rules=RULES)
    assert d.state == "enforcement_applied"


def test_a_february_29_deadline_gives_until_february_28_two_years_on() -> None:
    d = arbitrating()
    d.issue_award(
        cst(4, 10),
        Decimal("9000"),
        "pay",
        cst(4, 10),
        ARBITRATOR,
        performance_due=date(2028, 2, 29),
        rules=RULES,
    )
    refuses(
        d,
        PerformanceNotDue,
        lambda d: d.request_enforcement("court-2", eod(2, 29, y=2028), STAFF, rules=RULES),
    )
    d.request_enforcement("court-2", midnight(3, 1, y=2028), STAFF, rules=RULES)
    too_late = midnight(3, 1, y=2030)
    refuses(
        d,
        EnforcementWindowClosed,
        lambda d: d.apply_enforcement(too_late, too_late, ENFORCEMENT_COURT, rules=RULES),
    )
    d.apply_enforcement(eod(2, 28, y=2030), eod(2, 28, y=2030), ENFORCEMENT_COURT, rules=RULES)
    assert d.enforcement is not None
    assert d.enforcement.applied_at == eod(2, 28, y=2030)


def test_staff_cannot_name_an_enforcement_court_once_the_window_closed() -> None:
    late = midnight(4, 26, y=2028)
    refuses(
        awarded(),
        EnforcementWindowClosed,
        lambda d: d.request_enforcement("court-2", late, STAFF, rules=RULES),
    )


def test_enforcement_needs_a_confirmed_agreement_or_an_award() -> None:
    for d in (opened(), mediating(), signed(), applied(), rejected(), arbitrating()):
        refuses(
            d,
            NotEnforceable,
            lambda d: d.request_enforcement("court-2", cst(6, 1), STAFF, rules=RULES),
        )
    d = confirmed()
    d.request_enforcement(
        "court-2", midnight(4, 1), STAFF, rules=RULES
    )  # the agreement was due 03-31
    assert (d.confirmation_court, d.enforcement_court) == ("court-1", "court-2")


def test_enforcement_after_full_performance_is_refused() -> None:
    d = enforcement_named()
    d.record_performance(Decimal("9000"), cst(4, 27), STAFF)
    refuses(
        d,
        AlreadyPerformed,
        lambda d: d.apply_enforcement(cst(4, 28), cst(4, 28), ENFORCEMENT_COURT, rules=RULES),
    )
    refuses(
        d,
        AlreadyPerformed,
        lambda d: d.request_enforcement("court-3", cst(4, 28), STAFF, rules=RULES),
    )


def test_a_partly_paid_award_can_be_enforced_for_the_rest() -> None:
    d = awarded()
    d.record_performance(Decimal("4000"), cst(4, 20), STAFF)
    d.request_enforcement("court-2", cst(4, 26), STAFF, rules=RULES)
    d.apply_enforcement(cst(4, 27), cst(4, 27), ENFORCEMENT_COURT, rules=RULES)
    refuses(d, InvalidTransition, lambda d: d.record_performance(Decimal("1"), cst(4, 28), STAFF))
    refuses(
        d,
        InvalidTransition,
        lambda d: d.apply_enforcement(cst(4, 27), cst(4, 27), ENFORCEMENT_COURT, rules=RULES),
    )
    d.record_enforced(Decimal("5000"), cst(5, 20), ENFORCEMENT_COURT)
    assert (d.state, d.paid) == ("enforced", Decimal("4000.00"))


def test_the_court_steps_of_enforcement_need_the_staff_request_and_the_application() -> None:
    refuses(
        awarded(),
        StepNotRequested,
        lambda d: d.apply_enforcement(cst(4, 27), cst(4, 27), ENFORCEMENT_COURT, rules=RULES),
    )
    refuses(
        awarded(),
        StepNotRequested,
        lambda d: d.record_enforced(Decimal("1"), cst(4, 27), ENFORCEMENT_COURT),
    )
    refuses(
        enforcement_named(),
        InvalidTransition,
        lambda d: d.record_enforced(Decimal("1"), cst(4, 27), ENFORCEMENT_COURT),
    )


# -- rejection → mediation again ---------------------------------------------------------------


def test_a_rejected_confirmation_lets_the_parties_mediate_again() -> None:
    d = rejected()
    assert (d.state, d.title) == ("confirmation_rejected", None)
    d.request_mediation("med-2", cst(3, 26), STAFF)
    refuses(d, PartnerNotNamed, lambda d: d.mediator_accept(cst(3, 27), MEDIATOR, rules=RULES))
    d.mediator_accept(cst(3, 27), MEDIATOR_2, rules=RULES)
    d.sign_agreement(cst(4, 2), Decimal("7000"), "pays 7,000", cst(4, 2), MEDIATOR_2, rules=RULES)
    d.apply_confirmation("court-1", cst(4, 3), STAFF, rules=RULES)
    d.court_accept_confirmation("case-2", cst(4, 3), cst(4, 3), COURT, rules=RULES)
    d.grant_confirmation(cst(4, 8), cst(4, 8), COURT)
    assert (d.state, len(d.mediations), len(d.confirmations)) == ("confirmed", 2, 2)
    assert d.title is not None
    assert (d.title.round, d.title.amount) == (2, Decimal("7000.00"))
    assert [c.granted for c in d.confirmations] == [False, True]
    assert d.names_partner("med-1")
    assert d.names_partner("med-2")


def test_a_rejected_confirmation_may_go_to_arbitration() -> None:
    d = rejected()
    d.request_arbitration("arb-1", True, cst(3, 26), STAFF)
    d.arbitrator_accept("c", cst(3, 27), ARBITRATOR)
    d.issue_award(cst(4, 10), Decimal("8000"), "pay", cst(4, 10), ARBITRATOR, rules=RULES)
    assert d.state == "awarded"


def test_a_failed_mediation_may_be_mediated_again() -> None:
    d = failed()
    d.request_mediation("med-2", cst(3, 23), STAFF)
    assert (d.state, d.mediator, [m.round for m in d.mediations]) == ("mediating", "med-2", [1, 2])


def test_staff_may_name_another_mediator_until_one_accepts() -> None:
    d = mediating()
    d.request_mediation("med-2", cst(3, 12), STAFF)
    assert d.mediations[0].superseded_at == cst(3, 12)
    refuses(d, PartnerNotNamed, lambda d: d.mediator_accept(cst(3, 12), MEDIATOR, rules=RULES))
    d.mediator_accept(cst(3, 13), MEDIATOR_2, rules=RULES)
    refuses(d, InvalidTransition, lambda d: d.request_mediation("med-3", cst(3, 14), STAFF))


# -- the event record ----------------------------------------------------------------------------


def test_every_event_records_when_it_happened_and_who_caused_it() -> None:
    d = confirmed()
    assert all(isinstance(e.occurred_at, datetime) for e in d.pending_events)  # type: ignore[attr-defined]
    actors = [e.actor for e in d.pending_events]  # type: ignore[attr-defined]
    assert actors[2] == MEDIATOR
    assert actors[2].event_id == "evt-1"
    assert actors[-1] == COURT


def test_replaying_the_events_rebuilds_the_same_dispute() -> None:
    d = enforcement_named()
    d.record_performance(Decimal("100"), cst(4, 27), STAFF)
    rebuilt: Any = None
    for e in d.pending_events:
        rebuilt = e.mutate(rebuilt)
    assert isinstance(rebuilt, Dispute)
    state = {k: v for k, v in d.__dict__.items() if k != "_pending_events"}
    assert {k: v for k, v in rebuilt.__dict__.items() if k != "_pending_events"} == state
    assert rebuilt.windows(cst(5, 1), RULES) == d.windows(cst(5, 1), RULES)


def test_event_classes_are_reachable_from_dispute_with_their_real_topics() -> None:
    d = signed()
    signed_event = d.pending_events[4]
    assert type(signed_event) is getattr(Dispute, "AgreementSigned")  # noqa: B009
    assert get_topic(type(signed_event)) == "domain.disputes:Dispute.AgreementSigned"
    former = "domain.dispute_record:DisputeRecord.AgreementSigned"
    assert resolve_topic(former) is type(signed_event)
    assert get_topic(type(d.pending_events[0])) == "domain.disputes:Dispute.Opened"


# -- property-based --------------------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=1_000_000).map(lambda n: Decimal(n) / 100)


@given(payments=st.lists(cents, max_size=8))
def test_payments_never_exceed_the_agreement_and_complete_it_exactly(
    payments: list[Decimal],
) -> None:
    d = signed()
    for i, amount in enumerate(payments):
        before = d.paid
        try:
            d.record_performance(amount, cst(3, 17 + i), STAFF)
        except (PerformanceExceedsAmount, AlreadyPerformed, InvalidInput):
            assert d.paid == before
    assert d.paid <= Decimal("8000.00")
    assert (d.state == "performed") == (d.paid == Decimal("8000.00"))


@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10, max_value=10)
)
def test_amounts_with_more_than_two_decimals_or_negative_are_refused(amount: Decimal) -> None:
    d = accepted()
    ok = amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    if ok:
        d.sign_agreement(cst(3, 16), amount, "t", cst(3, 16), MEDIATOR, rules=RULES)
        assert d.title is not None
        assert d.title.amount == amount
    else:
        refuses(
            d,
            InvalidInput,
            lambda d: d.sign_agreement(cst(3, 16), amount, "t", cst(3, 16), MEDIATOR, rules=RULES),
        )

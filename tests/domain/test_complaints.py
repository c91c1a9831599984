"""The Complaint aggregate (domain.md section 2): every transition and refusal, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from domain.common import CST, Actor, InvalidInput
from domain.complaint_clock import ComplaintRules
from domain.complaints import (
    AlreadyDecided,
    AlreadyPaused,
    CaseMerged,
    ClockPaused,
    Complaint,
    ComplaintClosed,
    ComplaintDeclined,
    ComplaintError,
    ComplaintWithdrawn,
    Evidence,
    ExtensionLimitReached,
    InvalidTransition,
    NotDecided,
    NotNotified,
    NotPaused,
    ReviewWindowClosed,
    matter_keys,
)
from domain.personal import Sealed

ACTOR = Actor(name="handler-1", role="handler")
SUPERVISOR = Actor(name="supervisor-1", role="supervisor")
RULES = ComplaintRules()
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=CST)
DOC = Evidence(name="call recording", sha256="ab" * 32, ref="vault://rec/1")


def cst(m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(2026, m, d, h, mi, tzinfo=CST)


def eod(m: int, d: int) -> datetime:
    return datetime(2026, m, d, 23, 59, 59, 999999, tzinfo=CST)


def sealed(value: str) -> Sealed:
    return Sealed(subject="ref-1", box=value)


PERSON = {"id": sealed("id"), "name": sealed("name"), "phone": sealed("phone")}


def receive(
    *,
    channel: str = "hotline",
    transfer_id: str | None = None,
    complainant: dict[str, Sealed] | None = None,
    matter: str = "claim paid late",
    occurred_at: datetime = T0,
    complaint_id: UUID | None = None,
    **extra: Any,
) -> Complaint:
    return Complaint.receive(
        complaint_id=complaint_id or uuid4(),
        channel=channel,
        complainant_ref="ref-1",
        complainant=PERSON if complainant is None else complainant,
        matter=matter,
        request="pay interest",
        cause="claims",
        line="health",
        region="310000",
        occurred_at=occurred_at,
        actor=ACTOR,
        transfer_id=transfer_id,
        **extra,
    )


def assigned() -> Complaint:
    c = receive()
    c.assign("handler-1", cst(3, 1, 11), ACTOR)
    return c


def contacted() -> Complaint:
    c = assigned()
    c.contact(cst(3, 2), ACTOR)
    return c


def decided() -> Complaint:
    c = contacted()
    c.decide(
        "partly_upheld", Decimal("500"), "paid 20 days late", "policy terms 5.2", cst(3, 9), ACTOR
    )
    return c


def notified() -> Complaint:
    c = decided()
    c.notify("letter", cst(3, 12, 9), cst(3, 10), ACTOR)
    return c


def closed() -> Complaint:
    c = notified()
    c.close(cst(3, 13), ACTOR)
    return c


def withdrawn() -> Complaint:
    c = contacted()
    c.withdraw(cst(3, 3), ACTOR)
    return c


def declined() -> Complaint:
    c = receive()
    c.decline("not the policyholder nor an agent", cst(3, 2), ACTOR)
    return c


def merged() -> Complaint:
    c = receive()
    c.mark_merged(uuid4(), cst(3, 1, 12), ACTOR)
    return c


def events(c: Aggregate) -> list[Any]:
    return list(c.pending_events)


def last_event(c: Aggregate) -> Any:
    return c.pending_events[-1]


def refuses(c: Complaint, error: type[Exception], command: Callable[[Complaint], object]) -> None:
    """The command raises `error` and records nothing."""
    before, version = len(c.pending_events), c.version
    with pytest.raises(error):
        command(c)
    assert len(c.pending_events) == before
    assert c.version == version


# -- intake ---------------------------------------------------------------------------------


def test_received_records_the_intake_and_the_caller_chosen_id() -> None:
    cid = uuid4()
    c = receive(complaint_id=cid, policy_id="P-1", claim_id="C-1", facts="paid 20 days late")
    assert c.id == cid == Complaint.create_id(cid)
    assert c.status == "received"
    assert c.received_at == c.clock_start == T0
    assert (c.channel, c.cause, c.line, c.region) == ("hotline", "claims", "health", "310000")
    assert (c.policy_id, c.claim_id, c.facts) == ("P-1", "C-1", "paid 20 days late")
    assert c.is_open
    received = last_event(c)
    assert type(received).__name__ == "Received"
    assert received.occurred_at == T0
    assert received.actor == ACTOR
    assert received.complainant == PERSON


def test_personal_data_is_recorded_only_sealed() -> None:
    agent = {"id": sealed("agent-id"), "name": sealed("agent-name")}
    c = receive(agent=agent)
    assert all(isinstance(v, Sealed) for v in [*c.complainant.values(), *agent.values()])
    assert c.agent == agent


def test_a_12378_transfer_carries_its_transfer_id() -> None:
    c = receive(channel="12378", transfer_id="T-2026-001")
    assert c.transfer_id == "T-2026-001"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "12378"}, "transfer_id"),
        ({"channel": "hotline", "transfer_id": "T-1"}, "transfer_id"),
        ({"channel": "fax"}, "channel"),
        ({"complainant": {"id": sealed("id")}}, "complainant"),
        ({"complainant": {**PERSON, "email": sealed("e")}}, "complainant"),
        ({"agent": {"name": sealed("n")}}, "agent"),
        ({"matter": "  "}, "matter"),
        ({"occurred_at": datetime(2026, 3, 1, 10)}, "occurred_at"),
        ({"evidence": [Evidence("x", "not-a-digest", "r")]}, "evidence"),
    ],
)
def test_intake_refuses_input_only_the_domain_can_judge(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        receive(**kwargs)
    assert refused.value.field == field


def test_channels_are_reference_data() -> None:
    assert receive(channel="wechat", channels=("wechat", "hotline")).channel == "wechat"


def test_a_phone_is_optional() -> None:
    assert "phone" not in receive(complainant={"id": sealed("i"), "name": sealed("n")}).complainant


# -- assignment -------------------------------------------------------------------------------


def test_assign_gives_the_case_to_a_handler() -> None:
    c = assigned()
    assert (c.status, c.handler) == ("assigned", "handler-1")
    event = last_event(c)
    assert type(event).__name__ == "Assigned"
    assert (event.handler, event.occurred_at, event.actor) == ("handler-1", cst(3, 1, 11), ACTOR)


def test_an_assigned_case_is_reassigned_not_assigned_again() -> None:
    refuses(assigned(), InvalidTransition, lambda c: c.assign("handler-2", cst(3, 2), ACTOR))


def test_reassign_records_the_previous_handler_and_the_reason() -> None:
    c = contacted()
    c.reassign("handler-2", "workload", cst(3, 3), SUPERVISOR)
    assert (c.handler, c.status) == ("handler-2", "contacted")
    event = last_event(c)
    assert (event.previous, event.handler, event.reason) == ("handler-1", "handler-2", "workload")


def test_reassign_to_the_same_handler_is_refused() -> None:
    refuses(assigned(), InvalidInput, lambda c: c.reassign("handler-1", "x", cst(3, 2), SUPERVISOR))


def test_reassign_of_an_unassigned_case_assigns_it() -> None:
    c = receive()
    c.reassign("handler-2", "bulk routing", cst(3, 2), SUPERVISOR)
    assert (c.status, c.handler) == ("assigned", "handler-2")


def test_a_recused_handler_leaves_the_case_and_cannot_be_given_it_again() -> None:
    c = contacted()
    c.recuse("handler-1", "is the agent's relative", cst(3, 3), ACTOR)
    assert c.handler is None
    assert c.handlers_recused == ["handler-1"]
    assert c.status == "contacted"
    refuses(c, InvalidInput, lambda c: c.assign("handler-1", cst(3, 4), SUPERVISOR))
    refuses(c, InvalidTransition, lambda c: c.recuse("handler-1", "again", cst(3, 4), ACTOR))
    refuses(c, InvalidTransition, lambda c: c.contact(cst(3, 4), ACTOR))
    decide = lambda c: c.decide("upheld", Decimal(0), "f", "b", cst(3, 4), ACTOR)  # noqa: E731
    refuses(c, InvalidTransition, decide)
    c.assign("handler-2", cst(3, 4), SUPERVISOR)
    assert c.handler == "handler-2"


def test_only_the_current_handler_recuses() -> None:
    refuses(assigned(), InvalidInput, lambda c: c.recuse("handler-9", "x", cst(3, 2), ACTOR))


# -- contact, urging and escalation -------------------------------------------------------------


def test_contact_needs_a_handler() -> None:
    refuses(receive(), InvalidTransition, lambda c: c.contact(cst(3, 2), ACTOR))


def test_contact_moves_to_contacted_and_keeps_the_earliest_contact() -> None:
    c = contacted()
    c.contact(cst(3, 1, 15), ACTOR)  # a late event: earlier than the first recorded contact
    assert c.status == "contacted"
    assert c.contacted_at == cst(3, 1, 15)


@pytest.mark.parametrize("by", ["complainant", "regulator"])
def test_an_urging_is_counted(by: str) -> None:
    c = assigned()
    c.urge(by, "still waiting", cst(3, 5), ACTOR)
    assert c.urges == 1
    assert last_event(c).by == by


def test_urged_by_someone_else_is_refused() -> None:
    refuses(assigned(), InvalidInput, lambda c: c.urge("neighbour", None, cst(3, 5), ACTOR))


def test_a_case_urged_twice_counts_as_escalated_at_every_read() -> None:
    c = assigned()
    c.urge("complainant", None, cst(3, 5), ACTOR)
    assert c.clock(cst(3, 5, 13), RULES).escalated is False
    c.urge("regulator", "12378 follow-up", cst(3, 6), ACTOR)
    assert c.clock(cst(3, 6, 13), RULES).escalation_reasons == ("urged_twice",)


def test_a_supervisor_escalation_records_the_approver_and_the_reason() -> None:
    c = assigned()
    c.escalate("media attention", cst(3, 4), SUPERVISOR)
    assert c.escalations == ["media attention"]
    assert last_event(c).approver == "supervisor-1"
    assert c.clock(cst(3, 4, 13), RULES).escalation_reasons == ("supervisor",)


def test_the_clock_escalates_a_case_due_soon_and_then_overdue() -> None:
    c = contacted()
    assert c.clock(cst(3, 12), RULES).escalated is False
    assert c.clock(cst(3, 14), RULES).escalation_reasons == ("due_soon",)
    late = c.clock(cst(3, 17), RULES)
    assert (late.overdue, late.escalation_reasons) == (True, ("overdue",))


# -- extensions ---------------------------------------------------------------------------------


def test_extensions_go_to_30_then_60_days_with_the_supervisor_as_approver() -> None:
    c = contacted()
    c.extend("appraisal needed", cst(3, 10), SUPERVISOR, rules=RULES)
    assert c.extension_level == 1
    assert c.clock(cst(3, 10), RULES).due_date == date(2026, 3, 31)
    event = last_event(c)
    assert (event.level, event.days, event.approver) == (1, 30, "supervisor-1")
    assert event.complainant_notified is True
    c.extend("second appraisal", cst(3, 25), SUPERVISOR, complainant_notified=False, rules=RULES)
    assert c.clock(cst(3, 25), RULES).due_date == date(2026, 4, 30)
    assert last_event(c).complainant_notified is False
    assert [e.level for e in c.extensions] == [1, 2]


def test_a_third_extension_is_refused() -> None:
    c = contacted()
    c.extend("one", cst(3, 10), SUPERVISOR, rules=RULES)
    c.extend("two", cst(3, 25), SUPERVISOR, rules=RULES)
    refuses(
        c, ExtensionLimitReached, lambda c: c.extend("three", cst(4, 20), SUPERVISOR, rules=RULES)
    )


def test_the_extension_limit_follows_the_rules() -> None:
    rules = ComplaintRules(decision_days=(10, 20))
    c = contacted()
    c.extend("one", cst(3, 5), SUPERVISOR, rules=rules)
    assert last_event(c).days == 20
    refuses(c, ExtensionLimitReached, lambda c: c.extend("two", cst(3, 6), SUPERVISOR, rules=rules))


def test_extending_a_closed_case_is_refused() -> None:
    refuses(
        closed(), ComplaintClosed, lambda c: c.extend("late", cst(3, 14), SUPERVISOR, rules=RULES)
    )


def test_extending_a_notified_case_is_refused() -> None:
    refuses(
        notified(),
        InvalidTransition,
        lambda c: c.extend("late", cst(3, 11), SUPERVISOR, rules=RULES),
    )


# -- pauses and new facts ---------------------------------------------------------------------


def test_paused_march_3_resumed_march_6_moves_the_deadline_by_3_days() -> None:
    c = contacted()
    c.pause("external appraisal", cst(3, 3, 9), ACTOR)
    assert c.paused
    c.resume(cst(3, 6, 16), ACTOR)
    assert not c.paused
    state = c.clock(cst(3, 7), RULES)
    assert (state.paused_days, state.due_date) == (3, date(2026, 3, 19))


def test_an_ongoing_pause_keeps_moving_the_deadline() -> None:
    c = contacted()
    c.pause("external appraisal", cst(3, 3), ACTOR)
    state = c.clock(cst(3, 20), RULES)
    assert (state.paused, state.paused_days, state.due_date) == (True, 17, date(2026, 4, 2))
    assert state.overdue is False


def test_pausing_twice_is_refused() -> None:
    c = contacted()
    c.pause("appraisal", cst(3, 3), ACTOR)
    refuses(c, AlreadyPaused, lambda c: c.pause("again", cst(3, 4), ACTOR))


def test_resuming_without_a_pause_is_refused() -> None:
    refuses(contacted(), NotPaused, lambda c: c.resume(cst(3, 4), ACTOR))


def test_a_resumption_before_its_pause_is_refused() -> None:
    c = contacted()
    c.pause("appraisal", cst(3, 5), ACTOR)
    refuses(c, InvalidInput, lambda c: c.resume(cst(3, 4), ACTOR))


def test_a_decision_waits_for_the_paused_clock() -> None:
    c = contacted()
    c.pause("appraisal", cst(3, 5), ACTOR)
    refuses(c, ClockPaused, lambda c: c.decide("upheld", Decimal(1), "f", "b", cst(3, 6), ACTOR))


def test_a_decided_case_cannot_be_paused_nor_get_new_facts() -> None:
    refuses(decided(), AlreadyDecided, lambda c: c.pause("late", cst(3, 10), ACTOR))
    refuses(decided(), AlreadyDecided, lambda c: c.add_new_facts("x", cst(3, 10), ACTOR))


def test_new_facts_restart_the_clock_with_extension_level_and_pauses_afresh() -> None:
    c = contacted()
    c.extend("appraisal", cst(3, 4), SUPERVISOR, rules=RULES)
    c.pause("appraisal", cst(3, 5), ACTOR)
    c.resume(cst(3, 9), ACTOR)
    assert c.clock(cst(3, 9), RULES).due_date == date(2026, 4, 4)  # 30 + 4 paused days
    c.add_new_facts("second hospital bill", cst(3, 10, 20), ACTOR)
    state = c.clock(cst(3, 11), RULES)
    assert (state.clock_start, state.received_at) == (cst(3, 10, 20), T0)
    assert (state.extension_level, state.paused_days) == (0, 0)
    assert state.due_date == date(2026, 3, 25)
    c.extend("again", cst(3, 12), SUPERVISOR, rules=RULES)
    c.extend("and again", cst(3, 13), SUPERVISOR, rules=RULES)  # a level-2 extension is open again
    assert c.clock(cst(3, 13), RULES).due_date == date(2026, 5, 9)


def test_an_ongoing_pause_counts_from_the_restart_only() -> None:
    c = contacted()
    c.pause("appraisal", cst(3, 3), ACTOR)
    c.add_new_facts("new bill", cst(3, 10), ACTOR)
    c.resume(cst(3, 12), ACTOR)
    state = c.clock(cst(3, 13), RULES)
    assert (state.paused_days, state.due_date) == (2, date(2026, 3, 27))


def test_late_new_facts_earlier_than_the_running_clock_do_not_move_it_back() -> None:
    c = contacted()
    c.add_new_facts("second bill", cst(3, 10), ACTOR)
    c.add_new_facts("first bill, recorded late", cst(3, 5), ACTOR)
    assert c.clock_start == cst(3, 10)


# -- decision, notice and closure -----------------------------------------------------------


def test_decide_records_outcome_redress_facts_and_basis() -> None:
    c = decided()
    assert c.status == "decided"
    assert c.decision is not None
    assert (c.decision.outcome, c.decision.redress) == ("partly_upheld", Decimal("500.00"))
    assert str(c.decision.redress) == "500.00"
    assert (c.decision.facts, c.decision.basis) == ("paid 20 days late", "policy terms 5.2")
    assert c.decision.decided_at == cst(3, 9)
    assert last_event(c).redress == Decimal("500.00")


@pytest.mark.parametrize(
    ("outcome", "redress", "field"),
    [
        ("accepted", Decimal(0), "outcome"),
        ("upheld", Decimal("-1"), "redress"),
        ("upheld", Decimal("1.005"), "redress"),
        ("upheld", Decimal("NaN"), "redress"),
        ("not_upheld", Decimal("10"), "redress"),
    ],
)
def test_decide_refuses_bad_outcomes_and_amounts(
    outcome: str, redress: Decimal, field: str
) -> None:
    c = contacted()
    with pytest.raises(InvalidInput) as refused:
        c.decide(outcome, redress, "f", "b", cst(3, 9), ACTOR)
    assert refused.value.field == field
    assert c.status == "contacted"


def test_a_case_is_decided_once() -> None:
    decide = lambda c: c.decide("upheld", Decimal(1), "f", "b", cst(3, 10), ACTOR)  # noqa: E731
    refuses(decided(), AlreadyDecided, decide)
    refuses(receive(), InvalidTransition, decide)


def test_the_notice_lists_review_mediation_arbitration_and_litigation() -> None:
    c = notified()
    assert c.status == "notified"
    assert c.notice is not None
    assert c.notice.remedies == ("review", "mediation", "arbitration", "litigation")
    assert (c.notice.method, c.notice.delivered_at) == ("letter", cst(3, 12, 9))
    assert c.notice.notified_at == cst(3, 10)
    assert last_event(c).remedies == ["review", "mediation", "arbitration", "litigation"]
    assert c.is_open


def test_a_notice_needs_a_decision() -> None:
    refuses(contacted(), NotDecided, lambda c: c.notify("sms", None, cst(3, 9), ACTOR))


def test_a_case_is_notified_once() -> None:
    refuses(notified(), InvalidTransition, lambda c: c.notify("sms", None, cst(3, 11), ACTOR))


def test_a_notice_or_a_delivery_before_the_decision_is_refused() -> None:
    refuses(decided(), InvalidInput, lambda c: c.notify("sms", None, cst(3, 8), ACTOR))
    refuses(decided(), InvalidInput, lambda c: c.notify("sms", cst(3, 8), cst(3, 10), ACTOR))


def test_a_notice_within_the_period_meets_the_deadline_even_when_recorded_late() -> None:
    c = decided()
    c.notify("app", None, eod(3, 16), ACTOR)
    state = c.clock(cst(6, 1), RULES)
    assert (state.deadline_met, state.overdue, state.escalated) == (True, False, False)


def test_a_notice_after_the_period_misses_the_deadline() -> None:
    c = decided()
    c.notify("app", None, cst(3, 17, 0, 5), ACTOR)
    assert c.clock(cst(3, 18), RULES).deadline_met is False


def test_close_needs_the_notice() -> None:
    refuses(decided(), NotNotified, lambda c: c.close(cst(3, 10), ACTOR))
    refuses(receive(), NotNotified, lambda c: c.close(cst(3, 10), ACTOR))


def test_close_records_the_closure() -> None:
    c = closed()
    assert (c.status, c.closed_at, c.is_open) == ("closed", cst(3, 13), False)


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.close(cst(3, 14), ACTOR),
        lambda c: c.urge("regulator", None, cst(3, 14), ACTOR),
        lambda c: c.assign("handler-2", cst(3, 14), ACTOR),
        lambda c: c.pause("x", cst(3, 14), ACTOR),
        lambda c: c.withdraw(cst(3, 14), ACTOR),
        lambda c: c.add_duplicate(uuid4(), False, cst(3, 14), ACTOR),
    ],
)
def test_a_closed_case_takes_no_handling_command(command: Callable[[Complaint], None]) -> None:
    refuses(closed(), ComplaintClosed, command)


# -- side exits ---------------------------------------------------------------------------------


def test_a_withdrawal_is_effective_the_day_received() -> None:
    c = withdrawn()
    assert (c.status, c.is_open) == ("withdrawn", False)
    assert c.withdrawal_effective_at == T0
    assert last_event(c).effective_at == T0
    assert c.clock(cst(9, 1), RULES).overdue is False


def test_a_notified_case_cannot_be_withdrawn() -> None:
    refuses(notified(), InvalidTransition, lambda c: c.withdraw(cst(3, 11), ACTOR))


def test_decline_records_the_reason() -> None:
    c = declined()
    assert (c.status, c.decline_reason) == ("declined", "not the policyholder nor an agent")
    refuses(receive(), InvalidInput, lambda c: c.decline(" ", cst(3, 2), ACTOR))
    refuses(decided(), AlreadyDecided, lambda c: c.decline("late", cst(3, 10), ACTOR))


def test_a_duplicate_is_merged_into_its_master() -> None:
    master = uuid4()
    c = receive()
    c.mark_merged(master, cst(3, 1, 12), ACTOR)
    assert (c.status, c.merged_into, c.is_open) == ("merged", master, False)
    refuses(receive(), InvalidInput, lambda c: c.mark_merged(c.id, cst(3, 2), ACTOR))


EVERY_COMMAND: list[Callable[[Complaint], object]] = [
    lambda c: c.assign("handler-2", cst(3, 20), ACTOR),
    lambda c: c.reassign("handler-2", "x", cst(3, 20), SUPERVISOR),
    lambda c: c.recuse("handler-1", "x", cst(3, 20), ACTOR),
    lambda c: c.contact(cst(3, 20), ACTOR),
    lambda c: c.urge("complainant", None, cst(3, 20), ACTOR),
    lambda c: c.escalate("x", cst(3, 20), SUPERVISOR),
    lambda c: c.extend("x", cst(3, 20), SUPERVISOR, rules=RULES),
    lambda c: c.pause("x", cst(3, 20), ACTOR),
    lambda c: c.resume(cst(3, 20), ACTOR),
    lambda c: c.add_new_facts("x", cst(3, 20), ACTOR),
    lambda c: c.decide("upheld", Decimal(1), "f", "b", cst(3, 20), ACTOR),
    lambda c: c.notify("sms", None, cst(3, 20), ACTOR),
    lambda c: c.close(cst(3, 20), ACTOR),
    lambda c: c.withdraw(cst(3, 20), ACTOR),
    lambda c: c.decline("x", cst(3, 20), ACTOR),
    lambda c: c.mark_merged(uuid4(), cst(3, 20), ACTOR),
    lambda c: c.add_duplicate(uuid4(), False, cst(3, 20), ACTOR),
    lambda c: c.request_review("x", cst(3, 20), ACTOR, rules=RULES),
    lambda c: c.decide_review("upheld", "b", cst(3, 20), ACTOR),
]


@pytest.mark.parametrize(
    ("make", "error"),
    [(merged, CaseMerged), (withdrawn, ComplaintWithdrawn), (declined, ComplaintDeclined)],
)
@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_a_merged_withdrawn_or_declined_case_refuses_every_command(
    make: Callable[[], Complaint],
    error: type[ComplaintError],
    command: Callable[[Complaint], object],
) -> None:
    c = make()
    refuses(c, error, command)
    assert issubclass(error, ComplaintClosed)
    assert error.rule in {"case_merged", "complaint_withdrawn", "complaint_declined"}


def test_a_master_lists_its_duplicates_with_its_clock_unchanged() -> None:
    c = contacted()
    first, second = uuid4(), uuid4()
    c.add_duplicate(first, False, cst(3, 5), ACTOR)
    c.add_duplicate(second, False, cst(3, 6), ACTOR)
    assert c.duplicates == [first, second]
    assert c.clock_start == T0
    refuses(c, InvalidInput, lambda c: c.add_duplicate(first, False, cst(3, 7), ACTOR))
    refuses(c, InvalidInput, lambda c: c.add_duplicate(c.id, False, cst(3, 7), ACTOR))


def test_a_duplicate_with_new_facts_restarts_the_masters_clock() -> None:
    c = contacted()
    c.extend("appraisal", cst(3, 4), SUPERVISOR, rules=RULES)
    c.add_duplicate(uuid4(), True, cst(3, 8, 21), ACTOR)
    state = c.clock(cst(3, 9), RULES)
    assert (state.clock_start, state.extension_level) == (cst(3, 8, 21), 0)
    assert state.due_date == date(2026, 3, 23)


def test_a_late_duplicate_received_before_the_master_is_listed_without_moving_the_clock() -> None:
    c = contacted()
    c.add_duplicate(uuid4(), True, T0 - timedelta(hours=3), ACTOR)
    assert c.clock_start == T0
    assert len(c.duplicates) == 1


def test_a_decided_master_takes_duplicates_but_not_new_facts() -> None:
    c = decided()
    c.add_duplicate(uuid4(), False, cst(3, 10), ACTOR)
    refuses(c, AlreadyDecided, lambda c: c.add_duplicate(uuid4(), True, cst(3, 10), ACTOR))


# -- review (核查) -------------------------------------------------------------------------------


def test_a_review_can_be_asked_on_the_last_day_of_the_window() -> None:
    c = closed()  # delivered 2026-03-12: the window ends at the end of 2026-04-11
    c.request_review("redress too low", eod(4, 11), ACTOR, rules=RULES)
    assert c.status == "review_requested"
    assert c.review is not None
    assert c.review.requested_at == eod(4, 11)
    assert c.clock(cst(4, 12), RULES).review_due_at == eod(5, 11)


def test_a_review_the_day_after_the_window_is_refused() -> None:
    late = datetime(2026, 4, 12, 0, 0, tzinfo=CST)
    refuses(closed(), ReviewWindowClosed, lambda c: c.request_review("x", late, ACTOR, rules=RULES))


def test_the_review_window_runs_from_the_notice_when_no_delivery_is_known() -> None:
    c = decided()
    c.notify("in person", None, cst(3, 10, 16), ACTOR)
    c.request_review("x", eod(4, 9), ACTOR, rules=RULES)
    refuses(
        notified(),
        ReviewWindowClosed,
        lambda c: c.request_review("x", cst(4, 12), ACTOR, rules=RULES),
    )


def test_the_review_window_is_a_parameter() -> None:
    rules = ComplaintRules(review_window_days=10)
    refuses(
        closed(),
        ReviewWindowClosed,
        lambda c: c.request_review("x", cst(3, 23), ACTOR, rules=rules),
    )


def test_a_review_needs_the_notice_and_is_asked_once() -> None:
    refuses(decided(), NotNotified, lambda c: c.request_review("x", cst(3, 10), ACTOR, rules=RULES))
    c = closed()
    c.request_review("x", cst(3, 20), ACTOR, rules=RULES)
    refuses(
        c, InvalidTransition, lambda c: c.request_review("again", cst(3, 21), ACTOR, rules=RULES)
    )


def test_the_review_decision_is_recorded_once() -> None:
    refuses(
        closed(), InvalidTransition, lambda c: c.decide_review("upheld", "b", cst(3, 20), ACTOR)
    )
    c = closed()
    c.request_review("redress too low", cst(3, 20), ACTOR, rules=RULES)
    refuses(c, InvalidInput, lambda c: c.decide_review("maybe", "b", cst(3, 21), ACTOR))
    c.decide_review("not_upheld", "terms 5.2 applied correctly", cst(4, 2), ACTOR)
    assert c.status == "review_decided"
    assert c.review is not None
    assert (c.review.outcome, c.review.decided_at) == ("not_upheld", cst(4, 2))
    refuses(c, InvalidTransition, lambda c: c.decide_review("upheld", "b", cst(4, 3), ACTOR))
    refuses(c, ComplaintClosed, lambda c: c.urge("complainant", None, cst(4, 3), ACTOR))


# -- time, evidence and the event record ---------------------------------------------------------


def test_a_command_dated_before_the_receipt_is_refused() -> None:
    early = T0 - timedelta(minutes=1)
    refuses(receive(), InvalidInput, lambda c: c.assign("handler-1", early, ACTOR))
    naive = datetime(2026, 3, 2)
    refuses(receive(), InvalidInput, lambda c: c.assign("handler-1", naive, ACTOR))


def test_a_late_pause_is_placed_by_its_occurred_at() -> None:
    in_order, late = contacted(), contacted()
    in_order.pause("a", cst(3, 3), ACTOR)
    in_order.resume(cst(3, 6), ACTOR)
    in_order.pause("b", cst(3, 18), ACTOR)
    in_order.resume(cst(3, 20), ACTOR)
    late.pause("b", cst(3, 18), ACTOR)
    late.resume(cst(3, 20), ACTOR)
    late.pause("a", cst(3, 3), ACTOR)  # recorded last, happened first
    late.resume(cst(3, 6), ACTOR)
    assert late.clock(cst(3, 21), RULES) == in_order.clock(cst(3, 21), RULES)
    assert late.clock(cst(3, 21), RULES).due_date == date(2026, 3, 21)


def test_evidence_can_accompany_any_command_and_is_kept() -> None:
    c = receive(evidence=[DOC])
    other = Evidence(name="appraisal", sha256="cd" * 32, ref="vault://appraisal/7")
    c.assign("handler-1", cst(3, 2), ACTOR, evidence=[other])
    assert last_event(c).evidence == [other]
    c.contact(cst(3, 3), ACTOR)
    assert last_event(c).evidence == ()  # the default of a command that attaches none
    assert c.evidence == [DOC, other]
    refuses(
        c, InvalidInput, lambda c: c.contact(cst(3, 4), ACTOR, evidence=[Evidence("x", "AB", "r")])
    )


def traced(causes: list[str], department: str | None) -> Callable[[Complaint], None]:
    """A decision traced to `causes` and `department`."""
    return lambda c: c.decide(
        "upheld", Decimal("10"), "f", "b", cst(3, 9), ACTOR, causes, department
    )


def test_a_decision_records_its_root_causes_and_responsible_department() -> None:
    c = contacted()
    traced(["claims_service", "third_party"], "claims department")(c)
    assert last_event(c).root_causes == ["claims_service", "third_party"]
    assert last_event(c).responsible_department == "claims department"
    assert c.decision is not None
    assert c.decision.root_causes == ("claims_service", "third_party")
    assert c.decision.responsible_department == "claims department"
    untraced = decided().decision
    assert untraced is not None
    assert (untraced.root_causes, untraced.responsible_department) == ((), None)


@pytest.mark.parametrize(
    ("causes", "department", "field"),
    [
        (["weather"], None, "root_causes"),
        (["system", "system"], None, "root_causes"),
        ([], " ", "responsible_department"),
    ],
)
def test_unknown_or_repeated_root_causes_and_a_blank_department_are_refused(
    causes: list[str], department: str | None, field: str
) -> None:
    refuses(contacted(), InvalidInput, traced(causes, department))
    with pytest.raises(InvalidInput) as refused:
        traced(causes, department)(contacted())
    assert refused.value.field == field


def test_every_event_records_when_it_happened_and_who_caused_it() -> None:
    c = closed()
    c.request_review("x", cst(3, 20), ACTOR, rules=RULES)
    c.decide_review("upheld", "b", cst(3, 30), SUPERVISOR)
    names = [type(e).__name__ for e in events(c)]
    assert names == [
        "Received",
        "Assigned",
        "Contacted",
        "Decided",
        "Notified",
        "Closed",
        "ReviewRequested",
        "ReviewDecided",
    ]
    assert all(
        isinstance(e.occurred_at, datetime) and isinstance(e.actor, Actor) for e in events(c)
    )


def test_replaying_the_events_rebuilds_the_same_case() -> None:
    c = contacted()
    c.pause("appraisal", cst(3, 3), ACTOR)
    c.resume(cst(3, 6), ACTOR)
    c.urge("regulator", None, cst(3, 7), ACTOR)
    c.add_duplicate(uuid4(), False, cst(3, 8), ACTOR)
    rebuilt: Any = None
    for e in events(c):
        rebuilt = e.mutate(rebuilt)
    assert isinstance(rebuilt, Complaint)
    assert rebuilt.clock(cst(3, 9), RULES) == c.clock(cst(3, 9), RULES)
    assert (rebuilt.urges, rebuilt.duplicates, rebuilt.status) == (1, c.duplicates, "contacted")


def test_event_classes_are_reachable_from_complaint_with_their_real_topics() -> None:
    c = contacted()
    assigned_event = events(c)[1]
    assert type(assigned_event) is getattr(Complaint, "Assigned")  # noqa: B009
    assert get_topic(type(assigned_event)) == "domain.complaints:Complaint.Assigned"
    assert get_topic(type(events(c)[0])) == "domain.complaints:Complaint.Received"


# -- same matter ------------------------------------------------------------------------------


def same_matter(a: list[str], b: list[str]) -> bool:
    return bool(set(a) & set(b))


def test_complaints_naming_nothing_match_on_complainant_and_cause() -> None:
    assert matter_keys("r1", "claims", None, None, None) == ["r1|claims|-"]
    assert same_matter(matter_keys("r1", "claims", None, None, None), ["r1|claims|-"])
    assert not same_matter(matter_keys("r1", "claims", None, None, None), ["r1|sales|-"])
    assert not same_matter(matter_keys("r1", "claims", None, None, None), ["r2|claims|-"])


def test_a_complaint_naming_nothing_does_not_match_one_naming_a_policy() -> None:
    assert not same_matter(
        matter_keys("r1", "claims", None, None, None), matter_keys("r1", "claims", "P1", None, None)
    )


def test_a_claim_under_a_policy_matches_that_policy() -> None:
    claim = matter_keys("r1", "claims", None, "C1", "P1")
    assert claim == ["r1|claims|policy:P1", "r1|claims|claim:C1"]
    assert same_matter(claim, matter_keys("r1", "claims", "P1", None, None))
    assert not same_matter(claim, matter_keys("r1", "claims", "P2", None, None))
    assert same_matter(claim, matter_keys("r1", "claims", None, "C1", None))


def test_a_policy_named_twice_gives_one_key() -> None:
    assert matter_keys("r1", "claims", "P1", "C1", "P1") == [
        "r1|claims|policy:P1",
        "r1|claims|claim:C1",
    ]


def test_an_id_cannot_forge_another_key() -> None:
    assert matter_keys("r1|claims", "x", None, None, None) != matter_keys(
        "r1", "claims|x", None, None, None
    )
    with pytest.raises(ValueError, match="claim"):
        matter_keys("r1", "claims", None, None, "P1")


ids = st.sampled_from(["a", "b", "a|b", "%7C"])
maybe = st.none() | ids


@given(
    ref=ids,
    cause=ids,
    p=maybe,
    c=maybe,
    cp=maybe,
    ref2=ids,
    cause2=ids,
    p2=maybe,
    c2=maybe,
    cp2=maybe,
)
def test_keys_match_exactly_as_domain_md_defines_the_same_matter(
    ref: str,
    cause: str,
    p: str | None,
    c: str | None,
    cp: str | None,
    ref2: str,
    cause2: str,
    p2: str | None,
    c2: str | None,
    cp2: str | None,
) -> None:
    cp, cp2 = (cp if c else None), (cp2 if c2 else None)
    policies, policies2 = {p, cp} - {None}, {p2, cp2} - {None}
    names, names2 = policies | ({c} - {None}), policies2 | ({c2} - {None})
    expected = (ref, cause) == (ref2, cause2) and (
        (not names and not names2) or bool(policies & policies2) or (c is not None and c == c2)
    )
    keys, keys2 = matter_keys(ref, cause, p, c, cp), matter_keys(ref2, cause2, p2, c2, cp2)
    assert same_matter(keys, keys2) == expected

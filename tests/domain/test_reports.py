"""The Report aggregate and its clocks (domain.md sections 0 and 6): hand-computed dates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.common import CST, Actor, InvalidInput
from domain.complaints import Evidence
from domain.personal import Sealed
from domain.report_clock import ReportRules
from domain.reports import (
    CATEGORIES,
    AlreadyConcluded,
    AlreadyDecided,
    AlreadyNotified,
    AnonymousReport,
    ConflictOfInterest,
    ExtensionAlreadyGranted,
    FindingsMissing,
    NoInvestigator,
    NotAccepted,
    NotConcluded,
    Report,
    ReportClosed,
    ReporterNotNotified,
    ReportSubject,
    transferred_report_id,
)

RULES = ReportRules(acceptance_days=15, conclusion_days=60, extension_days=30, due_soon_days=3)
OFFICER = Actor(name="officer-1", role="report_officer")
SUPERVISOR = Actor(name="sup-1", role="supervisor")
SUBJECT = ReportSubject(kind="agent", ref="AG-0042", department="sales-hz")
DIGEST = "a" * 64


def cst(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CST)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=CST)


def named() -> dict[str, Sealed]:
    return {"id": Sealed("ref-1", "box-id"), "name": Sealed("ref-1", "box-name")}


def receive(
    at: datetime = cst(2026, 1, 31, 10),
    *,
    anonymous: bool = False,
    channel: str = "hotline",
    transfer_id: str | None = None,
    category: str = "sales_misrepresentation",
    reporter: dict[str, Sealed] | None = None,
) -> Report:
    return Report.receive(
        report_id=uuid.uuid4(),
        channel=channel,
        anonymous=anonymous,
        reporter_ref=None if anonymous else "ref-1",
        reporter=None if anonymous else (reporter or named()),
        category=category,
        subject=SUBJECT,
        facts="the agent promised a guaranteed return of 8%",
        evidence=[],
        transfer_id=transfer_id,
        occurred_at=at,
        actor=OFFICER,
        categories=CATEGORIES,
    )


def investigating(accepted: datetime = cst(2026, 2, 10), **kw: object) -> Report:
    report = receive(**kw)  # type: ignore[arg-type]
    report.accept(accepted, OFFICER)
    report.assign("inv-1", "audit", accepted + timedelta(hours=1), OFFICER)
    return report


def concluded(anonymous: bool = False) -> Report:
    report = investigating(anonymous=anonymous)
    report.record_findings("recordings confirm the promise", [], cst(2026, 3, 1), OFFICER)
    report.conclude(
        "substantiated", "sales rules art. 12", ["accountability"], cst(2026, 3, 2), OFFICER
    )
    return report


# -- lifecycle ---------------------------------------------------------------------------------


def test_a_report_is_received_with_its_subject_and_sealed_reporter() -> None:
    report = receive()
    assert report.state == "received"
    assert report.subject == SUBJECT
    assert report.reporter == named()
    assert report.reporter_ref == "ref-1"
    assert report.version == 1


def test_the_whole_lifecycle_moves_through_every_state() -> None:
    report = receive()
    states = [report.state]
    report.accept(cst(2026, 2, 3), OFFICER)
    states.append(report.state)
    report.assign("inv-1", "audit", cst(2026, 2, 4), OFFICER)
    states.append(report.state)
    report.record_findings(
        "confirmed", [Evidence("rec.mp3", DIGEST, "s3://e/1")], cst(2026, 2, 20), OFFICER
    )
    report.conclude("partly_substantiated", "basis", [], cst(2026, 3, 1), OFFICER)
    states.append(report.state)
    report.notify("sms", cst(2026, 3, 2), cst(2026, 3, 2), OFFICER)
    states.append(report.state)
    report.close(cst(2026, 3, 3), OFFICER)
    states.append(report.state)
    assert states == ["received", "accepted", "investigating", "concluded", "notified", "closed"]
    assert report.findings[0].evidence[0].sha256 == DIGEST
    assert report.conclusion is not None
    assert report.conclusion.finding == "partly_substantiated"
    assert report.delivery is not None
    assert report.delivery.method == "sms"


def test_a_declined_named_report_is_notified_then_closed() -> None:
    report = receive()
    report.decline("no specific facts", cst(2026, 2, 2), OFFICER)
    assert report.state == "declined"
    assert report.decline_reason == "no specific facts"
    with pytest.raises(ReporterNotNotified):
        report.close(cst(2026, 2, 3), OFFICER)
    report.notify("letter", cst(2026, 2, 3), cst(2026, 2, 3), OFFICER)
    report.close(cst(2026, 2, 4), OFFICER)
    assert report.state == "closed"


def test_an_anonymous_report_closes_straight_after_its_conclusion() -> None:
    report = concluded(anonymous=True)
    with pytest.raises(AnonymousReport):
        report.notify("sms", cst(2026, 3, 3), cst(2026, 3, 3), OFFICER)
    report.close(cst(2026, 3, 3), OFFICER)
    assert report.state == "closed"


def test_a_named_report_is_not_closed_before_the_reporter_is_notified() -> None:
    report = concluded()
    with pytest.raises(ReporterNotNotified) as refused:
        report.close(cst(2026, 3, 3), OFFICER)
    assert refused.value.rule == "reporter_not_notified"


def test_acceptance_is_decided_once() -> None:
    report = receive()
    report.accept(cst(2026, 2, 1), OFFICER)
    with pytest.raises(AlreadyDecided):
        report.decline("duplicate", cst(2026, 2, 2), OFFICER)
    with pytest.raises(AlreadyDecided):
        report.accept(cst(2026, 2, 2), OFFICER)


def test_conclusion_before_acceptance_is_refused_and_records_nothing() -> None:
    report = receive()
    with pytest.raises(NotAccepted) as refused:
        report.conclude("substantiated", "b", [], cst(2026, 2, 2), OFFICER)
    assert refused.value.rule == "report_not_accepted"
    assert report.version == 1
    assert not report.collect_events()[1:]


def test_an_investigator_from_the_reported_department_is_a_conflict_of_interest() -> None:
    report = receive()
    report.accept(cst(2026, 2, 1), OFFICER)
    with pytest.raises(ConflictOfInterest) as refused:
        report.assign("inv-2", "sales-hz", cst(2026, 2, 2), OFFICER)
    assert refused.value.rule == "investigator_in_reported_department"
    assert report.investigator is None
    assert report.state == "accepted"


def test_an_investigator_can_be_replaced_while_investigating() -> None:
    report = investigating()
    report.assign("inv-9", None, cst(2026, 2, 12), OFFICER)
    assert report.investigator == "inv-9"
    assert report.state == "investigating"


def test_findings_need_an_investigator_and_a_conclusion_needs_findings() -> None:
    report = receive()
    report.accept(cst(2026, 2, 1), OFFICER)
    with pytest.raises(NoInvestigator):
        report.record_findings("x", [], cst(2026, 2, 2), OFFICER)
    with pytest.raises(NoInvestigator):
        report.conclude("substantiated", "b", [], cst(2026, 2, 2), OFFICER)
    report.assign("inv-1", "audit", cst(2026, 2, 2), OFFICER)
    with pytest.raises(FindingsMissing) as refused:
        report.conclude("substantiated", "b", [], cst(2026, 2, 3), OFFICER)
    assert refused.value.rule == "findings_missing"


def test_an_unknown_finding_is_invalid_input_naming_the_field() -> None:
    report = investigating()
    report.record_findings("x", [], cst(2026, 2, 20), OFFICER)
    with pytest.raises(InvalidInput) as refused:
        report.conclude("proven", "b", [], cst(2026, 2, 21), OFFICER)
    assert refused.value.field == "finding"


def test_a_second_extension_is_refused_and_the_first_records_its_approver() -> None:
    report = investigating()
    report.extend("witnesses abroad", cst(2026, 3, 1), SUPERVISOR)
    assert report.extension is not None
    assert (report.extension.approver, report.extension.reason) == ("sup-1", "witnesses abroad")
    with pytest.raises(ExtensionAlreadyGranted) as refused:
        report.extend("again", cst(2026, 3, 2), SUPERVISOR)
    assert refused.value.rule == "extension_already_granted"


def test_an_extension_needs_an_accepted_report() -> None:
    with pytest.raises(NotAccepted):
        receive().extend("early", cst(2026, 2, 1), SUPERVISOR)


def test_nothing_changes_a_closed_report() -> None:
    report = concluded(anonymous=True)
    report.close(cst(2026, 3, 3), OFFICER)
    with pytest.raises(ReportClosed):
        report.close(cst(2026, 3, 4), OFFICER)


def test_a_notice_needs_a_decision() -> None:
    with pytest.raises(NotConcluded):
        investigating().notify("sms", cst(2026, 2, 20), cst(2026, 2, 20), OFFICER)


def test_an_unknown_delivery_method_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        concluded().notify("pigeon", cst(2026, 3, 3), cst(2026, 3, 3), OFFICER)
    assert refused.value.field == "delivery.method"


def test_a_step_dated_before_the_receipt_is_invalid() -> None:
    with pytest.raises(InvalidInput) as refused:
        receive().accept(cst(2026, 1, 30), OFFICER)
    assert refused.value.field == "occurred_at"


# -- intake ------------------------------------------------------------------------------------


def test_an_anonymous_report_with_a_reporter_is_invalid() -> None:
    with pytest.raises(InvalidInput) as refused:
        Report.receive(
            report_id=uuid.uuid4(),
            channel="app",
            anonymous=True,
            reporter_ref="ref-1",
            reporter=named(),
            category="fraud",
            subject=SUBJECT,
            facts="f",
            evidence=[],
            transfer_id=None,
            occurred_at=cst(2026, 1, 1),
            actor=OFFICER,
            categories=CATEGORIES,
        )
    assert refused.value.field == "reporter"


def test_a_named_report_without_a_name_is_invalid() -> None:
    with pytest.raises(InvalidInput) as refused:
        receive(reporter={"id": Sealed("ref-1", "b")})
    assert refused.value.field == "reporter"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "12378"}, "transfer_id"),
        ({"transfer_id": "T-1"}, "transfer_id"),
    ],
)
def test_unknown_codes_and_misplaced_transfer_ids_name_the_field(
    kw: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        receive(**kw)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_email_and_internal_channels_are_accepted_besides_the_complaint_channels() -> None:
    assert receive(channel="email").channel == "email"
    assert receive(channel="internal").channel == "internal"


def test_a_transfer_id_gives_one_stable_report_id() -> None:
    assert transferred_report_id("T-9") == transferred_report_id("T-9")
    assert transferred_report_id("T-9") != transferred_report_id("T-10")


def test_a_report_replays_to_the_same_state_from_its_events() -> None:
    report = concluded()
    events = report.collect_events()
    copy = None
    for ev in events:
        copy = ev.mutate(copy)
    assert isinstance(copy, Report)
    assert (copy.state, copy.conclusion, copy.findings) == (
        "concluded",
        report.conclusion,
        report.findings,
    )


# -- clocks ------------------------------------------------------------------------------------


def test_acceptance_is_due_fifteen_days_after_the_receipt_day() -> None:
    clock = receive(cst(2026, 1, 31, 10)).clock(cst(2026, 2, 1), RULES)
    assert clock.acceptance_due_date.isoformat() == "2026-02-15"
    assert clock.acceptance_due_at == eod(2026, 2, 15)
    assert clock.conclusion_due_date is None


def test_a_receipt_after_midnight_cst_counts_from_the_cst_day() -> None:
    # 2026-03-31 17:00 UTC is 2026-04-01 01:00 CST: day D is 1 April.
    report = receive(datetime(2026, 3, 31, 17, tzinfo=UTC))
    assert report.clock(cst(2026, 4, 2), RULES).acceptance_due_date.isoformat() == "2026-04-16"


def test_an_undecided_report_is_overdue_the_day_after_the_acceptance_deadline() -> None:
    report = receive(cst(2026, 1, 31, 10))
    assert not report.clock(eod(2026, 2, 15), RULES).overdue
    assert report.clock(cst(2026, 2, 16, 0), RULES).overdue


def test_acceptance_within_the_period_is_on_time_and_stops_its_clock() -> None:
    report = receive(cst(2026, 1, 31, 10))
    report.accept(eod(2026, 2, 15), OFFICER)
    clock = report.clock(cst(2026, 2, 20), RULES)
    assert clock.accepted_on_time is True
    assert not clock.overdue


def test_late_acceptance_counts_as_late() -> None:
    report = receive(cst(2026, 1, 31, 10))
    report.accept(cst(2026, 2, 16, 0, 1), OFFICER)
    assert report.clock(cst(2026, 2, 17), RULES).accepted_on_time is False


def test_conclusion_is_due_sixty_days_after_acceptance_across_february() -> None:
    clock = investigating(cst(2026, 2, 10)).clock(cst(2026, 2, 11), RULES)
    assert clock.conclusion_due_date.isoformat() == "2026-04-11"  # type: ignore[union-attr]
    assert clock.conclusion_due_at == eod(2026, 4, 11)


def test_the_extension_adds_thirty_days_to_the_conclusion_deadline() -> None:
    report = investigating(cst(2026, 2, 10))
    report.extend("complex", cst(2026, 3, 20), SUPERVISOR)
    clock = report.clock(cst(2026, 4, 12), RULES)
    assert clock.conclusion_due_date.isoformat() == "2026-05-11"  # type: ignore[union-attr]
    assert not clock.overdue
    assert report.clock(cst(2026, 5, 12, 0), RULES).overdue


def test_an_acceptance_on_new_years_eve_is_due_on_the_first_of_march() -> None:
    report = receive(cst(2026, 12, 20))
    report.accept(cst(2026, 12, 31, 18), OFFICER)
    assert report.clock(cst(2027, 1, 1), RULES).conclusion_due_date.isoformat() == "2027-03-01"  # type: ignore[union-attr]
    report.extend("complex", cst(2027, 2, 1), SUPERVISOR)
    assert report.clock(cst(2027, 2, 2), RULES).conclusion_due_date.isoformat() == "2027-03-31"  # type: ignore[union-attr]


def test_an_investigation_is_overdue_the_day_after_the_conclusion_deadline() -> None:
    report = investigating(cst(2026, 2, 10))
    assert not report.clock(eod(2026, 4, 11), RULES).overdue
    assert report.clock(cst(2026, 4, 12, 0), RULES).overdue


def test_a_conclusion_on_the_last_day_is_on_time_and_stops_the_clock() -> None:
    report = investigating(cst(2026, 2, 10))
    report.record_findings("f", [], cst(2026, 4, 1), OFFICER)
    report.conclude("not_substantiated", "b", [], eod(2026, 4, 11), OFFICER)
    clock = report.clock(cst(2026, 6, 1), RULES)
    assert clock.concluded_on_time is True
    assert not clock.overdue


def test_due_soon_flags_the_last_days_before_a_deadline() -> None:
    report = receive(cst(2026, 1, 31, 10))
    assert not report.clock(cst(2026, 2, 12, 23), RULES).due_soon
    assert report.clock(cst(2026, 2, 13, 0), RULES).due_soon


def test_a_declined_report_is_never_overdue() -> None:
    report = receive(cst(2026, 1, 31, 10))
    report.decline("outside the remit", cst(2026, 2, 1), OFFICER)
    assert not report.clock(cst(2026, 12, 1), RULES).overdue


def test_rules_refuse_non_positive_periods() -> None:
    with pytest.raises(ValueError, match="positive"):
        ReportRules(acceptance_days=0, conclusion_days=60, extension_days=30, due_soon_days=3)


def test_assignment_before_acceptance_and_steps_after_the_conclusion_are_refused() -> None:
    with pytest.raises(NotAccepted):
        receive().assign("inv-1", "audit", cst(2026, 2, 1), OFFICER)
    report = concluded()
    with pytest.raises(AlreadyConcluded) as refused:
        report.record_findings("late", [], cst(2026, 3, 3), OFFICER)
    assert refused.value.rule == "report_already_concluded"
    with pytest.raises(AlreadyConcluded):
        report.extend("late", cst(2026, 3, 3), SUPERVISOR)
    with pytest.raises(AlreadyConcluded):
        report.assign("inv-2", "audit", cst(2026, 3, 3), OFFICER)


def test_a_declined_report_is_not_investigated() -> None:
    report = receive()
    report.decline("duplicate", cst(2026, 2, 1), OFFICER)
    with pytest.raises(NotAccepted):
        report.assign("inv-1", "audit", cst(2026, 2, 2), OFFICER)


def test_the_reporter_is_notified_once_and_not_before_the_decision() -> None:
    report = concluded()
    with pytest.raises(InvalidInput) as early:
        report.notify("sms", cst(2026, 3, 1), cst(2026, 3, 3), OFFICER)
    assert early.value.field == "delivery.delivered_at"
    report.notify("sms", cst(2026, 3, 3), cst(2026, 3, 3), OFFICER)
    with pytest.raises(AlreadyNotified):
        report.notify("sms", cst(2026, 3, 4), cst(2026, 3, 4), OFFICER)


def test_a_step_dated_before_the_acceptance_is_invalid() -> None:
    report = receive()
    report.accept(cst(2026, 2, 10), OFFICER)
    with pytest.raises(InvalidInput) as refused:
        report.assign("inv-1", "audit", cst(2026, 2, 9), OFFICER)
    assert refused.value.field == "occurred_at"


def test_only_a_substantiated_or_partly_substantiated_conclusion_counts_as_substantiated() -> None:
    report = investigating()
    assert not report.substantiated
    report.record_findings("f", [], cst(2026, 3, 1), OFFICER)
    report.conclude("partly_substantiated", "b", [], cst(2026, 3, 2), OFFICER)
    assert report.substantiated
    other = investigating()
    other.record_findings("f", [], cst(2026, 3, 1), OFFICER)
    other.conclude("not_substantiated", "b", [], cst(2026, 3, 2), OFFICER)
    assert not other.substantiated

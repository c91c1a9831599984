"""Reports (举报) through the application on every store: intake, 12378 transfers, handling,
confidentiality of the reporter, erasure holds, queues and time travel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from application.commands import CommandKey
from application.gateway import Meta, PartnerEvent
from application.ledger import NotFound
from application.report_queries import CONFIDENTIAL, QueueRequest, ReportReader
from application.reports import (
    AcceptReport,
    AssignInvestigator,
    CloseReport,
    ConcludeReport,
    Conditions,
    DeclineReport,
    ExtendReport,
    Investigator,
    NotifyReporter,
    RecordFindings,
    ReportIntake,
    StaticInvestigators,
    TransferReport,
)
from application.services import ReportServices, Services, build_report_services
from domain.common import Actor, InvalidInput, StaleVersion
from domain.report_clock import ReportRules
from domain.reports import (
    ConflictOfInterest,
    ExtensionAlreadyGranted,
    NotAccepted,
    ReportSubject,
    transferred_report_id,
)
from infrastructure.settings import Settings
from infrastructure.store import build_vault, report_rules

OFFICER = Actor("officer-1", "report_officer")
SUPERVISOR = Actor("sup-1", "supervisor")
PLATFORM = Actor("12378", "regulator_platform", partner_id="12378")
INVESTIGATORS = StaticInvestigators(
    (Investigator("inv-audit", "audit"), Investigator("inv-sales", "sales-hz"))
)
OFFICER_READS = ReportReader("officer-1", sees_reporter=True)
AUDITOR_READS = ReportReader("auditor-1", sees_reporter=False)
REPORTER = {"id": "110101199001011234", "name": "Li Si", "phone": "13800000000"}


@pytest.fixture
def reports(services: Services, any_settings: Settings) -> ReportServices:
    return build_report_services(
        services,
        build_vault(any_settings, services.ledger),
        report_rules(any_settings),
        INVESTIGATORS,
    )


def meta(actor: Actor = OFFICER, at: datetime | None = None) -> Meta:
    return Meta(at or datetime.now(tz=UTC), actor)


def intake(anonymous: bool = False, **kw: object) -> ReportIntake:
    fields: dict[str, object] = {
        "channel": "hotline",
        "anonymous": anonymous,
        "reporter": None if anonymous else dict(REPORTER),
        "category": "sales_misrepresentation",
        "subject": ReportSubject("agent", "AG-7", "sales-hz"),
        "facts": "promised 8% guaranteed",
    }
    fields.update(kw)
    return ReportIntake(**fields)  # type: ignore[arg-type]


def received(reports: ReportServices, anonymous: bool = False) -> UUID:
    return UUID(reports.desk.receive(intake(anonymous), meta(), None).body["id"])


def concluded(reports: ReportServices, anonymous: bool = False) -> UUID:
    desk, none = reports.desk, Conditions()
    rid = received(reports, anonymous)
    desk.accept(AcceptReport(rid), meta(), none)
    desk.assign(AssignInvestigator(rid, "inv-audit"), meta(), none)
    desk.record_findings(RecordFindings(rid, "recordings confirm it", ()), meta(), none)
    desk.conclude(ConcludeReport(rid, "substantiated", "rules art. 3", ("rectify",)), meta(), none)
    return rid


def test_a_report_goes_from_receipt_to_closing(reports: ReportServices) -> None:
    rid = concluded(reports)
    desk, none = reports.desk, Conditions()
    now = datetime.now(tz=UTC)
    answer = desk.notify(NotifyReporter(rid, "sms", now), meta(), none)
    assert answer.body["state"] == "notified"
    closed = desk.close(CloseReport(rid), meta(), none)
    assert not closed.created
    view = reports.queries.view(rid, OFFICER_READS, datetime.now(tz=UTC))
    assert view["state"] == "closed"
    assert view["conclusion"]["finding"] == "substantiated"
    assert view["delivery"]["method"] == "sms"
    assert view["overdue"] is False


def test_the_reporter_is_sealed_in_the_log_and_shown_only_to_report_officers(
    reports: ReportServices, services: Services
) -> None:
    rid = received(reports)
    raw = b"".join(n.state for n in services.ledger.recorder.select_notifications(1, 10_000))
    for value in REPORTER.values():
        assert value.encode() not in raw
    officer = reports.queries.view(rid, OFFICER_READS, datetime.now(tz=UTC))
    assert officer["reporter"] == REPORTER
    auditor = reports.queries.view(rid, AUDITOR_READS, datetime.now(tz=UTC))
    assert "reporter" not in auditor
    assert "Li Si" not in str(auditor)
    history = reports.queries.history(rid, AUDITOR_READS)
    assert history[0]["data"]["reporter"] == CONFIDENTIAL
    assert "Li Si" not in str(history)
    assert REPORTER["phone"] not in str(history)
    assert reports.queries.history(rid, OFFICER_READS)[0]["data"]["reporter"]["name"] == "Li Si"


def test_command_answers_never_show_the_reporter(reports: ReportServices) -> None:
    rid = received(reports)
    answer = reports.desk.accept(AcceptReport(rid), meta(), Conditions())
    assert "reporter" not in answer.body
    assert "Li Si" not in str(answer.body)


def test_an_anonymous_report_with_a_reporter_is_refused(reports: ReportServices) -> None:
    with pytest.raises(InvalidInput) as refused:
        reports.desk.receive(intake(True, reporter=dict(REPORTER)), meta(), None)
    assert refused.value.field == "reporter"


def test_an_unknown_category_names_the_field(reports: ReportServices) -> None:
    with pytest.raises(InvalidInput) as refused:
        reports.desk.receive(intake(category="rumour"), meta(), None)
    assert refused.value.field == "category"


def test_an_investigator_from_the_reported_department_is_refused(
    reports: ReportServices,
) -> None:
    rid = received(reports)
    reports.desk.accept(AcceptReport(rid), meta(), Conditions())
    with pytest.raises(ConflictOfInterest):
        reports.desk.assign(AssignInvestigator(rid, "inv-sales"), meta(), Conditions())
    with pytest.raises(InvalidInput) as unknown:
        reports.desk.assign(AssignInvestigator(rid, "nobody"), meta(), Conditions())
    assert unknown.value.field == "investigator"


def test_conclusion_before_acceptance_and_a_second_extension_are_refused(
    reports: ReportServices,
) -> None:
    rid = received(reports)
    with pytest.raises(NotAccepted):
        reports.desk.conclude(ConcludeReport(rid, "substantiated", "b", ()), meta(), Conditions())
    reports.desk.accept(AcceptReport(rid), meta(), Conditions())
    reports.desk.extend(ExtendReport(rid, "complex"), meta(SUPERVISOR), Conditions())
    with pytest.raises(ExtensionAlreadyGranted):
        reports.desk.extend(ExtendReport(rid, "again"), meta(SUPERVISOR), Conditions())
    view = reports.queries.view(rid, AUDITOR_READS, datetime.now(tz=UTC))
    assert view["extension"]["approver"] == "sup-1"


def test_an_idempotency_key_replays_the_first_answer(reports: ReportServices) -> None:
    key = CommandKey("officer-1", "k-1", "digest")
    first = reports.desk.receive(intake(), meta(), key)
    again = reports.desk.receive(intake(), meta(), key)
    assert again.replayed
    assert again.body == first.body


def test_a_stale_if_match_is_refused(reports: ReportServices) -> None:
    rid = received(reports)
    reports.desk.accept(AcceptReport(rid), meta(), Conditions())
    with pytest.raises(StaleVersion):
        reports.desk.decline(DeclineReport(rid, "dup"), meta(), Conditions(if_match=1))


def transfer_event(transfer_id: str, event_id: str = "ev-1") -> PartnerEvent:
    return PartnerEvent(
        source="/partners/12378",
        event_id=event_id,
        event_type="xiaobao.regulator.report-transferred.v1",
        digest=f"d-{transfer_id}",
        command=TransferReport(intake(channel="12378", transfer_id=transfer_id)),
        meta=meta(PLATFORM),
    )


def test_a_12378_transfer_is_recorded_once_under_an_id_derived_from_the_transfer(
    reports: ReportServices, services: Services
) -> None:
    first = services.events.record(transfer_event("T-1"))
    again = services.events.record(transfer_event("T-1"))
    assert first.stream_id == transferred_report_id("T-1")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.stream_id == first.stream_id
    view = reports.queries.view(first.stream_id, AUDITOR_READS, datetime.now(tz=UTC))
    assert view["transfer_id"] == "T-1"
    assert view["channel"] == "12378"


def test_erasure_waits_while_the_report_is_open(
    reports: ReportServices, services: Services
) -> None:
    rid = received(reports)
    outcome = services.personal.erase(REPORTER["id"], "asked", meta(Actor("admin", "admin")))
    assert outcome.status == "deferred"
    assert [h.record for h in outcome.holds] == [f"reports/{rid}"]


def test_an_anonymous_report_closes_after_its_conclusion_and_holds_no_personal_data(
    reports: ReportServices, services: Services
) -> None:
    rid = concluded(reports, anonymous=True)
    reports.desk.close(CloseReport(rid), meta(), Conditions())
    assert reports.queries.view(rid, OFFICER_READS, datetime.now(tz=UTC))["state"] == "closed"
    with pytest.raises(NotFound):
        services.personal.erase(REPORTER["id"], "asked", meta(Actor("admin", "admin")))


def test_queues_list_overdue_and_undecided_reports_soonest_first(
    reports: ReportServices,
) -> None:
    old = uuid.UUID(
        reports.desk.receive(
            intake(), meta(at=datetime.now(tz=UTC) - timedelta(days=20)), None
        ).body["id"]
    )
    fresh = received(reports)
    now = datetime.now(tz=UTC)
    overdue = reports.queries.queue(QueueRequest("overdue", None, None, 1, 20), OFFICER_READS, now)
    assert [i["id"] for i in overdue["items"]] == [str(old)]
    undecided = reports.queries.queue(
        QueueRequest("undecided", None, None, 1, 20), OFFICER_READS, now
    )
    assert [i["id"] for i in undecided["items"]] == [str(old), str(fresh)]
    filtered = reports.queries.queue(
        QueueRequest(None, "received", "overdue", 1, 20), OFFICER_READS, now
    )
    assert filtered["total"] == 1
    page_two = reports.queries.queue(QueueRequest("open", None, None, 2, 1), OFFICER_READS, now)
    assert [i["id"] for i in page_two["items"]] == [str(fresh)]
    assert "Li Si" not in str(undecided)


def test_time_travel_shows_the_report_as_it_was(reports: ReportServices) -> None:
    rid = received(reports)
    reports.desk.accept(AcceptReport(rid), meta(), Conditions())
    then = reports.queries.view(rid, AUDITOR_READS, datetime.now(tz=UTC), as_of_version=1)
    assert then["state"] == "received"
    assert then["version"] == 1


def test_the_clock_uses_the_rules_from_the_settings(
    services: Services, any_settings: Settings
) -> None:
    rules = ReportRules(acceptance_days=5, conclusion_days=60, extension_days=30, due_soon_days=1)
    reports = build_report_services(
        services, build_vault(any_settings, services.ledger), rules, INVESTIGATORS
    )
    received_at = datetime(2026, 1, 31, 4, tzinfo=UTC)  # 12:00 CST
    rid = UUID(reports.desk.receive(intake(), meta(at=received_at), None).body["id"])
    view = reports.queries.view(rid, AUDITOR_READS, received_at)
    assert view["acceptance_due"] == {
        "due_date": "2026-02-05",
        "due_at": "2026-02-05T15:59:59.999999Z",
    }

"""Rectification through the application on the in-memory store, SQLite and PostgreSQL:
opening (from a source, from decided complaints), every step, department scope, four eyes,
idempotency, If-Match, time travel, queues and the rectification report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.commands import CommandKey
from application.complaint_commands import Assign, Decide, Intake, Sent
from application.gateway import Meta
from application.ledger import NotFound
from application.rectification import (
    CancelItem,
    ComplaintNotDecided,
    Conditions,
    ExtendItem,
    NoteProgress,
    OpenItem,
    PlanItem,
    SubmitItem,
    VerifyItem,
)
from application.rectification_queries import QueueFilter
from application.services import Services
from domain.common import Actor, InvalidInput, StaleVersion, UnknownRecord
from domain.receipts import IdempotencyConflict
from domain.rectification import Finding, FourEyes, ItemEvidence, NotSubmitted, Source

NOTICE = Source("inspection", "银保监现检〔2026〕3号")
OPENED = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)  # 2026-01-31 10:00 CST
PROOF = ItemEvidence("roster.pdf", "b" * 64, "dms://1")
COMPLIANCE = Actor("lin", "compliance")
OTHER_COMPLIANCE = Actor("zhou", "compliance")
DEPARTMENT = Actor("claims-desk", "department")
SUPERVISOR = Actor("chen", "supervisor")
CLAIMS = Conditions(scope="claims")
EVERY = Conditions()


def meta(actor: Actor, at: datetime = OPENED) -> Meta:
    return Meta(at, actor)


def finding(severity: str = "high") -> Finding:
    return Finding("销售误导", "话术未提示免责条款", "保险法第十七条", severity, Decimal("1200.50"))


def open_item(services: Services, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": NOTICE,
        "finding": finding(),
        "department": "claims",
        "owner": DEPARTMENT.name,
    }
    values.update(changes)
    return services.rectifications.open(OpenItem(**values), meta(COMPLIANCE), None).body


def through_submission(services: Services, item: UUID) -> None:
    services.rectifications.plan(PlanItem(item, ("重新培训",)), meta(DEPARTMENT), CLAIMS, None)
    services.rectifications.note_progress(
        NoteProgress(item, "培训完成", (PROOF,)), meta(DEPARTMENT), CLAIMS, None
    )
    services.rectifications.submit(SubmitItem(item, (PROOF,)), meta(DEPARTMENT), CLAIMS, None)


def test_an_item_opens_with_its_due_date_by_severity(services: Services) -> None:
    opened = open_item(services)
    assert opened["due_date"] == "2026-03-02"  # Jan 31 + 30 days, across February
    view = services.rectification_queries.view(UUID(opened["id"]), OPENED, None)
    assert view["state"] == "open"
    assert view["finding"]["amount"] == "1200.50"
    assert view["overdue"] is False


def test_the_whole_lifecycle_is_kept_and_replayed_from_the_store(services: Services) -> None:
    item = UUID(open_item(services)["id"])
    through_submission(services, item)
    closed = services.rectifications.verify(
        VerifyItem(item, "accepted", "整改到位"), meta(COMPLIANCE), EVERY, None
    ).body
    assert closed["state"] == "closed"
    view = services.rectification_queries.view(item, OPENED + timedelta(days=90), None)
    assert view["state"] == "closed"
    assert view["closed_late"] is False
    assert view["overdue"] is False
    assert view["verifications"][0]["verifier"] == "lin"
    assert view["progress"][0]["evidence"][0]["sha256"] == "b" * 64
    history = services.rectification_queries.history(item, None)
    assert [e["type"] for e in history] == [
        "Opened",
        "Planned",
        "ProgressNoted",
        "Submitted",
        "Verified",
    ]
    assert all(e["position"] for e in history)


def test_verify_before_submit_and_the_owner_verifying_are_refused(services: Services) -> None:
    item = UUID(open_item(services)["id"])
    with pytest.raises(NotSubmitted):
        services.rectifications.verify(VerifyItem(item, "accepted"), meta(COMPLIANCE), EVERY, None)
    through_submission(services, item)
    owner_as_compliance = Actor(DEPARTMENT.name, "compliance")
    with pytest.raises(FourEyes):
        services.rectifications.verify(
            VerifyItem(item, "accepted"), meta(owner_as_compliance), EVERY, None
        )
    assert services.rectification_queries.view(item, OPENED, None)["state"] == "submitted"


def test_another_departments_item_is_unknown_to_a_department(services: Services) -> None:
    item = UUID(open_item(services, department="sales")["id"])
    with pytest.raises(UnknownRecord) as refused:
        services.rectifications.plan(PlanItem(item, ("m",)), meta(DEPARTMENT), CLAIMS, None)
    with pytest.raises(UnknownRecord) as unknown:
        services.rectifications.plan(PlanItem(uuid4(), ("m",)), meta(DEPARTMENT), CLAIMS, None)
    assert str(refused.value).split(" ")[:3] == str(unknown.value).split(" ")[:3]
    with pytest.raises(NotFound):
        services.rectification_queries.view(item, OPENED, "claims")
    with pytest.raises(NotFound):
        services.rectification_queries.history(item, "claims")
    queue = services.rectification_queries.queue(QueueFilter(), "claims", OPENED, 1, 20)
    assert queue["total"] == 0


def test_a_rejection_returns_the_item_and_a_second_verifier_closes_it(
    services: Services,
) -> None:
    item = UUID(open_item(services)["id"])
    through_submission(services, item)
    services.rectifications.verify(
        VerifyItem(item, "rejected", "证据不足"), meta(COMPLIANCE), EVERY, None
    )
    view = services.rectification_queries.view(item, OPENED, None)
    assert view["state"] == "in_progress"
    services.rectifications.submit(SubmitItem(item, (PROOF,)), meta(DEPARTMENT), CLAIMS, None)
    late = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 2026-03-03 00:30 CST: the day after
    services.rectifications.verify(
        VerifyItem(item, "accepted", "ok"), meta(OTHER_COMPLIANCE, late), EVERY, None
    )
    assert services.rectification_queries.view(item, late, None)["closed_late"] is True


def test_an_extension_and_a_cancellation(services: Services) -> None:
    item = UUID(open_item(services)["id"])
    extended = services.rectifications.extend(
        ExtendItem(item, date(2026, 3, 31), "系统改造"), meta(SUPERVISOR), EVERY, None
    ).body
    assert extended["due_date"] == "2026-03-31"
    assert extended["extensions"][0]["approver"] == "chen"
    cancelled = services.rectifications.cancel(
        CancelItem(item, "并入其他事项"), meta(COMPLIANCE), EVERY, None
    ).body
    assert cancelled["state"] == "cancelled"


def test_idempotency_key_replays_and_refuses_a_different_request(services: Services) -> None:
    key = CommandKey("lin", "k-1", "digest-1")
    first = services.rectifications.open(
        OpenItem(NOTICE, finding(), "claims", "o"), meta(COMPLIANCE), key
    )
    again = services.rectifications.open(
        OpenItem(NOTICE, finding(), "claims", "o"), meta(COMPLIANCE), key
    )
    assert again.replayed is True
    assert again.body == first.body
    assert len(services.rectification_queries.linked("source", f"inspection:{NOTICE.ref}")) == 1
    with pytest.raises(IdempotencyConflict):
        services.rectifications.open(
            OpenItem(NOTICE, finding(), "claims", "o"),
            meta(COMPLIANCE),
            CommandKey("lin", "k-1", "digest-2"),
        )


def test_a_stale_if_match_is_refused(services: Services) -> None:
    item = UUID(open_item(services)["id"])
    with pytest.raises(StaleVersion):
        services.rectifications.cancel(
            CancelItem(item, "r"), meta(COMPLIANCE), Conditions(if_match=7), None
        )
    done = services.rectifications.cancel(
        CancelItem(item, "r"), meta(COMPLIANCE), Conditions(if_match=1), None
    )
    assert done.body["version"] == 2


def test_time_travel_shows_the_item_as_it_stood(services: Services) -> None:
    item = UUID(open_item(services)["id"])
    services.rectifications.plan(PlanItem(item, ("m",)), meta(DEPARTMENT), CLAIMS, None)
    first = services.rectification_queries.view(item, OPENED, None, as_of_version=1)
    assert first["state"] == "open"
    assert services.rectification_queries.view(item, OPENED, None)["state"] == "planned"


def test_queues_filter_by_state_department_severity_and_overdue(services: Services) -> None:
    high = UUID(open_item(services)["id"])
    open_item(services, finding=finding("low"), department="sales")
    services.rectifications.plan(PlanItem(high, ("m",)), meta(DEPARTMENT), CLAIMS, None)
    queries = services.rectification_queries
    after_march_2 = datetime(2026, 3, 3, 1, tzinfo=UTC)
    overdue = queries.queue(QueueFilter(overdue=True), None, after_march_2, 1, 20)
    assert [i["id"] for i in overdue["items"]] == [str(high)]
    planned = queries.queue(QueueFilter(state="planned"), None, OPENED, 1, 20)
    assert planned["total"] == 1
    low = queries.queue(QueueFilter(severity="low", department="sales"), None, OPENED, 1, 20)
    assert low["items"][0]["severity"] == "low"
    everything = queries.queue(QueueFilter(), None, OPENED, 2, 1)
    assert everything["total"] == 2
    assert len(everything["items"]) == 1
    with pytest.raises(InvalidInput) as refused:
        QueueFilter(state="done")
    assert refused.value.field == "state"


def decided_complaint(services: Services) -> UUID:
    intake = Intake(
        channel="hotline",
        complainant={"id": "c-1", "name": "Zhang San"},
        matter="claim refused",
        request="pay",
        cause="claims",
        line="health",
        region="330100",
    )
    handler = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
    cid = UUID(services.complaints.receive(intake, handler, None).body["id"])
    services.complaints.assign(Assign(complaint_id=cid, handler="wang"), Sent(handler))
    decision = Decide(
        complaint_id=cid,
        outcome="upheld",
        redress=Decimal("100.00"),
        facts="f",
        basis="b",
        root_causes=("sales_practice",),
        responsible_department="claims",
    )
    services.complaints.decide(decision, Sent(handler))
    return cid


def test_an_item_traced_from_decided_complaints_is_listed_by_each(services: Services) -> None:
    complaint = decided_complaint(services)
    opened = open_item(
        services, source=Source("complaint", "2026Q1 溯源"), complaint_ids=(complaint,)
    )
    assert services.rectification_queries.linked("complaint", str(complaint)) == [
        UUID(opened["id"])
    ]


def test_an_undecided_or_unknown_complaint_is_refused_naming_it(services: Services) -> None:
    intake = Intake(
        channel="hotline",
        complainant={"id": "c-2", "name": "Li Si"},
        matter="m",
        request="r",
        cause="claims",
        line="health",
        region="330100",
    )
    handler = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
    pending = UUID(services.complaints.receive(intake, handler, None).body["id"])
    source = Source("complaint", "2026Q1 溯源")
    with pytest.raises(ComplaintNotDecided) as undecided:
        open_item(services, source=source, complaint_ids=(pending,))
    assert str(pending) in str(undecided.value)
    missing = uuid4()
    with pytest.raises(UnknownRecord) as unknown:
        open_item(services, source=source, complaint_ids=(missing,))
    assert str(missing) in str(unknown.value)
    assert services.rectification_queries.linked("source", "complaint:2026Q1 溯源") == []


def test_the_report_of_a_source_lists_every_item_and_what_is_still_open(
    services: Services,
) -> None:
    done = UUID(open_item(services)["id"])
    through_submission(services, done)
    services.rectifications.verify(VerifyItem(done, "accepted"), meta(COMPLIANCE), EVERY, None)
    still = open_item(services, finding=finding("low"))
    open_item(services, source=Source("inspection", "another notice"))
    report = services.rectification_queries.report("inspection", NOTICE.ref, OPENED)
    assert report["totals"]["items"] == 2
    assert report["totals"]["closed_on_time"] == 1
    assert report["still_open"] == [still["id"]]
    closed = next(i for i in report["items"] if i["id"] == str(done))
    assert closed["verified_by"] == "lin"
    assert closed["measures"] == ["重新培训"]
    assert {e["sha256"] for e in closed["evidence"]} == {"b" * 64}
    assert [s["step_zh"] for s in closed["steps"]] == [
        "立项",
        "制定整改方案",
        "整改进展",
        "提交验收",
        "验收",
    ]
    with pytest.raises(NotFound):
        services.rectification_queries.report("inspection", "no such notice", OPENED)

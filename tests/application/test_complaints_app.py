"""Complaint handling through the application, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application import complaint_commands as cc
from application.commands import CommandResult
from application.complaint_commands import Intake, TransferComplaint, UrgeComplaint
from application.complaint_queries import Viewer
from application.gateway import Meta
from application.ledger import Ledger
from application.routing import Handler, StaticDirectory, Workload, workload_id
from application.services import Services, build_services
from domain.common import Actor
from domain.complaints import NotNotified
from infrastructure.settings import Settings
from infrastructure.store import build_vault, dispute_rules
from tests.builders import post

HANDLERS = [
    Handler("wang", "east", ("330100",), ("claims",), ("health",)),
    Handler("li", "east", ("330100",), ("claims",), ()),
    Handler("zhao", "west", (), (), ()),
]
NOW = datetime.now(tz=UTC)


@pytest.fixture
def desk(ledger: Ledger, any_settings: Settings) -> Services:
    return build_services(
        ledger,
        build_vault(any_settings, ledger),
        directory=StaticDirectory(HANDLERS),
        dispute_rules=dispute_rules(any_settings),
    )


def staff(name: str = "wang", role: str = "handler", at: datetime | None = None) -> Meta:
    return Meta(at or datetime.now(tz=UTC), Actor(name=name, role=role))


def intake(**changes: object) -> Intake:
    values: dict[str, object] = {
        "channel": "hotline",
        "complainant": {"id": "c-1", "name": "Zhang San", "phone": "13800000000"},
        "matter": "claim refused",
        "request": "pay the claim",
        "cause": "claims",
        "line": "health",
        "region": "330100",
        "policy_id": "P1",
    }
    values.update(changes)
    return Intake(**values)  # type: ignore[arg-type]


def receive(services: Services, **changes: object) -> dict[str, object]:
    return services.complaints.receive(intake(**changes), staff(), None).body


def act(
    services: Services, cid: str, action: str, who: str = "wang", **args: Any
) -> dict[str, Any]:
    """The route's command for `action` (its path segment), as a staff member sends it."""
    role = "supervisor" if who == "boss" else "handler"
    desk = services.complaints
    if "redress" in args:
        args["redress"] = Decimal(args["redress"])
    commands: dict[str, tuple[type[cc.CaseCommand], Callable[[Any, cc.Sent], CommandResult]]] = {
        "assign": (cc.Assign, desk.assign),
        "reassign": (cc.Reassign, desk.reassign),
        "recuse": (cc.Recuse, desk.recuse),
        "contact": (cc.Contact, desk.contact),
        "urge": (cc.Urge, desk.urge),
        "decide": (cc.Decide, desk.decide),
        "notify": (cc.Notify, desk.notify),
        "close": (cc.Close, desk.close),
        "withdraw": (cc.Withdraw, desk.withdraw),
    }
    command, handle = commands[action]
    return handle(command(complaint_id=UUID(cid), **args), cc.Sent(staff(who, role))).body


def load(services: Services, handler: str) -> int:
    workload = services.ledger.find(Workload, workload_id(handler))
    return workload.open if workload else 0


def test_intake_routes_to_the_matching_handler_with_least_load(desk: Services) -> None:
    first = receive(desk)
    assert first["handler"] == "wang"  # most specific match
    second = receive(desk, complainant={"id": "c-2", "name": "Li Si"})
    assert second["handler"] == "li"  # wang carries one already
    other = receive(desk, complainant={"id": "c-3", "name": "Wu"}, region="110000")
    assert other["handler"] == "zhao"  # only the generalist takes Beijing
    assert (load(desk, "wang"), load(desk, "li"), load(desk, "zhao")) == (1, 1, 1)


def test_same_matter_while_open_is_merged_with_the_clock_unchanged(desk: Services) -> None:
    master = receive(desk)
    before = desk.complaint_queries.view(UUID(str(master["id"])), NOW)
    duplicate = receive(desk, channel="app", matter="again")
    assert duplicate["merged"] is True
    assert duplicate["id"] == master["id"]
    after = desk.complaint_queries.view(UUID(str(master["id"])), NOW)
    assert after["duplicates"] == [duplicate["duplicate_id"]]
    assert after["due_at"] == before["due_at"]
    merged = desk.complaint_queries.view(UUID(str(duplicate["duplicate_id"])), NOW)
    assert merged["status"] == "merged"
    assert merged["merged_into"] == master["id"]


def test_a_duplicate_with_new_facts_restarts_the_clock(desk: Services) -> None:
    received = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    master = desk.complaints.receive(intake(), staff(at=received), None).body
    before = desk.complaint_queries.view(UUID(str(master["id"])), NOW)
    assert before["due_date"] == "2026-11-17"
    new_facts = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    desk.complaints.receive(intake(new_facts=True), staff(at=new_facts), None)
    after = desk.complaint_queries.view(UUID(str(master["id"])), NOW)
    assert after["clock_start"] == "2026-11-09T10:00:00Z"
    assert after["due_date"] == "2026-11-24"
    unchanged = desk.complaints.receive(intake(), staff(at=new_facts), None).body
    assert unchanged["merged"] is True
    assert desk.complaint_queries.view(UUID(str(master["id"])), NOW)["due_date"] == "2026-11-24"


def test_other_matters_are_not_merged(desk: Services) -> None:
    receive(desk)
    other_cause = receive(desk, cause="service")
    other_policy = receive(desk, policy_id="P2")
    assert other_cause["merged"] is False
    assert other_policy["merged"] is False


def test_full_lifecycle_and_closure_report(desk: Services) -> None:
    cid = str(receive(desk)["id"])
    act(desk, cid, "contact")
    with pytest.raises(NotNotified):
        act(desk, cid, "close")
    act(desk, cid, "decide", outcome="upheld", redress="1200.00", facts="verified", basis="art. 23")
    act(desk, cid, "notify", method="letter")
    closed = act(desk, cid, "close")
    assert closed["status"] == "closed"
    assert load(desk, "wang") == 0
    report = desk.complaint_queries.closure_report(UUID(cid), NOW)
    assert report["outcome"] == "upheld"
    assert report["redress"] == "1200.00"
    assert report["remedies"] == ["review", "mediation", "arbitration", "litigation"]
    assert report["deadlines"]["met"] is True
    steps = [s["step"] for s in report["timeline"]]
    assert steps[:2] == ["Received", "Assigned"]
    assert steps[-3:] == ["Decided", "Notified", "Closed"]
    assert report["timeline"][1]["by"]["name"] == "routing"
    # After closure the same matter is a new case, not a duplicate.
    assert receive(desk)["merged"] is False


def test_recusal_routes_the_case_to_another_handler(desk: Services) -> None:
    cid = str(receive(desk)["id"])
    after = act(desk, cid, "recuse", reason="my cousin")
    assert after["handler"] == "li"
    assert after["handlers_recused"] == ["wang"]
    assert (load(desk, "wang"), load(desk, "li")) == (0, 1)


def test_urged_twice_is_escalated_and_queued(desk: Services) -> None:
    cid = str(receive(desk)["id"])
    act(desk, cid, "urge", by="complainant")
    view = act(desk, cid, "urge", by="complainant")
    assert view["escalated"] is True
    assert "urged_twice" in view["escalation_reasons"]
    queue = desk.complaint_queries.queue(
        "escalated", Viewer("boss", "supervisor", "east"), NOW, 1, 20
    )
    assert [i["id"] for i in queue["items"]] == [cid]
    mine = desk.complaint_queries.queue("mine", Viewer("wang", "handler", "east"), NOW, 1, 20)
    assert mine["total"] == 1
    late = NOW + timedelta(days=20)
    overdue = desk.complaint_queries.queue(
        "overdue", Viewer("boss", "supervisor", "east"), late, 1, 20
    )
    assert overdue["total"] == 1


def test_transfers_feed_back_to_12378_including_merged_ones(desk: Services) -> None:
    first = post(desk, TransferComplaint(intake(channel="12378", transfer_id="T-1")), "cbirc")
    second = post(desk, TransferComplaint(intake(channel="12378", transfer_id="T-2")), "cbirc")
    assert second.stream_id == first.stream_id  # merged into the open master
    post(desk, UrgeComplaint(None, "T-2", "please hurry"), "cbirc")
    cid = str(first.stream_id)
    act(desk, cid, "decide", outcome="not_upheld", redress="0.00", facts="f", basis="b")
    feed = desk.complaint_queries.feed(0, "cbirc")
    assert desk.complaint_queries.feed(0, "other-platform")["items"] == []
    transfers = {i["transfer_id"] for i in feed["items"]}
    assert transfers == {"T-1", "T-2"}
    decided = [i for i in feed["items"] if i["outcome"] == "not_upheld"]
    assert {i["transfer_id"] for i in decided} == {"T-1", "T-2"}
    positions = [i["position"] for i in feed["items"]]
    assert positions == sorted(positions)
    assert desk.complaint_queries.feed(positions[-1], "cbirc")["items"] == []
    assert desk.complaint_queries.view(first.stream_id, NOW)["urges"] == 1


def test_early_warning_levels_and_pseudonyms(desk: Services) -> None:
    receive(desk)
    receive(desk, cause="service")
    receive(desk, complainant={"id": "c-9", "name": "Calm"})
    items = desk.complaint_queries.risk(NOW, None, pseudonymous=True)
    levels = sorted(i["level"] for i in items)
    assert levels == ["high", "low"]
    high = next(i for i in items if i["level"] == "high")
    assert high["reasons"] == ["two_or_more_complaints_in_90_days"]
    assert str(high["customer"]).startswith("P-")
    named = desk.complaint_queries.risk(NOW, "high", pseudonymous=False)
    assert named[0]["customer"]["name"] == "Zhang San"


def test_complainant_data_is_sealed_in_the_log(desk: Services) -> None:
    receive(desk)
    raw = b"".join(n.state for n in desk.ledger.recorder.select_notifications(1, 1000))
    assert b"Zhang San" not in raw
    assert b"13800000000" not in raw

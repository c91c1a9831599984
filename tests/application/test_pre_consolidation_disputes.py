"""Disputes stored before the Dispute aggregate became one class in one module (issue 14)
read the same with the current code, on SQLite and PostgreSQL.

The fixture was made by `tests/fixtures/pre_consolidation_disputes.py` at commit 51b951c:
the stored events (their topics and state bytes) and what that code read from them.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from application.ledger import Ledger, topics_of
from application.views import event_type
from domain.common import CST, Actor
from domain.disputes import Dispute
from infrastructure.dialect import Statement
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_projector, migrate
from tests.fixtures.pre_consolidation_disputes import FIXTURE, INSTANTS, read_model

FOUND = orjson.loads(FIXTURE.read_bytes())
DISPUTES: list[dict[str, Any]] = FOUND["disputes"]
STAFF = Actor(name="handler-1", role="handler")


def stored_events(dispute: dict[str, Any]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(e["originator_id"]),
            originator_version=e["originator_version"],
            topic=e["topic"],
            state=base64.b64decode(e["state"]),
        )
        for e in dispute["events"]
    ]


@pytest.fixture
def old_ledger(settings: Settings) -> Iterator[Ledger]:
    """A fresh ledger holding, through its recorder, the events stored at 51b951c."""
    migrate(settings)
    ledger = build_ledger(settings)
    for dispute in DISPUTES:
        ledger.recorder.insert_events(stored_events(dispute))
    yield ledger
    ledger.close()


def test_the_fixture_stores_every_dispute_event_under_its_old_topic() -> None:
    topics = {e["topic"] for d in DISPUTES for e in d["events"]}
    assert "domain.disputes:Dispute.Opened" in topics
    assert "domain.dispute_record:DisputeRecord.Enforced" in topics
    assert len({e["type"] for d in DISPUTES for e in d["events"]}) == 21


@pytest.mark.parametrize("path", [d["path"] for d in DISPUTES])
def test_a_dispute_stored_before_the_consolidation_reads_as_it_did(
    old_ledger: Ledger, path: str
) -> None:
    fixture = next(d for d in DISPUTES if d["path"] == path)
    dispute_id = UUID(fixture["events"][0]["originator_id"])
    dispute = old_ledger.find(Dispute, dispute_id)
    assert isinstance(dispute, Dispute)
    assert orjson.loads(orjson.dumps(read_model(dispute))) == fixture["expected"]
    history = [event_type(e) for e in old_ledger.stream(dispute_id)]
    assert history == [e["type"] for e in fixture["events"]]
    first = old_ledger.find(Dispute, dispute_id, version=2)
    assert first is not None
    assert first.version == 2


def test_a_dispute_stored_before_takes_new_events_and_reads_both(old_ledger: Ledger) -> None:
    fixture = next(d for d in DISPUTES if d["path"] == "failed_then_award_paid_in_parts")
    dispute_id = UUID(fixture["events"][0]["originator_id"])
    dispute = old_ledger.find(Dispute, dispute_id)
    assert dispute is not None
    assert dispute.state == "performed"
    dispute.close("performed", INSTANTS[0].astimezone(CST), STAFF)
    old_ledger.save(dispute)
    again = old_ledger.find(Dispute, dispute_id)
    assert again is not None
    assert (again.state, again.end_reason, again.paid) == ("closed", "performed", Decimal(9000))
    assert [event_type(e) for e in old_ledger.stream(dispute_id)][-2:] == ["Performed", "Closed"]


def test_the_dispute_statistics_count_disputes_stored_before(
    old_ledger: Ledger, settings: Settings
) -> None:
    projector = build_projector(settings, old_ledger)
    projector.catch_up()
    with projector.store.read() as cursor:
        cursor.execute(
            Statement("SELECT origin, state, enforced FROM view_dispute_facts ORDER BY id")
        )
        rows = cursor.fetchall()
    expected = [
        (d["expected"]["facts"]["origin"], d["expected"]["facts"]["state"]) for d in DISPUTES
    ]
    assert sorted((o, s) for o, s, _ in rows) == sorted(expected)
    assert sum(1 for *_, enforced in rows if enforced) == 1


def test_a_process_that_builds_a_ledger_resolves_the_former_topics_before_any_read() -> None:
    code = (
        "import infrastructure.store\n"
        "from eventsourcing.utils import resolve_topic\n"
        "print(resolve_topic('domain.dispute_record:DisputeRecord.Enforced').__qualname__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "Dispute.Enforced"


def test_every_former_topic_names_the_event_class_of_the_same_name() -> None:
    stored = {e["topic"] for d in DISPUTES for e in d["events"]}
    stored.remove("domain.disputes:Dispute.Opened")
    assert set(Dispute.FORMER_TOPICS) == stored
    assert stored <= set(topics_of(Dispute))
    for topic in Dispute.FORMER_TOPICS:
        name = topic.rsplit(".", 1)[-1]
        assert resolve_topic(topic) is getattr(Dispute, name)
        assert get_topic(resolve_topic(topic)) == f"domain.disputes:Dispute.{name}"

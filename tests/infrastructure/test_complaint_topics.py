"""Complaint events stored before issue 14 (under `domain.complaint_record:ComplaintRecord.*`)
read back with the one `Complaint` class, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.ledger import Ledger, topics_of
from domain.complaints import Complaint
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, migrate
from tests.fixtures.pre_consolidation import FIXTURE, read_model

STORED: dict[str, Any] = json.loads(FIXTURE.read_text())


def stored_ledger(settings: Settings) -> Ledger:
    """A fresh ledger holding the fixture's rows, inserted through the recorder as they were."""
    migrate(settings)
    ledger = build_ledger(settings)
    ledger.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=base64.b64decode(row["state"]),
            )
            for row in STORED["events"]
        ]
    )
    return ledger


def with_fields_added_since(expected: dict[str, Any]) -> dict[str, Any]:
    """The old read model with what was added since at its defaults: a decision's root causes
    and responsible department (issue 16), absent from decisions recorded before; and the
    platform that transferred a 12378 case (issue 17), the partner of the intake's actor."""
    state = expected["state"]
    platform = "cbirc" if state["transfer_id"] is not None else None  # the fixture's platform
    state = {**state, "transferred_by": platform}
    if state["decision"] is not None:
        decision = {**state["decision"], "root_causes": [], "responsible_department": None}
        state = {**state, "decision": decision}
    return {**expected, "state": state}


def test_the_fixture_holds_every_complaint_event_under_its_old_topic() -> None:
    topics = Counter(row["topic"].rsplit(":", 1)[0] for row in STORED["events"])
    assert topics == {"domain.complaint_record": 22, "domain.complaints": 4}
    assert len({row["topic"] for row in STORED["events"]}) == 20  # Received and 19 others


def test_complaints_stored_under_the_old_topics_read_as_the_old_code_read_them(
    settings: Settings,
) -> None:
    ledger = stored_ledger(settings)
    try:
        for complaint_id, expected in STORED["complaints"].items():
            complaint = ledger.find(Complaint, UUID(complaint_id))
            assert complaint is not None
            assert read_model(complaint) == with_fields_added_since(expected)
    finally:
        ledger.close()


def test_readers_selecting_complaint_topics_find_the_old_events(settings: Settings) -> None:
    ledger = stored_ledger(settings)
    try:
        found = list(ledger.scan(topics_of(Complaint)))
        assert len(found) == len(STORED["events"])
        assert {type(e) for e in found} <= {
            getattr(Complaint, row["topic"].rsplit(".", 1)[1]) for row in STORED["events"]
        }
        assert ledger.stream(UUID(int=1))[-1].outcome == "not_upheld"
    finally:
        ledger.close()


def test_a_decision_stored_before_root_cause_tracing_reads_with_none(settings: Settings) -> None:
    decided = [r for r in STORED["events"] if r["topic"].endswith(".Decided")]
    assert len(decided) == 1
    assert b"root_causes" not in base64.b64decode(decided[0]["state"])  # the old form
    ledger = stored_ledger(settings)
    try:
        complaint = ledger.find(Complaint, UUID(decided[0]["originator_id"]))
        assert complaint is not None
        assert complaint.decision is not None
        assert complaint.decision.root_causes == ()
        assert complaint.decision.responsible_department is None
        assert complaint.decision.outcome == "partly_upheld"
    finally:
        ledger.close()

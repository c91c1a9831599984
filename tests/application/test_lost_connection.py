"""A save whose connection is lost after its commit (the database stopped while the answer
was on its way) is sent again by the recorder, which finds its own commit: the partner who
sent an event once is answered as the first recording, and nothing is recorded twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eventsourcing.persistence import OperationalError

from application.commands import Answer, CommandKey
from application.ledger import Ledger
from application.services import Services, build_services
from domain.receipts import CommandReceipt, PartnerEventReceipt, command_receipt_id, receipt_id
from infrastructure.recorder import LedgerRecorder
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_vault, dispute_rules, migrate
from tests.builders import HOSPITAL, admit, issue_policy, seed_reference
from tests.conftest import settings_for

T = TypeVar("T")


@pytest.fixture
def pg_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A lost connection is a PostgreSQL matter (SQLite has none to lose)."""
    return settings_for("postgres", tmp_path, request)


@pytest.fixture
def pg_services(pg_settings: Settings) -> Iterator[Services]:
    migrate(pg_settings)
    ledger = build_ledger(pg_settings)
    yield build_services(
        ledger,
        build_vault(pg_settings, ledger),
        retention_days={"claims": 0, "policies": 0},
        dispute_rules=dispute_rules(pg_settings),
    )
    ledger.close()


def lose_every_first_answer(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every recorder call's first attempt does its work, then loses its connection (a read
    is simply read again; a save has committed). Returns the count of lost answers."""
    recorder = ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    real = recorder.retrying
    lost = [0]

    def retrying(call: Callable[[int], T]) -> T:
        def flaky(attempt: int) -> T:
            result = call(attempt)
            if attempt == 0:
                lost[0] += 1
                raise OperationalError("server closed the connection unexpectedly")
            return result

        return real(flaky)

    monkeypatch.setattr(recorder, "retrying", retrying)
    return lost


def count_events(ledger: Ledger, originator_id: Any) -> int:
    return len(list(ledger.recorder.select_events(originator_id)))


def test_a_partner_event_sent_once_is_answered_as_its_first_recording(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(pg_services)
    issue_policy(pg_services)
    lost = lose_every_first_answer(pg_services.ledger, monkeypatch)

    result = admit(pg_services, "E1", event_id="evt-once")

    assert lost[0] > 0
    assert result.duplicate is False
    receipt = receipt_id(f"/partners/{HOSPITAL}", "evt-once")
    assert count_events(pg_services.ledger, receipt) == 1
    assert pg_services.ledger.positions.of(receipt)[1] == result.position
    monkeypatch.undo()
    again = admit(pg_services, "E1", event_id="evt-once")  # a real second send
    assert (again.duplicate, again.position) == (True, result.position)
    assert pg_services.ledger.find(PartnerEventReceipt, receipt) is not None


def test_a_staff_command_sent_once_is_not_answered_as_replayed(
    pg_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = lose_every_first_answer(pg_services.ledger, monkeypatch)
    key = CommandKey("admin", "k-once", "digest-once")
    runs = [0]

    def command() -> Answer:
        runs[0] += 1
        return Answer([], True, {"code": "X1"})

    result = pg_services.reference.runner.run(key, command)

    assert lost[0] > 0
    assert (result.created, result.replayed, runs[0]) == (True, False, 1)
    receipt = command_receipt_id("admin", "k-once")
    assert count_events(pg_services.ledger, receipt) == 1
    assert pg_services.ledger.find(CommandReceipt, receipt) is not None


def test_another_writers_events_are_not_taken_for_this_saves(
    pg_services: Services,
) -> None:
    recorder = pg_services.ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    seed_reference(pg_services)
    issue_policy(pg_services)
    admit(pg_services, "E1", event_id="evt-1")
    stored = list(recorder.select_events(receipt_id(f"/partners/{HOSPITAL}", "evt-1")))
    assert recorder.already_saved(stored) == [
        pg_services.ledger.positions.of(stored[0].originator_id)[1]
    ]
    other = [type(stored[0])(s.originator_id, s.originator_version, s.topic, b"{}") for s in stored]
    assert recorder.already_saved(other) is None

"""The background workers ride out a database outage of any length: the sealer and the
projection runner take their locks inside their retry (taking a lock is the first thing to
fail when the database is gone), back off, log one line, and catch up once it is back.
A request during an outage is answered 503 problem+json with Retry-After, logged as one
line (no traceback)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import write_principals
from application.ledger import Ledger
from application.services import Services, build_services
from infrastructure.merkle_store import merkle_store_for
from infrastructure.sealer import SingleActive
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_notary,
    build_projector,
    build_runner,
    build_sealer,
    build_vault,
    dispute_rules,
    migrate,
)
from tests.builders import issue_policy, seed_reference, settle_worked_example


class DownFor:
    """A lock whose database is gone for the first `times` tries, then the real lock."""

    def __init__(self, lock: SingleActive, times: int) -> None:
        self.lock = lock
        self.left = times
        self.tried = 0

    def acquire(self) -> bool:
        self.tried += 1
        if self.left > 0:
            self.left -= 1
            raise OperationalError("connection refused")
        return self.lock.acquire()

    def release(self) -> None:
        self.lock.release()


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Ledger, Services]]:
    migrate(settings)
    ledger = build_ledger(settings)
    services = build_services(
        ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings)
    )
    seed_reference(services)
    issue_policy(services)
    settle_worked_example(services)
    yield ledger, services
    ledger.close()


def wait_for(done: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.05)


def test_the_sealer_rides_out_a_lost_database_and_seals_everything(
    world: tuple[Ledger, Services], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ledger, _ = world
    sealer = build_sealer(settings, ledger, build_notary(settings))
    down = DownFor(sealer.lock, times=4)
    sealer.lock = down
    store = merkle_store_for(ledger.recorder)
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="xiaobao.sealer")
    thread = threading.Thread(target=sealer.run, args=(stop, 0.01), daemon=True)
    thread.start()
    try:
        wait_for(lambda: store.last_position() == ledger.position())
        assert thread.is_alive()  # it never gave up
    finally:
        stop.set()
        thread.join(timeout=10)
    assert down.tried > 4
    lines = [r.getMessage() for r in caplog.records if r.name == "xiaobao.sealer"]
    assert lines == [
        "sealing failed (OperationalError); retrying",
        "sealing works again after 4 failed attempts",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_the_projection_runner_rides_out_a_lost_database_and_catches_up(
    world: tuple[Ledger, Services], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ledger, _ = world
    fast = settings.model_copy(update={"projection_retry_first_seconds": 0.01})
    projector = build_projector(fast, ledger)
    runner = build_runner(fast, ledger, projector)
    first = projector.views[0].name
    down = DownFor(runner.locks[first], times=3)
    runner.locks[first] = down
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="xiaobao.projections")
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        head = ledger.position()
        wait_for(lambda: projector.store.positions().get(first, 0) == head)
        assert thread.is_alive()
    finally:
        stop.set()
        runner.wake.set()
        thread.join(timeout=10)
    assert down.tried > 3
    lines = [r.getMessage() for r in caplog.records if r.name == "xiaobao.projections"]
    assert lines[:2] == [
        "projections failed (OperationalError); retrying",
        "projections work again",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_request_the_database_cannot_serve_is_a_503_logged_in_one_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_principals(settings.principals_file)
    with TestClient(create_app(settings), raise_server_exceptions=True) as client:
        ledger = client.app.state.runtime.services.ledger  # type: ignore[attr-defined]

        def gone() -> int:
            raise OperationalError("connection refused")

        monkeypatch.setattr(ledger, "position", gone)
        caplog.set_level(logging.INFO)
        answer = client.get("/readyz", headers={"X-Request-Id": "rid-outage"})
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["detail"] == "the ledger database is not reachable"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["database unavailable: OperationalError"]
    assert errors[0].exc_info is None

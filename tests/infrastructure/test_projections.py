"""The projection engine on both stores: batches with tracking in one transaction, crash
safety, rebuild, live runner, and a recomputation from raw events that must agree."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from application.complaints import Intake
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import Services, build_services
from domain.common import Actor
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from infrastructure.complaint_facts import ComplaintFacts
from infrastructure.projections import Cursor, Projector, Runner, lock_for
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_vault, migrate


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield build_services(
        ledger,
        build_vault(settings, ledger),
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
    )
    ledger.close()


def facts_view(services: Services) -> ComplaintFacts:
    ledger = services.ledger
    return ComplaintFacts(ComplaintRules(), lambda cid, v: ledger.find(Complaint, cid, version=v))


def projector(services: Services, batch: int = 1000) -> tuple[Projector, ComplaintFacts]:
    view = facts_view(services)
    engine = Projector(services.ledger.recorder, services.ledger.mapper, [view], batch=batch)
    engine.migrate()
    return engine, view


def complain(services: Services, n: int) -> list[UUID]:
    meta = Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))
    ids = []
    for i in range(n):
        intake = Intake(
            channel="hotline" if i % 2 else "app",
            complainant={"id": f"c-{i}", "name": "n"},
            matter="m",
            request="r",
            cause="claims" if i % 3 else "service",
            line="health",
            region="330100",
        )
        ids.append(UUID(str(services.complaints.receive(intake, meta, None).body["id"])))
    return ids


def rows(engine: Projector) -> dict[str, tuple[Any, ...]]:
    with engine.store.transaction() as cur:
        cur.execute(
            "SELECT id, version, channel, cause, status, position FROM view_complaint_facts"
        )
        return {row[0]: row for row in cur.fetchall()}


def recomputed(services: Services) -> dict[str, tuple[Any, ...]]:
    """The same facts straight from the log, independently of the view."""
    found = {}
    for c in services.complaint_queries.all_complaints():
        positions = services.ledger.positions.of(c.id)
        found[str(c.id)] = (
            str(c.id),
            c.version,
            c.channel,
            c.cause,
            c.status,
            max(positions.values()),
        )
    return found


def test_catch_up_writes_rows_and_tracking_in_batches(services: Services) -> None:
    ids = complain(services, 7)
    meta = Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))
    services.complaints.act(ids[0], "contact", {}, meta)
    engine, view = projector(services, batch=3)
    advanced = engine.catch_up()
    head = services.ledger.position()
    assert advanced == head  # over other streams' events too, up to the log's head
    assert rows(engine) == recomputed(services)
    assert engine.store.positions()[view.name] == head
    assert engine.catch_up() == 0


def test_a_crash_in_the_middle_of_a_batch_loses_and_doubles_nothing(services: Services) -> None:
    complain(services, 5)
    engine, view = projector(services, batch=4)
    original = view.apply
    calls = {"n": 0}

    def crash_on_second_batch(cursor: Cursor, prepared: Any) -> None:
        calls["n"] += 1
        original(cursor, prepared)  # rows written in the transaction...
        if calls["n"] == 2:
            raise RuntimeError("power cut")  # ...and rolled back with the tracking row

    view.apply = crash_on_second_batch  # type: ignore[method-assign]
    assert engine.step(view) > 0
    with pytest.raises(RuntimeError):
        engine.step(view)
    tracked = engine.store.positions()[view.name]
    assert len(rows(engine)) == 2
    view.apply = original  # type: ignore[method-assign]
    fresh, _ = projector(services, batch=4)  # a new process: no cached state
    fresh.catch_up()
    assert engine.store.positions()[view.name] > tracked
    assert rows(fresh) == recomputed(services)


def test_rebuild_recomputes_the_same_rows(services: Services) -> None:
    complain(services, 4)
    engine, view = projector(services)
    engine.catch_up()
    before = rows(engine)
    engine.rebuild(view)
    assert rows(engine) == {}
    engine.catch_up()
    assert rows(engine) == before


def test_the_runner_keeps_the_view_live(services: Services, settings: Settings) -> None:
    engine, view = projector(services)
    conninfo = settings.database_url if settings.is_postgres else None
    channel = getattr(services.ledger.recorder, "channel_name", None)
    lock = lock_for(services.ledger.recorder, view.name, conninfo or "", settings.sqlite_path())
    runner = Runner(engine, {view.name: lock}, conninfo, channel, poll=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        ids = complain(services, 2)
        target = max(max(services.ledger.positions.of(i).values()) for i in ids)
        deadline = time.monotonic() + 10
        while engine.store.positions().get(view.name, 0) < target:
            assert time.monotonic() < deadline, "the view did not catch up"
            time.sleep(0.05)
        other = lock_for(
            services.ledger.recorder, view.name, conninfo or "", settings.sqlite_path()
        )
        assert other.acquire() is False  # exactly one active runner per view
    finally:
        stop.set()
        thread.join(timeout=5)
    assert rows(engine) == recomputed(services)


def counts(engine: Projector) -> tuple[int, int]:
    """Complaints received per the year rows of the count tables, and pending ones."""
    with engine.store.transaction() as cur:
        cur.execute("SELECT SUM(received) FROM view_complaint_periods WHERE span = 'Y'")
        received = int(cur.fetchall()[0][0] or 0)
        cur.execute("SELECT SUM(n) FROM view_complaint_pending")
        return received, int(cur.fetchall()[0][0] or 0)


def test_two_writers_of_one_batch_apply_it_once(services: Services) -> None:
    """A second writer (a runner beside `rebuild` or `stats`) that read the same position
    waits for the first and then finds the position moved: the counts are not doubled."""
    complain(services, 6)
    first, view = projector(services)
    second, _ = projector(services)
    inside, release = threading.Event(), threading.Event()
    original = view.apply

    def slow_apply(cursor: Cursor, prepared: Any) -> None:
        inside.set()
        release.wait(10)
        original(cursor, prepared)

    view.apply = slow_apply  # type: ignore[method-assign]
    done: dict[str, int] = {}
    writer = threading.Thread(target=lambda: done.update(first=first.step(view)))
    writer.start()
    assert inside.wait(10)
    other = threading.Thread(target=lambda: done.update(second=second.step(second.views[0])))
    other.start()
    time.sleep(0.5)  # the second writer is now waiting for the first
    release.set()
    writer.join(10)
    other.join(10)
    assert done["first"] > 0
    assert done["second"] == 0
    assert counts(first) == (6, 6)


def test_a_fact_table_whose_columns_changed_is_recounted_not_doubled(
    services: Services,
) -> None:
    complain(services, 4)
    engine, _ = projector(services)
    engine.catch_up()
    assert counts(engine) == (4, 4)
    with engine.store.transaction() as cur:
        cur.execute("ALTER TABLE view_complaint_facts DROP COLUMN company_type")
    again, _ = projector(services)  # migrate: the fact table is dropped, its counts emptied
    assert counts(again) == (0, 0)
    again.catch_up()
    assert counts(again) == (4, 4)
    assert rows(again) == recomputed(services)

"""The projection engine on both stores: batches with tracking in one transaction, crash
safety, rebuild, live runner, and a recomputation from raw events that must agree."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import eventsourcing.persistence as es
import psycopg
import pytest
from typer.testing import CliRunner

import api.cli as cli_module
from application.complaint_commands import Contact, Intake, Sent
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import Services, build_services
from domain.common import Actor
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from infrastructure.audit import raw_entries
from infrastructure.complaint_facts import ComplaintFacts
from infrastructure.dialect import Statement
from infrastructure.projections import (
    Backoff,
    Cursor,
    Projector,
    Runner,
    discard_broken,
    lock_for,
    lost_connection,
    riding_out,
)
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_vault,
    dispute_rules,
    migrate,
)
from tests.conftest import truncate_postgres


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield build_services(
        ledger,
        build_vault(settings, ledger),
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
        dispute_rules=dispute_rules(settings),
    )
    ledger.close()


BACKOFF = Backoff(first=0.05, most=0.2, remind=300)


def facts_view(services: Services) -> ComplaintFacts:
    ledger = services.ledger
    return ComplaintFacts(ComplaintRules(), lambda cid, v: ledger.find(Complaint, cid, version=v))


def facts_view_of(ledger: Any) -> ComplaintFacts:
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
            Statement(
                "SELECT id, version, channel, cause, status, position FROM view_complaint_facts"
            )
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
    services.complaints.contact(Contact(complaint_id=ids[0]), Sent(meta))
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
    runner = Runner(engine, {view.name: lock}, conninfo, channel, BACKOFF, poll=0.2)
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
        cur.execute(Statement("SELECT SUM(received) FROM view_complaint_periods WHERE span = 'Y'"))
        received = int(cur.fetchall()[0][0] or 0)
        cur.execute(Statement("SELECT SUM(n) FROM view_complaint_pending"))
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
        cur.execute(Statement("ALTER TABLE view_complaint_facts DROP COLUMN company_type"))
    again, _ = projector(services)  # migrate: the fact table is dropped, its counts emptied
    assert counts(again) == (0, 0)
    again.catch_up()
    assert counts(again) == (4, 4)
    assert rows(again) == recomputed(services)


class Seen:
    """A test view that remembers the event objects it prepared and the positions of the
    batches it applied."""

    def __init__(self, name: str, topics: list[str], fail: bool = False) -> None:
        self.name = name
        self.topics = topics
        self.fail = fail
        self.events: list[Any] = []
        self.positions: list[int] = []

    def create(self, cursor: Cursor) -> None:
        return None

    def prepare(self, events: Any) -> Any:
        if self.fail:
            raise RuntimeError("a poison event")
        self.events.extend(event for _, event in events)
        return [position for position, _ in events]

    def apply(self, cursor: Cursor, prepared: Any) -> None:
        self.positions.extend(prepared)

    def clear(self, cursor: Cursor) -> None:
        self.positions.clear()


def test_one_cycle_reads_and_decodes_the_new_events_once_for_all_views(
    services: Services,
) -> None:
    complain(services, 3)
    topics = list(facts_view(services).topics)
    a, b = Seen("seen_a", topics), Seen("seen_b", topics)
    idle = Seen("seen_idle", ["no.such:Topic"])
    engine = Projector(services.ledger.recorder, services.ledger.mapper, [a, b, idle])
    engine.migrate()
    reads = []
    select = engine.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("topics"))
        return select(*args, **kwargs)

    engine.recorder.select_notifications = counted  # type: ignore[method-assign]
    head = services.ledger.position()
    advanced, failed = engine.cycle(engine.views)
    assert (advanced, failed) == (3 * head, [])
    assert len(reads) == 1
    assert len(a.events) > 0
    assert all(x is y for x, y in zip(a.events, b.events, strict=True))  # decoded once
    assert engine.store.positions() == {"seen_a": head, "seen_b": head, "seen_idle": head}


def test_a_failing_view_does_not_hold_back_the_others(services: Services) -> None:
    complain(services, 2)
    topics = list(facts_view(services).topics)
    good, bad = Seen("seen_good", topics), Seen("seen_bad", topics, fail=True)
    engine = Projector(services.ledger.recorder, services.ledger.mapper, [bad, good])
    engine.migrate()
    advanced, failed = engine.cycle(engine.views)
    assert [failure.view for failure in failed] == ["seen_bad"]
    assert advanced == services.ledger.position()
    assert engine.store.positions().get("seen_bad", 0) == 0
    with pytest.raises(RuntimeError):
        engine.step(bad)  # alone (catch-up, rebuild) a failure is raised, not logged


def test_an_idle_view_moves_only_from_the_position_it_was_read_at(services: Services) -> None:
    """The compare-and-set of idle views: a view that `rebuild` reset in the meantime (or
    another writer moved) is left where it is, so the rebuild is not skipped."""
    engine, view = projector(services)
    with engine.store.transaction() as cur:
        engine.store.track(cur, view.name, 0)  # a rebuild reset it after it was read at 5
        moved = engine.store.advance(cur, {view.name: (5, 9), "brand_new": (0, 9)})
    assert moved == ["brand_new"]
    assert engine.store.positions() == {view.name: 0, "brand_new": 9}


@pytest.mark.parametrize("batch", [1, 2, 3, 7])
def test_views_at_different_positions_and_full_batches_get_every_event_once(
    services: Services, batch: int
) -> None:
    complain(services, 6)
    recorder = services.ledger.recorder
    everything = recorder.select_notifications(1, 10**6)
    topics = sorted({n.topic for n in everything if n.topic in facts_view(services).topics})
    rare = min(topics, key=lambda t: sum(n.topic == t for n in everything))
    views = [
        Seen("v_all", topics),
        Seen("v_rare", [rare]),
        Seen("v_none", ["no.such:Topic"]),
        Seen("v_one", [t for t in topics if t != rare][:1]),
    ]
    engine = Projector(recorder, services.ledger.mapper, views, batch=batch)
    engine.migrate()
    engine.cycle(views[:1])  # the views start from different positions
    engine.cycle([views[0], views[3]])
    while engine.cycle(engine.views)[0]:
        pass
    for view in views:
        wanted = [n.id for n in everything if n.topic in view.topics]
        assert view.positions == wanted, view.name
    head = services.ledger.position()
    assert engine.store.positions() == {view.name: head for view in views}


def test_a_view_must_name_its_topics(services: Services) -> None:
    with pytest.raises(ValueError, match="reads no topics"):
        Projector(services.ledger.recorder, services.ledger.mapper, [Seen("v", [])])


class Poisoned(Seen):
    """A test view that fails on the event at one log position, with an error whose message
    carries values from the event (a phone number, a quoted name)."""

    def __init__(self, name: str, topics: list[str], poison: int | None) -> None:
        super().__init__(name, topics)
        self.poison = poison

    def prepare(self, events: Any) -> Any:
        if any(position == self.poison for position, _ in events):
            raise OverflowError("value '张三' 13800138000 out of range (row 13800138000)")
        return super().prepare(events)


def poisoned_engine(services: Services) -> tuple[Projector, Poisoned, list[Any]]:
    """Four complaints, a view poisoned on the third event it reads, and a healthy view."""
    complain(services, 4)
    topics = list(facts_view(services).topics)
    mine = [n for n in services.ledger.recorder.select_notifications(1, 10**6) if n.topic in topics]
    bad, good = Poisoned("v_bad", topics, mine[2].id), Seen("v_good", topics)
    engine = Projector(services.ledger.recorder, services.ledger.mapper, [bad, good])
    engine.migrate()
    return engine, bad, mine


def test_a_view_failing_on_one_event_moves_up_to_it_and_records_that_event(
    services: Services,
) -> None:
    engine, bad, mine = poisoned_engine(services)
    head = services.ledger.position()
    _, failed = engine.cycle(engine.views)
    [failure] = failed
    assert (failure.view, failure.position, failure.topic) == ("v_bad", mine[2].id, mine[2].topic)
    assert failure.stream == str(mine[2].originator_id)
    assert failure.error == "OverflowError"
    assert "13800138000" not in failure.message
    assert "张三" not in failure.message
    assert failure.attempts == 1
    assert engine.store.positions() == {"v_bad": mine[1].id, "v_good": head}
    assert bad.positions == [mine[0].id, mine[1].id]  # every event before it, each once

    _, [again] = engine.cycle(engine.views)
    assert (again.position, again.attempts, again.since) == (mine[2].id, 2, failure.since)
    states = {s.view: s for s in engine.store.states(["v_bad", "v_good"], head)}
    assert states["v_bad"].failing == again
    assert (states["v_bad"].lag, states["v_bad"].failures) == (head - mine[1].id, 2)
    assert (states["v_good"].failing, states["v_good"].lag) == (None, 0)

    bad.poison = None  # fixed (a new release): the view goes on from the event it failed on
    assert engine.cycle(engine.views)[1] == []
    assert engine.store.positions()["v_bad"] == head
    assert bad.positions == [n.id for n in mine]
    healed = {s.view: s for s in engine.store.states(["v_bad"], head)}["v_bad"]
    assert (healed.failing, healed.lag) == (None, 0)  # a failure the view passed is stale


def runner_for(services: Services, settings: Settings, engine: Projector) -> Runner:
    conninfo = settings.database_url if settings.is_postgres else None
    locks = {
        view.name: lock_for(
            services.ledger.recorder, view.name, conninfo or "", settings.sqlite_path()
        )
        for view in engine.views
    }
    channel = getattr(services.ledger.recorder, "channel_name", None)
    return Runner(engine, locks, conninfo, channel, BACKOFF, poll=0.05, settle=0.01)


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "xiaobao.projections"]


def test_the_runner_backs_off_a_failing_view_logs_it_once_and_logs_its_recovery(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine, bad, mine = poisoned_engine(services)
    head = services.ledger.position()
    caplog.set_level("INFO", logger="xiaobao.projections")
    stop = threading.Event()
    thread = threading.Thread(target=runner_for(services, settings, engine).run, args=(stop,))
    started = time.monotonic()
    thread.start()
    try:
        deadline = started + 30
        while engine.store.failures()[1].get("v_bad", 0) < 3:
            assert time.monotonic() < deadline, "the view was not retried"
            time.sleep(0.05)
        time.sleep(1.0)
        failing, totals = engine.store.failures()
        elapsed = time.monotonic() - started
        assert failing["v_bad"].position == mine[2].id
        # Without backoff a runner polling every 0.05 s would try once per 0.05 s; with
        # 0.05 s doubling up to 0.2 s it tries at most about once per 0.2 s (a bound that
        # holds however slow the machine is).
        assert totals["v_bad"] <= 3 + elapsed / 0.2
        assert engine.store.positions()["v_good"] == head  # the others keep up
        assert logged(caplog) == [f"view v_bad starts failing at position {mine[2].id}"]
        bad.poison = None
        deadline = time.monotonic() + 10
        while engine.store.failures()[0]:
            assert time.monotonic() < deadline, "the view did not recover"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert engine.store.positions()["v_bad"] == head
    assert logged(caplog)[1:] == [f"view v_bad recovered past position {mine[2].id}"]


def test_a_runner_whose_database_fails_logs_it_once_not_once_a_cycle(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    complain(services, 2)
    engine, view = projector(services)
    runner = runner_for(services, settings, engine)
    cycle = engine.cycle
    down = threading.Event()
    down.set()
    tried = {"n": 0}

    def broken(views: Any, isolate: bool = True) -> Any:
        if down.is_set():
            tried["n"] += 1
            raise ConnectionError("the database went away")
        return cycle(views, isolate)

    engine.cycle = broken  # type: ignore[method-assign]
    caplog.set_level("INFO", logger="xiaobao.projections")
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        time.sleep(1.0)
        assert tried["n"] >= 3  # tried again and again, backing off...
        assert logged(caplog) == ["projections failed (ConnectionError); retrying"]  # ...once
        down.clear()
        deadline = time.monotonic() + 10
        while engine.store.positions().get(view.name, 0) < services.ledger.position():
            assert time.monotonic() < deadline, "the view did not catch up"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert logged(caplog) == [
        "projections failed (ConnectionError); retrying",
        "projections work again",
    ]


def test_a_slow_loader_does_not_hold_the_views_transaction_past_the_idle_timeout(
    postgres_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool ends a transaction idle longer than `idle_in_transaction_session_timeout`
    (1 s here, this test's own ledger only): loading a batch's aggregates takes longer than
    that, yet the view catches up with the right rows, because the rows are computed before
    the view's transaction opens and no pooled connection is left killed behind it."""
    monkeypatch.setenv("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "1")
    truncate_postgres(postgres_url)
    settings = Settings(database_url=postgres_url, index_key_file=tmp_path / "index-key")
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        with ledger.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            timeout = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
        assert timeout is not None
        assert timeout["idle_in_transaction_session_timeout"] == "1s"
        services = build_services(
            ledger,
            build_vault(settings, ledger),
            directory=StaticDirectory([Handler("wang", None, (), (), ())]),
            dispute_rules=dispute_rules(settings),
        )
        ids = complain(services, 2)
        engine, _view = projector(services)
        engine.catch_up()
        meta = Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))
        for complaint_id in ids:  # events whose aggregate the next view must load
            services.complaints.contact(Contact(complaint_id=complaint_id), Sent(meta))
        loads: list[UUID] = []

        def slow(cid: UUID, version: int) -> Any:
            loads.append(cid)
            time.sleep(1.5)  # longer than the idle timeout, once per aggregate
            return services.ledger.find(Complaint, cid, version=version)

        fresh = ComplaintFacts(ComplaintRules(), slow)  # a new process: nothing cached
        slow_engine = Projector(ledger.recorder, ledger.mapper, [fresh])
        assert slow_engine.catch_up() > 0
        assert sorted(loads) == sorted(ids)
        assert rows(slow_engine) == recomputed(services)
        assert slow_engine.store.positions()[fresh.name] == services.ledger.position()
        for _ in range(2 * (settings.pool_size + settings.max_overflow)):
            assert services.ledger.find(Complaint, ids[0]) is not None  # every pooled conn
    finally:
        ledger.close()


def pooled_ledger(postgres_url: str, tmp_path: Any) -> tuple[Settings, Any]:
    truncate_postgres(postgres_url)
    settings = Settings(database_url=postgres_url, index_key_file=tmp_path / "index-key")
    migrate(settings)
    return settings, build_ledger(settings)


def test_a_view_read_hands_its_pooled_connection_back_in_autocommit(
    postgres_url: str, tmp_path: Any
) -> None:
    """The library's pooled connections are in autocommit; one handed back otherwise would
    put its next user's statements in a transaction left open (idle) until the block ends."""
    settings, ledger = pooled_ledger(postgres_url, tmp_path)
    try:
        store = Projector(ledger.recorder, ledger.mapper, [facts_view_of(ledger)]).store
        with store.read() as one, store.read() as two:  # two pooled connections
            one.execute(Statement("SELECT 1"))
            two.execute(Statement("SELECT 1"))
        datastore = ledger.recorder.datastore
        for _ in range(settings.pool_size + settings.max_overflow):
            with datastore.get_connection() as conn:
                assert conn.autocommit
    finally:
        ledger.close()


def test_a_pooled_connection_the_server_ended_is_replaced_not_handed_out(
    postgres_url: str, tmp_path: Any
) -> None:
    """Connections the server ended while they sat in the pool (here one, then every other
    session of this test's own database) fail the pool's check, run after a failure as a
    runner or `rebuild` does, and are replaced: the next users of the pool, views and ledger
    reads alike, see no error."""
    settings, ledger = pooled_ledger(postgres_url, tmp_path)
    try:
        engine = Projector(ledger.recorder, ledger.mapper, [facts_view_of(ledger)])
        engine.migrate()
        datastore = ledger.recorder.datastore
        with datastore.get_connection() as conn:
            victim = conn.info.backend_pid
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()
        assert ended == (True,)
        discard_broken(ledger.recorder)
        for _ in range(settings.pool_size + settings.max_overflow):  # the victim among them
            assert engine.store.positions() == {}  # a view transaction on a working connection
        with contextlib.ExitStack() as stack:  # every pooled connection opened
            for _ in range(settings.pool_size):
                stack.enter_context(datastore.get_connection())
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        discard_broken(ledger.recorder)  # all at once, as a runner or `rebuild` does
        for _ in range(settings.pool_size + settings.max_overflow):
            assert engine.store.positions() == {}
    finally:
        ledger.close()


def test_a_lost_connection_is_told_from_an_error_of_the_statement() -> None:
    idle = psycopg.errors.IdleInTransactionSessionTimeout("terminating connection")
    mapped = es.InternalError("terminating connection")  # how the library reraises it
    mapped.__cause__ = idle
    assert lost_connection(mapped)
    assert lost_connection(es.OperationalError("server closed the connection"))
    assert lost_connection(psycopg.OperationalError("connection refused"))
    assert not lost_connection(es.IntegrityError("duplicate key"))
    assert not lost_connection(RuntimeError("a view's own bug"))


def test_riding_out_retries_only_a_lost_connection_and_only_for_its_patience() -> None:
    clock = {"now": 0.0}
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock["now"] += seconds

    failures = iter([es.OperationalError("lost"), es.InterfaceError("lost")])

    def flaky() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "done"

    assert riding_out(flaky, 60, sleep, lambda: clock["now"]) == "done"
    assert waits == [0.5, 1.0]

    def down() -> str:
        raise es.OperationalError("still down")

    with pytest.raises(es.OperationalError):
        riding_out(down, 10, sleep, lambda: clock["now"])
    assert clock["now"] >= 10 + 1.5

    def broken() -> str:
        raise RuntimeError("a view's own bug")

    waits.clear()
    with pytest.raises(RuntimeError):
        riding_out(broken, 60, sleep, lambda: clock["now"])
    assert waits == []


def test_rebuild_rides_out_a_lost_connection(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`xiaobao rebuild` loses its connection in the middle of a view's batch (PostgreSQL:
    the server ends the view's own session inside its transaction; SQLite: the store
    reports an operational error); it applies that batch again and finishes with every
    row once and the tracking position at the head."""
    ids = complain(services, 5)
    meta = Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))
    services.complaints.contact(Contact(complaint_id=ids[0]), Sent(meta))
    lost = {"n": 0}
    real = build_projector

    def losing(settings_: Settings, ledger: Any) -> Projector:
        built = real(settings_, ledger)
        built.batch = 3
        view = next(v for v in built.views if v.name == "complaint_facts")
        original = view.apply
        calls = {"n": 0}

        def apply(cursor: Cursor, prepared: Any) -> None:
            calls["n"] += 1
            original(cursor, prepared)
            if calls["n"] == 2:  # the second batch, its rows written but not committed
                lost["n"] += 1
                if cursor.postgres:
                    cursor.execute(Statement("SELECT pg_terminate_backend(pg_backend_pid())"))
                raise es.OperationalError("disk I/O error")

        view.apply = apply  # type: ignore[method-assign]
        return built

    monkeypatch.setattr(cli_module, "build_projector", losing)
    for name, value in (
        ("XIAOBAO_DATABASE_URL", settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli_module.cli, ["rebuild"])
    assert result.exit_code == 0, result.output
    assert "views rebuilt" in result.output
    assert lost["n"] == 1
    engine, view = projector(services)
    assert rows(engine) == recomputed(services)
    assert engine.store.positions()[view.name] == services.ledger.position()


def test_a_fact_views_cache_stays_bounded_and_rows_stay_right(services: Services) -> None:
    """The aggregates kept between batches are at most `cached`; one that fell out of the
    cache is loaded from the ledger at the version before its next event."""
    ids = complain(services, 4)
    meta = Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))
    for complaint_id in ids:
        services.complaints.contact(Contact(complaint_id=complaint_id), Sent(meta))
    loads: list[UUID] = []
    ledger = services.ledger

    def loader(cid: UUID, version: int) -> Any:
        loads.append(cid)
        return ledger.find(Complaint, cid, version=version)

    view = ComplaintFacts(ComplaintRules(), loader)
    view.cached = 1
    engine = Projector(ledger.recorder, ledger.mapper, [view], batch=5)
    engine.migrate()
    engine.catch_up()
    assert len(view._state) == 1
    assert loads  # evicted aggregates came back from the ledger
    assert rows(engine) == recomputed(services)


def test_verifys_streaming_cursor_outlives_a_pause_and_leaves_the_pools_timeout(
    postgres_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`xiaobao verify` streams the log through one transaction: a pause longer than the
    pool's idle timeout (1 s here) between two rows does not end it, and the exemption is
    `SET LOCAL`, so the pooled connection goes back with the pool's timeout."""
    monkeypatch.setenv("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "1")
    settings, ledger = pooled_ledger(postgres_url, tmp_path)
    try:
        services = build_services(
            ledger,
            build_vault(settings, ledger),
            directory=StaticDirectory([Handler("wang", None, (), (), ())]),
            dispute_rules=dispute_rules(settings),
        )
        complain(services, 2)
        streamed: list[int] = []
        for row in raw_entries(ledger.recorder):
            if not streamed:
                time.sleep(1.5)
            streamed.append(row[0])
        assert streamed == sorted(streamed)
        assert streamed[-1] == ledger.position()
        datastore = ledger.recorder.datastore
        for _ in range(settings.pool_size + settings.max_overflow):
            with datastore.get_connection() as conn:
                found = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
                assert found == {"idle_in_transaction_session_timeout": "1s"}
    finally:
        ledger.close()

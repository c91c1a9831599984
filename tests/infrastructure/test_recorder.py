"""The ledger's one-statement save on PostgreSQL keeps the library's guarantees."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.ledger import Ledger
from infrastructure.recorder import LedgerRecorder
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, migrate
from infrastructure.vault import key_store_for


def stored(originator: UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(
        originator_id=originator, originator_version=version, topic="t:T", state=state
    )


@pytest.fixture
def pg_ledger(fresh_postgres: str, tmp_path: Path) -> Iterator[Ledger]:
    ledger = build_ledger(Settings(database_url=fresh_postgres, index_key_file=tmp_path / "k"))
    yield ledger
    ledger.close()


def test_the_postgres_ledger_saves_through_the_ledger_recorder(pg_ledger: Ledger) -> None:
    assert isinstance(pg_ledger.recorder, LedgerRecorder)


def test_a_batch_gets_consecutive_positions_in_its_order_and_reads_back_exactly(
    pg_ledger: Ledger,
) -> None:
    recorder = pg_ledger.recorder
    a, b = uuid4(), uuid4()
    first = recorder.insert_events([stored(a, 1, b"\x00\xff")])
    second = recorder.insert_events([stored(b, 1), stored(a, 2, b'{"x":1}'), stored(b, 2)])
    assert first == [1]
    assert second == [2, 3, 4]
    notifications = recorder.select_notifications(1, 10)
    assert [(n.id, n.originator_id, n.originator_version) for n in notifications] == [
        (1, a, 1),
        (2, b, 1),
        (3, a, 2),
        (4, b, 2),
    ]
    assert notifications[0].state == b"\x00\xff"
    assert recorder.insert_events([]) == []


def test_every_byte_and_quote_survives_the_array_literals(pg_ledger: Ledger) -> None:
    """States and topics travel inside array literals: escaping must be exact."""
    recorder = pg_ledger.recorder
    a = uuid4()
    awkward = [
        StoredEvent(a, 1, 'm:T"q"', bytes(range(256))),
        StoredEvent(a, 2, "m:T\\b,{x}", b'\\x00"\\\\'),
        StoredEvent(a, 3, "m:T NULL", b""),
    ]
    recorder.insert_events(awkward)
    assert recorder.select_events(a) == awkward
    assert pg_ledger.positions.events_of([uuid4(), a]) == awkward


def test_a_version_taken_by_another_writer_is_an_integrity_error_and_writes_nothing(
    pg_ledger: Ledger,
) -> None:
    recorder = pg_ledger.recorder
    a, b = uuid4(), uuid4()
    recorder.insert_events([stored(a, 1)])
    with pytest.raises(IntegrityError):
        recorder.insert_events([stored(b, 1), stored(a, 1)])
    assert [n.originator_id for n in recorder.select_notifications(1, 10)] == [a]
    assert recorder.select_events(b) == []


def test_concurrent_saves_become_visible_in_position_order(
    pg_ledger: Ledger, fresh_postgres: str
) -> None:
    """The table lock makes positions commit in order: whatever instant a reader looks,
    the positions it sees are 1..max with no gap that a slower save fills later."""
    recorder = pg_ledger.recorder
    done = threading.Event()
    seen: list[tuple[int, int]] = []

    def save(n: int) -> None:
        for _ in range(n):
            recorder.insert_events([stored(uuid4(), 1), stored(uuid4(), 1)])

    def watch() -> None:
        with psycopg.connect(fresh_postgres, autocommit=True) as c:
            while not done.is_set():
                row = c.execute(
                    "SELECT count(*), coalesce(max(notification_id), 0) FROM ledger_events"
                ).fetchone()
                assert row is not None
                seen.append((int(row[0]), int(row[1])))

    watcher = threading.Thread(target=watch)
    savers = [threading.Thread(target=save, args=(60,)) for _ in range(4)]
    watcher.start()
    for thread in savers:
        thread.start()
    for thread in savers:
        thread.join()
    done.set()
    watcher.join()
    assert len(seen) > 10
    assert all(count == highest for count, highest in seen)
    assert recorder.max_notification_id() == 4 * 60 * 2


def test_a_save_returns_only_once_its_commit_is_flushed(
    pg_ledger: Ledger, fresh_postgres: str
) -> None:
    """An acknowledged event survives a crash: the save's commit record is flushed to disk
    before the call returns (checked in the WAL itself)."""
    with psycopg.connect(fresh_postgres, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        start = c.execute("SELECT pg_current_wal_flush_lsn()").fetchone()
        for _ in range(5):
            a = uuid4()
            pg_ledger.recorder.insert_events([stored(a, 1)])
            flushed = c.execute(
                "SELECT pg_current_wal_flush_lsn(), pg_current_wal_flush_lsn() > %s::pg_lsn",
                start,
            ).fetchone()
            assert flushed is not None
            assert flushed[1], "nothing was flushed during the save"
            xid = c.execute(
                "SELECT xmin::text FROM ledger_events WHERE originator_id = %s", (a,)
            ).fetchone()
            assert start is not None
            assert xid is not None
            commit = c.execute(
                "SELECT end_lsn <= %s FROM pg_get_wal_records_info(%s, %s) "
                "WHERE xid::text = %s AND resource_manager = 'Transaction' "
                "AND record_type = 'COMMIT'",
                (flushed[0], start[0], flushed[0], xid[0]),
            ).fetchall()
            assert commit == [(True,)]


def test_a_save_holds_the_table_lock_until_it_commits(
    pg_ledger: Ledger, fresh_postgres: str
) -> None:
    """The lock makes positions commit in order: a reader never passes a gap filled later."""
    recorder = pg_ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    with psycopg.connect(fresh_postgres) as saver, psycopg.connect(fresh_postgres) as observer:
        saver.execute(recorder._save, ([uuid4()], [1], ["t:T"], [b"{}"]))  # still open
        pid = saver.info.backend_pid
        row = observer.execute(
            "SELECT mode, granted FROM pg_locks WHERE pid = %s AND locktype = 'relation' "
            "AND relation = 'ledger_events'::regclass AND mode = 'ExclusiveLock'",
            (pid,),
        ).fetchone()
        assert row == ("ExclusiveLock", True)
        saver.rollback()
    assert recorder.select_notifications(1, 10) == []


def test_a_save_notifies_the_ledger_channel(pg_ledger: Ledger, fresh_postgres: str) -> None:
    recorder = pg_ledger.recorder
    assert isinstance(recorder, LedgerRecorder)
    with psycopg.connect(fresh_postgres, autocommit=True) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        got: list[str] = []
        thread = threading.Thread(
            target=lambda: got.extend(n.channel for n in listener.notifies(timeout=5, stop_after=1))
        )
        thread.start()
        recorder.insert_events([stored(uuid4(), 1)])
        thread.join()
    assert got == [recorder.channel_name]


def test_racing_first_uses_of_a_person_get_one_key(pg_ledger: Ledger) -> None:
    store = key_store_for(pg_ledger.recorder)
    subjects = [f"person-{uuid4().hex}" for _ in range(20)]
    keys: list[list[bytes]] = [[], []]
    barrier = threading.Barrier(2)

    def take(slot: int) -> None:
        barrier.wait()
        keys[slot].extend(store.get_or_create(s) for s in subjects)

    threads = [threading.Thread(target=take, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keys[0] == keys[1]
    assert len(set(keys[0])) == len(subjects)
    assert all(len(k) == 32 for k in keys[0])
    assert store.get_many(subjects) == dict(zip(subjects, keys[0], strict=True))


def test_workers_migrating_at_once_all_succeed(fresh_postgres: str, tmp_path: Path) -> None:
    """Every API worker migrates at start; replacing a function at the same moment in two
    sessions fails ("tuple concurrently updated") unless migrations take turns."""
    settings = Settings(
        database_url=fresh_postgres,
        index_key_file=tmp_path / "k",
        signing_key_file=tmp_path / "s.pem",
    )
    migrate(settings)  # the secrets exist: the workers race only on the database
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        try:
            migrate(settings)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

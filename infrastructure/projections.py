"""The projection engine: view tables kept from the log, each with its tracking position
written in the same transaction as its rows — a crash can neither lose nor double-count an
event — and a batch of events per transaction.

On PostgreSQL a runner is woken by the ledger's NOTIFY (a LISTEN connection of its own,
reconnected when lost) with a slow fallback poll, and exactly one runner is active per view
(an advisory lock); on SQLite it polls the notification log (a file lock per view).

A view that fails is applied again one event at a time up to the event it fails on, which is
recorded in `projection_failures` (position, topic, stream, the error's type and a short
message with quoted values and long digit runs masked); the runner then retries that view
with an exponential, capped backoff while the other views go on, logs one line when it
starts failing and one when it recovers (and a reminder now and then), and never skips it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Mapper,
    OperationalError,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from infrastructure.dialect import FOR_UPDATE, Statement, marks
from infrastructure.sealer import AdvisoryLock, FileLock, SingleActive

log = logging.getLogger("xiaobao.projections")
LOCK_RETRY_SECONDS = 5.0
OUTAGE_RETRY_MOST_SECONDS = 5.0  # the longest wait between two tries of a lost database
T = TypeVar("T")

CREATE_TRACKING = Statement(
    "CREATE TABLE IF NOT EXISTS projection_tracking "
    "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
POSITIONS = Statement("SELECT view, position FROM projection_tracking")
POSITION = Statement("SELECT position FROM projection_tracking WHERE view = {p}")
POSITION_LOCKED = Statement(
    "SELECT position FROM projection_tracking WHERE view = {p}{lock}", lock=FOR_UPDATE
)
ENSURE_TRACKED = Statement(
    "INSERT INTO projection_tracking (view, position) VALUES ({p}, {p}) "
    "ON CONFLICT (view) DO NOTHING"
)
TRACK = Statement(
    "INSERT INTO projection_tracking (view, position) VALUES ({p}, {p}) "
    "ON CONFLICT (view) DO UPDATE SET position = excluded.position"
)
MOVE = Statement("UPDATE projection_tracking SET position = {p} WHERE view = {p}")
# One row per view that ever failed: position 0 when it is not failing now; `total` counts
# every failed attempt (the failure counter of /metrics).
CREATE_FAILURES = Statement(
    "CREATE TABLE IF NOT EXISTS projection_failures "
    "(view TEXT PRIMARY KEY, position BIGINT NOT NULL, topic TEXT NOT NULL, "
    "stream TEXT NOT NULL, error TEXT NOT NULL, message TEXT NOT NULL, "
    "since TEXT NOT NULL, attempts BIGINT NOT NULL, total BIGINT NOT NULL)"
)
FAILURE_LOCKED = Statement(
    "SELECT position, since, attempts FROM projection_failures WHERE view = {p}{lock}",
    lock=FOR_UPDATE,
)
RECORD_FAILURE = Statement(
    "INSERT INTO projection_failures "
    "(view, position, topic, stream, error, message, since, attempts, total) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 1) ON CONFLICT (view) DO UPDATE SET "
    "position = excluded.position, topic = excluded.topic, stream = excluded.stream, "
    "error = excluded.error, message = excluded.message, since = excluded.since, "
    "attempts = excluded.attempts, total = projection_failures.total + 1"
)
CLEAR_FAILURE = Statement("UPDATE projection_failures SET position = 0 WHERE view = {p}")
TABLES = Statement.each(
    postgres="SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    sqlite="SELECT name FROM sqlite_master WHERE type = 'table'",
)
FAILURES = Statement(
    "SELECT view, position, topic, stream, error, message, since, attempts, total "
    "FROM projection_failures"
)


def lost_connection(error: BaseException) -> bool:
    """Whether the error is the database (or the connection to it) going away rather than
    something the statement did: the library's and psycopg's operational and interface
    errors, and the server ending a transaction left idle too long (which the library maps
    to an internal error)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(
            seen,
            OperationalError
            | InterfaceError
            | psycopg.OperationalError
            | psycopg.InterfaceError
            | psycopg.errors.IdleInTransactionSessionTimeout,
        ):
            return True
        seen = seen.__cause__
    return False


def discard_broken(recorder: ApplicationRecorder) -> None:
    """Test every idle pooled connection at once and replace those the server ended (the
    pool's own check on handing one out backs off a second, then two, ... per dead one)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        with contextlib.suppress(Exception):  # the database may still be away
            recorder.datastore.pool.check()


def riding_out(
    call: Callable[[], T],
    patience: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_lost: Callable[[], None] = lambda: None,
) -> T:
    """`call()`, tried again after a lost connection (waiting 0.5 s, doubling up to
    `OUTAGE_RETRY_MOST_SECONDS`, `on_lost()` before each try) until it has failed for
    `patience` seconds in a row. Only for calls that are safe to repeat: a view's batch is
    (its tracking row is checked and moved in the batch's own transaction)."""
    first_failure: float | None = None
    wait = 0.5
    while True:
        try:
            return call()
        except Exception as error:
            if not lost_connection(error):
                raise
            now = clock()
            first_failure = now if first_failure is None else first_failure
            if now - first_failure >= patience:
                raise
            log.warning("lost the database connection (%s); retrying", type(error).__name__)
            sleep(wait)
            wait = min(OUTAGE_RETRY_MOST_SECONDS, wait * 2)
            on_lost()


class Cursor(Protocol):
    """What a view writes through: one transaction, statements of `infrastructure.dialect`."""

    postgres: bool

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, statement: Statement, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class View(Protocol):
    """A projection: its tables, the topics it reads, and how a batch changes its rows."""

    @property
    def name(self) -> str: ...

    @property
    def topics(self) -> Sequence[str]: ...

    def create(self, cursor: Cursor) -> object: ...

    def prepare(self, events: Sequence[tuple[int, Any]]) -> Any:
        """Work out the rows a batch changes (reads allowed, no writes)."""
        ...

    def apply(self, cursor: Cursor, prepared: Any) -> None:
        """Write the prepared rows inside the batch's transaction."""
        ...

    def clear(self, cursor: Cursor) -> None: ...


@dataclass
class PgCursor:
    raw: Any
    postgres = True

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self.raw.execute(statement.postgres, params)

    def executemany(self, statement: Statement, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(statement.postgres, rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.raw.fetchall())  # a tuple_row cursor


@dataclass
class _SqliteCursor:
    raw: Any
    postgres = False

    def execute(self, statement: Statement, params: Sequence[Any] = ()) -> None:
        self.raw.execute(statement.sqlite, params)

    def executemany(self, statement: Statement, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(statement.sqlite, rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.raw.fetchall()]


@dataclass(frozen=True)
class Failure:
    """The event a view fails on (its log position, topic and stream id) and the error, as
    recorded: the error's type and a short message that carries no values from the event."""

    view: str
    position: int
    topic: str
    stream: str
    error: str
    message: str
    since: datetime
    attempts: int


@dataclass(frozen=True)
class ViewState:
    """Where a view stands: its tracking position, its lag behind the log's head, what it
    is failing on (None when it is not), and how many attempts ever failed."""

    view: str
    position: int
    lag: int
    failing: Failure | None
    failures: int


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^)]*\)")
_DIGITS = re.compile(r"\d{4,}")


def describe(error: BaseException) -> tuple[str, str]:
    """The error's type and the first line of its message, without quoted values (SQL errors
    quote the offending value) or long digit runs (ids, phone numbers), at most 160 chars."""
    lines = str(error).strip().splitlines() or [""]
    message = _DIGITS.sub("#", _QUOTED.sub("…", lines[0]))
    return type(error).__name__, message[:160]


class ViewStore:
    """Transactions on the ledger's database for view tables and their tracking rows."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """A write transaction (committed at the end of the block)."""
        return self._open(commit=True)

    def snapshot(self) -> contextlib.AbstractContextManager[Cursor]:
        """A read-only transaction in which every query sees the same committed state (so a
        view's tracking position and its rows always agree)."""
        return self._open(commit=False, snapshot=True)

    @contextlib.contextmanager
    def read(self) -> Iterator[Cursor]:
        """For one read-only statement, which is its own snapshot: on PostgreSQL in
        autocommit (no BEGIN and ROLLBACK round trips), on SQLite without the writer lock."""
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            with recorder.datastore.get_connection() as conn:
                # The library's pooled connections are in autocommit already; one handed
                # back otherwise would open an implicit transaction for its next user.
                before = conn.autocommit
                conn.autocommit = True
                try:
                    yield PgCursor(conn.cursor(row_factory=tuple_row))
                finally:
                    if not conn.closed and not before:
                        conn.autocommit = before
        else:
            with self._open(commit=False) as cursor:
                yield cursor

    @contextlib.contextmanager
    def _open(self, commit: bool, snapshot: bool = False) -> Iterator[Cursor]:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            with recorder.datastore.transaction(commit=commit) as curs:
                if snapshot:
                    curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield PgCursor(curs.connection.cursor(row_factory=tuple_row))
        elif isinstance(recorder, SQLiteApplicationRecorder):
            with recorder.datastore.transaction(commit=commit) as c:
                yield _SqliteCursor(c)  # a WAL read transaction is a snapshot
        else:
            raise TypeError("views need SQLite or PostgreSQL")

    def create_tracking(self) -> None:
        with self.transaction() as cur:
            cur.execute(CREATE_TRACKING)
            cur.execute(CREATE_FAILURES)

    def record_failure(self, failure: Failure) -> Failure:
        """Record a failed attempt: another one on the same event keeps its `since` and
        counts the attempt; a new event starts over. Returns the failure as recorded."""
        with self.transaction() as cur:
            cur.execute(FAILURE_LOCKED, (failure.view,))
            found = cur.fetchall()
            if found and int(found[0][0]) == failure.position:
                failure = replace(
                    failure,
                    since=datetime.fromisoformat(found[0][1]),
                    attempts=int(found[0][2]) + 1,
                )
            cur.execute(
                RECORD_FAILURE,
                (
                    failure.view,
                    failure.position,
                    failure.topic,
                    failure.stream,
                    failure.error,
                    failure.message,
                    failure.since.isoformat(),
                    failure.attempts,
                ),
            )
        return failure

    def clear_failure(self, cursor: Cursor, view: str) -> None:
        """The view is past its failing event (or was reset): not failing any more."""
        cursor.execute(CLEAR_FAILURE, (view,))

    def failures(self) -> tuple[dict[str, Failure], dict[str, int]]:
        """The recorded failures (views failing now, and every view's count of failed
        attempts), as rows; `states` says which still hold the view back."""
        with self.read() as cur:
            cur.execute(FAILURES)
            rows = cur.fetchall()
        failing = {
            row[0]: Failure(
                row[0],
                int(row[1]),
                row[2],
                row[3],
                row[4],
                row[5],
                datetime.fromisoformat(row[6]),
                int(row[7]),
            )
            for row in rows
            if int(row[1]) > 0
        }
        return failing, {row[0]: int(row[8]) for row in rows}

    def states(self, views: Sequence[str], head: int) -> list[ViewState]:
        """Each view's position, lag and the failure holding it back (a recorded failure the
        view has since passed, after a fix and a restart, no longer counts)."""
        tracked = self.positions()
        failing, totals = self.failures()
        found = []
        for view in sorted(set(views) | set(tracked)):
            at = tracked.get(view, 0)
            failure = failing.get(view)
            holding = failure if failure is not None and at < failure.position else None
            found.append(ViewState(view, at, max(0, head - at), holding, totals.get(view, 0)))
        return found

    def position(self, cursor: Cursor, view: str) -> int:
        cursor.execute(POSITION, (view,))
        rows = cursor.fetchall()
        return int(rows[0][0]) if rows else 0

    def claim(self, cursor: Cursor, view: str) -> int:
        """The view's position, its tracking row locked until the transaction ends, so two
        writers of one batch (a runner and `rebuild` or `stats`) cannot both apply it: the
        second waits, then sees the position moved. SQLite writers are serialised anyway."""
        if not cursor.postgres:
            return self.position(cursor, view)
        cursor.execute(ENSURE_TRACKED, (view, 0))
        cursor.execute(POSITION_LOCKED, (view,))
        return int(cursor.fetchall()[0][0])

    def track(self, cursor: Cursor, view: str, position: int) -> None:
        cursor.execute(TRACK, (view, position))

    def advance(self, cursor: Cursor, moves: dict[str, tuple[int, int]]) -> list[str]:
        """Move each view (name → (from, to)) only if it is still where it was read: a view
        that another writer moved, or `rebuild` reset, stays as it is. Returns those moved."""
        cursor.execute(
            Statement(
                "SELECT view, position FROM projection_tracking WHERE view IN ({views}){lock}",
                views=marks(len(moves)),
                lock=FOR_UPDATE,
            ),
            list(moves),
        )
        found = {row[0]: int(row[1]) for row in cursor.fetchall()}
        moving = [name for name, (start, _) in moves.items() if found.get(name, 0) == start]
        rows = [(moves[name][1], name) for name in moving if name in found]
        if rows:
            cursor.executemany(MOVE, rows)
        new = [(name, moves[name][1]) for name in moving if name not in found]
        if new:
            cursor.executemany(ENSURE_TRACKED, new)
        return moving

    def positions(self) -> dict[str, int]:
        with self.transaction() as cur:
            cur.execute(POSITIONS)
            return {row[0]: int(row[1]) for row in cur.fetchall()}

    def analyze(self) -> list[str]:
        """Refresh the planner's statistics of every view table (after a rebuild: until
        autovacuum gets to them, or never where it is off, a table just refilled has none,
        and PostgreSQL guesses a third of its rows for a range — a full scan where an
        index reads a few). Returns the tables analysed."""
        with self.transaction() as cur:
            cur.execute(TABLES)
            tables = sorted(row[0] for row in cur.fetchall() if row[0].startswith("view_"))
            for table in tables:
                cur.execute(Statement("ANALYZE {table}", table=table))
        return tables


class Projector:
    """Brings views up to date, a batch of events per transaction."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        views: Sequence[View],
        batch: int = 1000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.views = list(views)
        for view in self.views:
            if not view.topics:  # the log query would read every topic for it
                raise ValueError(f"view {view.name} reads no topics")
        self.batch = batch
        self.store = ViewStore(recorder)

    def migrate(self) -> None:
        """Create the tracking table and every view's tables (idempotent)."""
        self.store.create_tracking()
        for view in self.views:
            with self.store.transaction() as cur:
                view.create(cur)

    def step(self, view: View) -> int:
        """Apply the next batch to one view; returns how many log positions it advanced."""
        return self.cycle([view], isolate=False)[0]

    def cycle(self, views: Sequence[View], isolate: bool = True) -> tuple[int, list[Failure]]:
        """Apply the next batch to each view; returns the log positions advanced (summed over
        the views) and, with `isolate`, the failures of the views that failed (recorded; the
        others go on). A failing batch is applied again one event at a time, so the view
        moves up to the event it fails on, and that event is what is recorded.

        The log's head and the tracking positions are read once; views at the same position
        (the usual case) read the new events of all their topics in one query, each event
        decoded once (views that read the same event get the same object: events are
        never mutated). A view with events writes its rows and position in one transaction,
        which first checks that the tracking position did not move (another runner,
        `rebuild`). The position advances over events of other topics too (up to the head
        when read), so `?position=N` waits end even when the last events concern other
        views: the views with nothing to apply move together in one transaction, each only
        from the position that was read."""
        if not views:
            return 0, []
        known = self.store.positions()
        head = int(self.recorder.max_notification_id() or 0)
        at: dict[int, list[View]] = {}
        for view in views:
            if (after := known.get(view.name, 0)) < head:
                at.setdefault(after, []).append(view)
        decoded: dict[int, Any] = {}
        idle: dict[str, tuple[int, int]] = {}
        failed: list[Failure] = []
        advanced = 0
        for after, group in sorted(at.items()):
            notifications = self.recorder.select_notifications(
                after,
                self.batch,
                stop=head,
                topics=sorted({t for view in group for t in view.topics}),
                inclusive_of_start=False,
            )
            reached = notifications[-1].id if len(notifications) == self.batch else head
            for view in group:
                topics = set(view.topics)
                mine = [n for n in notifications if n.topic in topics]
                if not mine:
                    idle[view.name] = (after, reached)
                    continue
                try:
                    for n in mine:
                        if n.id not in decoded:  # an event several views read is decoded once
                            decoded[n.id] = self.mapper.to_domain_event(n)
                    if self._apply(view, after, reached, [(n.id, decoded[n.id]) for n in mine]):
                        advanced += reached - after
                except Exception:
                    if not isolate:
                        raise
                    went, failure = self._one_at_a_time(view, after, mine, decoded)
                    advanced += went
                    if failure is not None:
                        failed.append(self.store.record_failure(failure))
        if idle:
            with self.store.transaction() as cur:
                moved = self.store.advance(cur, idle)
            advanced += sum(idle[name][1] - idle[name][0] for name in moved)
        return advanced, failed

    def _apply(self, view: View, after: int, reached: int, events: list[tuple[int, Any]]) -> bool:
        # The rows are worked out first (a fact view loads aggregates through other pooled
        # connections, which on a starved host takes seconds); the transaction then only
        # writes and commits, so it never sits idle into the pool's idle-in-transaction
        # timeout. The claim below still makes the batch count once.
        prepared = view.prepare(events)
        with self.store.transaction() as cur:
            if self.store.claim(cur, view.name) != after:
                return False  # another writer moved it: its batch, not ours
            view.apply(cur, prepared)
            self.store.track(cur, view.name, reached)
        return True

    def _one_at_a_time(
        self, view: View, after: int, mine: Sequence[Any], decoded: dict[int, Any]
    ) -> tuple[int, Failure | None]:
        """Apply a failed batch's events one by one: the view moves up to the event it fails
        on. Returns the positions advanced and the failure (None if every event went in)."""
        at = after
        for n in mine:
            try:
                if n.id not in decoded:
                    decoded[n.id] = self.mapper.to_domain_event(n)
                if not self._apply(view, at, n.id, [(n.id, decoded[n.id])]):
                    break  # another writer moved it
            except Exception as error:
                kind, message = describe(error)
                stream = str(n.originator_id)
                now = datetime.now(tz=UTC)
                return at - after, Failure(view.name, n.id, n.topic, stream, kind, message, now, 1)
            at = n.id
        return at - after, None

    def catch_up(self, view: View | None = None) -> int:
        """Apply every pending event to one view (or all), a cycle at a time."""
        total = 0
        while advanced := self.cycle([view] if view else self.views, isolate=False)[0]:
            total += advanced
        return total

    def rebuild(self, view: View) -> None:
        """Empty a view and its tracking row; `catch_up` then recomputes it from the log."""
        with self.store.transaction() as cur:
            view.clear(cur)
            self.store.track(cur, view.name, 0)
            self.store.clear_failure(cur, view.name)


def lock_for(
    recorder: ApplicationRecorder, view: str, conninfo: str, db: Path | None
) -> SingleActive:
    """The one-active-runner lock of a view."""
    if db is not None:
        return FileLock(db.with_name(f"{db.name}.{view}.lock"))
    key = int.from_bytes(hashlib.sha256(view.encode()).digest()[:7], "big")
    return AdvisoryLock(conninfo, key)


@contextlib.contextmanager
def running(runner: Runner) -> Iterator[threading.Event]:
    """Run a projection runner in a background thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), name="projections", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        runner.wake.set()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Backoff:
    """How a runner retries a failing view: after `first` seconds, doubling with each failed
    attempt on the same event up to `most`; a reminder in the log at most every `remind`."""

    first: float
    most: float
    remind: float

    def delay(self, attempts: int) -> float:
        return min(self.most, self.first * 2.0 ** min(max(0, attempts - 1), 64))


@dataclass
class _Retrying:
    failure: Failure
    retry_at: float
    told_at: float | None  # when the log last said so (None: not yet in this process)


class Runner:
    """Keeps views current: woken by NOTIFY on PostgreSQL, polling on SQLite."""

    def __init__(
        self,
        projector: Projector,
        locks: dict[str, SingleActive],
        conninfo: str | None,
        channel: str | None,
        backoff: Backoff,
        poll: float = 1.0,
        settle: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.projector = projector
        self.settle = settle
        self.locks = locks
        self.conninfo = conninfo
        self.channel = channel
        self.backoff = backoff
        self.poll = poll
        self.clock = clock
        self.wake = threading.Event()
        self.retrying: dict[str, _Retrying] = {}

    def run(self, stop: threading.Event) -> None:
        listener = None
        if self.conninfo and self.channel:
            listener = threading.Thread(target=self._listen, args=(stop,), daemon=True)
            listener.start()
        retry_at: dict[str, float] = {}
        broken_told_at: float | None = None
        broken = 0  # database failures in a row
        with contextlib.suppress(Exception):  # a failure recorded before a restart
            for failure in self.projector.store.failures()[0].values():
                self.retrying[failure.view] = _Retrying(failure, 0.0, None)
        while not stop.is_set():
            stop.wait(self.settle)  # let a burst of events arrive: one batch, not many
            now = self.clock()
            held: list[View] = []
            worked = False
            try:
                for view in self.projector.views:
                    if now < retry_at.get(view.name, 0):
                        continue  # another runner is active; ask again later
                    if not self.locks[view.name].acquire():
                        retry_at[view.name] = now + LOCK_RETRY_SECONDS
                    elif (retrying := self.retrying.get(view.name)) is None or (
                        now >= retrying.retry_at
                    ):
                        held.append(view)  # a failing view keeps its lock while it waits
                advanced, failed = self.projector.cycle(held)
                worked = advanced > 0
                self._failed(failed)
                self._recovered([v.name for v in held], {f.view for f in failed})
                if broken_told_at is not None:
                    broken_told_at = None
                    log.warning("projections work again")
            except Exception as error:  # the database itself (a view's failure is recorded)
                now = self.clock()
                broken += 1
                if broken_told_at is None or now - broken_told_at >= self.backoff.remind:
                    # once, then a reminder; one line: an outage is not a bug in this code
                    log.error("projections failed (%s); retrying", type(error).__name__)
                    broken_told_at = now
                for lock in self.locks.values():  # a lost session lost its locks too
                    lock.release()
                discard_broken(self.projector.recorder)
                retry_at.clear()
                stop.wait(min(OUTAGE_RETRY_MOST_SECONDS, self.backoff.delay(broken)))  # doubling
                continue
            broken = 0
            if not worked:
                now = self.clock()  # a failing view's next try may come before the poll's
                due = [r.retry_at - now for r in self.retrying.values() if r.retry_at > now]
                self.wake.wait(min([self.poll, *due]))
                self.wake.clear()
        for lock in self.locks.values():
            lock.release()

    def _failed(self, failures: Sequence[Failure]) -> None:
        """Wait before trying a failing view again; say so in the log once, then at most
        every `remind` seconds."""
        now = self.clock()
        for failure in failures:
            before = self.retrying.get(failure.view)
            retry_at = now + self.backoff.delay(failure.attempts)
            told_at = (
                before.told_at if before and before.failure.position == failure.position else None
            )
            if told_at is None or now - told_at >= self.backoff.remind:
                log.error(
                    "view %s %s at position %d",
                    failure.view,
                    "starts failing" if told_at is None else "still failing",
                    failure.position,
                    extra={
                        "view": failure.view,
                        "position": failure.position,
                        "topic": failure.topic,
                        "error": failure.error,
                        "error_message": failure.message,
                        "attempts": failure.attempts,
                        "retry_in_seconds": round(retry_at - now, 1),
                    },
                )
                told_at = now
            self.retrying[failure.view] = _Retrying(failure, retry_at, told_at)

    def _recovered(self, tried: Sequence[str], failed: set[str]) -> None:
        """A failing view that was tried and did not fail again: once it is past its failing
        event, its failure is cleared and the log says so."""
        candidates = [v for v in tried if v in self.retrying and v not in failed]
        if not candidates:
            return
        tracked = self.projector.store.positions()
        for view in candidates:
            failure = self.retrying[view].failure
            if tracked.get(view, 0) < failure.position:
                continue
            with self.projector.store.transaction() as cur:
                self.projector.store.clear_failure(cur, view)
            del self.retrying[view]
            log.warning(
                "view %s recovered past position %d",
                view,
                failure.position,
                extra={"view": view, "position": failure.position},
            )

    def _listen(self, stop: threading.Event) -> None:
        """LISTEN for the ledger's NOTIFY; reconnect when the connection is lost."""
        assert self.conninfo is not None
        assert self.channel is not None
        while not stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=self.poll, stop_after=1):
                            self.wake.set()
            except psycopg.Error:
                log.warning("lost the LISTEN connection; reconnecting")
                stop.wait(self.poll)

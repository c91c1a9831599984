"""The ledger's PostgreSQL recorder: the library's, with a save in one statement.

The library's save is a pipelined transaction of six statements (BEGIN, lock timeout, table
lock, NOTIFY, INSERT of a composite array, COMMIT) and most of its cost is the driver's work
on the client. This recorder does the same inside one server-side function called in
autocommit: it takes the same EXCLUSIVE table lock (so positions are issued in commit order
and a reader tailing the log never passes a gap that fills later — the reason the library's
own `POSTGRES_ENABLE_DB_FUNCTIONS` mode, which drops the lock, is not used), notifies the
same channel and returns the positions. The events travel as four arrays, each sent as one
array literal (`text_array`, `bytea_array`): the driver's own list adaptation quotes and
escapes element by element in Python and cost more than half of a save's client time.

A lost connection is retried (the library's reads and this save) until `unavailable_after`
seconds minus one wait for the pool have passed, so a request answers 503 within that time
during an outage. A save whose connection was lost after its commit (a database stopped
while the answer was on its way) is not recorded twice: before it is sent again, the events
it would write are looked up, and when they are there with exactly the bytes this save sent
(each event's state holds its own timestamp, to the microsecond: another writer's events
differ) the save went through, and its positions are the answer; a partner who
sent an event once is answered as its first recording, never `duplicate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg.rows import tuple_row

FUNCTION = "xiaobao_insert_events"
RETRY_WAIT_SECONDS = 0.2
T = TypeVar("T")


def text_array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of the values' text forms, every element quoted."""
    return "{" + ",".join(_quoted(str(value)) for value in values) + "}"


def bytea_array(values: Iterable[bytes]) -> str:
    """A PostgreSQL `bytea[]` literal: each element in hex form (`\\x…`, backslash escaped)."""
    return "{" + ",".join(f'"\\\\x{value.hex()}"' for value in values) + "}"


def _quoted(text: str) -> str:
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class LedgerRecorder(PostgresApplicationRecorder):
    """Saves a batch of stored events with one round trip and one statement."""

    def __init__(
        self, datastore: PostgresDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = sql.Identifier(datastore.schema or "public")
        function = sql.Identifier(f"{FUNCTION}_{events_table_name}")
        id_type = sql.SQL(datastore.originator_id_type)
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ BEGIN "
                "SET LOCAL lock_timeout = '{timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) "
                "RETURNING notification_id; "
                "END $body$"
            ).format(
                schema=schema,
                function=function,
                id_type=id_type,
                timeout=sql.SQL(str(int(datastore.lock_timeout))),
                table=sql.Identifier(events_table_name),
                channel=sql.Identifier(self.channel_name),
            )
        )
        self._save = sql.SQL(
            "SELECT n FROM {schema}.{function}(%s::{id_type}[], %s::bigint[], %s::text[], "
            "%s::bytea[]) AS t(n)"
        ).format(schema=schema, function=function, id_type=id_type)
        self._saved = sql.SQL(
            "SELECT e.originator_id, e.originator_version, e.notification_id, e.state "
            "FROM {schema}.{table} e JOIN unnest(%s::{id_type}[], %s::bigint[]) AS k(i, v) "
            "ON e.originator_id = k.i AND e.originator_version = k.v"
        ).format(schema=schema, table=sql.Identifier(events_table_name), id_type=id_type)
        self.unavailable_after = 10.0  # seconds; `build_ledger` sets it from the settings

    def retrying(self, call: Callable[[int], T]) -> T:
        """`call(attempt)` until it does not lose its connection, for as long as a request
        may wait (`unavailable_after` less the pool's own wait for a connection)."""
        pool_wait = float(getattr(self.datastore.pool, "timeout", 5.0))
        deadline = time.monotonic() + max(0.0, self.unavailable_after - pool_wait - 1.0)
        attempt = 0
        while True:
            try:
                return call(attempt)
            except (InterfaceError, OperationalError):
                attempt += 1
                if time.monotonic() + RETRY_WAIT_SECONDS >= deadline:
                    raise
                time.sleep(RETRY_WAIT_SECONDS)

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        select = PostgresApplicationRecorder.select_events.__wrapped__
        return self.retrying(lambda _: select(self, *args, **kwargs))

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        select = PostgresApplicationRecorder.select_notifications.__wrapped__
        found: Sequence[Notification] = self.retrying(lambda _: select(self, *args, **kwargs))
        return found

    def max_notification_id(self) -> int | None:
        head = PostgresApplicationRecorder.max_notification_id.__wrapped__
        found: int | None = self.retrying(lambda _: head(self))
        return found

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        if not stored_events:
            return []
        params = (
            text_array(e.originator_id for e in stored_events),
            text_array(e.originator_version for e in stored_events),
            text_array(e.topic for e in stored_events),
            bytea_array(e.state for e in stored_events),
        )

        def insert(attempt: int) -> Sequence[int]:
            if attempt and (ids := self.already_saved(stored_events)) is not None:
                return ids  # the lost connection had committed it: this save's own commit
            with (
                self.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                curs.execute(self._save, params, prepare=True)
                return [row[0] for row in curs.fetchall()]

        return self.retrying(insert)

    def already_saved(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The positions of these events when every one is recorded with exactly these bytes
        (this save's own earlier commit), else None (not saved, or another writer's)."""
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(
                self._saved,
                (
                    text_array(e.originator_id for e in stored_events),
                    text_array(e.originator_version for e in stored_events),
                ),
            )
            found = {(str(row[0]), int(row[1])): (int(row[2]), bytes(row[3])) for row in curs}
        ids = []
        for event in stored_events:
            row = found.get((str(event.originator_id), int(event.originator_version)))
            if row is None or row[1] != bytes(event.state):
                return None
            ids.append(row[0])
        return ids

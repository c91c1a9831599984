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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import sql
from psycopg.rows import tuple_row

FUNCTION = "xiaobao_insert_events"


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

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
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
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._save, params, prepare=True)
            return [row[0] for row in curs.fetchall()]

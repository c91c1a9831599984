"""Fact views: one row per aggregate (a claim, a complaint, a dispute) with what statistics
count, upserted as its events arrive. The aggregate before each event comes from this batch,
a small cache, or the ledger; rows hold no personal data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from eventsourcing.domain import Aggregate

from application.ledger import topics_of
from domain.common import CST
from infrastructure.projections import Cursor


def cst(instant: datetime | None) -> str | None:
    """Instants are stored as CST ISO strings, so text order is time order."""
    return instant.astimezone(CST).isoformat() if instant else None


class FactView:
    """Base of the fact views: subclasses name the table, columns and how a row is made."""

    name = ""
    table = ""
    columns: tuple[tuple[str, str], ...] = ()  # (name, SQL type); "id" first
    indexed: tuple[str, ...] = ()

    def __init__(self, aggregate: type[Aggregate], loader: Callable[[Any, int], Any]) -> None:
        self.loader = loader  # (id, version) → the aggregate at that version
        self.topics = topics_of(aggregate)
        self._state: dict[Any, Any] = {}

    def row(self, state: Any, position: int) -> tuple[Any, ...]:
        raise NotImplementedError

    def create(self, cursor: Cursor) -> bool:
        """Create the table; one whose columns changed is dropped and, with its tracking
        row gone, recomputed from the log (returns whether that happened)."""
        dropped = not has_columns(cursor, self.table, [n for n, _ in self.columns])
        if dropped:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute("DELETE FROM projection_tracking WHERE view = ?", (self.name,))
        columns = ", ".join(f"{n} {sql_type(cursor, t)}" for n, t in self.columns)
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
        for column in self.indexed:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table}_{column} ON {self.table} ({column})"
            )
        return dropped

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.table}")  # noqa: S608 - a class constant
        self._state.clear()

    def prepare(self, events: Sequence[tuple[int, Any]]) -> list[tuple[Any, ...]]:
        """Each changed aggregate's row after the batch."""
        changed: dict[Any, tuple[Any, int]] = {}
        for position, event in events:
            state = event.mutate(self._before(event, changed))
            changed[event.originator_id] = (state, position)
        rows = []
        for state, position in changed.values():
            self._state[state.id] = state
            rows.append(self.row(state, position))
        return rows

    def apply(self, cursor: Cursor, prepared: list[tuple[Any, ...]]) -> None:
        if not prepared:
            return
        names = [n for n, _ in self.columns]
        placeholders = ", ".join("?" * len(names))
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "id")
        cursor.executemany(
            f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            prepared,
        )

    def _before(self, event: Any, changed: dict[Any, tuple[Any, int]]) -> Any:
        version = event.originator_version - 1
        if version == 0:
            return None
        known = changed.get(event.originator_id, (None, 0))[0] or self._state.get(
            event.originator_id
        )
        if known is not None and known.version == version:
            # Mutated in place: if this batch's transaction fails, the cached state is a
            # version ahead of what the view holds, so the retry reloads from the ledger.
            return known
        return self.loader(event.originator_id, version)

    def select(self, cursor: Cursor, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows as dicts (`where` is a constant clause with ? placeholders)."""
        names = [n for n, _ in self.columns]
        cursor.execute(f"SELECT {', '.join(names)} FROM {self.table} WHERE {where}", params)  # noqa: S608
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_columns(cursor: Cursor, table: str, names: list[str]) -> bool:
    """Whether the table has these columns (False when it does not exist)."""
    cursor.execute("SAVEPOINT columns")
    try:
        cursor.execute(f"SELECT {', '.join(names)} FROM {table} WHERE 1 = 0")  # noqa: S608
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        cursor.execute("ROLLBACK TO SAVEPOINT columns")
        return False
    except sqlite3.OperationalError as e:
        if not str(e).startswith("no such"):
            raise  # busy, locked, I/O: not a changed view
        cursor.execute("ROLLBACK TO SAVEPOINT columns")
        return False
    cursor.fetchall()
    cursor.execute("RELEASE SAVEPOINT columns")
    return True


def sql_type(cursor: Cursor, declared: str) -> str:
    """Text compares byte by byte on both stores (instants as CST ISO text sort in time
    order whatever the database's collation)."""
    return declared.replace("TEXT", 'TEXT COLLATE "C"', 1) if cursor.postgres else declared

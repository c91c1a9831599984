"""Fact views: one row per aggregate (a claim, a complaint, a dispute) with what statistics
count, upserted as its events arrive. The aggregate before each event comes from this batch,
a small cache (the most recently changed aggregates, at most CACHED of them), or the ledger;
rows hold no personal data."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate
from psycopg import sql

from application.ledger import topics_of
from domain.common import CST
from infrastructure.dialect import Differs, Statement, column_defs, joined, marks
from infrastructure.projections import Cursor

CACHED = 10_000  # aggregates kept per view between batches: memory stays flat at any log size
UNTRACK = Statement("DELETE FROM projection_tracking WHERE view = {p}")
COLUMNS = Statement.each(
    postgres="SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = {p}",
    sqlite="SELECT name FROM pragma_table_info({p})",
)


@dataclass(frozen=True)
class Batch:
    """The rows a batch of events changes (the record's id first), and the ids of the
    records one of its events created."""

    rows: list[tuple[Any, ...]]
    created: frozenset[str]


def cst(instant: datetime | None) -> str | None:
    """Instants are stored as CST ISO strings, so text order is time order."""
    return instant.astimezone(CST).isoformat() if instant else None


class FactView:
    """Base of the fact views: subclasses name the table, columns and how a row is made."""

    name = ""
    table = ""
    columns: tuple[tuple[str, str], ...] = ()  # (name, SQL type); "id" first
    indexed: tuple[str, ...] = ()

    def __init__(
        self, aggregate: type[Aggregate], loader: Callable[[Any, int], Any], cached: int = CACHED
    ) -> None:
        self.loader = loader  # (id, version) → the aggregate at that version
        self.topics = topics_of(aggregate)
        self.cached = cached
        self._state: OrderedDict[Any, Any] = OrderedDict()  # least recently changed first

    def row(self, state: Any, position: int) -> tuple[Any, ...]:
        raise NotImplementedError

    def create(self, cursor: Cursor) -> bool:
        """Create the table; one whose columns changed is dropped and, with its tracking
        row gone, recomputed from the log (returns whether that happened)."""
        indexes = {column: [column] for column in self.indexed}
        return ensure_table(cursor, self.table, self.columns, indexes, view=self.name)

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(Statement("DELETE FROM {table}", table=self.table))
        self._state.clear()

    def prepare(self, events: Sequence[tuple[int, Any]]) -> Batch:
        """Each changed aggregate's row after the batch, and which of them the batch
        created."""
        changed: dict[Any, tuple[Any, int]] = {}
        for position, event in events:
            state = event.mutate(self._before(event, changed))
            changed[event.originator_id] = (state, position)
        rows = []
        for state, position in changed.values():
            self._state[state.id] = state
            self._state.move_to_end(state.id)
            rows.append(self.row(state, position))
        while len(self._state) > self.cached:
            self._state.popitem(last=False)
        created = {str(e.originator_id) for _, e in events if e.originator_version == 1}
        return Batch(rows, frozenset(created))

    def apply(self, cursor: Cursor, prepared: Batch) -> None:
        if not prepared.rows:
            return
        cursor.executemany(self._upsert, prepared.rows)

    def stored(self, cursor: Cursor, batch: Batch) -> list[dict[str, Any]]:
        """The rows the batch replaces, as stored before it (a record the batch created
        has none: no query for it)."""
        ids = [row[0] for row in batch.rows if row[0] not in batch.created]
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            found += self.rows_of(cursor, ids[start : start + 500])
        return found

    @functools.cached_property
    def _upsert(self) -> Statement:
        names = [n for n, _ in self.columns]
        return Statement(
            "INSERT INTO {table} ({names}) VALUES ({values}) "
            "ON CONFLICT (id) DO UPDATE SET {updates}",
            table=self.table,
            names=names,
            values=marks(len(names)),
            updates=joined(
                [
                    sql.SQL("{} = excluded.{}").format(sql.Identifier(n), sql.Identifier(n))
                    for n in names
                    if n != "id"
                ]
            ),
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

    def rows_of(self, cursor: Cursor, ids: Sequence[Any]) -> list[dict[str, Any]]:
        """The stored rows of these ids, as dicts."""
        names = [n for n, _ in self.columns]
        cursor.execute(
            Statement(
                "SELECT {names} FROM {table} WHERE id IN ({ids})",
                names=names,
                table=self.table,
                ids=marks(len(ids)),
            ),
            ids,
        )
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_columns(cursor: Cursor, table: str, names: list[str]) -> bool:
    """Whether the table has these columns (False when it does not exist)."""
    cursor.execute(COLUMNS, (table,))
    return set(names) <= {row[0] for row in cursor.fetchall()}


def ensure_table(
    cursor: Cursor,
    table: str,
    columns: Sequence[tuple[str, str]],
    indexes: Mapping[str, Sequence[str]],
    view: str | None = None,
    drop: bool = False,
) -> bool:
    """Create the table and its indexes (named `<table>_<suffix>`). One whose columns changed
    (or that `drop` asks for) is dropped first, and the `view` it belongs to loses its
    tracking row, so it is recomputed from the log. Returns whether the table is new."""
    fresh = drop or not has_columns(cursor, table, [name for name, _ in columns])
    if fresh:
        cursor.execute(Statement("DROP TABLE IF EXISTS {table}", table=table))
        if view is not None:
            cursor.execute(UNTRACK, (view,))
    cursor.execute(
        Statement(
            "CREATE TABLE IF NOT EXISTS {table} ({columns})",
            table=table,
            columns=Differs(column_defs(columns, postgres=True), column_defs(columns, False)),
        )
    )
    for suffix, indexed in indexes.items():
        cursor.execute(
            Statement(
                "CREATE INDEX IF NOT EXISTS {index} ON {table} ({columns})",
                index=f"{table}_{suffix}",
                table=table,
                columns=indexed,
            )
        )
    return fresh

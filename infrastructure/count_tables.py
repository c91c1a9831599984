"""Count tables: per cell (a CST month or another period, and a combination of dimensions)
the sums a fact view's rows add to the statistics, kept in the same transaction as the rows
and their tracking position, so statistics read a few cells per period and group instead of
every record of the period.

A batch moves each changed record's contribution: minus what its stored row added, plus
what its new row adds. A cell whose sums all reach zero is dropped. `recounted` computes the
same cells afresh from the fact rows, which is how a table new beside kept rows is filled
and how tests check that the kept counts never drift."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import sql

from infrastructure.dialect import Statement, joined, marks
from infrastructure.fact_views import Batch, FactView, ensure_table
from infrastructure.projections import Cursor

Key = tuple[Any, ...]
Cells = dict[Key, list[int]]


@dataclass(frozen=True)
class CountTable:
    """A table of cells: `cell` (its key as JSON), the key columns, the sums (BIGINT)."""

    name: str
    keys: tuple[tuple[str, str], ...]
    sums: tuple[tuple[str, str], ...]
    index: tuple[str, ...]

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return (("cell", "TEXT PRIMARY KEY"), *self.keys, *self.sums)

    def create(self, cursor: Cursor, drop: bool = False) -> bool:
        """Create the table (dropped first with `drop`, or when its columns changed);
        returns whether it is new."""
        return ensure_table(cursor, self.name, self.columns, {"find": self.index}, drop=drop)

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(Statement("DELETE FROM {table}", table=self.name))

    @functools.cached_property
    def statements(self) -> tuple[Statement, Statement]:
        """Add a delta to a cell (created at zero); drop a cell whose sums are all zero."""
        keys = [n for n, _ in self.keys]
        sums = [n for n, _ in self.sums]
        added = [
            sql.SQL("{name} = {table}.{name} + excluded.{name}").format(
                name=sql.Identifier(n), table=sql.Identifier(self.name)
            )
            for n in sums
        ]
        zero = [sql.SQL("{} = 0").format(sql.Identifier(n)) for n in sums]
        add = Statement(
            "INSERT INTO {table} ({names}) VALUES ({values}) "
            "ON CONFLICT (cell) DO UPDATE SET {added}",
            table=self.name,
            names=["cell", *keys, *sums],
            values=marks(1 + len(keys) + len(sums)),
            added=joined(added),
        )
        drop = Statement(
            "DELETE FROM {table} WHERE cell = {p} AND {zero}",
            table=self.name,
            zero=joined(zero, " AND "),
        )
        return add, drop

    def add(self, cursor: Cursor, delta: Cells) -> None:
        """Add each cell's delta; drop the cells that reach zero."""
        delta = {k: v for k, v in delta.items() if any(v)}
        if not delta:
            return
        add, drop = self.statements
        cursor.executemany(add, [(cell_of(k), *k, *v) for k, v in delta.items()])
        cursor.executemany(drop, [(cell_of(k),) for k, v in delta.items() if any(n < 0 for n in v)])

    def stored(self, cursor: Cursor) -> Cells:
        """Every cell as kept (for checks and tests)."""
        keys = [n for n, _ in self.keys]
        sums = [n for n, _ in self.sums]
        cursor.execute(
            Statement("SELECT {names} FROM {table}", names=[*keys, *sums], table=self.name)
        )
        return {
            tuple(row[: len(keys)]): [int(n) for n in row[len(keys) :]] for row in cursor.fetchall()
        }


def cell_of(key: Key) -> str:
    """A cell's primary key: its key values as JSON (free-text dimensions cannot collide,
    and a null dimension is its own cell)."""
    return orjson.dumps(key).decode()


def month_of(instant: str | None) -> str | None:
    """The CST month (`2026-03`) of an instant stored as CST ISO text."""
    return instant[:7] if instant else None


class CountedFacts(FactView):
    """A fact view with a count table beside its rows: subclasses say what a row adds."""

    counts: CountTable

    def contributions(self, fact: dict[str, Any]) -> Iterable[tuple[Key, Sequence[int]]]:
        """The cells one fact row adds to, and what it adds (in the order of the sums)."""
        raise NotImplementedError

    def create(self, cursor: Cursor) -> bool:
        """The fact table and its count table: recounted when the count table is new or
        changed beside kept rows, emptied with the rows when those are to be recomputed."""
        dropped = super().create(cursor)
        if self.counts.create(cursor, drop=dropped) and not dropped:
            self.counts.add(cursor, self.recounted(cursor))
        return dropped

    def clear(self, cursor: Cursor) -> None:
        super().clear(cursor)
        self.counts.clear(cursor)

    def apply(self, cursor: Cursor, prepared: Batch) -> None:
        """Upsert the rows, and move each changed record's contribution to its new cells."""
        if not prepared.rows:
            return
        names = [n for n, _ in self.columns]
        delta: Cells = {}
        for old in self.stored(cursor, prepared):
            self._count(delta, old, -1)
        for new in prepared.rows:
            self._count(delta, dict(zip(names, new, strict=True)), +1)
        super().apply(cursor, prepared)
        self.counts.add(cursor, delta)

    def recounted(self, cursor: Cursor) -> Cells:
        """The cells computed afresh from every stored fact row."""
        names = [n for n, _ in self.columns]
        cursor.execute(Statement("SELECT {names} FROM {table}", names=names, table=self.table))
        cells: Cells = {}
        for row in cursor.fetchall():
            self._count(cells, dict(zip(names, row, strict=True)), +1)
        return {k: v for k, v in cells.items() if any(v)}

    def _count(self, cells: Cells, fact: dict[str, Any], sign: int) -> None:
        width = len(self.counts.sums)
        for key, sums in self.contributions(fact):
            into = cells.setdefault(key, [0] * width)
            for i, n in enumerate(sums):
                into[i] += sign * n

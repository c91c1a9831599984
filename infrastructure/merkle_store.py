"""Tables of the verifiable ledger, beside the events table in the same database:

    merkle_leaves       (idx, position)          leaf index → ledger position
    merkle_nodes        (level, idx, hash)       every complete subtree's hash; level 0 = leaves
    merkle_checkpoints  (size, root, signed_at, note)

The sealer writes a batch of leaves, their nodes and a checkpoint in one transaction, so its
tracking position (the highest sealed position) can never disagree with the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from infrastructure.dialect import Statement, marks
from infrastructure.recorder import text_array
from infrastructure.tree_ranges import Coordinate


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    size: int
    root: bytes
    signed_at: datetime
    note: str


@dataclass(frozen=True)
class SealedBatch:
    """What one sealing step appends."""

    leaves: list[tuple[int, int]]  # (index, position)
    nodes: list[tuple[int, int, bytes]]  # (level, index, hash)
    checkpoint: StoredCheckpoint | None


class MerkleStore(Protocol):
    """Persistence of the Merkle log."""

    def create_tables(self) -> None: ...

    def append(self, batch: SealedBatch) -> None: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    def size(self) -> int: ...

    def last_position(self) -> int: ...

    def levels(self) -> list[list[bytes]]: ...

    def nodes(self, coordinates: Iterable[Coordinate]) -> dict[Coordinate, bytes]: ...

    def sized_nodes(self, coordinates: Iterable[Coordinate]) -> tuple[int, dict[Coordinate, bytes]]:
        """The tree's size and the stored hashes of `coordinates`, read together (a proof's
        one read)."""
        ...

    def leaf_positions(self, start: int, end: int) -> list[tuple[int, int]]: ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]: ...

    def inner_nodes(self, start: int, end: int) -> list[tuple[int, int, Any]]: ...

    def node_ranges(self, ranges: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, Any]]:
        """The stored nodes of each (level, first index, index past the last), by level and
        index (one index range scan a level)."""
        ...

    def indexes_of(self, positions: Sequence[int]) -> dict[int, int]: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoints(self) -> list[StoredCheckpoint]: ...

    def checkpoints_after(self, size: int, limit: int) -> list[StoredCheckpoint]: ...


class PostgresMerkleStore:
    """The Merkle tables in the ledger's PostgreSQL schema."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.datastore = recorder.datastore
        schema = self.datastore.schema or "public"
        self.leaves = sql.Identifier(schema, "merkle_leaves")
        self.nodes_table = sql.Identifier(schema, "merkle_nodes")
        self.checkpoints_table = sql.Identifier(schema, "merkle_checkpoints")
        # Each wanted node by its primary key, one index scan each: as a join, the planner
        # of a table never analysed (autovacuum off) took a bitmap scan per node, 1.5× slower.
        self._sized_nodes = (
            sql.SQL(
                "SELECT -1::smallint, coalesce(max(idx) + 1, 0), NULL::bytea FROM {leaves} "
                "UNION ALL "
                "SELECT w.level, w.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[]) "
                "AS w(level, idx) CROSS JOIN LATERAL (SELECT m.hash FROM {nodes} m "
                "WHERE m.level = w.level AND m.idx = w.idx LIMIT 1) n"
            )
            .format(leaves=self.leaves, nodes=self.nodes_table)
            .as_bytes()
        )  # rendered once

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (idx BIGINT PRIMARY KEY, "
                    "position BIGINT NOT NULL UNIQUE)"
                ).format(self.leaves)
            )
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (level SMALLINT NOT NULL, idx BIGINT NOT NULL, "
                    "hash BYTEA NOT NULL, PRIMARY KEY (level, idx))"
                ).format(self.nodes_table)
            )
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (size BIGINT PRIMARY KEY, root BYTEA NOT NULL, "
                    "signed_at TIMESTAMPTZ NOT NULL, note TEXT NOT NULL)"
                ).format(self.checkpoints_table)
            )

    def append(self, batch: SealedBatch) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            # Binary COPY: no text form of the numbers and hashes to make and parse
            copy_leaves = sql.SQL("COPY {} (idx, position) FROM STDIN (FORMAT BINARY)")
            with curs.copy(copy_leaves.format(self.leaves)) as cp:
                cp.set_types(["int8", "int8"])
                for row in batch.leaves:
                    cp.write_row(row)
            copy_nodes = sql.SQL("COPY {} (level, idx, hash) FROM STDIN (FORMAT BINARY)")
            with curs.copy(copy_nodes.format(self.nodes_table)) as cp:
                cp.set_types(["int2", "int8", "bytea"])
                for node in batch.nodes:
                    cp.write_row(node)
            if batch.checkpoint is not None:
                self._insert_checkpoint(curs, batch.checkpoint)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_checkpoint(curs, checkpoint)

    def _insert_checkpoint(self, curs: Any, c: StoredCheckpoint) -> None:
        curs.execute(
            sql.SQL(
                "INSERT INTO {} (size, root, signed_at, note) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (size) DO NOTHING"
            ).format(self.checkpoints_table),
            (c.size, c.root, c.signed_at, c.note),
        )

    def _rows(self, query: sql.Composed, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement in autocommit (the pool's connections are): the library's
        `transaction()` sends BEGIN and ROLLBACK around it, three round trips for one."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, params, prepare=True)
            return curs.fetchall()

    def _one(self, query: sql.Composed, params: Sequence[Any] = ()) -> Any:
        rows = self._rows(query, params)
        return rows[0][0] if rows else None

    def size(self) -> int:
        count = self._one(sql.SQL("SELECT max(idx) + 1 AS n FROM {}").format(self.leaves))
        return int(count or 0)

    def last_position(self) -> int:
        found = self._one(sql.SQL("SELECT max(position) AS p FROM {}").format(self.leaves))
        return int(found or 0)

    def levels(self) -> list[list[bytes]]:
        rows: list[list[bytes]] = []
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                sql.SQL("SELECT level, hash FROM {} ORDER BY level, idx").format(self.nodes_table)
            )
            for row in curs:
                while len(rows) <= row["level"]:
                    rows.append([])
                rows[row["level"]].append(bytes(row["hash"]))
        return rows

    def nodes(self, coordinates: Iterable[Coordinate]) -> dict[Coordinate, bytes]:
        wanted = list(coordinates)
        if not wanted:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                sql.SQL(
                    "SELECT n.level, n.idx, n.hash FROM {} n "
                    "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) "
                    "ON n.level = w.level AND n.idx = w.idx"
                ).format(self.nodes_table),
                ([c[0] for c in wanted], [c[1] for c in wanted]),
            )
            return {(r["level"], r["idx"]): bytes(r["hash"]) for r in curs.fetchall()}

    def sized_nodes(self, coordinates: Iterable[Coordinate]) -> tuple[int, dict[Coordinate, bytes]]:
        """One prepared statement in autocommit: no BEGIN/ROLLBACK around it (the pool's
        connections are in autocommit), and its plan is kept per connection. The size is the
        row of level -1 (found by its level: a UNION ALL promises no order)."""
        wanted = list(coordinates)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                self._sized_nodes,  # arrays as literals: the driver's list dumping cost more
                (text_array(c[0] for c in wanted), text_array(c[1] for c in wanted)),
                prepare=True,
                binary=True,
            )
            rows = curs.fetchall()
        size = next(int(r[1]) for r in rows if r[0] == -1)
        return size, {(r[0], r[1]): bytes(r[2]) for r in rows if r[0] != -1}

    def leaf_positions(self, start: int, end: int) -> list[tuple[int, int]]:
        query = sql.SQL(
            "SELECT idx, position FROM {} WHERE idx >= %s AND idx < %s ORDER BY idx"
        ).format(self.leaves)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, (start, end), binary=True)
            return curs.fetchall()

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        query = sql.SQL(
            "SELECT hash FROM {} WHERE level = 0 AND idx >= %s AND idx < %s ORDER BY idx"
        ).format(self.nodes_table)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, (start, end), binary=True)
            return [row[0] for row in curs.fetchall()]

    def inner_nodes(self, start: int, end: int) -> list[tuple[int, int, Any]]:
        return self.node_ranges(inner_ranges(start, end))

    def node_ranges(self, ranges: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, Any]]:
        if not ranges:
            return []
        # One index range scan per level: the inner ORDER BY keeps the planner from turning
        # the LATERAL subquery into a join that scans the whole table. (The verifier does not
        # depend on the order of the rows, only on which are there.)
        query = sql.SQL(
            "SELECT r.level, n.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[], "
            "%s::bigint[]) AS r(level, lo, hi) CROSS JOIN LATERAL (SELECT m.idx, m.hash "
            "FROM {} m WHERE m.level = r.level AND m.idx >= r.lo AND m.idx < r.hi "
            "ORDER BY m.idx) n"
        ).format(self.nodes_table)
        params = tuple([r[i] for r in ranges] for i in range(3))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(query, params, binary=True)
            return curs.fetchall()

    def indexes_of(self, positions: Sequence[int]) -> dict[int, int]:
        if not positions:
            return {}
        query = sql.SQL("SELECT idx, position FROM {} WHERE position = ANY(%s::bigint[])")
        rows = self._rows(query.format(self.leaves), (text_array(positions),))
        return {position: idx for idx, position in rows}

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = self._checkpoints("ORDER BY size DESC LIMIT 1")
        return found[0] if found else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self._checkpoints("ORDER BY size")

    def checkpoints_after(self, size: int, limit: int) -> list[StoredCheckpoint]:
        """Up to `limit` checkpoints of sizes above `size`, by size (a page of them)."""
        return self._checkpoints("WHERE size > %s ORDER BY size LIMIT %s", (size, limit))

    def _checkpoints(self, tail: str, params: Sequence[Any] = ()) -> list[StoredCheckpoint]:
        query = (
            sql.SQL("SELECT size, root, signed_at, note FROM {} ").format(self.checkpoints_table)
            + sql.SQL(tail)  # a constant clause, never input (values are parameters)
        )
        return [
            StoredCheckpoint(size, bytes(root), signed_at, note)
            for size, root, signed_at, note in self._rows(query, params)
        ]


class SQLiteMerkleStore:
    """The Merkle tables in the ledger's SQLite file."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.datastore = recorder.datastore

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS merkle_leaves (idx INTEGER PRIMARY KEY, "
                "position INTEGER NOT NULL UNIQUE)"
            )
            c.execute(
                "CREATE TABLE IF NOT EXISTS merkle_nodes (level INTEGER NOT NULL, "
                "idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx))"
            )
            c.execute(
                "CREATE TABLE IF NOT EXISTS merkle_checkpoints (size INTEGER PRIMARY KEY, "
                "root BLOB NOT NULL, signed_at TEXT NOT NULL, note TEXT NOT NULL)"
            )

    def append(self, batch: SealedBatch) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany("INSERT INTO merkle_leaves (idx, position) VALUES (?, ?)", batch.leaves)
            c.executemany(
                "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)", batch.nodes
            )
            if batch.checkpoint is not None:
                self._insert_checkpoint(c, batch.checkpoint)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_checkpoint(c, checkpoint)

    @staticmethod
    def _insert_checkpoint(c: Any, cp: StoredCheckpoint) -> None:
        c.execute(
            "INSERT OR IGNORE INTO merkle_checkpoints (size, root, signed_at, note) "
            "VALUES (?, ?, ?, ?)",
            (cp.size, cp.root, cp.signed_at.isoformat(), cp.note),
        )

    def _one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            row = c.fetchone()
            return None if row is None else row[0]

    def size(self) -> int:
        return int(self._one("SELECT max(idx) + 1 FROM merkle_leaves") or 0)

    def last_position(self) -> int:
        return int(self._one("SELECT max(position) FROM merkle_leaves") or 0)

    def levels(self) -> list[list[bytes]]:
        rows: list[list[bytes]] = []
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT level, hash FROM merkle_nodes ORDER BY level, idx")
            for level, digest in c.fetchall():
                while len(rows) <= level:
                    rows.append([])
                rows[level].append(bytes(digest))
        return rows

    def nodes(self, coordinates: Iterable[Coordinate]) -> dict[Coordinate, bytes]:
        wanted = list(coordinates)
        found: dict[Coordinate, bytes] = {}
        with self.datastore.transaction(commit=False) as c:
            for level, idx in wanted:
                c.execute("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx))
                row = c.fetchone()
                if row is not None:
                    found[(level, idx)] = bytes(row[0])
        return found

    def sized_nodes(self, coordinates: Iterable[Coordinate]) -> tuple[int, dict[Coordinate, bytes]]:
        wanted = list(coordinates)
        found: dict[Coordinate, bytes] = {}
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT max(idx) + 1 FROM merkle_leaves")
            size = int(c.fetchone()[0] or 0)
            for level, idx in wanted:
                c.execute("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx))
                row = c.fetchone()
                if row is not None:
                    found[(level, idx)] = bytes(row[0])
        return size, found

    def leaf_positions(self, start: int, end: int) -> list[tuple[int, int]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT idx, position FROM merkle_leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end),
            )
            return [(row[0], row[1]) for row in c.fetchall()]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT hash FROM merkle_nodes WHERE level = 0 AND idx >= ? AND idx < ? "
                "ORDER BY idx",
                (start, end),
            )
            return [_blob(row[0]) for row in c.fetchall()]

    def inner_nodes(self, start: int, end: int) -> list[tuple[int, int, Any]]:
        return self.node_ranges(inner_ranges(start, end))

    def node_ranges(self, ranges: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, Any]]:
        found: list[tuple[int, int, Any]] = []
        with self.datastore.transaction(commit=False) as c:
            for level, lo, hi in ranges:
                c.execute(
                    "SELECT level, idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? "
                    "AND idx < ? ORDER BY idx",
                    (level, lo, hi),
                )
                found.extend((row[0], row[1], _blob(row[2])) for row in c.fetchall())
        return found

    def indexes_of(self, positions: Sequence[int]) -> dict[int, int]:
        if not positions:
            return {}
        statement = Statement(
            "SELECT idx, position FROM merkle_leaves WHERE position IN ({positions})",
            positions=marks(len(positions)),
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement.sqlite, list(positions))
            return {row[1]: row[0] for row in c.fetchall()}

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = self._checkpoints(latest=True)
        return found[0] if found else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        return self._checkpoints(latest=False)

    def checkpoints_after(self, size: int, limit: int) -> list[StoredCheckpoint]:
        """Up to `limit` checkpoints of sizes above `size`, by size (a page of them)."""
        return self._checkpoints(latest=False, after=(size, limit))

    def _checkpoints(
        self, latest: bool, after: tuple[int, int] | None = None
    ) -> list[StoredCheckpoint]:
        select = "SELECT size, root, signed_at, note FROM merkle_checkpoints"
        if latest:
            statement = f"{select} ORDER BY size DESC LIMIT 1"
        elif after is None:
            statement = f"{select} ORDER BY size"
        else:
            statement = f"{select} WHERE size > ? ORDER BY size LIMIT ?"
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, after or ())
            return [
                StoredCheckpoint(r[0], _blob(r[1]), datetime.fromisoformat(r[2]), r[3])
                for r in c.fetchall()
            ]


def inner_ranges(start: int, end: int) -> list[tuple[int, int, int]]:
    """(level, first index, end index) of the complete subtrees above the leaves that the
    leaves [start, end) complete: at level k, those whose last leaf is in the range."""
    return [
        (level, start >> level, end >> level)
        for level in range(1, end.bit_length())
        if start >> level < end >> level
    ]


def _blob(value: object) -> bytes:
    """A BLOB column's bytes; b"" when a tampered row holds another type (SQLite columns
    take any type), so the verifier reports the row instead of failing on it."""
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else b""


def merkle_store_for(recorder: ApplicationRecorder) -> MerkleStore:
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresMerkleStore(recorder)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteMerkleStore(recorder)
    raise TypeError("the verifiable ledger needs SQLite or PostgreSQL")

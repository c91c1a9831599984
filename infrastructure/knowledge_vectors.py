"""Passage vectors of article versions, kept beside the ledger (`knowledge_vectors`, keyed
by the SHA-256 of the passage and the model): a version is encoded once, by the one vector
writer (`infrastructure/knowledge_follower.py`, in the projection process); the API
processes, and restarts, read it back. A cache, not a record: it can be emptied at any time
(the vectors are recomputed).

A process also remembers the vectors it has encoded or read (`recall`, `remember`): the
same passage gives the same vector, so a second ledger in the same process (the in-memory
store, a test's fresh database) does not encode it again."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.popo import POPOApplicationRecorder
from psycopg import sql

from infrastructure.dialect import Differs, Statement
from infrastructure.projections import ViewStore

MODEL = "e5-small-q4+use-m3+e5-chunks-8x120+roformer-sim-small-int8-128+terms-256"
CREATE = Statement(
    "CREATE TABLE IF NOT EXISTS knowledge_vectors "
    "(digest TEXT PRIMARY KEY, vector {blob} NOT NULL)",
    blob=Differs(sql.SQL("BYTEA"), sql.SQL("BLOB")),
)
SELECT_ALL = Statement("SELECT digest, vector FROM knowledge_vectors")
INSERT = Statement(
    "INSERT INTO knowledge_vectors (digest, vector) VALUES ({p}, {p}) "
    "ON CONFLICT (digest) DO NOTHING"
)


_REMEMBERED: dict[str, Any] = {}
_REMEMBER_AT_MOST = 20_000  # ~30 MB of 384-float vectors


def recall(digests: Sequence[str]) -> dict[str, Any]:
    """The vectors of these passages this process has met already."""
    return {d: _REMEMBERED[d] for d in digests if d in _REMEMBERED}


def remember(vectors: dict[str, Any]) -> None:
    if len(_REMEMBERED) + len(vectors) > _REMEMBER_AT_MOST:
        _REMEMBERED.clear()
    _REMEMBERED.update(vectors)


def digest(passage: str) -> str:
    return hashlib.sha256(f"{MODEL}\n{passage}".encode()).hexdigest()


class VectorCache(Protocol):
    def get_many(self, digests: Sequence[str]) -> dict[str, Any]: ...

    def put_many(self, vectors: dict[str, Any]) -> None: ...


class MemoryVectors:
    """The in-memory store's cache: what the process remembers."""

    def create_table(self) -> None:
        return None

    def get_many(self, digests: Sequence[str]) -> dict[str, Any]:
        return recall(digests)

    def put_many(self, vectors: dict[str, Any]) -> None:
        remember(vectors)


class SqlVectors:
    """The cache in the ledger's database (SQLite or PostgreSQL)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.store = ViewStore(recorder)

    def create_table(self) -> None:
        with self.store.transaction() as cur:
            cur.execute(CREATE)

    def get_many(self, digests: Sequence[str]) -> dict[str, Any]:
        """The cached vectors among these (the whole table is read: a few MB at most)."""
        wanted = set(digests)
        with self.store.read() as cur:
            cur.execute(SELECT_ALL)
            rows = cur.fetchall()
        return {
            str(key): np.frombuffer(bytes(raw), dtype=np.float32)
            for key, raw in rows
            if key in wanted
        }

    def put_many(self, vectors: dict[str, Any]) -> None:
        if not vectors:
            return
        with self.store.transaction() as cur:
            cur.executemany(
                INSERT,
                [(d, np.asarray(v, dtype=np.float32).tobytes()) for d, v in vectors.items()],
            )


def vector_cache_for(recorder: ApplicationRecorder) -> MemoryVectors | SqlVectors:
    if isinstance(recorder, POPOApplicationRecorder):
        return MemoryVectors()
    return SqlVectors(recorder)

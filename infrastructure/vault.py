"""Per-person AES-GCM keys in their own table (`subject_keys`), and the keyed blind index.

The keys never enter the event log: destroying one makes that person's sealed values
unreadable while every stored event — and so every Merkle leaf — stays byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from application import batch_scope
from domain.personal import Sealed
from infrastructure.dialect import Statement, marks
from infrastructure.recorder import text_array

NONCE = 12


class KeyStore(Protocol):
    """Where subject keys live."""

    def create_table(self) -> None: ...

    def get_or_create(self, subject: str) -> bytes: ...

    def get_many(self, subjects: list[str]) -> dict[str, bytes]: ...

    def get_or_create_many(self, subjects: list[str]) -> dict[str, bytes]: ...

    def delete(self, subject: str) -> None: ...


class PostgresKeyStore:
    """`subject_keys` in the ledger's PostgreSQL schema."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.datastore = recorder.datastore
        schema = self.datastore.schema or "public"
        self.table = sql.Identifier(schema, "subject_keys")
        self.function = sql.Identifier(schema, "xiaobao_subject_key")
        self._get_or_create = sql.SQL("SELECT {}(%s, %s) AS key").format(self.function)
        self._insert_many = sql.SQL(
            "INSERT INTO {} (subject, key) SELECT * FROM unnest(%s::text[], %s::bytea[]) "
            "ON CONFLICT (subject) DO NOTHING"
        ).format(self.table)
        # Composed once, its array as a literal (the driver's list dumping costs more).
        self._select_listed = (
            sql.SQL("SELECT subject, key FROM {} WHERE subject = ANY(%s::text[])")
            .format(self.table)
            .as_bytes()
        )

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (subject TEXT PRIMARY KEY, key BYTEA NOT NULL, "
                    "created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                ).format(self.table)
            )
            # A new key is committed without waiting for its WAL flush: nothing sealed with
            # it exists until an event commits, and that event's own (synchronous) commit
            # flushes the WAL in order, the key's insert included — so a key can only be
            # lost together with everything sealed with it. The look-up after a conflict is
            # its own statement, so it sees a key that a racing insert has just committed.
            curs.execute(
                sql.SQL(
                    "CREATE OR REPLACE FUNCTION {function}(s text, k bytea) RETURNS bytea "
                    "LANGUAGE plpgsql AS $body$ DECLARE found bytea; BEGIN "
                    "SET LOCAL synchronous_commit = off; "
                    "INSERT INTO {table} (subject, key) VALUES (s, k) "
                    "ON CONFLICT (subject) DO NOTHING RETURNING key INTO found; "
                    "IF found IS NULL THEN "
                    "SELECT t.key INTO found FROM {table} AS t WHERE t.subject = s; "
                    "END IF; RETURN found; END $body$"
                ).format(function=self.function, table=self.table)
            )

    def get_or_create(self, subject: str) -> bytes:
        """The person's key: the one already there, or a new one (one round trip)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self._get_or_create, (subject, AESGCM.generate_key(bit_length=256)), prepare=True
            )
            row = curs.fetchone()
        assert row is not None
        return bytes(row["key"])

    def get_or_create_many(self, subjects: list[str]) -> dict[str, bytes]:
        """Several persons' keys, those missing created, in one transaction (a batch's)."""
        if not subjects:
            return {}
        keys = [AESGCM.generate_key(bit_length=256) for _ in subjects]
        with self.datastore.transaction(commit=True) as curs:
            # As in the function above: a key needs no WAL flush of its own.
            curs.execute("SET LOCAL synchronous_commit = off")
            curs.execute(self._insert_many, (subjects, keys), prepare=True)
            curs.execute(self._select_listed, (text_array(subjects),), prepare=True)
            return {row["subject"]: bytes(row["key"]) for row in curs.fetchall()}

    def get_many(self, subjects: list[str]) -> dict[str, bytes]:
        if not subjects:
            return {}
        # One statement in autocommit (the pool's connections are): no BEGIN/ROLLBACK.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._select_listed, (text_array(subjects),), prepare=True, binary=True)
            return {subject: bytes(key) for subject, key in curs.fetchall()}

    def delete(self, subject: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL("DELETE FROM {} WHERE subject = %s").format(self.table), (subject,)
            )


class SQLiteKeyStore:
    """`subject_keys` in the ledger's SQLite file."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.datastore = recorder.datastore

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, "
                "key BLOB NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )

    def get_or_create(self, subject: str) -> bytes:
        """The person's key: read first (most seals are of a person already known, and a
        read takes no write lock), else inserted."""
        found = self.get_many([subject]).get(subject)
        if found is not None:
            return found
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT OR IGNORE INTO subject_keys (subject, key) VALUES (?, ?)",
                (subject, AESGCM.generate_key(bit_length=256)),
            )
            c.execute("SELECT key FROM subject_keys WHERE subject = ?", (subject,))
            return bytes(c.fetchone()[0])

    def get_or_create_many(self, subjects: list[str]) -> dict[str, bytes]:
        found = self.get_many(subjects)
        missing = [s for s in subjects if s not in found]
        if missing:
            with self.datastore.transaction(commit=True) as c:
                c.executemany(
                    "INSERT OR IGNORE INTO subject_keys (subject, key) VALUES (?, ?)",
                    [(s, AESGCM.generate_key(bit_length=256)) for s in missing],
                )
            found.update(self.get_many(missing))
        return found

    def get_many(self, subjects: list[str]) -> dict[str, bytes]:
        if not subjects:
            return {}
        statement = Statement(
            "SELECT subject, key FROM subject_keys WHERE subject IN ({subjects})",
            subjects=marks(len(subjects)),
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement.sqlite, subjects)
            return {row[0]: bytes(row[1]) for row in c.fetchall()}

    def delete(self, subject: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("DELETE FROM subject_keys WHERE subject = ?", (subject,))


class MemoryKeyStore:
    """Keys in memory, for the in-memory ledger of application tests."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def create_table(self) -> None:
        pass

    def get_or_create(self, subject: str) -> bytes:
        with self.lock:
            return self.keys.setdefault(subject, AESGCM.generate_key(bit_length=256))

    def get_many(self, subjects: list[str]) -> dict[str, bytes]:
        return {s: self.keys[s] for s in subjects if s in self.keys}

    def get_or_create_many(self, subjects: list[str]) -> dict[str, bytes]:
        with self.lock:
            return {
                s: self.keys.setdefault(s, AESGCM.generate_key(bit_length=256)) for s in subjects
            }

    def delete(self, subject: str) -> None:
        self.keys.pop(subject, None)


def key_store_for(recorder: ApplicationRecorder) -> KeyStore:
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresKeyStore(recorder)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteKeyStore(recorder)
    return MemoryKeyStore()


class AesGcmVault:
    """Seals personal values with AES-256-GCM under per-subject keys; the subject is the AAD."""

    def __init__(self, keys: KeyStore, index_key: bytes) -> None:
        self.keys = keys
        self.index_key = index_key

    def ref(self, person_id: str) -> str:
        digest = hmac.new(self.index_key, person_id.encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def pseudonym(self, ref: str) -> str:
        digest = hmac.new(self.index_key, b"pseudonym:" + ref.encode(), hashlib.sha256)
        return "P-" + digest.hexdigest()[:20]

    def seal(self, ref: str, value: str) -> Sealed:
        return self.seal_many(ref, {"value": value})["value"]

    def expect(self, refs: Iterable[str]) -> None:
        scope = batch_scope.current()
        if scope is not None:
            scope.expect_keys(refs)

    def load_keys(self, refs: Iterable[str]) -> None:
        """Within a batch (`application.batch_scope`): fetch or create these persons' keys
        in one round trip and keep them for the batch's seals."""
        scope = batch_scope.current()
        if scope is not None:
            scope.keys.update(self.keys.get_or_create_many(sorted(set(refs) - scope.keys.keys())))

    def seal_many(self, ref: str, values: dict[str, str]) -> dict[str, Sealed]:
        scope = batch_scope.current()
        key = scope.key(ref) if scope is not None else None
        if key is None:
            key = self.keys.get_or_create(ref)
            if scope is not None:
                scope.keys[ref] = key
        cipher = AESGCM(key)
        sealed = {}
        for name, value in values.items():
            nonce = os.urandom(NONCE)
            box = cipher.encrypt(nonce, value.encode(), ref.encode())
            sealed[name] = Sealed(ref, base64.b64encode(nonce + box).decode())
        return sealed

    def open_many(self, sealed: Iterable[Sealed]) -> dict[Sealed, str | None]:
        values = list(dict.fromkeys(sealed))
        keys = self.keys.get_many(sorted({s.subject for s in values}))
        return {s: self._open(s, keys.get(s.subject)) for s in values}

    def destroy(self, ref: str) -> None:
        self.keys.delete(ref)

    @staticmethod
    def _open(sealed: Sealed, key: bytes | None) -> str | None:
        if key is None:
            return None
        raw = base64.b64decode(sealed.box)
        try:
            return AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], sealed.subject.encode()).decode()
        except InvalidTag:
            return None  # sealed under a key that was destroyed and later replaced


def load_or_create_index_key(path: Path) -> bytes:
    """The blind-index secret: 32 random bytes, created once (mode 0600), never logged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_bytes().strip())
    with os.fdopen(descriptor, "wb") as handle:
        secret = os.urandom(32)
        handle.write(base64.b64encode(secret) + b"\n")
    return secret

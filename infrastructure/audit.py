"""Offline verification: the whole ledger against its signed checkpoints, and exported
bundles that an auditor checks with nothing but the RFC and the public key."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from domain.common import CST
from infrastructure.checkpoints import (
    Checkpoint,
    VerifierKeyError,
    parse_verifier_key,
    verify_note,
)
from infrastructure.dialect import Statement
from infrastructure.leaves import LeafFormatError, decode_leaf, encode_leaf, timestamp_of
from infrastructure.merkle import leaf_hash
from infrastructure.merkle_store import MerkleStore
from infrastructure.proof_service import LedgerProofs
from infrastructure.proofs import verify_inclusion

BUNDLE_FORMAT = "xiaobao.bundle/v1"
BATCH = 10_000


@dataclass(frozen=True)
class AuditReport:
    """The outcome of a verification: ok, or the first problem and where."""

    ok: bool
    leaves: int
    checkpoints: int
    problem: str | None = None
    first_bad_position: int | None = None
    authenticated: bool = True


def as_digest(value: object) -> bytes | None:
    """A stored hash as 32 bytes, or None when the column holds anything else (a tampered
    SQLite database can hold text or numbers in a hash column)."""
    if isinstance(value, bytes | bytearray | memoryview):
        digest = bytes(value)
        return digest if len(digest) == 32 else None
    return None


def all_entries(recorder: ApplicationRecorder) -> Iterator[Notification]:
    """Every stored event in position order."""
    start = 1
    while True:
        batch = recorder.select_notifications(start, BATCH)
        yield from batch
        if len(batch) < BATCH:
            return
        start = batch[-1].id + 1


class Frontier:
    """The right edge of a Merkle tree (one hash per complete subtree): appends in O(1)
    amortised, gives the root of the leaves so far; memory O(log n)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, digest: bytes) -> None:
        level, stack = 0, self._stack
        while stack and stack[-1][0] == level:
            digest = hashlib.sha256(b"\x01" + stack.pop()[1] + digest).digest()
            level += 1
        stack.append((level, digest))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node


def verify_ledger(
    recorder: ApplicationRecorder,
    store: MerkleStore,
    verifier_key: str,
    kept: Checkpoint | None = None,
) -> AuditReport:
    """Recompute the tree from the events table; compare leaves and signed checkpoints, and
    the tree against a checkpoint the auditor `kept` (which a truncation cannot follow)."""
    try:
        checkpoints = store.checkpoints()
    except (TypeError, ValueError) as exc:
        return AuditReport(False, 0, 0, f"a checkpoint row is unreadable ({type(exc).__name__})")
    roots: dict[int, bytes] = {0: hashlib.sha256(b"").digest()}
    wanted = {c.size for c in checkpoints} | ({kept.size} if kept is not None else set())
    tree = Frontier()
    sealed = store.size()
    stored: list[tuple[int, int]] = []
    stored_hashes: list[bytes] = []
    first_bad: tuple[int, str] | None = None
    for position, stream_id, version, topic, state in raw_entries(recorder):
        digest = leaf_hash(encode_leaf(position, stream_id, version, topic, state))
        index = tree.size
        tree.append(digest)
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        if index >= sealed or first_bad is not None:
            continue
        if index % BATCH == 0:
            stored = store.leaf_positions(index, index + BATCH)
            stored_hashes = store.leaf_hashes(index, index + BATCH)
        if index % BATCH >= len(stored) or index % BATCH >= len(stored_hashes):
            first_bad = (position, f"the seal of the entry at position {position} is missing")
            continue
        expected_position = stored[index % BATCH][1]
        if not isinstance(expected_position, int):
            first_bad = (position, f"the seal of the entry at position {position} is unreadable")
        elif expected_position != position:
            where = min(expected_position, position)
            first_bad = (
                where,
                f"leaf {index} was sealed at position {expected_position}, "
                f"the log has position {position} there",
            )
        elif as_digest(stored_hashes[index % BATCH]) != digest:
            first_bad = (position, f"the entry at position {position} differs from what was sealed")
    if first_bad is None and tree.size < sealed:
        missing = store.leaf_positions(tree.size, tree.size + 1)[0][1]
        first_bad = (missing, f"the entry at position {missing} is missing from the log")
    if first_bad is not None:
        return AuditReport(False, tree.size, len(checkpoints), first_bad[1], first_bad[0])
    if kept is not None:
        problem = _check_kept(kept, tree.size, roots.get(kept.size))
        if problem is not None:
            return AuditReport(
                False, tree.size, len(checkpoints), problem, _position_at(store, tree.size, kept)
            )
    good_size = 0
    for checkpoint in checkpoints:
        problem = _check_checkpoint(
            checkpoint.note,
            checkpoint.size,
            as_digest(checkpoint.root),
            roots.get(checkpoint.size),
            verifier_key,
        )
        if problem is not None:
            after = store.leaf_positions(good_size, good_size + 1)
            return AuditReport(
                False, tree.size, len(checkpoints), problem, after[0][1] if after else None
            )
        good_size = checkpoint.size
    return AuditReport(True, tree.size, len(checkpoints))


Row = tuple[int, Any, int, str, bytes]


def raw_entries(recorder: ApplicationRecorder) -> Iterator[Row]:
    """Every stored entry as (position, stream id, version, topic, state), in position order,
    streamed straight from the table (including any row below the first position)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        query = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {}.{} ORDER BY notification_id"
        ).format(
            sql.Identifier(recorder.datastore.schema or "public"),
            sql.Identifier(recorder.events_table_name),
        )
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="xiaobao_verify", row_factory=tuple_row, binary=True) as curs,
        ):
            # The pool ends a transaction idle for 5 s; a verifier starved of CPU on a busy
            # host (or paused) between two fetches must not lose its cursor half-way.
            conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            curs.itersize = BATCH
            curs.execute(query)
            for row in curs:
                yield row  # binary mode: bytea arrives as bytes, uuid as UUID
        return
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = Statement(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM {table} WHERE rowid > {p} ORDER BY rowid LIMIT {p}",
            table=recorder.events_table_name,
        ).sqlite
        last = -(2**63)
        while True:
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, (last, BATCH))
                rows = c.fetchall()
            for row in rows:
                yield row[0], row[1], row[2], row[3], row[4]
            if len(rows) < BATCH:
                return
            last = rows[-1][0]
    for n in all_entries(recorder):
        yield n.id, n.originator_id, n.originator_version, n.topic, n.state


def _check_kept(kept: Checkpoint, size: int, recomputed: bytes | None) -> str | None:
    if size < kept.size:
        return (
            f"the log holds {size} entries, fewer than the {kept.size} of the kept checkpoint: "
            "entries were removed from its end"
        )
    if recomputed != kept.root:
        return f"the log does not reproduce the kept checkpoint's root at size {kept.size}"
    return None


def _position_at(store: MerkleStore, size: int, kept: Checkpoint) -> int | None:
    """The position of the first leaf the kept checkpoint covers that the log lost (or of
    the last sealed leaf when the seal went too): where an auditor starts looking."""
    index = min(size, kept.size - 1)
    found = store.leaf_positions(index, index + 1) or store.leaf_positions(
        max(0, store.size() - 1), store.size()
    )
    return found[0][1] if found else None


def read_kept_checkpoint(note: str, verifier_key: str) -> Checkpoint:
    """The checkpoint of a signed note an auditor kept; refused unless the key signed it."""
    signed = verify_note(note, verifier_key)
    if signed is None:
        raise VerifierKeyError("the kept checkpoint is not signed by the ledger's verifier key")
    return signed


def _check_checkpoint(
    note: str, size: int, root: bytes | None, recomputed: bytes | None, verifier_key: str
) -> str | None:
    signed = verify_note(note, verifier_key)
    if signed is None:
        return f"the checkpoint of size {size} is not signed by the ledger's key"
    if (signed.size, signed.root) != (size, root):
        return f"the checkpoint of size {size} was rewritten (its row differs from its note)"
    if recomputed != root:
        return f"the log does not reproduce the signed root at size {size}"
    return None


def export_bundle(
    proofs: LedgerProofs, verifier_key: str, positions: Iterable[int]
) -> dict[str, Any]:
    """A self-contained bundle: entries, leaves, inclusion proofs, the checkpoint, the key."""
    checkpoint = proofs.checkpoint()
    indexes = proofs.store.indexes_of(sorted(set(positions)))
    sealed = {p: i for p, i in indexes.items() if i < checkpoint.size}
    leaves = proofs.leaves(sorted(sealed))
    entries = []
    for position, index in sorted(sealed.items()):
        leaf = decode_leaf(leaves[position])
        entries.append(
            {
                "index": index,
                "position": position,
                "stream_id": str(leaf.stream_id),
                "version": leaf.version,
                "topic": leaf.topic,
                "recorded_at": leaf.timestamp,
                "leaf": base64.b64encode(leaves[position]).decode(),
                "proof": [h.hex() for h in proofs.inclusion(index, checkpoint.size)],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "verifier_key": verifier_key,
        "checkpoint": {
            "size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "note": checkpoint.note,
        },
        "entries": entries,
    }


def verify_bundle(bundle: Any, pinned_key: str | None) -> AuditReport:
    """Check a bundle with no database: signature, every leaf's fields, every proof.

    Only a `pinned_key` (one the auditor got from the ledger, not from the bundle)
    authenticates the bundle; without one the bundle is checked against the key it carries,
    which shows it is consistent but not who signed it (`authenticated` is False). A
    malformed pinned key raises `VerifierKeyError`: it is the key's fault, not the bundle's.
    """
    if pinned_key is not None:
        parse_verifier_key(pinned_key)
    try:
        if bundle.get("format") != BUNDLE_FORMAT:
            return AuditReport(False, 0, 0, "not a Xiaobao ledger bundle")
        key = pinned_key or bundle["verifier_key"]
        signed = verify_note(bundle["checkpoint"]["note"], key)
        if signed is None:
            return AuditReport(False, 0, 1, "the checkpoint is not signed by the given key")
        entries = bundle["entries"]
        for count, entry in enumerate(entries):
            problem = _check_entry(entry, signed.size, signed.root)
            if problem is not None:
                return AuditReport(False, count, 1, problem, entry.get("position"))
        return AuditReport(True, len(entries), 1, authenticated=pinned_key is not None)
    except (KeyError, TypeError, ValueError, AttributeError, VerifierKeyError) as exc:
        return AuditReport(False, 0, 0, f"malformed bundle: {type(exc).__name__}")


def _check_entry(entry: dict[str, Any], size: int, root: bytes) -> str | None:
    leaf_bytes = base64.b64decode(entry["leaf"], validate=True)
    try:
        leaf = decode_leaf(leaf_bytes)
    except LeafFormatError:
        return f"entry {entry['index']} does not hold a ledger leaf"
    claimed = (entry["position"], entry["stream_id"], entry["version"], entry["topic"])
    if (leaf.position, str(leaf.stream_id), leaf.version, leaf.topic) != claimed:
        return f"entry {entry['index']} names other data than its leaf commits to"
    proof = [bytes.fromhex(h) for h in entry["proof"]]
    if not verify_inclusion(leaf_hash(leaf_bytes), entry["index"], size, proof, root):
        return f"entry {entry['index']} is not included in the signed tree"
    return None


def positions_in_period(recorder: ApplicationRecorder, period: str) -> list[int]:
    """Positions of the entries recorded in a CST month (2026-07), quarter (2026Q3) or year."""
    found = []
    for entry in all_entries(recorder):
        stamp = timestamp_of(entry.state)
        if stamp and _period_of(datetime.fromisoformat(stamp).astimezone(CST), period):
            found.append(entry.id)
    return found


def _period_of(instant: datetime, period: str) -> bool:
    if "Q" in period:
        year, quarter = period.split("Q")
        return instant.year == int(year) and (instant.month - 1) // 3 + 1 == int(quarter)
    if "-" in period:
        year, month = period.split("-")
        return (instant.year, instant.month) == (int(year), int(month))
    return instant.year == int(period)

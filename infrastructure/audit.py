"""Offline verification: the whole ledger against its signed checkpoints, and exported
bundles that an auditor checks with nothing but the RFC and the public key."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from queue import Full, Queue
from typing import Any, TypeVar
from uuid import UUID

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
from infrastructure.leaves import (
    LeafFormatError,
    RawEntry,
    decode_leaf,
    hash_leaves,
    timestamp_of,
)
from infrastructure.merkle import leaf_hash
from infrastructure.merkle_store import MerkleStore, StoredCheckpoint, inner_ranges
from infrastructure.proof_service import LedgerProofs
from infrastructure.proofs import verify_inclusion

BUNDLE_FORMAT = "xiaobao.bundle/v1"
BATCH = 16_384  # entries per fetch and per comparison with the seal


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
    """The right edge of a Merkle tree (one hash per complete subtree, by level): appends
    in O(1) amortised, gives the root of the leaves so far; memory O(log n)."""

    def __init__(self) -> None:
        self.size = 0
        self._edge: dict[int, bytes] = {}  # level → the last complete subtree left unpaired

    @classmethod
    def from_edge(cls, size: int, edge: dict[int, bytes]) -> Frontier:
        """The frontier of a tree of `size` leaves, from its edge: for each bit k set in the
        size, the hash of complete subtree (k, size // 2**k - 1)."""
        if set(edge) != {k for k in range(size.bit_length()) if size >> k & 1}:
            raise ValueError(f"an edge of levels {sorted(edge)} is not one of {size} leaves")
        frontier = cls()
        frontier.size, frontier._edge = size, dict(edge)
        return frontier

    @staticmethod
    def edge_of(size: int) -> list[tuple[int, int]]:
        """The (level, index) of the subtrees that make the edge of a tree of `size` leaves."""
        return [(k, (size >> k) - 1) for k in range(size.bit_length()) if size >> k & 1]

    def append(self, digest: bytes) -> None:
        self.extend([digest])

    def extend(self, digests: list[bytes], completed: list[list[bytes]] | None = None) -> None:
        """Append leaf hashes. Each complete subtree hash they complete is appended to
        `completed[level]` (level ≥ 1), so at each level in index order.

        Level by level: the new nodes of a level (with the edge's node of that level in
        front when the first new one is a right child) pair up into the next level's; an
        odd one out is that level's new edge."""
        sha256, edge = hashlib.sha256, self._edge
        row, first, level = digests, self.size, 0
        while row:
            if first & 1:  # the first new node is a right child: its sibling is on the edge
                row = [edge.pop(level), *row]
                first -= 1
            if len(row) & 1:
                edge[level] = row[-1]
            lefts, rights = row[::2], row[1::2]  # an odd one out has no right: left out
            row = [sha256(b"\x01" + a + b).digest() for a, b in zip(lefts, rights, strict=False)]
            first >>= 1
            level += 1
            if completed is not None:
                completed[level].extend(row)
        self.size += len(digests)

    def root(self) -> bytes:
        if not self._edge:
            return hashlib.sha256(b"").digest()
        levels = sorted(self._edge)
        node = self._edge[levels[0]]
        for level in levels[1:]:
            node = hashlib.sha256(b"\x01" + self._edge[level] + node).digest()
        return node


Problem = tuple[int, str]  # (position where to look, what is wrong)


def verify_ledger(
    recorder: ApplicationRecorder,
    store: MerkleStore,
    verifier_key: str,
    kept: Checkpoint | None = None,
) -> AuditReport:
    """Recompute the tree from the events table; compare every leaf hash, every stored
    subtree hash (what proofs are served from) and the signed checkpoints with it, and the
    tree with a checkpoint the auditor `kept` (which a truncation cannot follow).

    The log is streamed in batches: each batch's leaf hashes are computed in one loop, the
    tree's frontier is extended with them (collecting the subtree hashes they complete),
    and the batch is compared with the stored seal as whole lists; only a batch that differs
    is walked entry by entry to name the first problem. On PostgreSQL a thread reads the
    next batch and its seal while this one is hashed (the database works meanwhile)."""
    checks = _Checkpoints(store, verifier_key, kept)
    tree = Frontier()
    sealed = store.size()
    first_bad: Problem | None = None
    batches = _with_seal(recorder, store, sealed)
    if isinstance(recorder, PostgresApplicationRecorder):
        batches = _ahead(batches)
    try:
        checks.begin()
        checks.extend(tree, [], [])  # checkpoints of the empty tree
        for rows, seal in batches:
            start = tree.size
            digests = hash_leaves(rows)
            completed: list[list[bytes]] = [[] for _ in range(64)]
            checks.extend(tree, digests, completed)
            if first_bad is None and seal is not None:
                end = min(sealed, tree.size)
                first_bad = _check_batch(seal, start, end, rows, digests, completed)
        checks.finish()
    except UnreadableCheckpoint as exc:
        if isinstance(batches, Generator):
            batches.close()
        return AuditReport(False, tree.size, checks.count, str(exc))
    if first_bad is None and tree.size < sealed:
        missing = store.leaf_positions(tree.size, tree.size + 1)[0][1]
        first_bad = (missing, f"the entry at position {missing} is missing from the log")
    if first_bad is not None:
        return AuditReport(False, tree.size, checks.count, first_bad[1], first_bad[0])
    if kept is not None:
        problem = _check_kept(kept, tree.size, checks.kept_root)
        if problem is not None:
            where = _position_at(store, tree.size, kept)
            return AuditReport(False, tree.size, checks.count, problem, where)
    if checks.problem is not None:
        after = store.leaf_positions(checks.good_size, checks.good_size + 1)
        where = after[0][1] if after else None
        return AuditReport(False, tree.size, checks.count, checks.problem, where)
    return AuditReport(True, tree.size, checks.count)


class UnreadableCheckpoint(Exception):
    """A checkpoint row the store cannot turn into a checkpoint."""


class _Checkpoints:
    """The signed checkpoints, read a page at a time in size order, each checked when the
    recomputed tree reaches its size: memory stays one page however many there are (the
    sealer signs up to one a second). Keeps the first problem, the size of the last good
    checkpoint before it, and the root at the size of the checkpoint the auditor kept."""

    PAGE = 10_000

    def __init__(self, store: MerkleStore, verifier_key: str, kept: Checkpoint | None) -> None:
        self.store, self.verifier_key, self.kept = store, verifier_key, kept
        self.count = 0
        self.problem: str | None = None
        self.good_size = 0
        self.kept_root: bytes | None = None
        self._pages = self._read()
        self._upcoming: StoredCheckpoint | None = None

    def begin(self) -> None:
        """Read the first checkpoint (raises `UnreadableCheckpoint`)."""
        self._upcoming = next(self._pages, None)

    def _read(self) -> Iterator[StoredCheckpoint]:
        after = -1
        while True:
            try:
                page = self.store.checkpoints_after(after, self.PAGE)
            except (TypeError, ValueError) as exc:
                raise UnreadableCheckpoint(
                    f"a checkpoint row is unreadable ({type(exc).__name__})"
                ) from exc
            yield from page
            if len(page) < self.PAGE:
                return
            after = page[-1].size

    def extend(self, tree: Frontier, digests: list[bytes], completed: list[list[bytes]]) -> None:
        """Extend the tree by a batch, stopping at each checkpoint's size (and the kept
        one's) inside it to check the root there."""
        start, end, done = tree.size, tree.size + len(digests), 0
        kept = self.kept.size if self.kept is not None and self.kept_root is None else None
        while True:
            upcoming = self._upcoming.size if self._upcoming is not None else None
            sizes = [s for s in (kept, upcoming) if s is not None]
            target = min(sizes, default=end + 1)
            if target > end:
                break
            tree.extend(digests[done : target - start], completed)
            done = target - start
            root = tree.root()
            if target == kept:
                self.kept_root, kept = root, None
            if self._upcoming is not None and target == self._upcoming.size:
                self._check(self._upcoming, root)
                self._upcoming = next(self._pages, None)
        tree.extend(digests[done:] if done else digests, completed)

    def finish(self) -> None:
        """The checkpoints beyond the log's end: no root of the log reproduces them."""
        while self._upcoming is not None:
            self._check(self._upcoming, None)
            self._upcoming = next(self._pages, None)

    def _check(self, checkpoint: StoredCheckpoint, root: bytes | None) -> None:
        self.count += 1
        if self.problem is not None:
            return
        self.problem = _check_checkpoint(
            checkpoint.note, checkpoint.size, as_digest(checkpoint.root), root, self.verifier_key
        )
        if self.problem is None:
            self.good_size = checkpoint.size


@dataclass(frozen=True)
class Seal:
    """What the seal holds for leaves [start, end): (index, position) rows, leaf hashes,
    and the subtree hashes those leaves complete (level, index, hash)."""

    positions: list[tuple[int, int]]
    hashes: list[bytes]
    inner: list[tuple[int, int, Any]]


def _with_seal(
    recorder: ApplicationRecorder, store: MerkleStore, sealed: int
) -> Iterator[tuple[list[RawEntry], Seal | None]]:
    """Each batch of entries with the seal of its leaves (None past the sealed size)."""
    start = 0
    for rows in raw_batches(recorder):
        end = min(sealed, start + len(rows))
        seal = None
        if start < end:
            seal = Seal(
                store.leaf_positions(start, end),
                store.leaf_hashes(start, end),
                store.inner_nodes(start, end),
            )
        yield rows, seal
        start += len(rows)


T = TypeVar("T")


def _ahead(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """The items, produced by a thread of their own up to `depth` ahead (its errors are
    raised here); the source is closed in that thread when this generator is closed."""
    queue: Queue[tuple[bool, Any]] = Queue(depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="xiaobao-verify-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, item = queue.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _check_batch(
    seal: Seal,
    start: int,
    end: int,
    rows: list[RawEntry],
    digests: list[bytes],
    completed: list[list[bytes]],
) -> Problem | None:
    """The first problem in the sealed leaves [start, end) of a batch (rows[0] is leaf
    `start`): the seal's positions and leaf hashes, then the subtree hashes they complete."""
    count = end - start
    stored, hashes = seal.positions, seal.hashes
    if [p for _, p in stored] != [row[0] for row in rows[:count]] or hashes != digests[:count]:
        for offset in range(count):
            problem = _check_leaf(start, offset, rows[offset][0], digests[offset], stored, hashes)
            if problem is not None:
                return problem
    return _check_inner_nodes(seal, start, end, rows, completed)


def _check_leaf(
    start: int,
    offset: int,
    position: int,
    digest: bytes,
    stored: list[tuple[int, int]],
    hashes: list[bytes],
) -> Problem | None:
    """Leaf `start + offset` against the seal's rows read from leaf `start` on."""
    index = start + offset
    if offset >= len(stored) or offset >= len(hashes):
        return (position, f"the seal of the entry at position {position} is missing")
    expected_position = stored[offset][1]
    if not isinstance(expected_position, int):
        return (position, f"the seal of the entry at position {position} is unreadable")
    if expected_position != position:
        return (
            min(expected_position, position),
            f"leaf {index} was sealed at position {expected_position}, "
            f"the log has position {position} there",
        )
    if as_digest(hashes[offset]) != digest:
        return (position, f"the entry at position {position} differs from what was sealed")
    return None


def _check_inner_nodes(
    seal: Seal, start: int, end: int, rows: list[RawEntry], completed: list[list[bytes]]
) -> Problem | None:
    """Every stored complete-subtree hash that leaves [start, end) complete, against the
    recomputed one; the first wrong or missing one is named by the position of the leaf
    that completes it."""
    stored: dict[int, tuple[list[int], list[Any]]] = {}
    for level, index, digest in seal.inner:
        indexes, hashes = stored.setdefault(level, ([], []))
        indexes.append(index)
        hashes.append(digest)
    first: tuple[int, str] | None = None  # (leaf index, problem)
    for level, lo, hi in inner_ranges(start, end):
        indexes, hashes = stored.get(level, ([], []))
        expected = completed[level][: hi - lo]
        if indexes == list(range(lo, hi)) and hashes == expected:
            continue
        found = dict(zip(indexes, hashes, strict=True))
        for index in range(lo, hi):
            digest = found.get(index)
            if digest is not None and as_digest(digest) == expected[index - lo]:
                continue
            leaf = ((index + 1) << level) - 1
            what = "is missing" if digest is None else "differs from the recomputed tree"
            if first is None or leaf < first[0]:
                first = (
                    leaf,
                    f"the stored hash of leaves {index << level}–{leaf} (level {level}, "
                    f"node {index}) {what}",
                )
            break
    if first is None:
        return None
    return (rows[first[0] - start][0], first[1])


Row = tuple[int, Any, int, str, bytes]


def raw_entries(recorder: ApplicationRecorder) -> Iterator[RawEntry]:
    """Every stored entry as (position, 16-byte stream id, version, topic, state), in
    position order, streamed straight from the table (including any row below the first
    position)."""
    for rows in raw_batches(recorder):
        yield from rows


def _pg_entries(recorder: PostgresApplicationRecorder, rest: str) -> sql.Composed:
    """The stored entries as `raw_entries` gives them, then `rest` (a constant clause)."""
    as_uuid = recorder.datastore.originator_id_type == "uuid"
    return sql.SQL(
        "SELECT notification_id, {}, originator_version, topic, state FROM {}.{} {}"
    ).format(
        # uuid_send: the stored uuid's 16 bytes, as the binary protocol sends them
        sql.SQL("uuid_send(originator_id)" if as_uuid else "originator_id"),
        sql.Identifier(recorder.datastore.schema or "public"),
        sql.Identifier(recorder.events_table_name),
        sql.SQL(rest),  # a constant clause of this module
    )


def _sqlite_entries_after(recorder: SQLiteApplicationRecorder) -> str:
    """Up to {p} entries after position {p}, in position order."""
    return Statement(
        "SELECT rowid, originator_id, originator_version, topic, state "
        "FROM {table} WHERE rowid > {p} ORDER BY rowid LIMIT {p}",
        table=recorder.events_table_name,
    ).sqlite


def raw_batches(recorder: ApplicationRecorder) -> Iterator[list[RawEntry]]:
    """`raw_entries` in lists of up to `BATCH`, as the verifier hashes them."""
    if isinstance(recorder, PostgresApplicationRecorder):
        as_uuid = recorder.datastore.originator_id_type == "uuid"
        query = _pg_entries(recorder, "ORDER BY notification_id")
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="xiaobao_verify", row_factory=tuple_row, binary=True) as curs,
        ):
            # The pool ends a transaction idle for 5 s; a verifier starved of CPU on a busy
            # host (or paused) between two fetches must not lose its cursor half-way.
            conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            curs.execute(query)
            while batch := curs.fetchmany(BATCH):
                yield batch if as_uuid else _normalised(batch)
        return
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = _sqlite_entries_after(recorder)
        last = -(2**63)
        while True:
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, (last, BATCH))
                rows = c.fetchall()
            if rows:
                yield _normalised(rows)
            if len(rows) < BATCH:
                return
            last = rows[-1][0]
    pending: list[Row] = []
    for n in all_entries(recorder):
        pending.append((n.id, n.originator_id, n.originator_version, n.topic, n.state))
        if len(pending) == BATCH:
            yield _normalised(pending)
            pending = []
    if pending:
        yield _normalised(pending)


def entries_after(recorder: ApplicationRecorder, position: int, limit: int) -> list[RawEntry]:
    """Up to `limit` stored entries after `position`, as `raw_entries` gives them (the
    sealer's read: no event objects, the stream id as its 16 bytes)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        as_uuid = recorder.datastore.originator_id_type == "uuid"
        query = _pg_entries(
            recorder, "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        )
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            rows = curs.execute(query, (position, limit), prepare=True).fetchall()
        return rows if as_uuid else _normalised(rows)
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(_sqlite_entries_after(recorder), (position, limit))
            return _normalised(c.fetchall())
    found = recorder.select_notifications(position, limit, inclusive_of_start=False)
    return _normalised(
        (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in found
    )


def _normalised(rows: Iterable[Sequence[Any]]) -> list[RawEntry]:
    """Rows with the stream id as its 16 bytes and the state as bytes (a SQLite column's
    type can be changed behind the ledger's back)."""
    return [
        (
            position,
            (stream_id if isinstance(stream_id, UUID) else UUID(str(stream_id))).bytes,
            version,
            topic,
            state.encode() if isinstance(state, str) else bytes(state),
        )
        for position, stream_id, version, topic, state in rows
    ]


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

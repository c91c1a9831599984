"""The sealer: appends every ledger entry to the Merkle log, in position order, exactly once.

It is a projection with tracking: the leaves, their nodes and (when due) a signed checkpoint
of a batch are written in one transaction, and its position is the highest sealed position,
so it can neither skip nor repeat an entry. Exactly one sealer is active across processes:
a PostgreSQL advisory lock, or a file lock beside a SQLite database; a second sealer that
races anyway loses on the primary keys and reloads.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from infrastructure.audit import Frontier, entries_after
from infrastructure.leaves import hash_leaves
from infrastructure.merkle_store import MerkleStore, SealedBatch, StoredCheckpoint
from infrastructure.notary import Notary

log = logging.getLogger("xiaobao.sealer")
LOCK_KEY = 0x5842_5345_414C  # "XBSEAL"


class SingleActive(Protocol):
    """A lock held by at most one sealer at a time, across processes."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own."""

    def __init__(
        self,
        conninfo: str,
        key: int = LOCK_KEY,
        check_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conninfo = conninfo
        self.key = key
        self.check_every = check_every
        self.clock = clock
        self.checked_at = float("-inf")
        self.connection: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self) -> bool:
        """Hold the lock (True), or another session does (False); raises when the database
        cannot be reached. A held lock's session is checked now and then: a session the
        server lost (a restart) lost the lock with it, so it is taken anew."""
        if self.connection is not None and not self.connection.closed:
            if self.clock() - self.checked_at < self.check_every:
                return True
            try:
                self.connection.execute("SELECT 1")
                self.checked_at = self.clock()
                return True
            except psycopg.Error:
                self.release()
        connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if row is None or not row[0]:
            connection.close()
            return False
        self.connection = connection
        self.checked_at = self.clock()
        return True

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(psycopg.Error):
                self.connection.close()  # closing the session releases the lock
            self.connection = None


class FileLock:
    """An exclusive flock on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self.handle is not None:
            return True
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class Sealer:
    """Seals ledger entries into the Merkle log and signs checkpoints."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        store: MerkleStore,
        notary: Notary,
        lock: SingleActive,
        batch: int = 5000,
        checkpoint_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.store = store
        self.notary = notary
        self.lock = lock
        self.batch = batch
        self.checkpoint_interval = checkpoint_interval
        self.clock = clock
        self.tree = Frontier()  # the right edge only: memory O(log n)
        self.position = 0
        self._signed_size = -1
        self._signed_at = float("-inf")
        self.loaded = False

    def load(self) -> None:
        """Take up the tree where the store has it: its size and the O(log n) subtree hashes
        of its right edge (appending needs no other node: proofs are served from the store)."""
        size = self.store.size()
        edge = Frontier.edge_of(size)
        found = self.store.nodes(edge)
        missing = [coordinate for coordinate in edge if coordinate not in found]
        if missing:
            raise LookupError(f"the stored tree of {size} leaves lacks its subtrees {missing}")
        self.tree = Frontier.from_edge(size, {level: found[(level, i)] for level, i in edge})
        self.position = self.store.last_position()
        latest = self.store.latest_checkpoint()
        self._signed_size = latest.size if latest else -1
        self.loaded = True

    def seal_once(self) -> int:
        """Seal the next batch of entries; returns how many were sealed."""
        if not self.loaded:
            self.load()
        entries = entries_after(self.recorder, self.position, self.batch)
        if not entries:
            self._sign_if_behind()
            return 0
        before = self.tree.size
        digests = hash_leaves(entries)
        completed: list[list[bytes]] = [[] for _ in range(64)]
        self.tree.extend(digests, completed)
        leaves = [(before + i, entry[0]) for i, entry in enumerate(entries)]
        nodes = [(0, before + i, digest) for i, digest in enumerate(digests)]
        for level, hashes in enumerate(completed):
            first = before >> level  # the first subtree of the level these leaves complete
            nodes.extend((level, first + i, digest) for i, digest in enumerate(hashes))
        # While entries keep arriving, one signed checkpoint per interval; once they stop,
        # the next (empty) round signs at once (`_sign_if_behind`).
        due = self.clock() - self._signed_at >= self.checkpoint_interval
        checkpoint = self._checkpoint() if due else None
        try:
            self.store.append(SealedBatch(leaves, nodes, checkpoint))
        except (IntegrityError, psycopg.errors.IntegrityError):
            log.warning("another sealer wrote first; reloading the tree")
            self.load()
            return 0
        self.position = entries[-1][0]
        if checkpoint is not None:
            self._signed(checkpoint)
        return len(entries)

    def _sign_if_behind(self) -> None:
        if self.tree.size != self._signed_size:
            checkpoint = self._checkpoint()
            self.store.add_checkpoint(checkpoint)
            self._signed(checkpoint)

    def _checkpoint(self) -> StoredCheckpoint:
        size, root = self.tree.size, self.tree.root()
        return StoredCheckpoint(
            size, root, datetime.now(tz=UTC), self.notary.checkpoint(size, root)
        )

    def _signed(self, checkpoint: StoredCheckpoint) -> None:
        self._signed_size = checkpoint.size
        self._signed_at = self.clock()

    def catch_up(self) -> int:
        """Seal until nothing is left; returns how many entries were sealed."""
        total = 0
        while sealed := self.seal_once():
            total += sealed
        return total

    def run(self, stop: threading.Event, poll: float = 0.2, most: float = 5.0) -> None:
        """Seal while entries arrive, as the one active sealer, until `stop` is set.

        The database may go away at any moment (taking the lock's session with it): the
        sealer then retries with a doubling wait up to `most` seconds, for as long as the
        outage lasts, says so in the log once (and again when it works again), and takes the
        lock anew; it never exits on its own."""
        failures = 0
        while not stop.is_set():
            try:
                if not self.lock.acquire():
                    stop.wait(poll * 10)  # another sealer is active
                    continue
                sealed = self.seal_once()
                if failures:
                    log.warning("sealing works again after %d failed attempts", failures)
                    failures = 0
                # Idle or a partial batch: let entries gather before the next round.
                stop.wait(0 if sealed == self.batch else poll)
            except Exception as error:
                failures += 1
                if failures == 1:
                    log.error("sealing failed (%s); retrying", type(error).__name__)
                self.loaded = False
                self.lock.release()
                stop.wait(min(most, poll * 2.0 ** min(failures, 16)))
        self.lock.release()


@contextlib.contextmanager
def running(sealer: Sealer, poll: float = 0.2) -> Iterator[threading.Event]:
    """Run a sealer in a background thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=sealer.run, args=(stop, poll), name="sealer", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=10)

"""Serving the verifiable ledger: checkpoints, entries and proofs from the stored tree.

Proofs come from the stored complete-subtree hashes (O(log n) rows per proof); no process
but the sealer keeps the tree in memory.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.leaves import encode_leaf
from infrastructure.merkle import ProofRangeError
from infrastructure.merkle_store import MerkleStore, StoredCheckpoint
from infrastructure.tree_ranges import (
    Coordinate,
    blocks,
    consistency_ranges,
    fold,
    needed,
    path_ranges,
    range_hashes,
)

MAX_ENTRIES = 1000


class UpperNodes:
    """The stored hashes of the complete subtrees of 2^`lowest` leaves or more, held in
    process as one array of 32-byte hashes per level (a stored subtree hash never changes:
    the tree only grows). Every proof's path has its upper half there, so a proof reads only
    the lower ~8 levels from the store, whatever the log's size; and those, the nodes over
    nearby leaves, were sealed together (a few pages).

    They are read in bulk (one index range scan a level) once a proof finds more than
    `BULK` of them not held: the first proof at 10M leaves reads ~78,000 (2.5 MB; the
    complete subtrees of 256 leaves or more), later ones none. Fewer missing are read with
    the proof's own nodes and added. `lowest` rises with the log so that fewer than 2^21
    hashes (64 MB) are held: it is 8 up to 2^28 leaves. (It replaced a dict of at most 2^16 of
    them, ~190 bytes each, filled one proof at a time: at 10M random proofs mostly missed
    it, and their p99 grew 1.5-2.9x from 1M; docs/scaling.md.)"""

    LOWEST = 8
    HELD = 20  # the lowest level held has fewer than 2^HELD nodes (all levels: 2^(HELD+1))
    BULK = 64

    def __init__(self) -> None:
        self.lowest = self.LOWEST
        self.levels: dict[int, bytearray] = {}
        self._lock = threading.Lock()
        self.bulk = threading.Lock()  # one bulk read at a time; the others wait and reuse it
        self.stuck = False  # a bulk read left gaps (a stored node missing or damaged)

    def get(self, c: Coordinate) -> bytes | None:
        held = self.levels.get(c[0])
        if held is None or (c[1] + 1) * 32 > len(held):
            return None
        return bytes(held[c[1] * 32 : (c[1] + 1) * 32])

    def gaps(self, size: int, tree: int) -> list[tuple[int, int, int]]:
        """(level, first, past the last) of the complete subtrees of a tree of `size`
        leaves not held; first raises `lowest` if the stored tree (of `tree` leaves, which
        only grows) has outgrown it — a proof between old sizes never lowers it again."""
        lowest = max(self.LOWEST, tree.bit_length() - self.HELD)
        if lowest != self.lowest:
            with self._lock:
                self.lowest = lowest
                for level in [level for level in self.levels if level < lowest]:
                    del self.levels[level]
        found = []
        for level in range(self.lowest, size.bit_length()):
            held = len(self.levels.get(level, b"")) // 32
            if held < size >> level:
                found.append((level, held, size >> level))
        return found

    def add(self, nodes: Iterable[tuple[int, int, Any]]) -> None:
        """Stored nodes (level, index, hash): those that extend a held level are kept."""
        with self._lock:
            for level, index, digest in sorted(n for n in nodes if n[0] >= self.lowest):
                held = self.levels.setdefault(level, bytearray())
                if index * 32 == len(held) and len(digest) == 32:  # (a rewritten node may not be)
                    held += digest


class NoCheckpoint(Exception):
    """No checkpoint has been signed yet (the sealer has not run)."""


class LedgerDamaged(Exception):
    """The events table no longer holds an entry the Merkle log sealed (a tampered
    database): named by its position, so an auditor knows where to look."""

    def __init__(self, position: int, index: int) -> None:
        super().__init__(
            f"the entry at position {position} (leaf {index}) was sealed but is missing from "
            "the log; run `xiaobao verify`"
        )
        self.position = position


class LedgerProofs:
    """Read side of the Merkle log."""

    def __init__(self, recorder: ApplicationRecorder, store: MerkleStore) -> None:
        self.recorder = recorder
        self.store = store
        self._upper = UpperNodes()
        self._tree = 0  # the tree's size as last read (a proof's size is checked against it)

    def size(self) -> int:
        return self.store.size()

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        """The latest signed checkpoint, or the one signed at tree size `size`."""
        if size is None:
            latest = self.store.latest_checkpoint()
            if latest is None:
                raise NoCheckpoint("no checkpoint has been signed yet")
            return latest
        for checkpoint in self.store.checkpoints():
            if checkpoint.size == size:
                return checkpoint
        raise ProofRangeError(f"no checkpoint was signed at size {size}")

    def lag(self) -> tuple[int, int]:
        """(highest ledger position, highest sealed position)."""
        return int(self.recorder.max_notification_id() or 0), self.store.last_position()

    def root(self, size: int) -> bytes:
        coordinates = blocks(0, size) if size > 0 else ()
        nodes = self._nodes(coordinates, size)
        return fold([nodes[c] for c in coordinates])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
        ranges = path_ranges(index, 0, size) if 0 <= index < size else []
        nodes = self._nodes(needed(ranges), size)
        if not 0 <= index < size:
            raise ProofRangeError(f"index {index} is outside a tree of {size} leaves")
        return range_hashes(ranges, nodes)

    def consistency(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
        ranges = consistency_ranges(first, second) if 0 <= first <= second else []
        nodes = self._nodes(needed(ranges), second)
        if not 0 <= first <= second:
            raise ProofRangeError(f"first {first} must not exceed second {second}")
        return range_hashes(ranges, nodes)

    def _nodes(self, coordinates: Iterable[Coordinate], size: int) -> dict[Coordinate, bytes]:
        """The stored hashes a proof of the tree of `size` leaves needs, with the tree's size
        checked in the same read (one round trip on PostgreSQL). The upper subtrees come
        from memory (`UpperNodes`): the read is of the lower levels of the path."""
        upper = self._upper
        if not upper.stuck and self._missing(size) > upper.BULK:
            with upper.bulk:
                if self._missing(size) > upper.BULK:  # (not read meanwhile by another thread)
                    upper.add(self.store.node_ranges(self._gaps(size)))
                    # a node that would not fill its level (missing, or not a 32-byte hash:
                    # `xiaobao verify` names it) would have every later proof read the rest
                    # of that level again: proofs then read what they miss one at a time
                    upper.stuck = self._missing(size) > upper.BULK
        known: dict[Coordinate, bytes] = {}
        wanted: list[Coordinate] = []
        for c in coordinates:
            found = upper.get(c)
            if found is None:
                wanted.append(c)
            else:
                known[c] = found
        tree, nodes = self.store.sized_nodes(wanted)
        if not 0 <= size <= tree:
            raise ProofRangeError(f"size {size} is outside the tree of {tree} leaves")
        self._tree = tree
        upper.add((level, index, digest) for (level, index), digest in nodes.items())
        nodes.update(known)
        return nodes

    def _gaps(self, size: int) -> list[tuple[int, int, int]]:
        """The upper subtrees of a proof at `size` not held (never beyond the stored tree
        as last read)."""
        return self._upper.gaps(min(size, self._tree), self._tree)

    def _missing(self, size: int) -> int:
        return sum(hi - lo for _, lo, hi in self._gaps(size))

    def entries(self, start: int, end: int) -> list[dict[str, Any]]:
        """Leaves [start, end) with their positions and exact bytes."""
        size = self.size()
        if not 0 <= start < size:
            raise ProofRangeError(f"start {start} is outside the tree of {size} leaves")
        if end <= start or end - start > MAX_ENTRIES:
            raise ProofRangeError(f"end must be after start and at most {MAX_ENTRIES} beyond it")
        pairs = self.store.leaf_positions(start, min(end, size))
        leaves = self.leaves([position for _, position in pairs])
        for index, position in pairs:
            if position not in leaves:
                raise LedgerDamaged(position, index)
        return [
            {
                "index": index,
                "position": position,
                "leaf": base64.b64encode(leaves[position]).decode(),
            }
            for index, position in pairs
        ]

    def leaves(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The leaf bytes of entries at the given positions, from the events table."""
        if not positions:
            return {}
        low, high = min(positions), max(positions)
        wanted = set(positions)
        found: dict[int, bytes] = {}
        start = low
        while start <= high:
            batch = self.recorder.select_notifications(start, 1000, stop=high)
            for n in batch:
                if n.id in wanted:
                    found[n.id] = encode_leaf(
                        n.id, n.originator_id, n.originator_version, n.topic, n.state
                    )
            if len(batch) < 1000:
                break
            start = batch[-1].id + 1
        return found

    def for_positions(self, positions: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Inclusion proofs of entries against the latest checkpoint (sealed entries only)."""
        latest = self.store.latest_checkpoint()
        if latest is None:
            return {}
        size = latest.size
        sealed = {p: i for p, i in self.store.indexes_of(positions).items() if i < size}
        if not sealed:
            return {}
        ranges = {i: path_ranges(i, 0, size) for i in sealed.values()}
        # Every proof's stored hashes in one read (a history's proofs share most of them).
        nodes = self._nodes({c for r in ranges.values() for c in needed(r)}, size)
        return {
            position: {
                "index": index,
                "size": size,
                "root": latest.root.hex(),
                "hashes": [h.hex() for h in range_hashes(ranges[index], nodes)],
            }
            for position, index in sealed.items()
        }

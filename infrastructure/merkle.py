"""The ledger's Merkle tree (RFC 9162 section 2): an append-only log of leaf hashes that
serves roots, inclusion proofs and consistency proofs from stored node hashes.

Every complete subtree's hash is kept, level by level: ``levels[0]`` holds the leaf hashes
and ``levels[k][i]`` is MTH(D[i * 2**k : (i + 1) * 2**k]). Appending hashes each new node
once (on average one per leaf); a root or a proof then needs O(log n) stored hashes and at
most O(log n) fresh node hashes, never the leaves again.

Errors: ``MerkleError`` is the base; ``ProofRangeError`` for a size or index outside the
tree, ``LevelsError`` for stored levels that do not form a tree, ``HashLengthError`` for a
hash that is not 32 bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class MerkleError(Exception):
    """Base of the Merkle tree's errors."""


class ProofRangeError(MerkleError, ValueError):
    """A size, index or pair of sizes the tree cannot answer for."""


class LevelsError(MerkleError, ValueError):
    """Stored levels that are not the node hashes of one tree."""


class HashLengthError(MerkleError, ValueError):
    """A hash that is not a SHA-256 digest."""


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The RFC's k: the largest power of two smaller than ``width`` (width > 1)."""
    return 1 << ((width - 1).bit_length() - 1)


class MerkleLog:
    """An append-only RFC 9162 Merkle tree over leaf hashes, with every complete subtree
    stored."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @classmethod
    def from_levels(cls, levels: Sequence[Sequence[bytes]], *, verify: bool = True) -> MerkleLog:
        """Rebuild a log from stored levels (as ``levels`` gives them); ``verify`` rehashes
        every interior node to check it."""
        rows = [list(level) for level in levels] or [[]]
        size = len(rows[0])
        if len(rows) != max(1, size.bit_length()):
            raise LevelsError(f"{len(rows)} levels for {size} leaves")
        for k, row in enumerate(rows):
            if len(row) != size >> k:
                raise LevelsError(f"level {k} has {len(row)} hashes, expected {size >> k}")
            for digest in row:
                _check_hash(digest)
        if verify:
            for k in range(1, len(rows)):
                below, row = rows[k - 1], rows[k]
                for i, digest in enumerate(row):
                    if node_hash(below[2 * i], below[2 * i + 1]) != digest:
                        raise LevelsError(f"node {i} of level {k} is not the hash of its children")
        log = cls()
        log._levels = rows
        return log

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    @property
    def levels(self) -> list[list[bytes]]:
        """A copy of the stored node hashes, level 0 (the leaf hashes) first."""
        return [list(level) for level in self._levels]

    def nodes_since(self, size: int) -> Iterator[tuple[int, int, bytes]]:
        """The ``(level, index, hash)`` of every node stored by the leaves appended after the
        tree had ``size`` leaves, for a persistence layer to save."""
        if not 0 <= size <= self.size:
            raise ProofRangeError(f"size {size} is outside the tree of {self.size} leaves")
        for k, level in enumerate(self._levels):
            for i in range(size >> k, len(level)):
                yield k, i, level[i]

    def append(self, leaf_hash: bytes) -> int:
        """Add a leaf hash; return its index."""
        _check_hash(leaf_hash)
        levels = self._levels
        index = len(levels[0])
        levels[0].append(leaf_hash)
        node, position, k = leaf_hash, index, 0
        # A right child completes its parent: carry up while the node is a right child.
        while position & 1:
            node = _sha256(b"\x01" + levels[k][-2] + node).digest()
            k += 1
            if k == len(levels):
                levels.append([])
            levels[k].append(node)
            position >>= 1
        return index

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        if not 0 <= index < self.size:
            raise ProofRangeError(f"index {index} is outside the tree of {self.size} leaves")
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        if size is None:
            size = self.size
        if not 0 <= size <= self.size:
            raise ProofRangeError(f"size {size} is outside the tree of {self.size} leaves")
        if size == 0:
            return EMPTY_ROOT
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 PATH(index, D[size]): the audit path, leaf level first."""
        if not 0 <= size <= self.size:
            raise ProofRangeError(f"size {size} is outside the tree of {self.size} leaves")
        if not 0 <= index < size:
            raise ProofRangeError(f"index {index} is not below size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 PROOF(first, D[second]); empty when first is 0 or equals second."""
        if not 0 <= second <= self.size:
            raise ProofRangeError(f"size {second} is outside the tree of {self.size} leaves")
        if not 0 <= first <= second:
            raise ProofRangeError(f"first size {first} is not within 0..{second}")
        proof: list[bytes] = []
        if first in (0, second):
            return proof
        # SUBPROOF(m, D[start:end], b), unrolled: each step appends the sibling commitment.
        start, end, m, known = 0, second, first, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
                m -= k
                known = False
        if not known:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a subtree of the RFC's recursion (start aligned to the
        largest power of two not above end - start), from stored complete subtrees."""
        levels = self._levels
        width = end - start
        if width & (width - 1) == 0:
            k = width.bit_length() - 1
            return levels[k][start >> k]
        # The RFC splits at the largest power of two below the width, so the subtree is its
        # complete subtrees for each set bit of the width, left to right, folded from the right.
        parts: list[bytes] = []
        offset = start
        for k in range(width.bit_length() - 1, -1, -1):
            if width >> k & 1:
                parts.append(levels[k][offset >> k])
                offset += 1 << k
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result


def _check_hash(digest: bytes) -> None:
    if len(digest) != HASH_SIZE:
        raise HashLengthError(f"a hash has {HASH_SIZE} bytes, not {len(digest)}")

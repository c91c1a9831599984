"""RFC 9162 proofs as ranges of leaves, each range as the complete subtrees that cover it.

Proof generation against a store of complete-subtree hashes: a proof is a list of MTH(D[a:b])
for ranges the RFC's PATH and SUBPROOF recursions name; every such range is a run of aligned
complete subtrees, so O(log n) stored hashes answer any proof with no leaf rehashed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

Coordinate = tuple[int, int]  # (level, index): the complete subtree over leaves [i·2^l, (i+1)·2^l)


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(m, D[lo:hi]) (RFC 9162 2.1.3.1)."""
    n = hi - lo
    if n <= 1:
        return []
    k = split(n)
    if m < k:
        return [*path_ranges(m, lo, lo + k), (lo + k, hi)]
    return [*path_ranges(m - k, lo + k, hi), (lo, lo + k)]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 2.1.4.1)."""
    if first in (0, second):
        return []
    return _subproof(first, 0, second, True)


def _subproof(m: int, lo: int, hi: int, whole: bool) -> list[tuple[int, int]]:
    n = hi - lo
    if m == n:
        return [] if whole else [(lo, hi)]
    k = split(n)
    if m <= k:
        return [*_subproof(m, lo, lo + k, whole), (lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False), (lo, lo + k)]


@functools.lru_cache(maxsize=4096)
def blocks(lo: int, hi: int) -> tuple[Coordinate, ...]:
    """The complete subtrees covering [lo, hi), left to right, as the RFC splits the range
    (remembered: a proof asks for each of its ranges twice, and the ranges at the tree's
    right edge are those of every proof at that size)."""
    found: list[Coordinate] = []
    while lo < hi:
        n = hi - lo
        width = n if n & (n - 1) == 0 else split(n)
        if lo % width:
            raise ValueError(f"range [{lo}, {hi}) is not aligned to complete subtrees")
        level = width.bit_length() - 1
        found.append((level, lo >> level))
        lo += width
    return tuple(found)


def fold(hashes: list[bytes]) -> bytes:
    """MTH of a range from its covering subtrees' hashes (the right spine, folded)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    node = hashes[-1]
    for left in reversed(hashes[:-1]):
        node = hashlib.sha256(b"\x01" + left + node).digest()
    return node


def needed(ranges: list[tuple[int, int]]) -> set[Coordinate]:
    return {c for lo, hi in ranges for c in blocks(lo, hi)}


def range_hashes(ranges: list[tuple[int, int]], nodes: Mapping[Coordinate, bytes]) -> list[bytes]:
    """MTH of each range, from the stored complete-subtree hashes."""
    return [fold([nodes[c] for c in blocks(lo, hi)]) for lo, hi in ranges]

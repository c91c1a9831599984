"""Verification of RFC 9162 inclusion and consistency proofs, step by step as sections
2.1.3.2 and 2.1.4.2 write them.

Written apart from the tree that makes the proofs (``infrastructure.merkle``), hash
functions included, so that a mistake in one is not repeated in the other. Every answer is
a bool: a malformed proof is simply one that does not verify.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

_EMPTY_ROOT = hashlib.sha256(b"").digest()


def _hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _lsb(value: int) -> bool:
    return value & 1 == 1


def _equal(left: bytes, right: bytes) -> bool:
    return hmac.compare_digest(left, right)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows the leaf hash at ``index`` in the tree of ``size`` leaves
    with ``root`` (RFC 9162 section 2.1.3.2)."""
    # 1. leaf_index >= tree_size fails (a negative index is no index either).
    if index < 0 or index >= size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.
    fn, sn = index, size - 1
    # 3. r = hash.
    r = leaf_hash
    # 4. For each p in the inclusion path:
    for p in proof:
        # a. sn == 0 ends the iteration in failure.
        if sn == 0:
            return False
        # b. A right child (LSB(fn)) or the last node of its level (fn == sn):
        if _lsb(fn) or fn == sn:
            r = _hash_children(p, r)
            # The last node of its level rises until it is a right child or the first node.
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = _hash_children(r, p)
        # c. Up one level.
        fn >>= 1
        sn >>= 1
    # 5. sn == 0 and r == root_hash.
    return sn == 0 and _equal(r, root)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows that the tree of ``first`` leaves with ``first_root`` is a
    prefix of the tree of ``second`` leaves with ``second_root`` (RFC 9162 section 2.1.4.2)."""
    if first < 0 or second < first:
        return False
    # The RFC's algorithm is for 0 < first < second. Outside it the proof is empty
    # (PROOF(m, D[m]) = SUBPROOF(m, D[m], true) = {}), equal sizes need equal roots, and the
    # tree of no leaves has MTH({}) = SHA-256() as its root.
    if first == second:
        return len(proof) == 0 and _equal(first_root, second_root)
    if first == 0:
        return len(proof) == 0 and _equal(first_root, _EMPTY_ROOT)
    # 1. An empty consistency_path fails.
    if len(proof) == 0:
        return False
    # 2. When first is an exact power of 2, first_hash is prepended.
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. Right-shift both while LSB(fn) is set.
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of the path.
    fr = sr = path[0]
    # 6. For each subsequent value c:
    for c in path[1:]:
        # a. sn == 0 ends the iteration in failure.
        if sn == 0:
            return False
        # b.
        if _lsb(fn) or fn == sn:
            fr = _hash_children(c, fr)
            sr = _hash_children(c, sr)
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _hash_children(sr, c)
        # c. Up one level.
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash and sn == 0.
    return sn == 0 and _equal(fr, first_root) and _equal(sr, second_root)

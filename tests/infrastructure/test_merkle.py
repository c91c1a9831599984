"""The ledger's Merkle tree gives RFC 9162 roots and proofs: known answers, a naive recursive
implementation written here from the RFC text, pymerkle as a third party, and the
independent verifier in infrastructure.proofs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pymerkle  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure.merkle import (
    EMPTY_ROOT,
    HashLengthError,
    LevelsError,
    MerkleLog,
    ProofRangeError,
    leaf_hash,
    node_hash,
)
from infrastructure.proofs import verify_consistency, verify_inclusion

# --- RFC 9162 section 2, transcribed literally (recursive, slow, for comparison only) ---


def rfc_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc_k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return rfc_hash(b"")
    if n == 1:
        return rfc_hash(b"\x00" + d[0])
    k = rfc_k(n)
    return rfc_hash(b"\x01" + rfc_mth(d[0:k]) + rfc_mth(d[k:n]))


def rfc_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = rfc_k(n)
    if m < k:
        return [*rfc_path(m, d[0:k]), rfc_mth(d[k:n])]
    return [*rfc_path(m - k, d[k:n]), rfc_mth(d[0:k])]


def rfc_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [rfc_mth(d)]
    k = rfc_k(n)
    if m <= k:
        return [*rfc_subproof(m, d[0:k], b), rfc_mth(d[k:n])]
    return [*rfc_subproof(m - k, d[k:n], False), rfc_mth(d[0:k])]


def rfc_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return rfc_subproof(m, d, True)


# --- helpers ---


def entries(count: int, salt: bytes = b"") -> list[bytes]:
    return [salt + b"entry-" + str(i).encode() for i in range(count)]


def log_of(data: Sequence[bytes]) -> MerkleLog:
    log = MerkleLog()
    for item in data:
        log.append(leaf_hash(item))
    return log


def flipped(digest: bytes) -> bytes:
    return bytes([digest[0] ^ 0x10]) + digest[1:]


SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

# --- known answers ---

# The Certificate Transparency RFC 6962 test vectors (as in transparency-dev/merkle's
# proof/verify_test.go): leaf inputs, the root of every size 0..8, and some proofs.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
H_96A2 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H_5F08 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H_6B47 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H_BC1A = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H_CA85 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H_D37E = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
H_FAC5 = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
H_6E34 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
H_0EBC = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H_B086 = "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
CT_INCLUSION = [
    (0, 8, [H_96A2, H_5F08, H_6B47]),
    (5, 8, [H_BC1A, H_CA85, H_D37E]),
    (2, 3, [H_FAC5]),
    (1, 5, [H_6E34, H_5F08, H_BC1A]),
]
CT_CONSISTENCY = [
    (1, 8, [H_96A2, H_5F08, H_6B47]),
    (6, 8, [H_0EBC, H_CA85, H_D37E]),
    (2, 5, [H_5F08, H_BC1A]),
    (6, 7, [H_0EBC, H_B086, H_D37E]),
]


def test_empty_tree_root_is_sha256_of_the_empty_string() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert MerkleLog().root() == EMPTY_ROOT
    assert MerkleLog().size == 0


def test_one_leaf_tree_root_is_the_leaf_hash_with_0x00_prefix() -> None:
    log = MerkleLog()
    assert log.append(leaf_hash(b"only")) == 0
    assert log.root() == hashlib.sha256(b"\x00only").digest()
    assert log.inclusion_proof(0, 1) == []


def test_node_hash_prefixes_0x01() -> None:
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


def test_roots_match_the_rfc_6962_test_vectors_for_every_size() -> None:
    log = log_of(CT_LEAVES)
    assert [log.root(size) for size in range(9)] == CT_ROOTS


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_proofs_match_the_rfc_6962_test_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    log = log_of(CT_LEAVES)
    proof = log.inclusion_proof(index, size)
    assert [h.hex() for h in proof] == expected
    assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, proof, CT_ROOTS[size])


@pytest.mark.parametrize(("first", "second", "expected"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_rfc_6962_test_vectors(
    first: int, second: int, expected: list[str]
) -> None:
    log = log_of(CT_LEAVES)
    proof = log.consistency_proof(first, second)
    assert [h.hex() for h in proof] == expected
    assert verify_consistency(first, second, CT_ROOTS[first], CT_ROOTS[second], proof)


class SevenLeafExample:
    """The tree of seven leaves drawn in RFC 9162 section 2.1.5, node names as there."""

    def __init__(self) -> None:
        self.d = entries(7)
        a, b, c, d, e, f, j = (rfc_hash(b"\x00" + x) for x in self.d)
        g, h, i = (rfc_hash(b"\x01" + x + y) for x, y in ((a, b), (c, d), (e, f)))
        k, l_ = rfc_hash(b"\x01" + g + h), rfc_hash(b"\x01" + i + j)
        self.nodes = {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}
        self.nodes |= {"h": h, "i": i, "j": j, "k": k, "l": l_}
        self.log = log_of(self.d)

    def named(self, names: str) -> list[bytes]:
        return [self.nodes[name] for name in names]


@pytest.mark.parametrize(("index", "names"), [(0, "bhl"), (3, "cgl"), (4, "fjk"), (6, "ik")])
def test_audit_paths_of_the_rfc_seven_leaf_example(index: int, names: str) -> None:
    example = SevenLeafExample()
    assert example.log.inclusion_proof(index, 7) == example.named(names)
    assert rfc_path(index, example.d) == example.named(names)


@pytest.mark.parametrize(("first", "names"), [(3, "cdgl"), (4, "l"), (6, "ijk")])
def test_consistency_proofs_of_the_rfc_seven_leaf_example(first: int, names: str) -> None:
    example = SevenLeafExample()
    assert example.log.consistency_proof(first, 7) == example.named(names)
    assert rfc_proof(first, example.d) == example.named(names)
    assert example.log.root(4) == example.nodes["k"]
    root = example.log.root()
    assert verify_consistency(first, 7, example.log.root(first), root, example.named(names))


# --- every small tree, exhaustively ---


def test_every_root_and_proof_of_trees_up_to_40_leaves_matches_the_rfc_recursion() -> None:
    data = entries(40)
    log = log_of(data)
    for size in range(41):
        assert log.root(size) == rfc_mth(data[:size])
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == rfc_path(index, data[:size])
            assert verify_inclusion(leaf_hash(data[index]), index, size, proof, log.root(size))
        for first in range(1, size):
            proof = log.consistency_proof(first, size)
            assert proof == rfc_proof(first, data[:size])
            assert verify_consistency(first, size, log.root(first), log.root(size), proof)


# --- properties over trees of up to 300 leaves ---


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[bytes], MerkleLog, int]:
    """Leaf inputs, a log of all of them and a queried size no larger than the log."""
    total = draw(st.integers(1, 300))
    size = draw(st.integers(1, total))
    data = entries(total, draw(st.binary(max_size=4)))
    return data, log_of(data), size


@settings(max_examples=75, deadline=None)
@given(trees())
def test_inclusion_proofs_match_the_rfc_and_fail_when_anything_is_altered(
    tree: tuple[list[bytes], MerkleLog, int],
) -> None:
    data, log, size = tree
    root = log.root(size)
    assert root == rfc_mth(data[:size])
    for index in range(size):
        leaf = leaf_hash(data[index])
        proof = log.inclusion_proof(index, size)
        assert proof == rfc_path(index, data[:size])
        assert verify_inclusion(leaf, index, size, proof, root)
        for position in range(len(proof)):
            altered = [*proof]
            altered[position] = flipped(proof[position])
            assert not verify_inclusion(leaf, index, size, altered, root)
        for other in {index - 1, index + 1, index ^ 2, size}:
            if other != index:
                assert not verify_inclusion(leaf, other, size, proof, root)
        assert not verify_inclusion(flipped(leaf), index, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof, flipped(root))
        assert not verify_inclusion(leaf, index, size, [*proof, SOME_HASH], root)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], root)


@settings(max_examples=75, deadline=None)
@given(trees())
def test_consistency_proofs_match_the_rfc_and_fail_when_anything_is_altered(
    tree: tuple[list[bytes], MerkleLog, int],
) -> None:
    data, log, second = tree
    second_root = log.root(second)
    for first in range(1, second):
        first_root = log.root(first)
        proof = log.consistency_proof(first, second)
        assert proof == rfc_proof(first, data[:second])
        assert verify_consistency(first, second, first_root, second_root, proof)
        for position in range(len(proof)):
            altered = [*proof]
            altered[position] = flipped(proof[position])
            assert not verify_consistency(first, second, first_root, second_root, altered)
        for other in {first - 1, first + 1, first ^ 2}:
            if 0 <= other <= second and other != first:
                assert not verify_consistency(other, second, first_root, second_root, proof)
        assert not verify_consistency(first, second, flipped(first_root), second_root, proof)
        assert not verify_consistency(first, second, first_root, flipped(second_root), proof)
        assert not verify_consistency(first, second, second_root, first_root, proof)
        assert not verify_consistency(first, second, first_root, second_root, [])
        assert not verify_consistency(first, second, first_root, second_root, proof[:-1])
        assert not verify_consistency(first, second, first_root, second_root, [*proof, SOME_HASH])
        assert not verify_consistency(first, second, first_root, second_root, [proof[0], *proof])


# --- edges: empty and equal sizes, ranges refused ---


def test_consistency_from_the_empty_tree_or_to_the_same_size_has_an_empty_proof() -> None:
    log = log_of(entries(5))
    assert log.consistency_proof(0, 5) == []
    assert log.consistency_proof(0, 0) == []
    assert log.consistency_proof(3, 3) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, log.root(), [])
    assert verify_consistency(3, 3, log.root(3), log.root(3), [])
    assert not verify_consistency(0, 5, SOME_HASH, log.root(), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, log.root(), [SOME_HASH])
    assert not verify_consistency(3, 3, log.root(3), log.root(4), [])
    assert not verify_consistency(3, 3, log.root(3), log.root(3), [SOME_HASH])
    assert not verify_consistency(4, 3, log.root(4), log.root(3), [])
    assert not verify_consistency(-1, 3, EMPTY_ROOT, log.root(3), [])


def test_inclusion_verification_refuses_indexes_outside_the_tree() -> None:
    leaf = leaf_hash(b"x")
    assert not verify_inclusion(leaf, 0, 0, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert verify_inclusion(leaf, 0, 1, [], leaf)


@pytest.mark.parametrize(
    ("index", "size"), [(5, 5), (6, 5), (0, 0), (-1, 3), (0, 6), (2, -1)], ids=str
)
def test_inclusion_proof_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(ProofRangeError):
        log_of(entries(5)).inclusion_proof(index, size)


@pytest.mark.parametrize(("first", "second"), [(4, 3), (0, 6), (6, 6), (-1, 3)], ids=str)
def test_consistency_proof_outside_the_tree_is_refused(first: int, second: int) -> None:
    with pytest.raises(ProofRangeError):
        log_of(entries(5)).consistency_proof(first, second)


@pytest.mark.parametrize("size", [6, -1])
def test_root_of_a_size_the_tree_has_not_reached_is_refused(size: int) -> None:
    with pytest.raises(ProofRangeError):
        log_of(entries(5)).root(size)


def test_a_leaf_hash_that_is_not_32_bytes_is_refused() -> None:
    with pytest.raises(HashLengthError):
        MerkleLog().append(b"short")


# --- stored levels ---


def test_levels_hold_every_complete_subtree_hash() -> None:
    data = entries(13)
    levels = log_of(data).levels
    assert [len(level) for level in levels] == [13, 6, 3, 1]
    for k, level in enumerate(levels):
        for i, digest in enumerate(level):
            assert digest == rfc_mth(data[i << k : (i + 1) << k])


@given(st.integers(0, 300), st.integers(0, 300))
@settings(max_examples=40, deadline=None)
def test_a_log_rebuilt_from_its_levels_gives_the_same_roots_and_proofs(
    total: int, extra: int
) -> None:
    log = log_of(entries(total))
    rebuilt = MerkleLog.from_levels(log.levels)
    assert rebuilt.levels == log.levels
    assert [rebuilt.root(size) for size in range(total + 1)] == [
        log.root(size) for size in range(total + 1)
    ]
    for size in {total // 3, total // 2, total - 1, total} - {-1}:
        for first in range(size):
            assert rebuilt.consistency_proof(first, size) == log.consistency_proof(first, size)
            assert rebuilt.inclusion_proof(first, size) == log.inclusion_proof(first, size)
    # It goes on growing exactly as the original does.
    for item in entries(extra, b"more-"):
        assert rebuilt.append(leaf_hash(item)) == log.append(leaf_hash(item))
    assert rebuilt.levels == log.levels


def test_nodes_since_a_size_are_exactly_the_nodes_its_appends_stored() -> None:
    log = log_of(entries(21))
    before = log.levels
    for item in entries(30, b"later-"):
        log.append(leaf_hash(item))
    added = list(log.nodes_since(21))
    after = log.levels
    assert [(k, i) for k, i, _ in added] == [
        (k, i)
        for k, level in enumerate(after)
        for i in range(len(level))
        if k >= len(before) or i >= len(before[k])
    ]
    assert all(after[k][i] == digest for k, i, digest in added)
    assert list(log.nodes_since(log.size)) == []


def test_levels_that_are_not_one_tree_are_refused() -> None:
    levels = log_of(entries(6)).levels
    with pytest.raises(LevelsError):
        MerkleLog.from_levels([levels[0], levels[1][:2], levels[2]])
    with pytest.raises(LevelsError):
        MerkleLog.from_levels([levels[0], levels[1]])
    with pytest.raises(LevelsError):
        MerkleLog.from_levels([levels[0], [flipped(levels[1][0]), *levels[1][1:]], levels[2]])
    with pytest.raises(HashLengthError):
        MerkleLog.from_levels([[b"short"]])
    assert MerkleLog.from_levels([]).root() == EMPTY_ROOT
    assert MerkleLog.from_levels([[]]).size == 0


# --- pymerkle, a third-party RFC 9162 implementation ---


@pytest.mark.parametrize("total", [1, 2, 7, 64, 65, 300])
def test_roots_and_audit_paths_agree_with_pymerkle(total: int) -> None:
    # pymerkle's consistency proofs use a layout of its own (not RFC 9162's PROOF), so only
    # roots and audit paths (its path minus the leaf it starts with) are compared.
    data = entries(total)
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    for item in data:
        theirs.append_entry(item)
    ours = log_of(data)
    for size in range(total + 1):
        assert ours.root(size) == theirs.get_root(size)
    for size in {1, total // 2 or 1, total}:
        for index in range(size):
            path = theirs.prove_inclusion(index + 1, size).path
            assert path == [leaf_hash(data[index]), *ours.inclusion_proof(index, size)]

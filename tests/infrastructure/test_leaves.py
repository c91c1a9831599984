"""The leaf layout (docs/architecture.md): the verifier's and sealer's one-loop leaf hashes are
exactly RFC 9162's leaf hash of the bytes `encode_leaf` builds, and `decode_leaf` reads them
back."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.leaves import decode_leaf, encode_leaf, hash_leaves
from infrastructure.merkle import leaf_hash

STAMPED = b'{"timestamp":{"#":"dt","v":"2026-12-07T09:30:00.123456+00:00"},"x":1}'

states = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda a, b: a + STAMPED + b, st.binary(max_size=50), st.binary(max_size=50)),
    st.builds(lambda a, b: a + STAMPED[1:] + b, st.binary(max_size=2), st.binary(max_size=9)),
    st.builds(lambda a: STAMPED[:9] + a + STAMPED, st.binary(max_size=30)),  # broken, then whole
    st.builds(  # a stamp of any length and bytes, closed or not, then maybe a whole one
        lambda stamp, close, rest: b'{"timestamp":{"#":"dt","v":"' + stamp + close + rest,
        st.one_of(st.binary(max_size=70), st.sampled_from([b"x" * 64, b"x" * 65, b""])),
        st.sampled_from([b'"}', b'"', b"}", b'"}"}', b""]),
        st.sampled_from([b"", STAMPED, b',"x":1}']),
    ),
)
entries = st.tuples(
    st.integers(0, 2**63 - 1),
    st.uuids(),
    st.integers(0, 2**63 - 1),
    st.sampled_from(["domain.claims:Claim.Created", "domain.complaints:Complaint.Received", "é"]),
    states,
)


@given(st.lists(entries, max_size=20))
def test_hash_leaves_is_the_leaf_hash_of_encode_leaf(
    rows: list[tuple[int, UUID, int, str, bytes]],
) -> None:
    raw = [(p, stream.bytes, v, topic, state) for p, stream, v, topic, state in rows]
    assert hash_leaves(raw) == [leaf_hash(encode_leaf(*row)) for row in rows]


def test_a_leaf_commits_to_the_recorded_timestamp_and_every_stored_byte() -> None:
    stream = UUID("12345678-1234-5678-1234-567812345678")
    leaf = encode_leaf(7, stream, 3, "domain.claims:Claim.Created", STAMPED)
    parsed = decode_leaf(leaf)
    assert (parsed.position, parsed.stream_id, parsed.version) == (7, stream, 3)
    assert parsed.timestamp == "2026-12-07T09:30:00.123456+00:00"
    assert parsed.state == STAMPED
    flipped = STAMPED.replace(b'"x":1', b'"x":2')
    raw = [(7, stream.bytes, 3, "domain.claims:Claim.Created", s) for s in (STAMPED, flipped)]
    first, second = hash_leaves(raw)
    assert first == leaf_hash(leaf) != second

"""The bytes a Merkle leaf commits to: one stored event exactly as stored.

    leaf = "XBL1" || u64 position || 16-byte stream id || u64 version
                  || u16 len || topic || u16 len || timestamp || u32 len || stored state

All integers big-endian. `timestamp` is the instant the ledger process wrote into the event
(RFC 3339, as stored); `stored state` is the stored payload byte for byte (ciphertext where a
field is sealed), so no stored byte can change without changing the leaf.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

MAGIC = b"XBL1"
_FIXED = struct.Struct(">4sQ16sQ")
_NUMBERS = struct.Struct(">Q16sQ")
_HASHED_PREFIX = b"\x00" + MAGIC  # RFC 9162's leaf prefix, then the leaf's first field
_TIMESTAMP = re.compile(rb'"timestamp":\{"#":"dt","v":"([^"]{1,64})"\}')
_STAMP_LENGTHS = tuple(n.to_bytes(2, "big") for n in range(65))  # a stamp has ≤ 64 bytes


class LeafFormatError(ValueError):
    """Bytes that are not a leaf of this ledger."""


@dataclass(frozen=True)
class Leaf:
    """A parsed leaf: what the ledger committed to for one event."""

    position: int
    stream_id: UUID
    version: int
    topic: str
    timestamp: str
    state: bytes


def timestamp_of(state: bytes) -> str:
    """The recording instant written into a stored event ('' when absent)."""
    found = _TIMESTAMP.search(state)
    return found.group(1).decode() if found else ""


def encode_leaf(
    position: int, stream_id: UUID | str, version: int, topic: str, state: bytes | str
) -> bytes:
    """The leaf bytes of a stored event."""
    if not isinstance(stream_id, UUID):
        stream_id = UUID(stream_id)
    if isinstance(state, str):  # a row whose type was changed behind the ledger's back
        state = state.encode()
    found = _TIMESTAMP.search(state)
    stamp = found.group(1) if found else b""
    return b"".join(
        (
            _FIXED.pack(MAGIC, position, stream_id.bytes, version),
            _topic_field(topic),
            _STAMP_LENGTHS[len(stamp)],
            stamp,
            len(state).to_bytes(4, "big"),
            state,
        )
    )


RawEntry = tuple[int, bytes, int, str, bytes]


def hash_leaves(entries: Iterable[RawEntry]) -> list[bytes]:
    """The RFC 9162 leaf hashes, SHA-256(0x00 || leaf), of stored events given as
    (position, 16-byte stream id, version, topic, stored state): the leaf `encode_leaf`
    builds, assembled and hashed in one tight loop (the verifier's and the sealer's)."""
    sha256, pack, join, search = hashlib.sha256, _NUMBERS.pack, b"".join, _TIMESTAMP.search
    topics: dict[str, bytes] = {}
    digests: list[bytes] = []
    append = digests.append
    for position, stream_id, version, topic, state in entries:
        field = topics.get(topic)
        if field is None:
            field = topics[topic] = _topic_field(topic)
        found = search(state)
        stamp = found.group(1) if found else b""
        leaf = (
            _HASHED_PREFIX,
            pack(position, stream_id, version),
            field,
            _STAMP_LENGTHS[len(stamp)],
            stamp,
            len(state).to_bytes(4, "big"),
            state,
        )
        append(sha256(join(leaf)).digest())
    return digests


@functools.lru_cache(maxsize=1024)
def _topic_field(topic: str) -> bytes:
    encoded = topic.encode()
    return len(encoded).to_bytes(2, "big") + encoded


def decode_leaf(data: bytes) -> Leaf:
    """Parse leaf bytes (for offline verification of an exported bundle)."""
    try:
        if data[:4] != MAGIC:
            raise LeafFormatError("not a Xiaobao ledger leaf")
        position = int.from_bytes(data[4:12], "big")
        stream_id = UUID(bytes=data[12:28])
        version = int.from_bytes(data[28:36], "big")
        at = 36
        parts: list[bytes] = []
        for width in (2, 2, 4):
            length = int.from_bytes(data[at : at + width], "big")
            at += width
            parts.append(data[at : at + length])
            if len(parts[-1]) != length:
                raise LeafFormatError("truncated leaf")
            at += length
        if at != len(data):
            raise LeafFormatError("trailing bytes after the leaf")
        return Leaf(position, stream_id, version, parts[0].decode(), parts[1].decode(), parts[2])
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, LeafFormatError):
            raise
        raise LeafFormatError(str(exc)) from exc

"""The bytes a Merkle leaf commits to: one stored event exactly as stored.

    leaf = "XBL1" || u64 position || 16-byte stream id || u64 version
                  || u16 len || topic || u16 len || timestamp || u32 len || stored state

All integers big-endian. `timestamp` is the instant the ledger process wrote into the event
(RFC 3339, as stored); `stored state` is the stored payload byte for byte (ciphertext where a
field is sealed), so no stored byte can change without changing the leaf.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from uuid import UUID

MAGIC = b"XBL1"
_FIXED = struct.Struct(">4sQ16sQ")
_TIMESTAMP = re.compile(rb'"timestamp":\{"#":"dt","v":"([^"]{1,64})"\}')


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
    stamp = timestamp_of(state).encode()
    return b"".join(
        (
            _FIXED.pack(MAGIC, position, stream_id.bytes, version),
            _topic_field(topic),
            len(stamp).to_bytes(2, "big"),
            stamp,
            len(state).to_bytes(4, "big"),
            state,
        )
    )


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

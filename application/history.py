"""Histories as the contract shows them (`GET /v1/{kind}/{id}/history`), read in one query and
decoded straight into the response's values.

Building every event of a long stream as a domain object and then walking it into JSON cost
about a millisecond an event (issue 18: a claim of 1,000 events took 0.6–1.9 s). Here each
stored state is decoded once into its JSON-ready form by the transcoder (`decode_ready`),
with only the sealed personal values built as objects and opened together; an event the
transcoder leaves to its full decoder (an upcast class, a set, a value dataclass with other
fields than stored) takes the old way, so the entries are the same either way.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from application.ledger import Ledger, Slot
from application.personal import Opener
from application.views import META_FIELDS, history_entry, json_ready, rfc3339
from domain.personal import Sealed

# `json_ready` of the leaves a stored state holds, by their exact type.
_LEAVES: dict[type[Any], Callable[[Any], Any]] = {
    Decimal: str,
    datetime: rfc3339,
    date: date.isoformat,
    UUID: str,
    int: int,
}


def _leaf(value: Any) -> Any:
    convert = _LEAVES.get(type(value))
    return json_ready(value) if convert is None else convert(value)


# `isoformat()` of a UTC instant, as the transcoder stores it (no microseconds when zero).
_UTC_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(?!000000)\d{6})?\+00:00")


def _instant(text: str) -> str:
    """`rfc3339` of a stored instant, from its text: a UTC one only takes its Z (a third of
    a history's decoding was parsing and formatting instants back to the same digits)."""
    if _UTC_INSTANT.fullmatch(text):
        return text[:-6] + "Z"
    return rfc3339(datetime.fromisoformat(text))


_TEXTS: dict[str, Callable[[str], Any]] = {"dt": _instant}


class DecodedStates:
    """History entries decoded from stored states, remembered by the state's topic and the
    SHA-256 of its bytes. The entry is a pure function of them, so a remembered one is never
    stale (a row that changed is another key); sealed values are remembered sealed, and
    opened on every read (an erasure shows at once). Bounded by the bytes of the entries
    kept (`budget`), the least recently used forgotten first; a state larger than
    `largest` is never kept (a charges event of hundreds of lines would crowd out the rest).
    """

    def __init__(self, budget: int = 32 * 1024 * 1024, largest: int = 64 * 1024) -> None:
        self.budget = budget
        self.largest = largest
        self.used = 0
        self._found: OrderedDict[tuple[str, bytes], _Decoded] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def keys(rows: Sequence[tuple[StoredEvent, int]]) -> list[tuple[str, bytes]]:
        """Each stored event's key: its topic and the SHA-256 of its state."""
        sha256 = hashlib.sha256
        return [(stored.topic, sha256(stored.state).digest()) for stored, _ in rows]

    def get_many(self, keys: Sequence[tuple[str, bytes]]) -> list[_Decoded | None]:
        found = self._found
        with self._lock:
            hits = [found.get(key) for key in keys]
            for key, hit in zip(keys, hits, strict=True):
                if hit is not None:
                    found.move_to_end(key)
        return hits

    def put_many(self, decoded: Sequence[tuple[tuple[str, bytes], _Decoded]]) -> None:
        found = self._found
        with self._lock:
            for key, entry in decoded:
                if entry.size > self.largest:
                    continue
                former = found.pop(key, None)
                if former is not None:
                    self.used -= former.size
                found[key] = entry
                self.used += entry.size
            while self.used > self.budget and found:
                _, forgotten = found.popitem(last=False)
                self.used -= forgotten.size

    def __len__(self) -> int:
        return len(self._found)


class _Decoded(NamedTuple):
    """An entry as JSON around its version and position (which belong to the row, not to
    the state): `{"version":` V `head` P `tail`, each sealed value as null; and the sealed
    values with their paths in its data."""

    head: bytes
    tail: bytes
    sealed: tuple[tuple[tuple[Any, ...], Sealed], ...]

    @property
    def size(self) -> int:
        return len(self.head) + len(self.tail)

    def rendered(self, version: int, position: int) -> bytes:
        return b'{"version":%d%b%d%b' % (version, self.head, position, self.tail)


class _Row(NamedTuple):
    """One event of the stream as `_entries` takes it: its remembered decoding (`hit`), or
    its stored event to decode (`stored`, None only with a hit: its state was not fetched)."""

    version: int
    position: int
    key: tuple[str, bytes]
    hit: _Decoded | None
    stored: StoredEvent | None


def history_entries(
    ledger: Ledger,
    rows: Sequence[tuple[StoredEvent, int]],
    opener: Opener,
    memo: DecodedStates | None = None,
) -> list[dict[str, Any]]:
    """The history entries of one stream's stored events (with their positions), in order,
    personal values opened for the reader (one key look-up); `memo` remembers decodings."""
    if memo is None:  # keys unused: nothing is looked up or kept
        keys: list[tuple[str, bytes]] = [(stored.topic, b"") for stored, _ in rows]
        hits: list[_Decoded | None] = [None] * len(rows)
    else:
        keys = memo.keys(rows)
        hits = memo.get_many(keys)
    found = [
        _Row(stored.originator_version, position, key, hit, stored)
        for (stored, position), key, hit in zip(rows, keys, hits, strict=True)
    ]
    return _entries(ledger, found, opener, memo)


def history_json(
    ledger: Ledger,
    originator_id: UUID,
    opener: Opener,
    memo: DecodedStates,
    admit: Callable[[StoredEvent | None], object],
) -> bytes:
    """`{"events": [...]}` of the stream's `history_entries`, as the response's bytes.

    The stream is read as each state's SHA-256 (by the store), and only the states whose
    decoding is not remembered are fetched; a remembered entry with no sealed value is copied
    in as the JSON it was remembered as. (Fetching and hashing 1,000 states, then parsing
    their remembered entries back into objects and rendering them again, was most of a long
    history's read.) `admit` is given the stream's first stored event (None for no events)
    before anything is decoded: it raises when the reader may not see the stream."""
    reader = ledger.positions
    digested = reader.digested(originator_id)
    hits = memo.get_many([(topic, digest) for _, _, topic, digest in digested])
    missing = {row[0] for row, hit in zip(digested, hits, strict=True) if hit is None}
    first = digested[0] if digested else None
    states = reader.states(originator_id, sorted(missing | {first[0]} if first else missing))
    admit(StoredEvent(originator_id, first[0], first[2], states[first[0]]) if first else None)
    parts: list[bytes | None] = []  # None: the next of `rest`'s entries
    rest: list[_Row] = []
    sha256 = hashlib.sha256
    for (version, position, topic, digest), hit in zip(digested, hits, strict=True):
        if hit is None:
            state = states[version]  # as read now: keyed by its own digest (rewritten since?)
            stored = StoredEvent(originator_id, version, topic, state)
            rest.append(_Row(version, position, (topic, sha256(state).digest()), None, stored))
        elif hit.sealed:  # its sealed values opened for this reader
            rest.append(_Row(version, position, (topic, digest), hit, None))
        else:
            parts.append(hit.rendered(version, position))
            continue
        parts.append(None)
    entries = iter(_entries(ledger, rest, opener, memo))
    body = b",".join(_json(next(entries)) if part is None else part for part in parts)
    return b'{"events":[%b]}' % body


def events_json(entries: Sequence[dict[str, Any]]) -> bytes:
    """`{"events": entries}` as compact JSON bytes."""
    return b'{"events":[%b]}' % b",".join(_json(entry) for entry in entries)


def _json(entry: dict[str, Any]) -> bytes:
    """The entry as compact JSON (by orjson; by the standard library for an integer beyond
    orjson's 64 bits)."""
    try:
        return orjson.dumps(entry)
    except orjson.JSONEncodeError:
        return json.dumps(
            entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()


def _entries(
    ledger: Ledger, rows: Sequence[_Row], opener: Opener, memo: DecodedStates | None
) -> list[dict[str, Any]]:
    """The entries of the rows, personal values opened; fresh decodings remembered."""
    entries: list[dict[str, Any]] = []
    slots: list[Slot] = []
    slow: list[int] = []
    learnt: list[tuple[tuple[str, bytes], _Decoded]] = []
    for version, position, key, hit, stored in rows:
        if hit is not None:
            entry: dict[str, Any] | None = _remembered(hit, version, position, slots)
        else:
            assert stored is not None
            found: list[Slot] = []
            entry = _entry(ledger, stored, position, found)
            if entry is not None and memo is not None:
                decoded = _decoded(entry, found)
                if decoded is not None:
                    learnt.append((key, decoded))
            slots.extend(found)
        if entry is None:
            assert stored is not None
            slow.append(len(entries))
            entry = history_entry(ledger.mapper.to_domain_event(stored), position)
        entries.append(entry)
    if memo is not None and learnt:
        memo.put_many(learnt)
    revealed = opener.reveal_with([entries[i] for i in slow], slots)
    for i, entry in zip(slow, revealed, strict=True):
        entries[i] = entry
    return entries


def _decoded(entry: dict[str, Any], slots: list[Slot]) -> _Decoded | None:
    """What to remember of a freshly decoded entry (its sealed values still in place)."""
    if tuple(entry) != _ORDER:
        return None  # not the shape `rendered` writes: never the case for `_entry`'s dicts
    where: dict[int, tuple[Any, ...]] = {}
    if slots:
        stack: list[tuple[tuple[Any, ...], Any]] = [((), entry["data"])]
        while stack:
            path, node = stack.pop()
            where[id(node)] = path
            items = node.items() if type(node) is dict else enumerate(node)
            stack.extend(((*path, k), v) for k, v in items if type(v) in (dict, list))
    try:
        between = _dumps({name: entry[name] for name in _ORDER[1:5]})[1:-1]  # type … actor
        tail = b',"data":%b}' % _dumps(entry["data"])
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: not remembered
        return None
    sealed = tuple((where[id(c)] + (k,), s) for c, k, s in slots)
    return _Decoded(b',%b,"position":' % between, tail, sealed)


_ORDER = ("version", "type", "occurred_at", "recorded_at", "actor", "position", "data")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_null, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def _null(value: Any) -> None:
    if not isinstance(value, Sealed):
        raise TypeError(type(value).__name__)


def _remembered(
    decoded: _Decoded, version: int, position: int, slots: list[Slot]
) -> dict[str, Any]:
    """A fresh entry from a remembered decoding, its sealed values added to `slots`."""
    entry: dict[str, Any] = orjson.loads(decoded.rendered(version, position))
    data = entry["data"]
    for path, sealed in decoded.sealed:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = sealed
        slots.append((node, path[-1], sealed))
    return entry


def _entry(
    ledger: Ledger, stored: StoredEvent, position: int, slots: list[Slot]
) -> dict[str, Any] | None:
    """`history_entry` of the stored event, decoded straight from its state (its sealed
    values added to `slots`, to be opened); None when it takes the domain event."""
    ready = ledger.decode_ready(stored, _leaf, Sealed, _TEXTS)
    if ready is None:
        return None
    cls, state, found = ready
    actor = state.get("actor")
    if any(slot[0] is actor for slot in found):
        return None  # `history_entry` shows an actor's values as stored, never opened
    recorded_at = state.get("timestamp")
    occurred_at = state.get("occurred_at") or recorded_at
    for key in [k for k in state if k in META_FIELDS or k.startswith("_")]:
        del state[key]  # in place: the slots of the data's own values point into it
    slots.extend(s for s in found if s[0] is not state or s[1] in state)
    return {
        "version": stored.originator_version,
        "type": cls.__qualname__.rsplit(".", 1)[-1],
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor": actor,
        "position": position,
        "data": state,
    }

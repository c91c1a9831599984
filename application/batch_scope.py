"""What one partner batch has read, so that each stream and each person's key is fetched once.

While a batch is recorded (`PartnerEvents.record_many`) a `BatchScope` is current in the
worker thread's context. The ledger serves reads from its stored events and fetches only the
streams it lacks; every save drops the streams it wrote (they are read again, fresh, if an
event needs them), so a read never sees a stream older than this batch's own writes. The
vault keeps the persons' keys it has fetched or created here.

During prefetching the scope answers a read it cannot serve with `Missing` instead of a
query: the gateway runs every event's handler, gathers what they lack, fetches all of it in
one round trip, and runs again, until the handlers have what they need.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent


class Missing(Exception):
    """A prefetching handler needs what the scope does not hold yet (noted in the scope)."""


@dataclass
class BatchScope:
    """The stored events and keys one batch has fetched, and what its handlers read."""

    streams: dict[UUID, list[StoredEvent]] = field(default_factory=dict)
    # The decoded events of held streams whose aggregate class declares `events_reusable`
    # (it never mutates in place a container taken from an event): replayed again from the
    # same event objects in a later wave, not decoded again. Dropped with their stream.
    decoded: dict[UUID, list[Any]] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)
    # Where the receipts of events recorded before the batch sit in the log (never moves).
    receipt_positions: dict[UUID, int] = field(default_factory=dict)
    read: set[UUID] = field(default_factory=set)
    saved: dict[UUID, int] = field(default_factory=dict)  # stream → the save that wrote it
    saves: int = 0
    prefetching: bool = False
    unreachable: bool = False  # a prefetch failed (the database is away): no more of them
    missing_streams: set[UUID] = field(default_factory=set)
    missing_keys: set[str] = field(default_factory=set)
    # Conclusions drawn from streams (the scheme in force for a region): the value and the
    # streams it was drawn from, forgotten when one of them is written.
    memo: dict[Hashable, tuple[Any, frozenset[UUID]]] = field(default_factory=dict)

    def lacking(self, ids: Iterable[UUID]) -> list[UUID]:
        """The streams among `ids` not held; in prefetching, noted and raised as Missing."""
        ids = list(ids)
        self.read.update(ids)
        lacking = [i for i in ids if i not in self.streams]
        if lacking and self.prefetching:
            self.missing_streams.update(lacking)
            raise Missing
        return lacking

    def hold(self, ids: Iterable[UUID], stored: Iterable[StoredEvent]) -> None:
        """Keep the stored events of `ids` (an id without events: a stream that is absent)."""
        for i in ids:
            self.streams[i] = []
            self.decoded.pop(i, None)
        for event in stored:
            self.streams[UUID(str(event.originator_id))].append(event)

    def served(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        return [e for i in ids for e in self.streams.get(i, ())]

    def wrote(self, ids: Iterable[UUID], committed: bool) -> None:
        """A save of these streams was tried: what is held of them is out of date."""
        ids = list(ids)
        for i in ids:
            self.streams.pop(i, None)
            self.decoded.pop(i, None)
        if self.memo:
            written = set(ids)
            self.memo = {k: v for k, v in self.memo.items() if not v[1] & written}
        if committed:
            self.saves += 1
            self.saved.update(dict.fromkeys(ids, self.saves))

    def changed_since(self, saves: int, ids: Iterable[UUID]) -> bool:
        """Whether a save after the first `saves` of this batch wrote one of `ids`."""
        return any(self.saved.get(i, 0) > saves for i in ids)

    def recall(self, key: Hashable) -> Any | None:
        """A conclusion remembered in this batch (its streams count as read), or None."""
        found = self.memo.get(key)
        if found is None:
            return None
        self.read.update(found[1])
        return found[0]

    def remember(self, key: Hashable, value: Any, read: Iterable[UUID]) -> None:
        self.memo[key] = (value, frozenset(read))

    def expect_keys(self, refs: Iterable[str]) -> None:
        """In prefetching, note keys a handler will need, to fetch them with this wave."""
        if self.prefetching:
            self.missing_keys.update(r for r in refs if r not in self.keys)

    def key(self, ref: str) -> bytes | None:
        """A person's key held here; in prefetching, one not held is noted and Missing."""
        key = self.keys.get(ref)
        if key is None and self.prefetching:
            self.missing_keys.add(ref)
            raise Missing
        return key


_CURRENT: ContextVar[BatchScope | None] = ContextVar("xiaobao_batch_scope", default=None)


def current() -> BatchScope | None:
    """The scope of the batch being recorded in this context, if any."""
    return _CURRENT.get()


@contextmanager
def batch_scope() -> Iterator[BatchScope]:
    """A fresh scope for the duration of one batch; nothing of it outlives the batch."""
    scope = BatchScope()
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)

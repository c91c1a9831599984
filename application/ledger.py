"""The one log of the whole ledger: every aggregate and idempotency record in one table,
so `position` is one sequence (see shared/eventsourcing-notes.md, last section).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Recording, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from application import batch_scope
from domain.common import InvalidInput, UnknownRecord

A = TypeVar("A", bound=Aggregate)


def topics_of(cls: type[Aggregate]) -> list[str]:
    """Every event topic of an aggregate class (inherited event classes included), and the
    topics its events were stored under before they moved (`FORMER_TOPICS`, when it has them).
    """
    former: tuple[str, ...] = getattr(cls, "FORMER_TOPICS", ())
    return sorted(
        {
            get_topic(value)
            for name in dir(cls)
            if isinstance(value := getattr(cls, name), type)
            and issubclass(value, Aggregate.Event)
            and value is not Aggregate.Event
            and name[0].isupper()
        }.union(former)
    )


class StreamReader(Protocol):
    """Direct reads of the events table that the library's recorder does not offer."""

    def of(self, originator_id: UUID) -> dict[int, int]:
        """Where each event of a stream sits in the global log (version → position)."""
        ...

    def events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The stored events of several streams, fetched together."""
        ...

    def positions_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, dict[int, int]]:
        """`of` for several streams, fetched together (streams without events left out)."""
        ...

    def positioned(self, originator_id: UUID) -> list[tuple[StoredEvent, int]]:
        """Every stored event of one stream with its position, in version order (one read)."""
        ...

    def digested(self, originator_id: UUID) -> list[tuple[int, int, str, bytes]]:
        """Every event of one stream as (version, position, topic, SHA-256 of its state), in
        version order (one read, without the states)."""
        ...

    def states(self, originator_id: UUID, versions: Sequence[int]) -> dict[int, bytes]:
        """The stored states of some events of one stream, by version (one read)."""
        ...


# A value `ReadyDecoder.decode_ready` kept as an object: (its container, its key there, it).
Slot = tuple[Any, Any, Any]


class ReadyDecoder(Protocol):
    """A transcoder that can also decode stored state straight into a read model's values."""

    def decode_ready(
        self,
        data: bytes,
        leaf: Callable[[Any], Any],
        keep: type[Any],
        texts: Mapping[str, Callable[[str], Any]] | None = None,
    ) -> tuple[dict[str, Any], list[Slot]] | None:
        """The state with every leaf passed through `leaf` (or, for a tag in `texts`, its
        stored text through that function), value dataclasses as dicts, and values of type
        `keep` built and listed by where they sit; None when it cannot."""
        ...


class ProofSource(Protocol):
    """Inclusion proofs of ledger entries against the latest signed checkpoint."""

    def for_positions(self, positions: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Proofs of the sealed entries among `positions`, by position."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


class Ledger(Application[UUID]):
    """The ledger application; its name fixes the PostgreSQL table `ledger_events`."""

    name = "Ledger"

    def __init__(
        self,
        env: dict[str, str],
        transcoder: Transcoder,
        reader: Callable[[ApplicationRecorder], StreamReader],
    ) -> None:
        self._transcoder = transcoder
        super().__init__(env)
        if self.snapshots is not None or self.repository.cache is not None:
            raise ValueError("the ledger's save takes no snapshots and fills no cache")
        self.positions = reader(self.recorder)

    def construct_transcoder(self) -> Transcoder:
        return self._transcoder

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save through its public event store, collecting the aggregates'
        pending events by their class: its runtime protocol checks cost ~8% of an API worker
        on Python 3.11. Anything else (a bare domain event) is collected the library's way.
        The library's save would also take snapshots and fill the aggregate cache; the
        ledger enables neither (checked in `__init__`). Within a batch, the streams a save
        tried to write are dropped from what the batch holds (read again when needed)."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
            elif obj is not None:
                processing.collect_events(obj)
        scope = batch_scope.current()
        if scope is None:
            return self.events.put(processing.events, **processing.saved_kwargs, **kwargs)
        written = {e.originator_id for e in processing.events}
        try:
            recordings = self.events.put(processing.events, **processing.saved_kwargs, **kwargs)
        except BaseException:
            scope.wrote(written, committed=False)
            raise
        scope.wrote(written, committed=True)
        return recordings

    def hold(self, aggregate_ids: Sequence[UUID]) -> None:
        """Within a batch: fetch the streams it does not hold yet, without replaying them."""
        scope = batch_scope.current()
        if scope is not None and (lacking := scope.lacking(dict.fromkeys(aggregate_ids))):
            scope.hold(lacking, self.positions.events_of(lacking))

    def find(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A | None:
        """The aggregate, or None when it does not exist (or has another type)."""
        if version is None:
            aggregate: Any = self.find_many([aggregate_id]).get(aggregate_id)
        else:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                return None
        return aggregate if isinstance(aggregate, cls) else None

    def find_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, Any]:
        """Several aggregates read in one round trip; absent ones are left out. Within a
        batch (`application.batch_scope`) only the streams it has not read yet are fetched."""
        ids = list(dict.fromkeys(aggregate_ids))
        scope = batch_scope.current()
        if scope is None:
            stored = self.positions.events_of(ids)
        else:
            if lacking := scope.lacking(ids):
                scope.hold(lacking, self.positions.events_of(lacking))
            return self._replay_held(scope, ids)
        by_stream: dict[UUID, list[Any]] = {}
        for stored_event in stored:
            event = self.mapper.to_domain_event(stored_event)
            by_stream.setdefault(event.originator_id, []).append(event)
        return {i: _replay(events) for i, events in by_stream.items()}

    def _replay_held(self, scope: batch_scope.BatchScope, ids: list[UUID]) -> dict[UUID, Any]:
        """The aggregates of streams the batch holds. A stream whose aggregate class declares
        `events_reusable` keeps its decoded events in the scope for a later wave's replay."""
        found: dict[UUID, Any] = {}
        to_domain_event = self.mapper.to_domain_event
        for i in ids:
            events = scope.decoded.get(i)
            if events is None:
                stored = scope.streams.get(i)
                if not stored:
                    continue
                events = [to_domain_event(s) for s in stored]
                aggregate = _replay(events)
                if getattr(type(aggregate), "events_reusable", False):
                    scope.decoded[i] = events
            else:
                aggregate = _replay(events)
            found[i] = aggregate
        return found

    def replay(self, stored: Sequence[StoredEvent]) -> Any:
        """The aggregate from stored events of one stream (in version order), as `find`
        builds it; None when there are none."""
        return _replay([self.mapper.to_domain_event(s) for s in stored])

    def then(self, current: A, as_of_version: int | None, as_of: datetime | None, what: str) -> A:
        """Time travel: the aggregate at a version, or as the ledger knew it at an instant."""
        version = as_of_version
        if as_of is not None:
            known = [e.originator_version for e in self.stream(current.id) if e.timestamp <= as_of]
            if not known:
                raise NotFound(f"the {what} did not exist at that time")
            version = min(max(known), version or max(known))
        if version is None:
            return current
        if version > current.version:
            raise InvalidInput("as_of_version", f"the {what} has {current.version} versions")
        found = self.find(type(current), current.id, version=version)
        assert found is not None
        return found

    def require(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        """The aggregate a command names, or UnknownRecord (a refusal) naming it."""
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise UnknownRecord(f"unknown {what}")
        return aggregate

    def get(self, cls: type[A], aggregate_id: UUID, missing: str) -> A:
        """The aggregate a read asks for, or NotFound with the `missing` detail."""
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(missing)
        return aggregate

    def position(self) -> int:
        """The highest position in the log (0 when empty)."""
        return int(self.recorder.max_notification_id() or 0)

    def decode_ready(
        self,
        stored: StoredEvent,
        leaf: Callable[[Any], Any],
        keep: type[Any],
        texts: Mapping[str, Callable[[str], Any]] | None = None,
    ) -> tuple[type[Any], dict[str, Any], list[Slot]] | None:
        """A stored event's class and its state decoded for a read model (see `ReadyDecoder`),
        without building the event; None when it takes the mapper (an event class that
        upcasts old states, a state the transcoder leaves to its full decoder)."""
        decode = getattr(self._transcoder, "decode_ready", None)
        if decode is None:
            return None
        cls = resolve_topic(stored.topic)
        if getattr(cls, "class_version", 1) != 1:
            return None
        found: tuple[dict[str, Any], list[Slot]] | None = decode(stored.state, leaf, keep, texts)
        if found is None or "class_version" in found[0]:
            return None
        return cls, found[0], found[1]

    def stream(self, aggregate_id: UUID) -> list[Any]:
        """Every stored event of one stream, in version order."""
        return list(self.events.get(aggregate_id))

    def scan(self, topics: Sequence[str], batch: int = 1000) -> Iterator[Any]:
        """Every event of the given topics in log order (a full read of the log)."""
        start = 1
        while True:
            notifications = self.recorder.select_notifications(start, batch, topics=topics)
            for notification in notifications:
                yield self.mapper.to_domain_event(notification)
            if len(notifications) < batch:
                return
            start = notifications[-1].id + 1


def _replay(events: list[Any]) -> Any:
    """The aggregate from its events (the library's projector, without its per-event
    protocol check: these events come from the ledger's own mapper)."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class NotFound(Exception):
    """A read of a record that does not exist or that the caller may not see (404)."""


class Reads:
    """The aggregates one operation reads, fetched in batches: one round trip per prefetch."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._seen: dict[UUID, Any] = {}

    def prefetch(self, *aggregate_ids: UUID) -> None:
        missing = [i for i in aggregate_ids if i not in self._seen]
        if not missing:
            return
        if batch_scope.current() is not None:
            self.ledger.hold(missing)  # within a batch: fetched now, replayed when got
            return
        found = self.ledger.find_many(missing)
        self._seen.update({i: found.get(i) for i in missing})

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._seen:
            if batch_scope.current() is not None:
                self._seen[aggregate_id] = self.ledger.find_many([aggregate_id]).get(aggregate_id)
            else:
                self.prefetch(aggregate_id)
        aggregate = self._seen[aggregate_id]
        return aggregate if isinstance(aggregate, cls) else None

"""The one log of the whole ledger: every aggregate and idempotency record in one table,
so `position` is one sequence (see shared/eventsourcing-notes.md, last section).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Transcoder

from domain.common import UnknownRecord

A = TypeVar("A", bound=Aggregate)


class PositionIndex(Protocol):
    """Where each event of a stream sits in the global log."""

    def of(self, originator_id: UUID) -> dict[int, int]: ...


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
        positions: Callable[[ApplicationRecorder], PositionIndex],
    ) -> None:
        self._transcoder = transcoder
        super().__init__(env)
        self.positions = positions(self.recorder)

    def construct_transcoder(self) -> Transcoder:
        return self._transcoder

    def find(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A | None:
        """The aggregate, or None when it does not exist (or has another type)."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def require(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        """The aggregate, or UnknownRecord naming what was looked for."""
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise UnknownRecord(f"unknown {what}")
        return aggregate

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


class NotFound(Exception):
    """A read of a record that does not exist or that the caller may not see (404)."""

"""Partner events: recorded exactly once per (source, id), atomically with what they change.

A handler loads what it needs, calls the aggregates and returns an Outcome; the gateway saves
the outcome's aggregates and the idempotency receipt in one transaction (`application.saving`:
the whole handling is re-run when another writer moved one of those streams first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.ledger import Ledger
from application.saving import Attempt, Saver
from domain.common import Actor
from domain.receipts import IdempotencyConflict, PartnerEventReceipt, receipt_id


@dataclass(frozen=True)
class Meta:
    """When an event happened in the world and who caused it."""

    occurred_at: datetime
    actor: Actor


@dataclass
class Outcome:
    """What handling one event changed: the aggregates to save and the stream it is about."""

    kind: str
    subject: Aggregate
    changed: list[Aggregate]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartnerEvent:
    """A validated partner event, its command already typed by the API layer."""

    source: str
    event_id: str
    event_type: str
    digest: str
    command: object
    meta: Meta


@dataclass(frozen=True)
class EventResult:
    """The answer to one recorded (or replayed) partner event."""

    event_id: str
    source: str
    event_type: str
    digest: str
    duplicate: bool
    kind: str
    stream_id: UUID
    version: int
    position: int
    extra: dict[str, Any]
    recorded_at: datetime


Handler = Callable[[Any, Meta], Outcome]


class PartnerEvents:
    """Records partner events with their idempotency receipts."""

    def __init__(self, ledger: Ledger, saver: Saver) -> None:
        self.ledger = ledger
        self.saver = saver
        self._handlers: dict[type[Any], Handler] = {}

    def register(self, command_type: type[Any], handler: Handler) -> None:
        self._handlers[command_type] = handler

    def record(self, event: PartnerEvent) -> EventResult:
        """Record the event once; a replay answers with the first result.

        The receipt is not read first: a first recording (the common case) costs no extra
        round trip. A replay shows itself as a refusal or as a conflict on the receipt's
        stream, and only then is the receipt read.
        """
        handler = self._handlers[type(event.command)]

        def run() -> Attempt[EventResult]:
            outcome = handler(event.command, event.meta)
            receipt = self._receipt(event, outcome)

            # The receipt goes last, so its position is the highest this save wrote.
            return Attempt(
                [*outcome.changed, receipt],
                lambda position: _result(event, receipt, position, duplicate=False),
            )

        return self.saver.save(run, lambda: self._first(event))

    def record_many(self, events: Sequence[PartnerEvent]) -> list[EventResult | Exception]:
        """Record a batch as if each event were posted alone, in order, but in few saves.

        Each handler runs on the stored state; consecutive events whose changed streams
        (receipts included) are all distinct are saved together in one transaction. An event
        that touches a stream a pending one changed, or that is refused, first saves the
        pending group and is then recorded alone (`record`), so it sees every earlier event
        of the batch. A group whose save fails (a replayed receipt, another writer) is
        recorded event by event instead: nothing of it was written. Partners send one
        role's events, and every event that depends on an earlier one changes what that one
        changed (a claim, accumulators, an index), so no event reads a pending change.
        """
        results: list[EventResult | Exception] = [RuntimeError("not recorded")] * len(events)
        group: list[tuple[int, PartnerEvent, Outcome, PartnerEventReceipt]] = []
        touched: set[UUID] = set()

        def alone(i: int, event: PartnerEvent) -> None:
            try:
                results[i] = self.record(event)
            except Exception as exc:  # each event gets its own answer, as if posted alone
                results[i] = exc

        def flush() -> None:
            if not group:
                return
            changed = [a for _, _, outcome, receipt in group for a in (*outcome.changed, receipt)]
            try:
                recordings = self.ledger.save(*changed)
            except IntegrityError:
                for i, event, _, _ in group:
                    alone(i, event)
            except Exception as exc:  # e.g. the database is down: each event answers with it
                for i, _, _, _ in group:
                    results[i] = exc
            else:
                at = {r.domain_event.originator_id: r.notification.id for r in recordings}
                for i, event, _, receipt in group:
                    results[i] = _result(event, receipt, at[receipt.id], duplicate=False)
            group.clear()
            touched.clear()

        for i, event in enumerate(events):
            try:
                outcome = self._handlers[type(event.command)](event.command, event.meta)
            except Exception:  # a refusal or a replay: answered exactly as alone
                flush()
                alone(i, event)
                continue
            receipt = self._receipt(event, outcome)
            ids = {a.id for a in outcome.changed} | {receipt.id}
            if ids & touched:
                flush()
                alone(i, event)
                continue
            group.append((i, event, outcome, receipt))
            touched.update(ids)
        flush()
        return results

    @staticmethod
    def _receipt(event: PartnerEvent, outcome: Outcome) -> PartnerEventReceipt:
        return PartnerEventReceipt(
            source=event.source,
            event_id=event.event_id,
            event_type=event.event_type,
            digest=event.digest,
            result={
                "kind": outcome.kind,
                "stream_id": outcome.subject.id,
                "version": outcome.subject.version,
                "extra": outcome.extra,
            },
        )

    def _first(self, event: PartnerEvent) -> EventResult | None:
        """The first result when this (source, id) was already recorded."""
        receipt = self.ledger.find(PartnerEventReceipt, receipt_id(event.source, event.event_id))
        if receipt is None:
            return None
        if receipt.digest != event.digest:
            raise IdempotencyConflict(
                f"event id {event.event_id!r} from {event.source} was already recorded "
                "with different content"
            )
        return _result(event, receipt, self.ledger.positions.of(receipt.id)[1], duplicate=True)


def _result(
    event: PartnerEvent, receipt: PartnerEventReceipt, position: int, duplicate: bool
) -> EventResult:
    """The answer the receipt keeps: the same for the first recording and every replay."""
    result = receipt.result
    return EventResult(
        event_id=event.event_id,
        source=event.source,
        event_type=receipt.event_type,
        digest=receipt.digest,
        duplicate=duplicate,
        kind=result["kind"],
        stream_id=result["stream_id"],
        version=result["version"],
        position=position,
        extra=result["extra"],
        recorded_at=receipt.created_on,
    )

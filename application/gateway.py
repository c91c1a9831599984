"""Partner events: recorded exactly once per (source, id), atomically with what they change.

A handler loads what it needs, calls the aggregates and returns an Outcome; the gateway saves
the outcome's aggregates and the idempotency receipt in one transaction (`application.saving`:
the whole handling is re-run when another writer moved one of those streams first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.batch_scope import BatchScope, Missing, batch_scope
from application.ledger import Ledger
from application.saving import Attempt, Saver
from domain.common import Actor, DomainError
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


class HandlerRun(NamedTuple):
    """A handler's run on the stored state: its Outcome (or the exception it raised), the
    streams it read, and how many of the batch's saves came before it."""

    answer: Outcome | Exception
    read: frozenset[UUID]
    saves: int


Ran = dict[int, HandlerRun]  # by the event's index in the batch

# Reads in a chain (a claim, then its person's indexes, then their policies, then a product
# and an accumulator) are a few waves deep; an event still lacking is handled in order.
PREFETCH_WAVES = 8
# How many times a batch's later events are run again together after an event that depended
# on an earlier one (admissions, charges and discharges of the same stays in one batch: 2).
PREFETCH_ROUNDS = 8


def _no_keys(refs: Sequence[str]) -> None:
    return None


class PartnerEvents:
    """Records partner events with their idempotency receipts."""

    def __init__(
        self,
        ledger: Ledger,
        saver: Saver,
        load_keys: Callable[[Sequence[str]], None] = _no_keys,
    ) -> None:
        self.ledger = ledger
        self.saver = saver
        self.load_keys = load_keys
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
        """Record a batch as if each event were posted alone, in order, in few round trips.

        First every handler runs on the stored state, in waves: what the handlers of a wave
        lack (streams, persons' keys) is fetched together, so a batch costs a few reads
        whatever its size (`_prefetch`). Then, in order, each event's outcome is kept when
        nothing it read or changed was changed by an earlier event of the batch (it is then
        what the event would have done alone), and consecutive kept outcomes are saved
        together in one transaction. An event that depends on an earlier one first saves the
        pending group, and the later events whose runs are out of date run again together
        on fresh state (a few rounds; then, or when that fails, such an event is recorded
        alone: `record`). An event whose receipt was recorded before the batch answers with
        its first result; a refusal saves nothing and holds nothing up. A group whose save
        fails for a conflict (a concurrent writer) is recorded again the same way on fresh
        state, once, and then event by event: nothing of it was written.
        """
        with batch_scope() as scope:
            results: list[EventResult | Exception] = [RuntimeError("not recorded")] * len(events)
            self._record_in_order(list(enumerate(events)), scope, results, retry=True)
            return results

    def _prefetch(self, events: Sequence[tuple[int, PartnerEvent]], scope: BatchScope) -> Ran:
        """Run the handlers on the stored state until none lacks anything (or the waves run
        out): each event's outcome or refusal, the streams it read and the saves before."""
        ran: Ran = {}
        waiting = list(events)
        scope.missing_streams.update(receipt_id(e.source, e.event_id) for _, e in events)
        for _ in range(PREFETCH_WAVES):
            try:
                if scope.missing_keys:
                    self.load_keys(sorted(scope.missing_keys))
                if lacking := sorted(scope.missing_streams - scope.streams.keys()):
                    scope.hold(lacking, self.ledger.positions.events_of(lacking))
            except Exception:  # e.g. the database is down: each event will meet it alone
                scope.unreachable = True
                return ran
            finally:
                scope.missing_keys.clear()
                scope.missing_streams.clear()
            lacking_ones = []
            scope.prefetching = True
            try:
                for i, event in waiting:
                    scope.read = set()
                    answer: Outcome | Exception
                    try:
                        answer = self._handlers[type(event.command)](event.command, event.meta)
                    except Missing:
                        lacking_ones.append((i, event))
                        continue
                    except Exception as exc:  # its refusal, on the stored state
                        answer = exc
                    ran[i] = HandlerRun(answer, frozenset(scope.read), scope.saves)
            finally:
                scope.prefetching = False
            waiting = lacking_ones
            if not waiting:
                break
        return ran

    def _record_in_order(
        self,
        events: list[tuple[int, PartnerEvent]],
        scope: BatchScope,
        results: list[EventResult | Exception],
        retry: bool,
    ) -> None:
        ran = self._prefetch(events, scope)
        rounds = PREFETCH_ROUNDS
        group: list[tuple[int, PartnerEvent, Outcome, PartnerEventReceipt]] = []
        touched: set[UUID] = set()  # what the pending group changes

        def stale(done: HandlerRun | None) -> bool:
            """Whether an earlier event of the batch changed what this run read."""
            if done is None:
                return True
            return bool(done.read & touched) or scope.changed_since(done.saves, done.read)

        def alone(i: int, event: PartnerEvent) -> None:
            try:
                results[i] = self.record(event)
            except Exception as exc:  # each event gets its own answer, as if posted alone
                results[i] = exc

        def flush() -> None:
            if not group:
                return
            pending = list(group)
            group.clear()
            touched.clear()
            changed = [a for _, _, outcome, receipt in pending for a in (*outcome.changed, receipt)]
            try:
                recordings = self.ledger.save(*changed)
            except IntegrityError:
                if retry:  # on fresh state: the group's streams were dropped by the save
                    again = [(i, event) for i, event, _, _ in pending]
                    self._record_in_order(again, scope, results, retry=False)
                else:
                    for i, event, _, _ in pending:
                        alone(i, event)
            except Exception as exc:  # e.g. the database is down: each event answers with it
                for i, _, _, _ in pending:
                    results[i] = exc
            else:
                at = {r.domain_event.originator_id: r.notification.id for r in recordings}
                for i, event, _, receipt in pending:
                    results[i] = _result(event, receipt, at[receipt.id], duplicate=False)

        self._hold_receipt_positions(events, scope)
        for k, (i, event) in enumerate(events):
            key = receipt_id(event.source, event.event_id)
            if key in touched or key in scope.saved:  # a repeat of an event of this batch
                flush()
                alone(i, event)
                continue
            if scope.streams.get(key):  # recorded before this batch
                try:
                    first = self._first(event, scope.receipt_positions.get(key))
                except Exception as exc:  # a different event under the same key
                    results[i] = exc
                    continue
                if first is not None:
                    results[i] = first
                    continue
            if stale(ran.get(i)):
                # It depends on an earlier event of the batch: save what is pending, then
                # run again, together, every later event whose run is out of date. A chain
                # of events on one stream would run the rest of the batch again for each:
                # after a few rounds (or a failed read), such an event is recorded alone.
                flush()
                if rounds and not scope.unreachable:
                    rounds -= 1
                    rest = [(j, e) for j, e in events[k:] if stale(ran.get(j))]
                    ran.update(self._prefetch(rest, scope))
            done = ran.pop(i, None)
            if done is None or stale(done) or not isinstance(done.answer, Outcome | DomainError):
                flush()
                alone(i, event)
                continue
            if isinstance(done.answer, DomainError):  # refused as it would be alone
                results[i] = done.answer
                continue
            receipt = self._receipt(event, done.answer)
            ids = {a.id for a in done.answer.changed} | {receipt.id}
            if ids & touched or scope.changed_since(done.saves, ids):
                flush()
                alone(i, event)
                continue
            group.append((i, event, done.answer, receipt))
            touched.update(ids)
        flush()

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

    def _hold_receipt_positions(
        self, events: Sequence[tuple[int, PartnerEvent]], scope: BatchScope
    ) -> None:
        """The positions of the receipts recorded before this batch (events posted again),
        looked up together: a receipt never moves once recorded."""
        keys = (receipt_id(e.source, e.event_id) for _, e in events)
        known = scope.receipt_positions
        lacking = [k for k in dict.fromkeys(keys) if k not in known and scope.streams.get(k)]
        if len(lacking) < 2 or scope.unreachable:
            return  # none, or one: `_first` looks it up alone
        try:
            found = self.ledger.positions.positions_of(lacking)
        except Exception:  # e.g. the database is down: each replay meets it alone
            return
        known.update({k: positions[1] for k, positions in found.items() if 1 in positions})

    def _first(self, event: PartnerEvent, position: int | None = None) -> EventResult | None:
        """The first result when this (source, id) was already recorded (`position`: its
        receipt's, when the batch looked it up already)."""
        receipt = self.ledger.find(PartnerEventReceipt, receipt_id(event.source, event.event_id))
        if receipt is None:
            return None
        if receipt.digest != event.digest:
            raise IdempotencyConflict(
                f"event id {event.event_id!r} from {event.source} was already recorded "
                "with different content"
            )
        if position is None:
            position = self.ledger.positions.of(receipt.id)[1]
        return _result(event, receipt, position, duplicate=True)


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

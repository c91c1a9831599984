"""The one idempotent save: what a command changed is saved in one transaction, and the
command is re-run on fresh state when another writer moved one of those streams first.

Every stream is saved with optimistic concurrency (its next version must be free), so a
conflicting writer makes the whole save fail with the library's `IntegrityError`. A request
that carries an idempotency record (a partner event's receipt, a staff command's
`Idempotency-Key`) saves that record with its changes: a second recording of it conflicts
too, and then `first` finds the answer given the first time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.ledger import Ledger
from domain.common import DomainError

T = TypeVar("T")


class ConcurrencyExhausted(DomainError):
    """Other writers kept moving the same streams; nothing was recorded."""

    rule = "concurrent_update"


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """One run of a command: the aggregates to save together (in this order), and its
    answer given the position of the last event saved."""

    changed: Sequence[Aggregate]
    answer: Callable[[int], T]


def _never_recorded() -> None:
    return None


class Saver:
    """Saves a command's changes, re-running the command on a concurrent write."""

    def __init__(self, ledger: Ledger, max_attempts: int) -> None:
        self.ledger = ledger
        self.max_attempts = max_attempts

    def save(
        self,
        run: Callable[[], Attempt[T]],
        first: Callable[[], T | None] = _never_recorded,
    ) -> T:
        """Run and save until the save goes through; `first` is asked after a refusal or a
        conflict and returns the first answer when the request was already recorded."""
        for _ in range(self.max_attempts):
            try:
                attempt = run()
            except DomainError:
                if (answer := first()) is not None:
                    return answer
                raise
            try:
                recordings = self.ledger.save(*attempt.changed)
            except IntegrityError:
                if (answer := first()) is not None:
                    return answer
                continue
            return attempt.answer(recordings[-1].notification.id)
        raise ConcurrencyExhausted("the records changed concurrently too often; try again")

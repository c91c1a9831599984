"""The one idempotent save: what a command changed is saved in one transaction, and the
command is re-run on fresh state when another writer moved one of those streams first.

Every stream is saved with optimistic concurrency (its next version must be free), so a
conflicting writer makes the whole save fail with the library's `IntegrityError`. A request
that carries an idempotency record (a partner event's receipt, a staff command's
`Idempotency-Key`) saves that record with its changes: a second recording of it conflicts
too, and then `first` finds the answer given the first time.

Writers that meet on one stream (concurrent intakes routed through one handler's workload,
two hospitals discharging the same insured person) would meet again if each re-ran at once:
a re-run waits a random time first, up to a bound that doubles with each conflict (full
jitter), so they fall into a queue instead of colliding on every round.
"""

from __future__ import annotations

import random
import time
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

    def __init__(
        self,
        ledger: Ledger,
        max_attempts: int,
        first_wait: float = 0.002,
        most_wait: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.max_attempts = max_attempts
        self.first_wait = first_wait
        self.most_wait = most_wait
        self.sleep = sleep

    def _pause(self, conflicts: int) -> None:
        """Before re-running after `conflicts` conflicts: a random wait (full jitter)."""
        bound = min(self.most_wait, self.first_wait * 2.0 ** min(conflicts, 16))
        self.sleep(random.uniform(0, bound))  # noqa: S311 - spreading retries, not a secret

    def save(
        self,
        run: Callable[[], Attempt[T]],
        first: Callable[[], T | None] = _never_recorded,
    ) -> T:
        """Run and save until the save goes through; `first` is asked after a refusal or a
        conflict and returns the first answer when the request was already recorded."""
        for tries in range(self.max_attempts):
            if tries:
                self._pause(tries)
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

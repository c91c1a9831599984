"""Staff commands: saved atomically with their `Idempotency-Key` receipt, retried on conflict.

A command sent again with the same key answers with the first response; the same key with a
different request is refused (409). The key is scoped to the principal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.gateway import ConcurrencyExhausted
from application.ledger import Ledger
from application.personal import Vault
from domain.common import DomainError
from domain.personal import Sealed
from domain.receipts import CommandReceipt, IdempotencyConflict, command_receipt_id


@dataclass(frozen=True)
class CommandKey:
    """An Idempotency-Key with the principal it belongs to and the request's digest."""

    principal: str
    key: str
    digest: str


@dataclass(frozen=True)
class CommandResult:
    """A command's response; `replayed` when it is the stored first response."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class Answer:
    """What a command attempt changed and answers; `subject` names whose personal data the
    body shows, so the stored copy for replays is sealed under that person's key."""

    changed: list[Aggregate]
    status: int
    body: dict[str, Any]
    subject: str | None = None


Attempt = Callable[[], Answer]


class _Replayed(Exception):
    def __init__(self, result: CommandResult) -> None:
        super().__init__(result.status)
        self.result = result


class CommandRunner:
    """Runs one staff command: attempt → save with receipt → retry on a concurrent write."""

    def __init__(self, ledger: Ledger, vault: Vault, max_attempts: int = 10) -> None:
        self.ledger = ledger
        self.vault = vault
        self.max_attempts = max_attempts

    def run(self, key: CommandKey | None, attempt: Attempt) -> CommandResult:
        try:
            return self._run(key, attempt)
        except _Replayed as replayed:
            return replayed.result

    def _run(self, key: CommandKey | None, attempt: Attempt) -> CommandResult:
        if key is not None:
            self._replay_if_recorded(key)
        for _ in range(self.max_attempts):
            try:
                answer = attempt()
            except DomainError:
                if key is not None:
                    self._replay_if_recorded(key)
                raise
            receipt = (
                [
                    CommandReceipt(
                        key.principal, key.key, key.digest, answer.status, self._kept(answer)
                    )
                ]
                if key is not None
                else []
            )
            try:
                self.ledger.save(*answer.changed, *receipt)
            except IntegrityError:
                if key is not None:
                    self._replay_if_recorded(key)
                continue
            return CommandResult(answer.status, answer.body)
        raise ConcurrencyExhausted("the record was changed concurrently too often; try again")

    def _replay_if_recorded(self, key: CommandKey) -> None:
        receipt = self.ledger.find(CommandReceipt, command_receipt_id(key.principal, key.key))
        if receipt is None:
            return
        if receipt.digest != key.digest:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request"
            )
        raise _Replayed(CommandResult(receipt.status, self._replayed(receipt.body), replayed=True))

    def _kept(self, answer: Answer) -> dict[str, Any]:
        """The body as stored for replays: sealed when it shows a person's data."""
        if answer.subject is None:
            return answer.body
        return {"sealed": self.vault.seal(answer.subject, orjson.dumps(answer.body).decode())}

    def _replayed(self, stored: dict[str, Any]) -> dict[str, Any]:
        sealed = stored.get("sealed")
        if not isinstance(sealed, Sealed):
            return stored
        text = self.vault.open_many([sealed]).get(sealed)
        return {"erased": True} if text is None else dict(orjson.loads(text))

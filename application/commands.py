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

from application.ledger import Ledger
from application.personal import Vault
from application.saving import Attempt, Saver
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
    """A command's response: whether it created the record, the body, and `replayed` when
    it is the stored first response."""

    created: bool
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class Answer:
    """What a command attempt changed and answers; `subject` names whose personal data the
    body shows, so the stored copy for replays is sealed under that person's key."""

    changed: list[Aggregate]
    created: bool
    body: dict[str, Any]
    subject: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.created, bool):
            raise TypeError("created must be a bool (the API picks the HTTP status)")


Run = Callable[[], Answer]


class CommandRunner:
    """Runs one staff command: attempt → save with receipt → retry on a concurrent write."""

    def __init__(self, ledger: Ledger, vault: Vault, saver: Saver) -> None:
        self.ledger = ledger
        self.vault = vault
        self.saver = saver

    def run(self, key: CommandKey | None, attempt: Run) -> CommandResult:
        if key is None:
            return self.saver.save(lambda: self._attempt(None, attempt))
        if (first := self._first(key)) is not None:
            return first
        return self.saver.save(lambda: self._attempt(key, attempt), lambda: self._first(key))

    def _attempt(self, key: CommandKey | None, attempt: Run) -> Attempt[CommandResult]:
        answer = attempt()
        result = CommandResult(answer.created, answer.body)
        if key is None:
            return Attempt(answer.changed, lambda _: result)
        receipt = CommandReceipt(
            key.principal, key.key, key.digest, answer.created, self._kept(answer)
        )
        return Attempt([*answer.changed, receipt], lambda _: result)

    def _first(self, key: CommandKey) -> CommandResult | None:
        receipt = self.ledger.find(CommandReceipt, command_receipt_id(key.principal, key.key))
        if receipt is None:
            return None
        if receipt.digest != key.digest:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request"
            )
        return CommandResult(receipt.created, self._replayed(receipt.body), replayed=True)

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

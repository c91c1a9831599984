"""Idempotency records: a partner event's (source, id) is recorded once, forever.

The record is an aggregate in the same log, saved in the same transaction as what the event
changed, so the stream's primary key refuses a second recording.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import DomainError, stream_id


class IdempotencyConflict(DomainError):
    """The same (source, id) was recorded with a different event."""

    rule = "idempotency_conflict"


def receipt_id(source: str, event_id: str) -> UUID:
    return stream_id("partner-event", source, event_id)


class PartnerEventReceipt(Aggregate):
    """The first recording of one partner event and the result it was answered with."""

    @staticmethod
    def create_id(source: str, event_id: str) -> UUID:
        return receipt_id(source, event_id)

    @event("Recorded")
    def __init__(
        self, source: str, event_id: str, event_type: str, digest: str, result: dict[str, Any]
    ) -> None:
        self.source = source
        self.event_id = event_id
        self.event_type = event_type
        self.digest = digest
        self.result = result


def command_receipt_id(principal: str, key: str) -> UUID:
    return stream_id("command", principal, key)


class CommandReceipt(Aggregate):
    """The first response to a staff command sent with an `Idempotency-Key`."""

    @staticmethod
    def create_id(principal: str, key: str) -> UUID:
        return command_receipt_id(principal, key)

    class Recorded(Aggregate.Created):
        """Version 2 records whether the command created its record; version 1 recorded
        the HTTP status it was answered with (201 when it created one, else 200)."""

        class_version = 2

        principal: str
        key: str
        digest: str
        created: bool
        body: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created"] = state.pop("status") == 201

    @event(Recorded)
    def __init__(
        self, principal: str, key: str, digest: str, created: bool, body: dict[str, Any]
    ) -> None:
        self.principal = principal
        self.key = key
        self.digest = digest
        self.created = created
        self.body = body

"""Links between disputes and what they concern: the disputes of a complaint or a claim, and
the disputes that name a partner (mediator, arbitrator, court)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import stream_id


def links_id(kind: str, key: str) -> UUID:
    return stream_id("dispute-links", kind, key)


class DisputeLinks(Aggregate):
    """The disputes of one complaint, claim or partner."""

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return links_id(kind, key)

    @event("Opened")
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.disputes: list[UUID] = []

    def link(self, dispute_id: UUID) -> None:
        if dispute_id not in self.disputes:
            self._linked(dispute_id=dispute_id)

    @event("Linked")
    def _linked(self, dispute_id: UUID) -> None:
        self.disputes.append(dispute_id)

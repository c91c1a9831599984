"""Links to rectification items: the items traced from one complaint or report, and the
items of one source (an inspection notice, an audit, an evaluation year) that form one
rectification report. Saved with the item, in the same transaction."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import stream_id


def rectification_links_id(kind: str, key: str) -> UUID:
    return stream_id("rectification-links", kind, key)


def source_key(kind: str, ref: str) -> str:
    """The key of a source's links: its kind and reference."""
    return f"{kind}:{ref}"


class RectificationLinks(Aggregate):
    """The rectification items of one complaint, report or source."""

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return rectification_links_id(kind, key)

    @event("Opened")
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.items: list[UUID] = []

    @event("Linked")
    def link(self, item_id: UUID) -> None:
        """Add an item (each item is linked once)."""
        if item_id in self.items:
            raise ValueError("the item is already linked")
        self.items.append(item_id)

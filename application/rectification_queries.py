"""Reads of rectification items: the item (with time travel), its history, work queues,
the rectification report of a source, and the items traced from a complaint or report.

A department's principal sees only its own department's items; any other item reads as
one that does not exist. Queues read the log directly (the items' opening events, in order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.ledger import Ledger, NotFound, ProofSource
from application.rectification import visible
from application.rectification_views import (
    item_view,
    queue_line,
    rectification_report,
    report_entry,
)
from application.views import history_entry, json_ready, rfc3339, with_proofs
from domain.common import InvalidInput
from domain.rectification import SEVERITIES, SOURCE_KINDS, STATES, RectificationItem
from domain.rectification_links import RectificationLinks, rectification_links_id, source_key

OPENED_TOPIC = get_topic(getattr(RectificationItem, "Opened"))  # noqa: B009 - made by @event
BATCH = 200


@dataclass(frozen=True)
class QueueFilter:
    """A work queue's filters; None lets every value through."""

    state: str | None = None
    department: str | None = None
    severity: str | None = None
    overdue: bool | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise InvalidInput("state", f"must be one of {', '.join(STATES)}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise InvalidInput("severity", f"must be one of {', '.join(SEVERITIES)}")


class RectificationQueries:
    """Read side of rectification."""

    def __init__(self, ledger: Ledger, proofs: ProofSource | None = None) -> None:
        self.ledger = ledger
        self.proofs = proofs

    def _get(self, item_id: UUID, scope: str | None) -> RectificationItem:
        found = self.ledger.find(RectificationItem, item_id)
        if found is None or not visible(found, scope):
            raise NotFound("no such rectification item")
        return found

    def view(
        self,
        item_id: UUID,
        now: datetime,
        scope: str | None,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """The item now, or as the ledger knew it (clocks evaluated at `as_of` then)."""
        item = self.ledger.then(self._get(item_id, scope), as_of_version, as_of, "item")
        return item_view(item, as_of or now)

    def history(
        self, item_id: UUID, scope: str | None, proofs: bool = False
    ) -> list[dict[str, Any]]:
        """Every event of the item in order, with its ledger position."""
        self._get(item_id, scope)
        positions = self.ledger.positions.of(item_id)
        entries = [
            json_ready(history_entry(e, positions.get(e.originator_version)))
            for e in self.ledger.stream(item_id)
        ]
        return with_proofs(entries, self.proofs) if proofs else entries

    def all_items(self) -> Iterator[RectificationItem]:
        """Every item, in order of opening."""
        ids = [event.originator_id for event in self.ledger.scan([OPENED_TOPIC])]
        yield from self._items(ids)

    def _items(self, ids: list[UUID]) -> Iterator[RectificationItem]:
        for start in range(0, len(ids), BATCH):
            found = self.ledger.find_many(ids[start : start + BATCH])
            for item_id in ids[start : start + BATCH]:
                item = found.get(item_id)
                if isinstance(item, RectificationItem):
                    yield item

    def queue(
        self, wanted: QueueFilter, scope: str | None, now: datetime, page: int, size: int
    ) -> dict[str, Any]:
        """Items by state, department, severity and overdue; soonest due first."""
        lines = [
            queue_line(item, now)
            for item in self.all_items()
            if visible(item, scope)
            and wanted.state in (None, item.state)
            and wanted.department in (None, item.department)
            and wanted.severity in (None, item.finding.severity)
            and wanted.overdue in (None, item.overdue(now))
        ]
        lines.sort(key=lambda line: (line["due_date"], line["id"]))
        start = (page - 1) * size
        return {
            "page": page,
            "size": size,
            "total": len(lines),
            "evaluated_at": rfc3339(now),
            "items": lines[start : start + size],
        }

    def report(
        self, kind: str, ref: str, now: datetime, scope: str | None = None
    ) -> dict[str, Any]:
        """The rectification report of one source, generated from the items' histories (a
        department's report holds its own items only)."""
        if kind not in SOURCE_KINDS:
            raise InvalidInput("source_kind", f"must be one of {', '.join(SOURCE_KINDS)}")
        ids = self.linked("source", source_key(kind, ref))
        entries = [
            report_entry(item, self.ledger.stream(item.id), now)
            for item in self._items(ids)
            if visible(item, scope)
        ]
        if not entries:
            raise NotFound("no rectification items for this source")
        return rectification_report(kind, ref, entries, now)

    def linked(self, kind: str, key: str) -> list[UUID]:
        """The items linked to a complaint, report or source, in order of opening."""
        links = self.ledger.find(RectificationLinks, rectification_links_id(kind, key))
        return list(links.items) if links else []

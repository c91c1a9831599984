"""`view_complaint_facts`: one row per complaint with what the statistics count — channel,
cause, line, region, receipt, decision, notice, closure, extension, pauses, review — and no
personal data. Kept by the projection engine."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.common import CST
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from infrastructure.projections import Cursor

COLUMNS = (
    "id",
    "version",
    "received_at",
    "channel",
    "cause",
    "line",
    "region",
    "transfer_id",
    "status",
    "merged",
    "extension_level",
    "paused_days",
    "decided_at",
    "notified_at",
    "closed_at",
    "outcome",
    "redress",
    "reviewed",
    "due_at",
    "ended_at",
    "position",
)


def complaint_topics() -> list[str]:
    """Every event topic of a complaint."""
    return sorted(
        {
            get_topic(value)
            for name in dir(Complaint)
            if isinstance(value := getattr(Complaint, name), type)
            and issubclass(value, Aggregate.Event)
            and value is not Aggregate.Event
            and name[0].isupper()
        }
    )


class ComplaintFacts:
    """The complaint fact table (upserted per event, replayed from the row's version)."""

    name = "complaint_facts"

    def __init__(self, rules: ComplaintRules, loader: Callable[[Any, int], Any]) -> None:
        self.rules = rules
        self.loader = loader  # (complaint id, version) → the complaint at that version
        self.topics = complaint_topics()
        self._state: dict[Any, Complaint] = {}

    def create(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS view_complaint_facts ("
            "id TEXT PRIMARY KEY, version INTEGER NOT NULL, received_at TEXT NOT NULL, "
            "channel TEXT NOT NULL, cause TEXT NOT NULL, line TEXT NOT NULL, region TEXT NOT NULL, "
            "transfer_id TEXT, status TEXT NOT NULL, merged BOOLEAN NOT NULL, "
            "extension_level INTEGER NOT NULL, paused_days INTEGER NOT NULL, decided_at TEXT, "
            "notified_at TEXT, closed_at TEXT, outcome TEXT, redress TEXT, "
            "reviewed BOOLEAN NOT NULL, "
            "due_at TEXT NOT NULL, ended_at TEXT, position BIGINT NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS view_complaint_facts_received "
            "ON view_complaint_facts (received_at)"
        )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM view_complaint_facts")
        self._state.clear()

    def prepare(self, events: Sequence[tuple[int, Any]]) -> list[tuple[Any, ...]]:
        """Each changed complaint's row after the batch."""
        changed: dict[Any, tuple[Complaint, int]] = {}
        for position, event in events:
            state = self._before(event, changed)
            state = event.mutate(state)
            changed[event.originator_id] = (state, position)
        return [self._row(state, position) for state, position in changed.values()]

    def apply(self, cursor: Cursor, prepared: list[tuple[Any, ...]]) -> None:
        rows = prepared
        if not rows:
            return
        placeholders = ", ".join("?" * len(COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "id")
        cursor.executemany(
            f"INSERT INTO view_complaint_facts ({', '.join(COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            rows,
        )

    def _before(self, event: Any, changed: dict[Any, tuple[Complaint, int]]) -> Complaint | None:
        """The complaint just before this event: from this batch, the cache, or the ledger."""
        version = event.originator_version - 1
        if version == 0:
            return None
        known = changed.get(event.originator_id, (None, 0))[0] or self._state.get(
            event.originator_id
        )
        if known is not None and known.version == version:
            return copy.deepcopy(known)
        loaded: Complaint | None = self.loader(event.originator_id, version)
        return loaded

    def _row(self, c: Complaint, position: int) -> tuple[Any, ...]:
        self._state[c.id] = c
        clock = c.clock(c.modified_on, self.rules)
        return (
            str(c.id),
            c.version,
            c.received_at.astimezone(CST).isoformat(),
            c.channel,
            c.cause,
            c.line,
            c.region,
            c.transfer_id,
            c.status,
            c.merged_into is not None,
            clock.extension_level,
            clock.paused_days,
            c.decision.decided_at.astimezone(CST).isoformat() if c.decision else None,
            c.notice.notified_at.astimezone(CST).isoformat() if c.notice else None,
            c.closed_at.astimezone(CST).isoformat() if c.closed_at else None,
            c.decision.outcome if c.decision else None,
            str(c.decision.redress) if c.decision else None,
            c.review is not None,
            clock.due_at.astimezone(CST).isoformat(),
            _cst(c.closed_at or c.ended_at),
            position,
        )


def _cst(instant: datetime | None) -> str | None:
    """Instants are stored as CST ISO strings, so text order is time order."""
    return instant.astimezone(CST).isoformat() if instant else None

"""Histories as the contract shows them (`GET /v1/{kind}/{id}/history`), read in one query and
decoded straight into the response's values.

Building every event of a long stream as a domain object and then walking it into JSON cost
about a millisecond an event (issue 18: a claim of 1,000 events took 0.6–1.9 s). Here each
stored state is decoded once into its JSON-ready form by the transcoder (`decode_ready`),
with only the sealed personal values built as objects and opened together; an event the
transcoder leaves to its full decoder (an upcast class, a set, a value dataclass with other
fields than stored) takes the old way, so the entries are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.ledger import Ledger, Slot
from application.personal import Opener
from application.views import META_FIELDS, history_entry, json_ready, rfc3339
from domain.personal import Sealed

# `json_ready` of the leaves a stored state holds, by their exact type.
_LEAVES: dict[type[Any], Callable[[Any], Any]] = {
    Decimal: str,
    datetime: rfc3339,
    date: date.isoformat,
    UUID: str,
    int: int,
}


def _leaf(value: Any) -> Any:
    convert = _LEAVES.get(type(value))
    return json_ready(value) if convert is None else convert(value)


def history_entries(
    ledger: Ledger, rows: Sequence[tuple[StoredEvent, int]], opener: Opener
) -> list[dict[str, Any]]:
    """The history entries of one stream's stored events (with their positions), in order,
    personal values opened for the reader (one key look-up)."""
    entries: list[dict[str, Any]] = []
    slots: list[Slot] = []
    slow: list[int] = []
    for stored, position in rows:
        entry = _entry(ledger, stored, position, slots)
        if entry is None:
            slow.append(len(entries))
            entry = history_entry(ledger.mapper.to_domain_event(stored), position)
        entries.append(entry)
    revealed = opener.reveal_with([entries[i] for i in slow], slots)
    for i, entry in zip(slow, revealed, strict=True):
        entries[i] = entry
    return entries


def _entry(
    ledger: Ledger, stored: StoredEvent, position: int, slots: list[Slot]
) -> dict[str, Any] | None:
    """`history_entry` of the stored event, decoded straight from its state (its sealed
    values added to `slots`, to be opened); None when it takes the domain event."""
    ready = ledger.decode_ready(stored, _leaf, Sealed)
    if ready is None:
        return None
    cls, state, found = ready
    actor = state.get("actor")
    if any(slot[0] is actor for slot in found):
        return None  # `history_entry` shows an actor's values as stored, never opened
    recorded_at = state.get("timestamp")
    occurred_at = state.get("occurred_at") or recorded_at
    for key in [k for k in state if k in META_FIELDS or k.startswith("_")]:
        del state[key]  # in place: the slots of the data's own values point into it
    slots.extend(found)
    return {
        "version": stored.originator_version,
        "type": cls.__qualname__.rsplit(".", 1)[-1],
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor": actor,
        "position": position,
        "data": state,
    }

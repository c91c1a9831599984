"""Routing complaints to handlers: by cause, product line and region, balanced by open load.

Handlers and their routing attributes come from the principals file (through the
`HandlerDirectory` port); open load is kept in one small `Workload` aggregate per handler,
saved with the assignment, so two assignments racing for the same handler stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import stream_id


@dataclass(frozen=True)
class Handler:
    """A complaint handler with the work it takes (empty = any)."""

    name: str
    team: str | None
    regions: tuple[str, ...]
    causes: tuple[str, ...]
    lines: tuple[str, ...]

    def takes(self, cause: str, line: str, region: str) -> bool:
        return (
            (not self.causes or cause in self.causes)
            and (not self.lines or line in self.lines)
            and (not self.regions or region in self.regions or region[:2] + "0000" in self.regions)
        )

    def specificity(self) -> int:
        """Handlers named for the work come before generalists."""
        return sum(1 for attrs in (self.causes, self.lines, self.regions) if attrs)


class HandlerDirectory(Protocol):
    """Who handles complaints (read from the principals file, reloaded when it changes), and
    the role of each partner id staff may name (a mediator, arbitrator or court)."""

    def handlers(self) -> Sequence[Handler]: ...

    def team_of(self, name: str) -> str | None: ...

    def partner_has_role(self, partner_id: str, role: str) -> bool: ...


def workload_id(handler: str) -> UUID:
    return stream_id("workload", handler)


class Workload(Aggregate):
    """How many open complaints a handler carries."""

    @staticmethod
    def create_id(handler: str) -> UUID:
        return workload_id(handler)

    @event("Opened")
    def __init__(self, handler: str) -> None:
        self.handler = handler
        self.open = 0

    @event("Changed")
    def change(self, delta: int, complaint_id: UUID) -> None:
        self.open = max(0, self.open + delta)


def choose(
    candidates: Iterable[Handler],
    loads: dict[str, int],
    cause: str,
    line: str,
    region: str,
    excluded: Iterable[str] = (),
) -> Handler | None:
    """The matching handler with the least open load (most specific first, then by name)."""
    barred = set(excluded)
    matching = [h for h in candidates if h.name not in barred and h.takes(cause, line, region)]
    if not matching:
        return None
    return min(matching, key=lambda h: (loads.get(h.name, 0), -h.specificity(), h.name))


class StaticDirectory:
    """A fixed list of handlers (tests, and services without a principals file)."""

    def __init__(
        self, handlers: Sequence[Handler] = (), partners: Mapping[str, str] | None = None
    ) -> None:
        self._handlers = list(handlers)
        self._partners = None if partners is None else dict(partners)

    def handlers(self) -> Sequence[Handler]:
        return self._handlers

    def team_of(self, name: str) -> str | None:
        return next((h.team for h in self._handlers if h.name == name), None)

    def partner_has_role(self, partner_id: str, role: str) -> bool:
        """Partner ids and their roles; without a list (no principals file) any is taken."""
        return self._partners is None or self._partners.get(partner_id) == role

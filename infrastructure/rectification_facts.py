"""The fact view of rectification items: one row per item with the instants statistics
count (opened, due, closed, cancelled) and its dimensions (source kind, department,
severity). No personal data: owners and findings' texts stay out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.rectification import RectificationItem
from infrastructure.fact_views import FactView, cst


class RectificationFacts(FactView):
    """One row per rectification item."""

    name = "rectification_facts"
    table = "view_rectification_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("source", "TEXT NOT NULL"),
        ("department", "TEXT NOT NULL"),
        ("severity", "TEXT NOT NULL"),
        ("state", "TEXT NOT NULL"),
        ("opened_at", "TEXT NOT NULL"),
        ("due_at", "TEXT NOT NULL"),
        ("closed_at", "TEXT"),
        ("cancelled_at", "TEXT"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("opened_at",)

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(RectificationItem, loader)

    def row(self, item: RectificationItem, position: int) -> tuple[Any, ...]:
        return (
            str(item.id),
            item.source.kind,
            item.department,
            item.finding.severity,
            item.state,
            cst(item.opened_at),
            cst(item.due_at),
            cst(item.closed_at),
            cst(item.cancelled_at),
            position,
        )

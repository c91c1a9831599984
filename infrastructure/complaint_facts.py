"""`view_complaint_facts`: one row per complaint with what the statistics count — channel,
cause, line, region, receipt, decision, notice, closure, extension, pauses, review — and no
personal data. Kept by the projection engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.common import cst_date
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from infrastructure.fact_views import FactView, cst


class ComplaintFacts(FactView):
    """The complaint fact table."""

    name = "complaint_facts"
    table = "view_complaint_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("version", "INTEGER NOT NULL"),
        ("received_at", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),
        ("cause", "TEXT NOT NULL"),
        ("line", "TEXT NOT NULL"),
        ("region", "TEXT NOT NULL"),
        ("transfer_id", "TEXT"),
        ("status", "TEXT NOT NULL"),
        ("merged", "BOOLEAN NOT NULL"),
        ("extension_level", "INTEGER NOT NULL"),
        ("paused_days", "INTEGER NOT NULL"),
        ("decided_at", "TEXT"),
        ("notified_at", "TEXT"),
        ("closed_at", "TEXT"),
        ("outcome", "TEXT"),
        ("redress", "TEXT"),
        ("reviewed", "BOOLEAN NOT NULL"),
        ("due_at", "TEXT NOT NULL"),
        ("ended_at", "TEXT"),
        ("days_to_notice", "INTEGER"),
        ("redress_cents", "BIGINT"),
        ("company_type", "TEXT NOT NULL"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("received_at", "ended_at")

    def __init__(self, rules: ComplaintRules, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Complaint, loader)
        self.rules = rules

    def row(self, c: Complaint, position: int) -> tuple[Any, ...]:
        clock = c.clock(c.modified_on, self.rules)
        return (
            str(c.id),
            c.version,
            cst(c.received_at),
            c.channel,
            c.cause,
            c.line,
            c.region,
            c.transfer_id,
            c.status,
            c.merged_into is not None,
            clock.extension_level,
            clock.paused_days,
            cst(c.decision.decided_at) if c.decision else None,
            cst(c.notice.notified_at) if c.notice else None,
            cst(c.closed_at),
            c.decision.outcome if c.decision else None,
            str(c.decision.redress) if c.decision else None,
            c.review is not None,
            cst(clock.due_at),
            cst(c.closed_at or c.ended_at),
            (
                (cst_date(c.notice.notified_at) - cst_date(c.received_at)).days - clock.paused_days
                if c.notice
                else None
            ),
            int(c.decision.redress * 100) if c.decision else None,
            "property" if c.line in ("motor", "property", "guarantee") else "life_health",
            position,
        )

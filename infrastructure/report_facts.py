"""The report fact view: one row per report (举报) with what the statistics count — when it
was received, decided, concluded and closed, its deadlines and its finding. Rows hold no
personal data (no reporter, no subject reference)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.report_clock import ReportRules, report_clock
from domain.reports import Report
from infrastructure.fact_views import FactView, cst


class ReportFacts(FactView):
    """One row per report; deadlines computed with the rules of the settings."""

    name = "report_facts"
    table = "view_report_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("received_at", "TEXT NOT NULL"),
        ("category", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),
        ("transferred", "BOOLEAN NOT NULL"),
        ("state", "TEXT NOT NULL"),
        ("acceptance_due_at", "TEXT NOT NULL"),
        ("accepted_at", "TEXT"),
        ("declined_at", "TEXT"),
        ("conclusion_due_at", "TEXT"),  # without the extension
        ("extended_at", "TEXT"),
        ("extended_due_at", "TEXT"),  # with it, once granted
        ("concluded_at", "TEXT"),
        ("finding", "TEXT"),
        ("closed_at", "TEXT"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("received_at",)

    def __init__(self, rules: ReportRules, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(Report, loader)
        self.rules = rules

    def row(self, r: Report, position: int) -> tuple[Any, ...]:
        clock = report_clock(
            received_at=r.received_at,
            decided_at=r.decided_at,
            accepted_at=r.accepted_at,
            extended=False,
            concluded_at=None,
            ended_at=None,
            now=r.received_at,
            rules=self.rules,
        )
        extended = r.clock(r.received_at, self.rules) if r.extension is not None else None
        return (
            str(r.id),
            cst(r.received_at),
            r.category,
            r.channel,
            r.transfer_id is not None,
            r.state,
            cst(clock.acceptance_due_at),
            cst(r.accepted_at),
            cst(r.declined_at),
            cst(clock.conclusion_due_at),
            cst(r.extension.extended_at) if r.extension else None,
            cst(extended.conclusion_due_at) if extended else None,
            cst(r.conclusion.concluded_at) if r.conclusion else None,
            r.conclusion.finding if r.conclusion else None,
            cst(r.closed_at),
            position,
        )

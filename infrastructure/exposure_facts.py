"""`view_exposure_facts`: the exposure the insurer reported per period and product line
(premium in cents, policies, insured persons), so complaint densities are read in the same
statement — and at the same position — as the complaint figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.exposure import ExposureReport
from infrastructure.claim_dispute_facts import cents
from infrastructure.fact_views import FactView


class ExposureFacts(FactView):
    """One row per reported period and line (the latest restatement)."""

    name = "exposure_facts"
    table = "view_exposure_facts"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("period", "TEXT NOT NULL"),
        ("line", "TEXT NOT NULL"),
        ("premium_cents", "BIGINT NOT NULL"),
        ("policies", "BIGINT NOT NULL"),
        ("insured", "BIGINT NOT NULL"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("period",)

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(ExposureReport, loader)

    def row(self, report: ExposureReport, position: int) -> tuple[Any, ...]:
        current = report.current  # None only between its opening and first report
        return (
            str(report.id),
            report.period,
            report.line,
            cents(current.premium) if current else 0,
            current.policies if current else 0,
            current.insured_persons if current else 0,
            position,
        )

"""Exposure data (premium, policies, insured persons) the insurer reports per period and line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, stream_id


@dataclass(frozen=True)
class Exposure:
    """One report of a line's exposure in a period (a later report restates it)."""

    premium: Decimal
    policies: int
    insured_persons: int


def exposure_stream_id(period: str, line: str, insurer: str | None = None) -> UUID:
    """Each insurer reports (and restates) its own exposure; statistics add them up."""
    if insurer is None:  # reports recorded before exposure belonged to its insurer
        return stream_id("exposure", period, line)
    return stream_id("exposure", period, line, insurer)


class ExposureReport(Aggregate):
    """The exposure of one product line in one period, as reported and restated."""

    @staticmethod
    def create_id(period: str, line: str, insurer: str | None = None) -> UUID:
        return exposure_stream_id(period, line, insurer)

    @event("Opened")
    def __init__(self, period: str, line: str, insurer: str | None = None) -> None:
        self.period = period
        self.line = line
        self.insurer = insurer
        self.current: Exposure | None = None
        self.revisions = 0
        self.reported_by: str | None = None

    def restated_by(self, insurer: str | None) -> bool:
        """Whether this record is the insurer's own (a shared record made before exposure
        belonged to its insurer counts as the last reporter's)."""
        return self.insurer == insurer or (self.insurer is None and self.reported_by == insurer)

    @event("Reported")
    def report(self, exposure: Exposure, occurred_at: datetime, actor: Actor) -> None:
        self.current = exposure
        self.revisions += 1
        self.reported_by = actor.partner_id

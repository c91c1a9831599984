"""Which case is open for a matter (重复投诉): one small aggregate per matter key.

Saved with the complaint that opens or ends the case, so two complaints on the same matter
arriving together cannot both become masters (the second save conflicts and is retried).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import stream_id


def matter_index_id(key: str) -> UUID:
    return stream_id("matter", key)


class MatterIndex(Aggregate):
    """The open case of one matter key, if any."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return matter_index_id(key)

    @event("Opened")
    def __init__(self, key: str) -> None:
        self.key = key
        self.open_case: UUID | None = None

    @event("CaseOpened")
    def open(self, case_id: UUID) -> None:
        self.open_case = case_id

    def end(self, case_id: UUID) -> None:
        """The case left the process (closed, withdrawn, declined)."""
        if self.open_case == case_id:
            self._case_ended(case_id=case_id)

    @event("CaseEnded")
    def _case_ended(self, case_id: UUID) -> None:
        self.open_case = None

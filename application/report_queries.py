"""Reads of reports: the record (reporter only for report officers), its history with time
travel, work queues, and the 12378 feed entries of transferred reports.

Queues read the reports' receipt topic from the log and replay the reports in batches, as
the complaint queues do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.ledger import Ledger, NotFound, ProofSource
from application.personal import Opener, Vault, erased_since, mask_plain_texts
from application.report_views import next_due, report_line, report_view
from application.views import history_entry, rfc3339, with_proofs
from domain.rectification_links import RectificationLinks, rectification_links_id
from domain.report_clock import ReportRules
from domain.reports import CLOSED, CONCLUDED, DECLINED, Report

RECEIVED_TOPIC = get_topic(getattr(Report, "Received"))  # noqa: B009 - made by the library
QUEUES = ("open", "mine", "undecided", "investigating", "awaiting-notice", "overdue", "due-soon")
DUE = ("soon", "overdue")
CONFIDENTIAL = "[confidential]"


@dataclass(frozen=True)
class ReportReader:
    """Who reads: their name, and whether they may see the reporter (report officers)."""

    name: str
    sees_reporter: bool


@dataclass(frozen=True)
class QueueRequest:
    """A work queue by name, or reports filtered by state and due (soon or overdue)."""

    queue: str | None
    state: str | None
    due: str | None
    page: int
    size: int


class ReportQueries:
    """Read side of reports."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        rules: ReportRules,
        proofs: ProofSource | None = None,
    ) -> None:
        self.ledger = ledger
        self.rules = rules
        self.proofs = proofs
        self.opener = Opener(vault)

    def _get(self, report_id: UUID) -> Report:
        found = self.ledger.find(Report, report_id)
        if found is None:
            raise NotFound("no such report")
        return found

    def view(
        self,
        report_id: UUID,
        reader: ReportReader,
        now: datetime,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """The report now, or as the ledger knew it (clocks at `now`, or at `as_of`)."""
        report = self.ledger.then(self._get(report_id), as_of_version, as_of, "report")
        reporter = None
        if reader.sees_reporter and report.reporter is not None:
            reporter = self.opener.reveal(report.reporter)
        traced = self.ledger.find(
            RectificationLinks, rectification_links_id("report", str(report_id))
        )
        view: dict[str, Any] = self._erased(
            report,
            self.opener.reveal(
                {
                    **report_view(report, as_of or now, self.rules, reporter),
                    "rectification_items": [str(i) for i in traced.items] if traced else [],
                }
            ),
        )
        return view

    def _erased(self, report: Report, read: Any) -> Any:
        """A read with the older plain free texts of an erased reporter shown as erased."""
        if erased_since(self.ledger, report.reporter_ref, report.created_on, report.facts):
            return mask_plain_texts(read)
        return read

    def history(
        self, report_id: UUID, reader: ReportReader, proofs: bool = False
    ) -> list[dict[str, Any]]:
        """Every event in order; the reporter's identity opened only for report officers."""
        report = self._get(report_id)
        positions = self.ledger.positions.of(report_id)
        entries = [
            history_entry(e, positions.get(e.originator_version))
            for e in self.ledger.stream(report_id)
        ]
        if reader.sees_reporter:
            shown: list[dict[str, Any]] = self._erased(report, self.opener.reveal(entries))
        else:
            shown = self._erased(report, self.opener.reveal([_masked(e) for e in entries]))
        return with_proofs(shown, self.proofs) if proofs else shown

    def all_reports(self) -> Iterator[Report]:
        """Every report, in order of receipt."""
        ids = [event.originator_id for event in self.ledger.scan([RECEIVED_TOPIC])]
        for start in range(0, len(ids), 200):
            found = self.ledger.find_many(ids[start : start + 200])
            for report_id in ids[start : start + 200]:
                report = found.get(report_id)
                if isinstance(report, Report):
                    yield report

    def queue(self, request: QueueRequest, reader: ReportReader, now: datetime) -> dict[str, Any]:
        """A page of a work queue (or of a state/due filter), the soonest deadline first."""
        wanted = []
        for report in self.all_reports():
            if self._wanted(report, request, reader, now):
                wanted.append(report)
        far = datetime.max.replace(tzinfo=now.tzinfo)
        wanted.sort(key=lambda r: (next_due(r, now, self.rules) or far, r.received_at))
        start = (request.page - 1) * request.size
        return {
            "queue": request.queue,
            "state": request.state,
            "due": request.due,
            "page": request.page,
            "size": request.size,
            "total": len(wanted),
            "evaluated_at": rfc3339(now),
            "items": [
                report_line(r, now, self.rules) for r in wanted[start : start + request.size]
            ],
        }

    def _wanted(
        self, report: Report, request: QueueRequest, reader: ReportReader, now: datetime
    ) -> bool:
        clock = report.clock(now, self.rules)
        if request.state is not None and report.state != request.state:
            return False
        if request.due == "soon" and not clock.due_soon:
            return False
        if request.due == "overdue" and not clock.overdue:
            return False
        if request.queue is None:
            return True
        if report.state == CLOSED:
            return False
        return {
            "open": True,
            "mine": report.investigator == reader.name,
            "undecided": report.decided_at is None,
            "investigating": report.accepted_at is not None and report.conclusion is None,
            "awaiting-notice": report.state in (CONCLUDED, DECLINED),
            "overdue": clock.overdue,
            "due-soon": clock.due_soon,
        }[request.queue]


def _masked(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry without the reporter's identity (nor their blind index)."""
    data = entry["data"]
    if data.get("reporter") is None:
        return entry
    hidden = {**data, "reporter": CONFIDENTIAL, "reporter_ref": CONFIDENTIAL}
    return {**entry, "data": hidden}


def feed_item(report: Report, position: int) -> dict[str, Any]:
    """A 12378 transfer's state as the regulator's platform sees it (no personal data)."""
    conclusion = report.conclusion
    return {
        "kind": "report",
        "transfer_id": report.transfer_id,
        "report_id": str(report.id),
        "state": report.state,
        "finding": conclusion.finding if conclusion else None,
        "accepted_at": rfc3339(report.accepted_at) if report.accepted_at else None,
        "declined_at": rfc3339(report.declined_at) if report.declined_at else None,
        "concluded_at": rfc3339(conclusion.concluded_at) if conclusion else None,
        "notified_at": rfc3339(report.notified_at) if report.notified_at else None,
        "closed_at": rfc3339(report.closed_at) if report.closed_at else None,
        "position": position,
    }

"""Reads of complaints: the case, its history and closure report, work queues, the 12378
feed and the high-complaint-risk early warning (高客诉风险预警).

Queues, feed and warning read the log directly (the complaint topics, in position order);
they move to the projection engine's view tables when that exists (issue 6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.complaint_views import closure_report, complaint_view, summary
from application.ledger import Ledger, ProofSource, topics_of
from application.personal import Opener, Vault, erased_since, mask_plain_texts
from application.report_queries import feed_item as report_feed_item
from application.routing import HandlerDirectory
from application.views import history_entry, rfc3339, with_proofs
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from domain.dispute_links import DisputeLinks, links_id
from domain.disputes import Dispute
from domain.rectification_links import RectificationLinks, rectification_links_id
from domain.reports import Report

RECEIVED_TOPIC = get_topic(getattr(Complaint, "Received"))  # noqa: B009 - made by the library
DISPUTE_OPENED_TOPIC = get_topic(getattr(Dispute, "Opened"))  # noqa: B009
QUEUES = ("mine", "team", "escalated", "overdue", "due-soon", "open")
FEED_PAGE = 500
REPORT_TOPICS = frozenset(topics_of(Report))
FEED_TOPICS = [*topics_of(Complaint), *sorted(REPORT_TOPICS)]


@dataclass(frozen=True)
class Viewer:
    """Who reads a queue."""

    name: str
    role: str
    team: str | None


class ComplaintQueries:
    """Read side of complaints."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        directory: HandlerDirectory,
        rules: ComplaintRules,
        proofs: ProofSource | None = None,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.directory = directory
        self.rules = rules
        self.proofs = proofs
        self.opener = Opener(vault)

    def _get(self, complaint_id: UUID) -> Complaint:
        return self.ledger.get(Complaint, complaint_id, "no such complaint")

    def view(
        self,
        complaint_id: UUID,
        now: datetime,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """The case now, or as it was (clocks evaluated at `now`, or at `as_of`)."""
        complaint = self.ledger.then(self._get(complaint_id), as_of_version, as_of, "complaint")
        view = self._erased(
            complaint, complaint_view(complaint, as_of or now, self.rules, self.opener)
        )
        links = self.ledger.find(DisputeLinks, links_id("complaint", str(complaint_id)))
        traced = self.ledger.find(
            RectificationLinks, rectification_links_id("complaint", str(complaint_id))
        )
        return {
            **view,
            "disputes": [str(d) for d in links.disputes] if links else [],
            "rectification_items": [str(i) for i in traced.items] if traced else [],
        }

    def _erased(self, complaint: Complaint, read: Any) -> Any:
        """A read with the older plain free texts of an erased complainant shown as erased."""
        ref, created = complaint.complainant_ref, complaint.created_on
        if erased_since(self.ledger, ref, created, complaint.matter):
            return mask_plain_texts(read)
        return read

    def history(self, complaint_id: UUID, proofs: bool = False) -> list[dict[str, Any]]:
        complaint = self._get(complaint_id)
        positions = self.ledger.positions.of(complaint_id)
        entries = [
            history_entry(e, positions.get(e.originator_version))
            for e in self.ledger.stream(complaint_id)
        ]
        revealed: list[dict[str, Any]] = self._erased(complaint, self.opener.reveal(entries))
        return with_proofs(revealed, self.proofs) if proofs else revealed

    def closure_report(self, complaint_id: UUID, now: datetime) -> dict[str, Any]:
        complaint = self._get(complaint_id)
        duplicates = self.ledger.find_many(complaint.duplicates)
        report: dict[str, Any] = self._erased(
            complaint,
            closure_report(
                complaint,
                self.ledger.stream(complaint_id),
                [d for d in duplicates.values() if isinstance(d, Complaint)],
                now,
                self.rules,
                self.opener,
            ),
        )
        return report

    def all_complaints(self) -> Iterator[Complaint]:
        """Every complaint, in order of receipt."""
        ids = [event.originator_id for event in self.ledger.scan([RECEIVED_TOPIC])]
        for start in range(0, len(ids), 200):
            found = self.ledger.find_many(ids[start : start + 200])
            for complaint_id in ids[start : start + 200]:
                complaint = found.get(complaint_id)
                if isinstance(complaint, Complaint):
                    yield complaint

    def queue(
        self, name: str, viewer: Viewer, now: datetime, page: int, size: int
    ) -> dict[str, Any]:
        """A work queue, soonest due first: mine, team, escalated, overdue, due-soon, open."""
        team = {h.name for h in self.directory.handlers() if viewer.team and h.team == viewer.team}
        soon = timedelta(days=self.rules.due_soon_days)
        lines = []
        for complaint in self.all_complaints():
            if not complaint.is_open:
                continue
            clock = complaint.clock(now, self.rules)
            wanted = {
                "mine": complaint.handler == viewer.name,
                "team": complaint.handler in team or complaint.handler == viewer.name,
                "escalated": clock.escalated,
                "overdue": clock.overdue,
                "due-soon": not clock.overdue
                and complaint.decision is None
                and clock.due_at - now <= soon,
                "open": True,
            }[name]
            if wanted:
                lines.append(summary(complaint, now, self.rules))
        lines.sort(key=lambda line: (line["due_at"], line["id"]))
        start = (page - 1) * size
        return {
            "queue": name,
            "page": page,
            "size": size,
            "total": len(lines),
            "evaluated_at": rfc3339(now),
            "items": lines[start : start + size],
        }

    def feed(self, after: int, platform: str | None) -> dict[str, Any]:
        """State changes of the 12378 transfers this platform partner posted, after a
        position, oldest first (≤ 500): complaint entries as before, report entries marked
        `"kind": "report"`. Another platform's transfers are not in it."""
        items: list[dict[str, Any]] = []
        last = after
        start = after + 1
        while len(items) < FEED_PAGE:
            batch = self.ledger.recorder.select_notifications(start, FEED_PAGE, topics=FEED_TOPICS)
            if not batch:
                break
            report_ids = {n.originator_id for n in batch if n.topic in REPORT_TOPICS}
            cases = self._cases_then({n.originator_id for n in batch} - report_ids)
            reports = self._reports_then(report_ids)
            for n in batch:
                key = (n.originator_id, n.originator_version)
                for transfer, followed in cases.get(key, []):
                    if platform is not None and transfer.transferred_by == platform:
                        items.append(_feed_item(transfer, followed, n.id))
                if key in reports:
                    entry, owner = reports[key]
                    if platform is not None and owner == platform:
                        items.append({**entry, "position": n.id})
                last = n.id
                if len(items) >= FEED_PAGE:
                    break
            start = batch[-1].id + 1
        return {"after": after, "next": last, "items": items[:FEED_PAGE]}

    def _cases_then(
        self, ids: set[Any]
    ) -> dict[tuple[Any, int], list[tuple[Complaint, Complaint]]]:
        """For each (case, version) in the batch, the state then, as (transfer, case it
        follows) pairs: the case itself if transferred, and every merged transfer of it."""
        reports: dict[tuple[Any, int], list[tuple[Complaint, Complaint]]] = defaultdict(list)
        for complaint_id in ids:
            state: Complaint | None = None
            for event in self.ledger.stream(complaint_id):
                state = event.mutate(state)
                assert state is not None
                reports[(complaint_id, event.originator_version)] = self._transfers_of(state)
        return reports

    def _reports_then(
        self, ids: set[Any]
    ) -> dict[tuple[Any, int], tuple[dict[str, Any], str | None]]:
        """For each (report, version) of a 12378-transferred report, its feed entry then
        (taken at once: replay moves the one report object on) and the platform that
        transferred it."""
        states: dict[tuple[Any, int], tuple[dict[str, Any], str | None]] = {}
        for report_id in ids:
            state: Report | None = None
            for event in self.ledger.stream(report_id):
                state = event.mutate(state)
                assert state is not None
                if state.transfer_id is not None:
                    states[(report_id, event.originator_version)] = (
                        report_feed_item(state, 0),
                        state.transferred_by,
                    )
        return states

    def _transfers_of(self, state: Complaint) -> list[tuple[Complaint, Complaint]]:
        pairs = [(state, state)] if state.transfer_id else []
        if state.duplicates:
            found = self.ledger.find_many(state.duplicates)
            for duplicate in found.values():
                if isinstance(duplicate, Complaint) and duplicate.transfer_id:
                    pairs.append((duplicate, state))
        return pairs

    def risk(self, now: datetime, level: str | None, pseudonymous: bool) -> list[dict[str, Any]]:
        """Per customer: complaints in 90 days, 12378 transfers and repeats in 365, urgings."""
        by_customer: dict[str, list[Complaint]] = defaultdict(list)
        for complaint in self.all_complaints():
            by_customer[complaint.complainant_ref].append(complaint)
        disputes: dict[str, int] = defaultdict(int)
        for opened in self.ledger.scan([DISPUTE_OPENED_TOPIC]):
            disputes[opened.party_ref] += 1
        items = []
        for ref, cases in by_customer.items():
            found = assess(cases, now, disputes.get(ref, 0))
            if level is not None and found["level"] != level:
                continue
            customer = (
                self.vault.pseudonym(ref)
                if pseudonymous
                else self.opener.reveal(cases[-1].complainant)
            )
            items.append({"customer": customer, **found})
        order = {"high": 0, "medium": 1, "low": 2}
        return sorted(items, key=lambda i: (order[i["level"]], -i["complaints_90d"]))


def _feed_item(case: Complaint, master: Complaint, position: int) -> dict[str, Any]:
    """A transfer's state; a merged transfer reports its master's progress (its own 12378
    feedback follows the master)."""
    decision, notice = master.decision, master.notice
    return {
        "transfer_id": case.transfer_id,
        "complaint_id": str(case.id),
        "master_id": str(master.id) if master is not case else None,
        "state": master.status,
        "outcome": decision.outcome if decision else None,
        "decided_at": rfc3339(decision.decided_at) if decision else None,
        "notified_at": rfc3339(notice.notified_at) if notice else None,
        "closed_at": rfc3339(master.closed_at) if master.closed_at else None,
        "position": position,
    }


def assess(cases: list[Complaint], now: datetime, disputes: int = 0) -> dict[str, Any]:
    """The default early-warning rule of domain.md section 2, with its reasons."""
    in_90 = [c for c in cases if now - c.received_at <= timedelta(days=90)]
    transfers = [c for c in cases if c.transfer_id and now - c.received_at <= timedelta(days=365)]
    closed_at = [c.closed_at for c in cases if c.closed_at is not None]
    repeats = [
        c
        for c in cases
        if now - c.received_at <= timedelta(days=365)
        and any(at < c.received_at for at in closed_at)
    ]
    urged = sum(c.urges for c in in_90)
    reasons = []
    if len(in_90) >= 2:
        reasons.append("two_or_more_complaints_in_90_days")
    if transfers:
        reasons.append("regulator_transfer_in_365_days")
    if repeats:
        reasons.append("repeat_after_closure_in_365_days")
    level = "high" if reasons else "low"
    if not reasons and len(in_90) == 1 and urged:
        level = "medium"
        reasons.append("urged_complaint_in_90_days")
    if disputes:
        reasons.append("dispute_opened")  # listed; the default rule does not raise the level
    return {
        "level": level,
        "reasons": reasons,
        "complaints_90d": len(in_90),
        "transfers_12378_365d": len(transfers),
        "repeats_after_closure_365d": len(repeats),
        "urgings_90d": urged,
        "disputes": disputes,
        "evaluated_at": rfc3339(now),
    }
